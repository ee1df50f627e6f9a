/* deputy.c - hostk as a confused deputy: the syscalls whose results hostk
 * writes itself (its sleeps' time left, its interval timer, the times it
 * charges, its device's counters) or reads from the guest before the host
 * writes them (wait statuses), told to put them where the guest may not
 * write: the kernel region, a read-only page, its own text.  Each must fail
 * with EFAULT and leave all three as they were. */
#include "attack.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

static unsigned char *ro;	/* a read-only page of 0xa5 */
static unsigned char text_copy[256];

static void on_alarm(int sig)
{
	(void)sig;
}

static void setup(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART: sleeps end with EINTR */

	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(ro, 0xa5, PAGE);
	mprotect(ro, PAGE, PROT_READ);
	memcpy(text_copy, (const void *)(uintptr_t)setup, sizeof text_copy);
	sigaction(SIGALRM, &sa, NULL);
}

static bool all_unchanged(void)
{
	for (size_t i = 0; i < PAGE; i++)
		if (ro[i] != 0xa5)
			return false;
	return !memcmp(text_copy, (const void *)(uintptr_t)setup, sizeof text_copy) && !region_damage();
}

/* The three places the guest may not write. */
static void *target(int i)
{
	return i == 0 ? (char *)REGION + HK_KREGION_HEAD + 8 * PAGE : i == 1 ? (void *)ro : (void *)(uintptr_t)setup;
}

/* Runs call(target) for each place and reports the three answers. */
static void three(long (*call)(void *))
{
	char ans[3][24];

	for (int i = 0; i < 3; i++) {
		long r = call(target(i));

		snprintf(ans[i], sizeof ans[i], "%s", r < 0 ? ename((int)-r) : "SUCCEEDED");
	}
	report(what, "into the region %s, a read-only page %s, text %s; %s", ans[0], ans[1], ans[2],
	       all_unchanged() ? "all unchanged" : "SOMETHING CHANGED");
}

static long err(long r)
{
	return r == -1 ? -errno : r;
}

/* A sleep of a second, cut short after 20 ms by SIGALRM (a host timer, so
 * as not to depend on hostk's), so that the time left is written. */
static void arm(void)
{
	timer_t t;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	struct itimerspec in = { .it_value = { 0, 20000000 } };

	timer_create(CLOCK_MONOTONIC, &ev, &t);
	timer_settime(t, 0, &in, NULL);
}

static long c_nanosleep(void *p)
{
	arm();
	return err(syscall(SYS_nanosleep, &(struct timespec){ 1, 0 }, p));
}

static long c_clock_nanosleep(void *p)
{
	arm();
	return err(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &(struct timespec){ 1, 0 }, p));
}

static long c_setitimer(void *p)
{
	struct itimerval v = { .it_value = { 100, 0 } };

	return err(syscall(SYS_setitimer, ITIMER_REAL, &v, p));
}

static long c_getitimer(void *p)
{
	return err(syscall(SYS_getitimer, ITIMER_REAL, p));
}

static long c_wait4(void *p)
{
	pid_t z = zombie();
	long r = err(syscall(SYS_wait4, z, p, 0, NULL));

	waitpid(z, NULL, WNOHANG);
	return r;
}

static long c_wait4_rusage(void *p)
{
	pid_t z = zombie();
	long r = err(syscall(SYS_wait4, z, NULL, 0, p));

	waitpid(z, NULL, WNOHANG);
	return r;
}

static long c_waitid(void *p)
{
	pid_t z = zombie();
	long r = err(syscall(SYS_waitid, P_PID, z, p, WEXITED, NULL));

	waitpid(z, NULL, WNOHANG);
	return r;
}

static long c_getrusage(void *p)
{
	return err(syscall(SYS_getrusage, RUSAGE_SELF, p));
}

static long c_times(void *p)
{
	return err(syscall(SYS_times, p));
}

static long c_counts(void *p)
{
	return err(syscall(0x4b48, 3 /* HK_DEV_COUNTS */, 1 /* test-lo */, p));
}

#define CASE(fn) \
	static void t_##fn(int argc, char **argv) \
	{ \
		(void)argc, (void)argv; \
		setup(); \
		three(c_##fn); \
	}
CASE(nanosleep)
CASE(clock_nanosleep)
CASE(setitimer)
CASE(getitimer)
CASE(wait4)
CASE(wait4_rusage)
CASE(waitid)
CASE(getrusage)
CASE(times)
CASE(counts)

static const struct attack cases[] = {
	{ "nanosleep-rem", t_nanosleep, true },
	{ "clock-nanosleep-rem", t_clock_nanosleep, true },
	{ "setitimer-old", t_setitimer, true },
	{ "getitimer", t_getitimer, true },
	{ "wait4-status", t_wait4, true },
	{ "wait4-rusage", t_wait4_rusage, true },
	{ "waitid-info", t_waitid, true },
	{ "getrusage", t_getrusage, true },
	{ "times", t_times, true },
	{ "device-counts", t_counts, true },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "deputy", cases, NELEM(cases));
}
