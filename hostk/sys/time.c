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
#include <string.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "../sched.h"
#include "../timer.h"
#include "../task.h"
#include "../trap.h"
#include "../uaccess.h"
#include "../util.h"
#include "sys.h"

static bool ts_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < (long)NSEC_PER_SEC;
}

static bool tv_valid(const struct timeval *tv)
{
	return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
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

/* The guest's timespec at addr: 0, -EFAULT or -EINVAL. */
static long get_timespec(struct trap *t, unsigned long addr, struct timespec *ts)
{
	if (copy_from_guest(t->task->tid, ts, addr, sizeof *ts) < 0)
		return -EFAULT;
	return ts_valid(ts) ? 0 : -EINVAL;
}

enum trap_action sys_nanosleep(struct trap *t)
{
	struct timespec ts;

	if ((t->ret = get_timespec(t, t->arg[0], &ts)))
		return TRAP_RETURN;
	return sleep_until(t, ns_add(now_ns(), ts_to_ns(&ts)));
}

enum trap_action sys_clock_nanosleep(struct trap *t)
{
	clockid_t clk = (clockid_t)t->arg[0];
	struct timespec ts, now;
	uint64_t at, cur;

	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME && clk != CLOCK_TAI)
		return TRAP_RUN;	/* cpu-time clocks, bad ids: the host's */
	if ((t->ret = get_timespec(t, t->arg[2], &ts)))
		return TRAP_RETURN;
	if (!(t->arg[1] & TIMER_ABSTIME))
		return sleep_until(t, ns_add(now_ns(), ts_to_ns(&ts)));
	/* An absolute time on the guest's clock, as a monotonic deadline. */
	clock_gettime(clk, &now);
	at = ts_to_ns(&ts);
	cur = ts_to_ns(&now);
	return sleep_until(t, at <= cur ? 0 : ns_add(now_ns(), at - cur));
}

void sys_sleep_exit(struct trap *t)
{
	struct task *tk = t->task;
	unsigned long rem = t->nr == SYS_nanosleep ? t->arg[1] :
			    (t->arg[1] & TIMER_ABSTIME) ? 0 : t->arg[3];

	ktimer_del(&tk->sleep_timer);
	if (tk->sleep_expired || t->ret >= 0) {
		t->ret = 0;
		return;
	}
	/* A signal: leave -ERESTARTNOHAND, so the host returns EINTR if a
	 * handler runs and restarts the sleep if none does.  The time left
	 * goes to rem as the host would write it: a rem it cannot write
	 * makes the call fail with EFAULT. */
	tk->sleep_interrupted = true;
	if (rem) {
		uint64_t now = now_ns();
		struct timespec ts = ns_to_ts(tk->sleep_deadline > now ? tk->sleep_deadline - now : 0);

		if (copy_to_guest(tk->tid, rem, &ts, sizeof ts) < 0) {
			t->ret = -EFAULT;
			tk->sleep_interrupted = false;
		}
	}
}

enum trap_action sys_pause(struct trap *t)
{
	t->wait = WAIT_SLEEP;	/* until a signal: the host's own pause */
	t->deadline = 0;
	return TRAP_RUN;
}

/* ITIMER_REAL, per process, in Linux's rhythm: the timer fires once, and its
 * interval re-arms it only when the SIGALRM is taken, forward from the last
 * expiry to the first time after now.  A process that does not take its
 * SIGALRM (blocked, or still pending) gets no second one meanwhile, so no
 * interval, however small, can flood hostk.  hostk queues the signal with a
 * mark and, at its delivery, gives it the siginfo the host's own timer
 * would (SI_KERNEL, no sender). */
#define ALARM_MARK 0x4b48414c	/* "HKAL" */

static void alarm_fire(struct ktimer *kt)
{
	struct proc *p = kt->data;
	siginfo_t si = { .si_signo = SIGALRM, .si_code = SI_QUEUE };

	si.si_pid = getpid();
	si.si_value.sival_int = ALARM_MARK;
	syscall(SYS_rt_sigqueueinfo, p->pid, SIGALRM, &si);
}

/* A SIGALRM was taken (delivered, or dequeued by sigtimedwait or a
 * signalfd): as the host does at that moment, an interval timer that is
 * not armed is re-armed. */
static void itimer_taken(struct proc *p)
{
	uint64_t now = now_ns(), iv = p->it_interval, when = p->itimer.when;

	if (iv && !p->itimer.armed && when) {
		uint64_t k = now >= when ? (now - when) / iv + 1 : 1;

		ktimer_add(&p->itimer, k > (KTIME_MAX - when) / iv ? KTIME_MAX : when + k * iv);
		timer_reprogram();
	}
}

