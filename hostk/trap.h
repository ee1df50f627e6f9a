/* The trap path: a seccomp stop becomes a trap frame, is dispatched through
 * systab, and returns to the guest.  Handlers see and edit the frame. */
#ifndef HOSTK_TRAP_H
#define HOSTK_TRAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "arch/x86_64.h"
#include "systab.h"
#include "sched.h"
#include "task.h"

/* The value hostk's filter attaches to its SECCOMP_RET_TRACE. */
#define HK_SECCOMP_DATA 0x4b48

/* What the task does in the host while its syscall runs. */
enum trap_wait {
	WAIT_NONE,	/* keeps its CPU */
	WAIT_BLOCK,	/* may block in the host: gives up its CPU until the exit stop */
	WAIT_SLEEP,	/* sleeps in hostk's timer queue (deadline) or until a signal */
};

struct trap {
	struct task *task;
	regs_t regs;
	long nr;
	unsigned long arg[6];	/* as the guest passed them */
	long ret;		/* TRAP_RETURN's result; the host's result at exit */
	bool dirty;		/* regs must be written back */
	enum trap_wait wait;	/* from the row's SY_BLOCK; handlers may change it */
	uint64_t deadline;	/* WAIT_SLEEP: CLOCK_MONOTONIC ns, 0 for "a signal" */
};

/* Rewrite argument i for the host; trap exit puts the guest's value back,
 * because the syscall ABI preserves argument registers. */
static inline void trap_set_arg(struct trap *t, int i, unsigned long v)
{
	reg_set_arg(&t->regs, i, v);
	t->dirty = true;
	t->task->sys.regs_rewritten = true;
}

/* Let the host run another syscall in its place; trap exit restores the
 * number too (a restarted syscall must be the guest's own). */
static inline void trap_set_nr(struct trap *t, long nr)
{
	reg_set_nr(&t->regs, nr);
	t->dirty = true;
	t->task->sys.regs_rewritten = true;
}

/* The kernel's restart codes, as a syscall-exit stop sees them: set at the
 * exit stop, they decide what the signal about to be delivered does to the
 * call (restart it always, with SA_RESTART, without a handler...). */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

/* Make the task wait in the host until a signal or hostk ends it: the
 * syscall becomes a ppoll() with nothing to poll and no timeout, and the
 * task sleeps off CPU until deadline (CLOCK_MONOTONIC ns; 0: no timer, hostk
 * wakes it with sched_wake()).  Its exit stop finishes the syscall. */
static inline enum trap_action trap_sleep(struct trap *t, uint64_t deadline)
{
	trap_set_nr(t, SYS_ppoll);
	for (int i = 0; i < 5; i++)
		trap_set_arg(t, i, 0);
	t->wait = WAIT_SLEEP;
	t->deadline = deadline;
	return TRAP_RUN_EXIT;
}

void trap_seccomp(struct task *tk);	/* PTRACE_EVENT_SECCOMP stop */
void trap_exit(struct task *tk);	/* syscall-exit stop */


#endif
