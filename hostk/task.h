/* Tasks and processes as hostk sees them: guest-visible pids and tids, the
 * host tids behind them, parents, children, process groups, sessions, zombies. */
#ifndef HOSTK_TASK_H
#define HOSTK_TASK_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/x86_64.h"
#include "ktimer.h"

struct sysent;

/* A process: one thread group. */
struct proc {
	pid_t pid, vpid;	/* host tgid, guest pid */
	pid_t pgid, sid;	/* host ids; translated with pid_to_guest() */
	struct proc *parent;	/* NULL for pid 1: its parent is outside */
	int nthreads;
	bool exited;		/* a zombie: waiting for its guest parent to reap it */
	bool reaped_by_hostk;	/* hostk is the host parent (pid 1, orphans) */
	bool own_filter;	/* installed a seccomp filter of its own */
	struct ktimer itimer;	/* ITIMER_REAL and alarm(), hostk's own */
	uint64_t it_interval;	/* re-armed by this when its SIGALRM is taken */
	uint64_t utime_ns, stime_ns;	/* of its threads that are gone */
	uint64_t cutime_ns, cstime_ns;	/* of its reaped children, as wait(2) adds them */
	struct proc *next;	/* all processes */
};

/* A syscall in flight between its trap and its exit stop. */
struct insys {
	long nr;
	unsigned long arg[6];	/* as the guest passed them */
	uint64_t t0;		/* when it trapped */
	unsigned long scratch[4];	/* for the handler: what to undo at exit */
	bool regs_rewritten;
	bool entry_traced;	/* the trace printed its arguments at entry */
	bool active;
};

struct task {
	pid_t tid, vtid;
	struct proc *proc;
	bool started;		/* its first stop was seen (or it was seized running) */
	bool linked;		/* its parent's clone event was seen */
	bool map_kregion;	/* exec'd: map the region at the execve's exit stop */
	struct task *held_parent;	/* held at its clone event until this child starts */
	unsigned long clone_flags;	/* the clone that created it, for the start fix-up */
	unsigned long child_tid_addr;
	struct insys sys;

	/* Scheduling (sched.c). */
	int sstate;		/* enum sstate */
	int cpu;		/* while TS_RUNNING */
	int resume_sig;		/* while TS_READY: the signal to deliver */
	bool preempt_sent;	/* a PTRACE_INTERRUPT is on its way */
	bool sleep_expired;	/* its own sleep ended by the timer, not a signal */
	uint64_t slice_start;	/* when its current time slice began */
	uint64_t run_since;	/* when it last got a CPU */
	uint64_t utime_ns;	/* executing on a CPU */
	uint64_t stime_ns;	/* hostk serving its traps */
	uint64_t stopped_at;	/* when its current stop began (0: not stopped) */
	uint64_t sleep_deadline;	/* of its last sleep (CLOCK_MONOTONIC ns) */
	unsigned long sleep_ip;		/* where that sleep was called from */
	bool sleep_interrupted;		/* and a signal cut it short */
	struct ktimer sleep_timer;
	struct task *rq_next;	/* run queue */

	struct task *hnext;	/* hash chain by host tid */
	struct task *next;	/* all tasks */
};

extern struct proc *procs;
extern struct task *tasks;
extern int ntasks;
extern struct proc *init_proc;	/* the guest's pid 1 */

struct task *task_of(pid_t tid);
struct task *task_by_vtid(pid_t vtid);
struct proc *proc_by_vpid(pid_t vpid);
struct proc *proc_by_pid(pid_t pid);

/* pid 1: the first guest, seized by boot. */
struct task *task_first(pid_t pid);
/* A task hostk has not heard of: a clone child whose first stop came first. */
struct task *task_embryo(pid_t tid);
/* Give an embryo its identity: a thread of parent's process or a new process. */
void task_link(struct task *child, struct task *parent, unsigned long clone_flags);
/* The task is gone from the host.  Returns true when its process ended too. */
bool task_exit(struct task *t);
/* The guest parent reaped this process (its wait returned it). */
void proc_reaped(struct proc *p);
/* An exec by a non-leader thread: it takes over the leader's tid. */
void task_exec_takeover(struct task *leader, struct task *execer);

/* pid translation.  0 stays 0; an id with no guest behind it is -1 for
 * pid_to_host and 0 for pid_to_guest (as Linux shows ids outside a namespace). */
pid_t pid_to_host(pid_t vpid);
pid_t pid_to_guest(pid_t hpid);
bool pid_is_guest(pid_t hpid);

/* hostk's accounting: a process's own time (live threads included), and the
 * time of its reaped children. */
void proc_times(const struct proc *p, uint64_t *utime, uint64_t *stime);

/* Rewrite the ids the host put in a siginfo; true if anything changed. */
bool siginfo_to_guest(siginfo_t *si);

/* Group and session changes, mirrored after the host made them. */
void proc_set_pgid(struct proc *p, pid_t pgid);
void proc_set_sid(struct proc *p);

#endif