/* From hostk, outside the guests' pid namespace: the host zeroes si_pid. */
static bool alarm_ours(int code, pid_t pid, int value)
{
	return code == SI_QUEUE && pid == 0 && value == ALARM_MARK;
}

bool itimer_signal(struct proc *p, siginfo_t *si)
{
	bool ours = alarm_ours(si->si_code, si->si_pid, si->si_value.sival_int);

	itimer_taken(p);
	if (ours) {
		memset(si, 0, sizeof *si);
		si->si_signo = SIGALRM;
		si->si_code = SI_KERNEL;
	}
	return ours;
}

/* sigwaitinfo and sigtimedwait that took a SIGALRM: the timer goes on, and
 * the siginfo the guest gets is the host timer's. */
void sys_sigtimedwait_exit(struct trap *t)
{
	siginfo_t si;

	if (t->ret != SIGALRM)
		return;
	if (!t->arg[1] || copy_from_guest(t->task->tid, &si, t->arg[1], sizeof si) < 0) {
		itimer_taken(t->task->proc);
		return;
	}
	if (itimer_signal(t->task->proc, &si))
		copy_to_guest(t->task->tid, t->arg[1], &si, sizeof si);
}

/* A read of a signalfd that returned n bytes at buf: the same for each
 * SIGALRM among its records. */
void itimer_signalfd_read(struct trap *t, unsigned long buf, long n)
{
	struct signalfd_siginfo ss;

	for (long off = 0; off + (long)sizeof ss <= n; off += (long)sizeof ss) {
		if (copy_from_guest(t->task->tid, &ss, buf + (unsigned long)off, sizeof ss) < 0)
			return;
		if (ss.ssi_signo != SIGALRM)
			continue;
		itimer_taken(t->task->proc);
		if (!alarm_ours(ss.ssi_code, (pid_t)ss.ssi_pid, ss.ssi_int))
			continue;
		memset(&ss, 0, sizeof ss);
		ss.ssi_signo = SIGALRM;
		ss.ssi_code = SI_KERNEL;
		copy_to_guest(t->task->tid, buf + (unsigned long)off, &ss, sizeof ss);
	}
}

static void itimer_get(struct proc *p, struct itimerval *out)
{
	uint64_t now = now_ns(), left = 0, iv = p->it_interval;

	if (p->itimer.armed)
		left = p->itimer.when > now ? p->itimer.when - now : 1000;	/* due: 1 us, as Linux says */
	out->it_value.tv_sec = (time_t)(left / NSEC_PER_SEC);
	out->it_value.tv_usec = (suseconds_t)(left % NSEC_PER_SEC / 1000);
	out->it_interval.tv_sec = (time_t)(iv / NSEC_PER_SEC);
	out->it_interval.tv_usec = (suseconds_t)(iv % NSEC_PER_SEC / 1000);
}

static void itimer_set(struct proc *p, uint64_t value, uint64_t interval)
{
	p->itimer.fn = alarm_fire;
	p->itimer.data = p;
	ktimer_del(&p->itimer);
	p->itimer.when = 0;
	p->it_interval = value ? interval : 0;
	if (value)
		ktimer_add(&p->itimer, ns_add(now_ns(), value));
	timer_reprogram();
}

enum trap_action sys_alarm(struct trap *t)
{
	struct proc *p = t->task->proc;
	struct itimerval old;
	unsigned long secs;

	itimer_get(p, &old);
	/* Whole seconds left, rounded; a pending alarm never reads 0. */
	secs = (unsigned long)old.it_value.tv_sec;
	if ((!secs && old.it_value.tv_usec) || old.it_value.tv_usec >= 500000)
		secs++;
	t->ret = (unsigned)secs;	/* alarm(2) returns an unsigned int */
	itimer_set(p, (uint64_t)(unsigned)t->arg[0] * NSEC_PER_SEC, 0);
	return TRAP_RETURN;
}

enum trap_action sys_setitimer(struct trap *t)
{
	struct itimerval nv = { 0 }, old;
	pid_t tid = t->task->tid;

	if ((int)t->arg[0] != ITIMER_REAL)
		return TRAP_RUN;	/* virtual and profiling timers: the host's */
	/* A NULL new value disarms, as the host still allows. */
	if (t->arg[1] && copy_from_guest(tid, &nv, t->arg[1], sizeof nv) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	if (!tv_valid(&nv.it_value) || !tv_valid(&nv.it_interval)) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	itimer_get(t->task->proc, &old);
	if (t->arg[2] && copy_to_guest(tid, t->arg[2], &old, sizeof old) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	itimer_set(t->task->proc, tv_to_ns(&nv.it_value), tv_to_ns(&nv.it_interval));
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
	return (struct timeval){ (time_t)(ns / NSEC_PER_SEC), (suseconds_t)(ns % NSEC_PER_SEC / 1000) };
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
	uint64_t tick = NSEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK), u, s;
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
