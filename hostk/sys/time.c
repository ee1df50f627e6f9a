/* hostk's own sleeps and alarms.  nanosleep and clock_nanosleep sleep in
 * hostk's timer queue: the task gives up its CPU and waits in the host in a
 * ppoll() with no descriptors and no timeout, which only a signal or hostk
 * ends; the timer's bottom half ends it at the deadline.  A signal ends it
 * early, as it would the real sleep (and a restart continues to the same
 * deadline).  pause and sigsuspend sleep until a signal.  alarm and the
 * ITIMER_REAL interval timer are hostk's timers, which send SIGALRM.
 * getrusage and times report the CPU time hostk charged. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "../sched.h"
#include "../timer.h"
#include "../trap.h"
#include "../uaccess.h"
#include "../util.h"
#include "sys.h"

#define NSEC 1000000000ull

static bool ts_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < (long)NSEC;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NSEC + (uint64_t)ts->tv_nsec;
}

/* Sleep until deadline (CLOCK_MONOTONIC ns) in the host's ppoll. */
static enum trap_action sleep_until(struct trap *t, uint64_t deadline)
{
	struct task *tk = t->task;

	/* The restart of a sleep a signal cut short keeps its deadline. */
	if (tk->sleep_interrupted && reg_ip(&t->regs) == tk->sleep_ip)
		deadline = tk->sleep_deadline;
	tk->sleep_interrupted = false;
	if (deadline <= now_ns()) {
		t->ret = 0;
		return TRAP_RETURN;
	}
	tk->sleep_deadline = deadline;
	tk->sleep_ip = reg_ip(&t->regs);
	return trap_sleep(t, deadline);
}

enum trap_action sys_nanosleep(struct trap *t)
{
	struct timespec ts;

	if (copy_from_guest(t->task->tid, &ts, t->arg[0], sizeof ts) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	if (!ts_valid(&ts)) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	return sleep_until(t, now_ns() + ts_ns(&ts));
}

enum trap_action sys_clock_nanosleep(struct trap *t)
{
	clockid_t clk = (clockid_t)t->arg[0];
	struct timespec ts, now;

	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME && clk != CLOCK_TAI)
		return TRAP_RUN;	/* cpu-time clocks, bad ids: the host's */
	if (copy_from_guest(t->task->tid, &ts, t->arg[2], sizeof ts) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	if (!ts_valid(&ts)) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	if (!(t->arg[1] & TIMER_ABSTIME))
		return sleep_until(t, now_ns() + ts_ns(&ts));
	/* An absolute time on the guest's clock, as a monotonic deadline. */
	clock_gettime(clk, &now);
	if (ts_ns(&ts) <= ts_ns(&now))
		return sleep_until(t, 0);
	return sleep_until(t, now_ns() + ts_ns(&ts) - ts_ns(&now));
}

void sys_sleep_exit(struct trap *t)
{
	struct task *tk = t->task;
	unsigned long rem = t->nr == SYS_nanosleep ? t->arg[1] :
			    (t->arg[1] & TIMER_ABSTIME) ? 0 : t->arg[3];

	if (tk->sleep_timer)
		ktimer_del(tk->sleep_timer);
	if (tk->sleep_expired || t->ret >= 0) {
		t->ret = 0;
		return;
	}
	/* A signal: leave -ERESTARTNOHAND, so the host returns EINTR if a
	 * handler runs and restarts the sleep if none does. */
	tk->sleep_interrupted = true;
	if (rem) {
		uint64_t left = tk->sleep_deadline > now_ns() ? tk->sleep_deadline - now_ns() : 0;
		struct timespec ts = { (time_t)(left / NSEC), (long)(left % NSEC) };

		copy_to_guest(tk->tid, rem, &ts, sizeof ts);
	}
}

enum trap_action sys_pause(struct trap *t)
{
	t->wait = WAIT_SLEEP;	/* until a signal: the host's own pause */
	t->deadline = 0;
	return TRAP_RUN;
}

/* ITIMER_REAL, per process. */
static void alarm_fire(struct ktimer *kt)
{
	struct proc *p = kt->data;

	kill(p->pid, SIGALRM);
}

static struct ktimer *itimer_of(struct proc *p)
{
	if (!p->itimer) {
		if (!(p->itimer = calloc(1, sizeof *p->itimer)))
			die("out of memory");
		p->itimer->fn = alarm_fire;
		p->itimer->data = p;
	}
	return p->itimer;
}

static void itimer_get(struct proc *p, struct itimerval *out)
{
	uint64_t now = now_ns(), left = 0, iv = 0;

	if (p->itimer && p->itimer->armed) {
		left = p->itimer->when > now ? p->itimer->when - now : 1000;
		iv = p->itimer->interval;
	}
	out->it_value.tv_sec = (time_t)(left / NSEC);
	out->it_value.tv_usec = (suseconds_t)(left % NSEC / 1000);
	out->it_interval.tv_sec = (time_t)(iv / NSEC);
	out->it_interval.tv_usec = (suseconds_t)(iv % NSEC / 1000);
}

static void itimer_set(struct proc *p, uint64_t value, uint64_t interval)
{
	struct ktimer *kt = itimer_of(p);

	ktimer_del(kt);
	kt->interval = interval;
	if (value)
		ktimer_add(kt, now_ns() + value);
	timer_reprogram();
}

enum trap_action sys_alarm(struct trap *t)
{
	struct proc *p = t->task->proc;
	struct itimerval old;

