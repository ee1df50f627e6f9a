/* timers.c - sleeps, alarms and interval timers at their edges: many threads
 * asleep at once, sleeps of a few microseconds, intervals too small and too
 * large to convert naively, a fork while threads sleep, and the siginfo of a
 * timer's SIGALRM, delivered or taken by sigwaitinfo or a signalfd.  Each check prints what a native run prints; a hang is
 * the failure the table's time limit catches.  `timers [CHECK...]`. */
#include "guest.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, alarm_code, alarm_pid;

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	alarms++;
	alarm_code = si->si_code;
	alarm_pid = si->si_pid;
}

static void catch_alarm(void)
{
	struct sigaction sa = { .sa_sigaction = on_alarm, .sa_flags = SA_SIGINFO };

	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *sleep_200ms(void *arg)
{
	struct timespec ts = { 0, 200000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return arg;
}

/* Many threads asleep at once all wake, about on time. */
static void t_sleepers(void)
{
	enum { N = 40 };
	pthread_t th[N];
	double t0 = mono(), took;

	for (int i = 0; i < N; i++)
		if (pthread_create(&th[i], NULL, sleep_200ms, NULL))
			fail("pthread_create %d", i);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	took = mono() - t0;
	if (CHECK(took >= 0.2 && took < 5, "sleepers: 40 sleeps of 0.2 s took %.3f s", took))
		say("sleepers: %d threads slept 0.2 s each and were joined", N);
}

static void *tiny_sleeps(void *arg)
{
	for (long us = 1; us <= 100; us += 3) {
		struct timespec ts = { 0, us * 1000 };

		nanosleep(&ts, NULL);
	}
	return arg;
}

/* Sleeps of a few microseconds in several threads at once all return. */
static void t_tiny(void)
{
	pthread_t th[8];

	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, tiny_sleeps, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	say("tiny: 8 threads made 34 sleeps of 1..100 us each");
}

/* A 1 us one-shot fires at once (CPython's test_setitimer_tiny), not never. */
static void t_setitimer_tiny(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 1 } };
	struct timespec ts = { 1, 0 };

	catch_alarm();
	setitimer(ITIMER_REAL, &it, NULL);
	while (!alarms && nanosleep(&ts, &ts) < 0)
		;
	if (CHECK(alarms == 1, "setitimer tiny: %d alarms", alarms))
		say("setitimer tiny: one SIGALRM");
}

/* The host timer's SIGALRM: si_code SI_KERNEL, no sender. */
static void t_siginfo(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 1000 } };

	catch_alarm();
	setitimer(ITIMER_REAL, &it, NULL);
	while (!alarms)
		pause();
	say("siginfo: SIGALRM si_code %s, si_pid %d", alarm_code == SI_KERNEL ? "SI_KERNEL" : "other",
	    (int)alarm_pid);
	alarm(0);
}

/* A small interval keeps firing while the process takes its SIGALRMs. */
static void t_interval(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct timespec ts = { 0, 1000000 };

	catch_alarm();
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < 10000 && alarms < 20; i++)
		nanosleep(&ts, NULL);
	setitimer(ITIMER_REAL, &off, NULL);
	if (CHECK(alarms >= 20, "interval: %d alarms", alarms))
		say("interval: a 2 ms interval fired 20 times and was stopped");
}

/* An interval timer whose SIGALRMs are blocked and taken by sigwaitinfo, or
 * read from a signalfd, never delivered: each one taken re-arms the timer,
 * and each looks like the host timer's. */
