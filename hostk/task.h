/* Tasks and processes as hostk sees them: the host tids ptrace reports,
 * the guest ids their pid namespace gives them, and what hostk keeps per
 * process (its alarm, its time, its children's time). */
#ifndef HOSTK_TASK_H
#define HOSTK_TASK_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/x86_64.h"
#include "ktimer.h"

/* The times of a child that ended, kept until its parent reaps it (wait(2)
 * adds them to the parent's children's times then, not before). */
struct deadkid {
	pid_t vpid;
	uint64_t utime_ns, stime_ns;
};
#define NDEADKIDS 32	/* past that, one is counted at once */

/* A process: one thread group. */
struct proc {
	pid_t pid, vpid;	/* host tgid; guest pid (its pid namespace's) */
	struct proc *parent;	/* NULL for pid 1: its parent is hostk */
	struct proc *kids, *sib_prev, *sib_next;	/* its children */
	int nthreads;
	bool own_filter;	/* installed a seccomp filter of its own */
	bool let_go;		/* stopped at an exception and left to a debugger */
	struct ktimer itimer;	/* ITIMER_REAL and alarm(), hostk's own */
	uint64_t it_interval;	/* re-armed by this when its SIGALRM is taken */
	uint64_t utime_ns, stime_ns;	/* of all its threads, live and gone */
	uint64_t cutime_ns, cstime_ns;	/* of its reaped children, as wait(2) adds them */
	struct deadkid dead[NDEADKIDS];	/* ended children not reaped yet */
	unsigned dead_next;		/* the next to count at once when all are taken */
	struct proc *hnext;	/* hash chain by host tgid */
};

/* A syscall in flight between its trap and its exit stop. */
struct insys {
	long nr;
	unsigned long arg[6];	/* as the guest passed them */
	uint64_t t0;		/* when it trapped */
	/* The device of a driver's operation that finishes at the exit stop:
	 * the device, not the open file, which a sibling may close and
	 * another open reap meanwhile. */
	void *dev;
	bool signalfd;		/* a read of a signalfd (its SIGALRMs may be hostk's) */
	bool regs_rewritten;
	bool entry_traced;	/* the trace printed its arguments at entry */
	bool active;
};

struct task {
	pid_t tid, vtid;	/* host tid; guest tid */
	struct proc *proc;
	bool map_kregion;	/* exec'd: map the region at the execve's exit stop */
	unsigned scratch;	/* 1 + its scratch slot in the region, 0: none */
	struct insys sys;

	/* Scheduling (sched.c). */
	int sstate;		/* enum sstate */
	int cpu;		/* while TS_RUNNING */
	int resume_sig;		/* while TS_READY: the signal to deliver */
	bool preempt_sent;	/* a PTRACE_INTERRUPT is on its way */
	bool yielding;		/* it called sched_yield with others waiting */
	bool sleep_expired;	/* its own sleep ended by the timer, not a signal */
	uint64_t slice_start;	/* when its current time slice began */
	uint64_t run_since;	/* when it last got a CPU */
	uint64_t vruntime;	/* its time executing, on the run queue's clock */
	bool ran;		/* it has had a CPU */
	bool woke;		/* queued since it woke (or was new) */
	uint64_t utime_ns;	/* executing on a CPU */
	uint64_t stime_ns;	/* hostk serving its traps */
	uint64_t stopped_at;	/* when its current stop began (0: not stopped) */
	uint64_t sleep_deadline;	/* of its last sleep (CLOCK_MONOTONIC ns) */
	unsigned long sleep_ip;		/* where that sleep was called from */
	bool sleep_interrupted;		/* and a signal cut it short */
	struct ktimer sleep_timer;
	struct task *rq_next;	/* run queue */

	struct task *hnext;	/* hash chain by host tid */
	struct task *next, *prev;	/* all tasks */
};

extern struct task *tasks;
extern int ntasks, nprocs;
extern struct proc *init_proc;	/* the guest's pid 1 */

struct task *task_of(pid_t tid);
struct proc *proc_of(pid_t pid);

/* A task hostk has not seen before (pid 1, or a clone child at its first
 * stop): what it is comes from the host (/proc/TID/status), so no parent
 * has to be held until its clone event arrives. */
struct task *task_new(pid_t tid);
/* The task is gone from the host.  Returns true when its process ended too. */
bool task_exit(struct task *t);
/* An exec by a non-leader thread: it takes over the leader's tid. */
void task_exec_takeover(struct task *leader, struct task *execer);
/* The guest parent p reaped its child vpid (its wait returned it dead). */
void proc_reaped(struct proc *p, pid_t vpid);

/* hostk's accounting: a process's own time (live threads included). */
void proc_times(const struct proc *p, uint64_t *utime, uint64_t *stime);

#endif
