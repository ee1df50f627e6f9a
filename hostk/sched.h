/* The scheduler: virtual CPUs, a round-robin run queue with time slices,
 * preemption, and the states a task can wait in. */
#ifndef HOSTK_SCHED_H
#define HOSTK_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct task;

enum sstate {
	TS_NEW,		/* not started yet */
	TS_RUNNING,	/* holds a CPU: executing, or stopped while hostk serves it */
	TS_READY,	/* stopped, waiting in the run queue for a CPU */
	TS_BLOCKED,	/* in a host syscall that may block; holds no CPU */
	TS_SLEEPING,	/* in one of hostk's own sleeps (timer queue, or a signal) */
	TS_STOPPED,	/* group stop (SIGSTOP, SIGTSTP...) */
	TS_DEAD,
	NR_SSTATES
};

extern const char *const sstate_names[NR_SSTATES];

/* ncpus idle CPUs, no task, nothing counted (also when called again). */
void sched_init(int ncpus, int quantum_ms);
/* pid 1 starts on CPU 0 (it was seized running). */
void sched_first(struct task *tk);
/* The task stopped and hostk now serves it: charge its user time so far
 * (the time until it goes on is its system time). */
void sched_stopped_for_hostk(struct task *tk);
/* The task stopped for hostk and may go on: resume it now if it holds a CPU
 * or gets one, else queue it (sig is delivered when it resumes). */
void sched_resume(struct task *tk, int sig);
/* The task is about to run a host syscall that may block: it gives up its
 * CPU and is resumed into the syscall at once; its exit stop brings it back
 * (sched_resume then finds it a CPU). */
void sched_block(struct task *tk);
/* The exit stop of a syscall the task waited in: it wants a CPU again. */
void sched_syscall_done(struct task *tk);
/* One of hostk's own sleeps: deadline in CLOCK_MONOTONIC ns, 0 for "until a
 * signal".  The task gives up its CPU and is resumed into the host wait it
 * sleeps in; the timer ends that wait with PTRACE_INTERRUPT. */
void sched_sleep(struct task *tk, uint64_t deadline);
/* End a task's sleep: its wait is over (the timer, or a device). */
void sched_wake(struct task *tk);
/* A group stop: the task gives up its CPU until continued. */
void sched_stopped(struct task *tk);
/* A non-leader thread exec'd: it goes on as the leader's task. */
void sched_takeover(struct task *leader, struct task *execer);
/* The task is gone. */
void sched_exit(struct task *tk);
/* A PTRACE_INTERRUPT stop: the preemption hostk asked for has arrived. */
/* sched_yield: at its next stop the task lets the next in line run. */
void sched_yield_cpu(struct task *tk);
void sched_interrupted(struct task *tk);
/* The timer's tick: charge the running tasks, interrupt those whose slice
 * is used while others wait.  (Sleepers wake by their own kernel timers.) */
void sched_tick(void);
/* Does the scheduler need the tick?  Nonzero while any task runs or waits
 * for a CPU; 0 when idle (the timer then stops, tickless). */
uint64_t sched_next_timer(void);

/* A ready task's place in the run queue (1 is next), 0 if not queued. */
int sched_rq_position(const struct task *tk);
/* CPU time charged to all guests so far, user and system (ns). */
uint64_t sched_cpu_ns(void);
/* When a guest task last ran or stopped (CLOCK_MONOTONIC ns). */
uint64_t sched_last_progress(void);

struct sched_stats {
	uint64_t switches, preemptions, yields, blocks, sleeps, wakeups, idle_ns;
	int ncpus, quantum_ms, running, ready;
};
void sched_get_stats(struct sched_stats *st);

#endif