static void t_sigwait_interval(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { { 0, 0 }, { 0, 0 } };
	sigset_t set, old;
	siginfo_t si;
	int n = 0, kernel = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	setitimer(ITIMER_REAL, &it, NULL);
	for (; n < 20 && sigwaitinfo(&set, &si) == SIGALRM; n++)
		kernel += si.si_code == SI_KERNEL && si.si_pid == 0;
	setitimer(ITIMER_REAL, &off, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (CHECK(n == 20 && kernel == 20, "sigwait interval: %d taken, %d from the kernel", n, kernel))
		say("sigwait interval: 20 SIGALRMs taken by sigwaitinfo, each SI_KERNEL");
}

static void t_signalfd_interval(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct signalfd_siginfo ss[4];
	sigset_t set, old;
	int fd, n = 0, kernel = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (!CHECK((fd = signalfd(-1, &set, SFD_CLOEXEC)) >= 0, "signalfd: %s", ename(errno)))
		return;
	setitimer(ITIMER_REAL, &it, NULL);
	while (n < 20) {
		ssize_t got = read(fd, ss, sizeof ss);

		if (!CHECK(got > 0 && got % (ssize_t)sizeof ss[0] == 0, "signalfd read: %zd (%s)", got, ename(errno)))
			break;
		for (ssize_t i = 0; i < got / (ssize_t)sizeof ss[0]; i++, n++)
			kernel += ss[i].ssi_signo == SIGALRM && ss[i].ssi_code == SI_KERNEL && ss[i].ssi_pid == 0;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	close(fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (CHECK(n >= 20 && kernel == n, "signalfd interval: %d read, %d from the kernel", n, kernel))
		say("signalfd interval: 20 SIGALRMs read from a signalfd, each SI_KERNEL");
}

/* An interval too big for nanoseconds: one SIGALRM, then it is still armed
 * for a time too far away to come; alarm(0) reports that (truncated to an
 * unsigned int, as alarm's result is) and disarms it. */
static void t_wrap(void)
{
	struct itimerval it = { { ((time_t)1 << 55) - 1, 999999 }, { 0, 1000 } }, cur;
	struct itimerval big = { { 0, 0 }, { (time_t)1 << 40, 0 } };
	unsigned left;

	catch_alarm();
	setitimer(ITIMER_REAL, &it, NULL);
	while (!alarms)
		pause();
	getitimer(ITIMER_REAL, &cur);
	CHECK(cur.it_value.tv_sec > 1000000000, "wrap: %ld s left", (long)cur.it_value.tv_sec);
	setitimer(ITIMER_REAL, &big, NULL);
	left = alarm(0);
	getitimer(ITIMER_REAL, &cur);
	if (CHECK(alarms == 1 && left > 1 && !cur.it_value.tv_sec, "wrap: %d alarms, alarm(0) said %u", alarms, left))
		say("wrap: one SIGALRM; a huge value left is reported, alarm(0) disarms it");
}

/* A sleep too long for nanoseconds is long, not zero: an alarm cuts it
 * short, with the time left in rem. */
static void t_huge_sleep(void)
{
	struct timespec ts = { LONG_MAX, 999999999 }, rem = { 0, 0 };
	int r;

	catch_alarm();
	alarm(1);
	r = nanosleep(&ts, &rem);
	if (CHECK(r < 0 && errno == EINTR && rem.tv_sec > 1000000000, "huge sleep: %d %s, rem %ld", r,
		  ename(errno), (long)rem.tv_sec))
		say("huge sleep: interrupted after the alarm, rem far away");
}

/* rem that the host cannot write: an interrupted sleep fails with EFAULT. */
static void t_rem_fault(void)
{
	struct timespec ts = { 5, 0 };
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int r;

	catch_alarm();
	alarm(1);
	r = (int)syscall(SYS_nanosleep, &ts, ro);
	if (CHECK(r < 0 && errno == EFAULT, "rem fault: %d %s", r, ename(errno)))
		say("rem fault: an interrupted sleep with a read-only rem fails EFAULT");
	munmap(ro, 4096);
}

static volatile int stop_sleeping;

static void *sleep_loop(void *arg)
{
	while (!stop_sleeping) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
	}
	return arg;
}

/* CPython's fork_wait: threads loop on sleeps while the main thread forks a
 * child that sleeps and exits, waits for it, and joins the threads. */
static void t_fork_wait(void)
{
	pthread_t th[4];
	pid_t pid;

	stop_sleeping = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, sleep_loop, NULL);
	pid = child();
	if (pid == 0) {
		struct timespec ts = { 0, 500000000 };

		nanosleep(&ts, NULL);
		_exit(7);
	}
	reap(pid, 7 << 8, "fork wait");
	stop_sleeping = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	say("fork wait: child reaped, 4 sleeping threads joined");
}

int main(int argc, char **argv)
{
	static const struct check checks[] = {
		{ "sleepers", t_sleepers }, { "tiny", t_tiny }, { "setitimer_tiny", t_setitimer_tiny },
		{ "siginfo", t_siginfo }, { "interval", t_interval }, { "wrap", t_wrap },
		{ "huge_sleep", t_huge_sleep }, { "rem_fault", t_rem_fault }, { "fork_wait", t_fork_wait },
		{ "sigwait_interval", t_sigwait_interval }, { "signalfd_interval", t_signalfd_interval },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return run_checks(argc, argv, checks, sizeof checks / sizeof checks[0]);
}