	itimer_get(p, &old);
	/* Whole seconds left, rounded; a pending alarm never reads 0. */
	t->ret = old.it_value.tv_sec + (old.it_value.tv_usec >= 500000);
	if (!t->ret && old.it_value.tv_usec)
		t->ret = 1;
	itimer_set(p, (uint64_t)(unsigned)t->arg[0] * NSEC, 0);
	return TRAP_RETURN;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * NSEC + (uint64_t)tv->tv_usec * 1000;
}

enum trap_action sys_setitimer(struct trap *t)
{
	struct itimerval nv = { 0 }, old;
	pid_t tid = t->task->tid;

	if ((int)t->arg[0] != ITIMER_REAL)
		return TRAP_RUN;	/* virtual and profiling timers: the host's */
	if (t->arg[1] && copy_from_guest(tid, &nv, t->arg[1], sizeof nv) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	if (nv.it_value.tv_usec < 0 || nv.it_value.tv_usec >= 1000000 || nv.it_value.tv_sec < 0 ||
	    nv.it_interval.tv_usec < 0 || nv.it_interval.tv_usec >= 1000000 || nv.it_interval.tv_sec < 0) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	itimer_get(t->task->proc, &old);
	if (t->arg[2] && copy_to_guest(tid, t->arg[2], &old, sizeof old) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	itimer_set(t->task->proc, tv_ns(&nv.it_value), tv_ns(&nv.it_interval));
	t->ret = 0;
	return TRAP_RETURN;
}

enum trap_action sys_getitimer(struct trap *t)
{
	struct itimerval cur;

	if ((int)t->arg[0] != ITIMER_REAL)
		return TRAP_RUN;
	itimer_get(t->task->proc, &cur);
	t->ret = copy_to_guest(t->task->tid, t->arg[1], &cur, sizeof cur) < 0 ? -EFAULT : 0;
	return TRAP_RETURN;
}

/* CPU time, as hostk charged it: executing on a CPU is user time, hostk
 * serving the task is system time.  The host fills in the rest (page
 * faults, context switches...), then hostk's times replace the host's. */
enum trap_action sys_getrusage(struct trap *t)
{
	(void)t;
	return TRAP_RUN_EXIT;
}

static struct timeval ns_tv(uint64_t ns)
{
	return (struct timeval){ (time_t)(ns / NSEC), (suseconds_t)(ns % NSEC / 1000) };
}

void sys_getrusage_exit(struct trap *t)
{
	struct task *tk = t->task;
	uint64_t u, s;
	struct timeval tv[2];

	if (t->ret != 0)
		return;
	switch ((int)t->arg[0]) {
	case RUSAGE_SELF:
		proc_times(tk->proc, &u, &s);
		break;
	case RUSAGE_THREAD:
		u = tk->utime_ns;
		s = tk->stime_ns;
		break;
	case RUSAGE_CHILDREN:
		u = tk->proc->cutime_ns;
		s = tk->proc->cstime_ns;
		break;
	default:
		return;
	}
	tv[0] = ns_tv(u);
	tv[1] = ns_tv(s);
	/* ru_utime and ru_stime lead struct rusage. */
	copy_to_guest(tk->tid, t->arg[1], tv, sizeof tv);
}

enum trap_action sys_times(struct trap *t)
{
	(void)t;
	return TRAP_RUN_EXIT;
}

void sys_times_exit(struct trap *t)
{
	uint64_t tick = NSEC / (uint64_t)sysconf(_SC_CLK_TCK), u, s;
	struct tms tms;

	if (t->ret < 0 && t->ret > -4096)
		return;
	proc_times(t->task->proc, &u, &s);
	tms.tms_utime = (clock_t)(u / tick);
	tms.tms_stime = (clock_t)(s / tick);
	tms.tms_cutime = (clock_t)(t->task->proc->cutime_ns / tick);
	tms.tms_cstime = (clock_t)(t->task->proc->cstime_ns / tick);
	if (t->arg[0])
		copy_to_guest(t->task->tid, t->arg[0], &tms, sizeof tms);
}
