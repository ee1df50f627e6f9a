/* The trap path: a seccomp stop becomes a trap frame, is dispatched through
 * systab, and returns to the guest.  Handlers see and edit the frame. */
#ifndef HOSTK_TRAP_H
#define HOSTK_TRAP_H

#include <stdbool.h>

#include "arch/x86_64.h"
#include "systab.h"
#include "task.h"

/* The value hostk's filter attaches to its SECCOMP_RET_TRACE. */
#define HK_SECCOMP_DATA 0x4b48

struct trap {
	struct task *task;
	regs_t regs;
	long nr;
	unsigned long arg[6];	/* as the guest passed them */
	long ret;		/* TRAP_RETURN's result; the host's result at exit */
	bool dirty;		/* regs must be written back */
};

/* Rewrite argument i for the host; trap exit puts the guest's value back,
 * because the syscall ABI preserves argument registers. */
static inline void trap_set_arg(struct trap *t, int i, unsigned long v)
{
	reg_set_arg(&t->regs, i, v);
	t->dirty = true;
	t->task->sys.regs_rewritten = true;
}

void trap_seccomp(struct task *tk);	/* PTRACE_EVENT_SECCOMP stop */
void trap_exit(struct task *tk);	/* syscall-exit stop */

/* Resume a stopped task, delivering sig (0: none).  A task with a syscall in
 * flight is resumed so that its exit stops. */
void task_resume(struct task *tk, int sig);

#endif
