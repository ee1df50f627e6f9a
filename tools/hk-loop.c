/* hk-loop: the guest that `hostk bench` times.  `hk-loop OP N` runs N/10
 * warm-up iterations of OP, then N timed ones, and prints the nanoseconds per
 * iteration.  OP is getppid (emulated under hostk), getuid (fast path), read0
 * (a 1-byte read of /dev/zero) or none (calibration).  For `hostk bench irq`:
 * `hk-loop sleep MS` sleeps once for MS milliseconds and prints the
 * nanoseconds it slept (the idle guest); `hk-loop tick MS` takes a 100 Hz
 * SIGALRM into an empty handler and pause() for MS milliseconds and prints
 * the CPU nanoseconds per tick (the host's floor under hostk's tick).
 *
 * `--floor` first installs a one-instruction allow-everything seccomp filter:
 * the host kernel's seccomp entry path with nothing of hostk's, the floor
 * under hostk's fast path. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum op { OP_GETPPID, OP_GETUID, OP_READ0, OP_NONE, OP_SLEEP, OP_TICK };

static const char *const op_names[] = {
	[OP_GETPPID] = "getppid", [OP_GETUID] = "getuid", [OP_READ0] = "read0", [OP_NONE] = "none",
	[OP_SLEEP] = "sleep", [OP_TICK] = "tick",
};

static _Noreturn void usage(void)
{
	fputs("usage: hk-loop [--floor] getppid|getuid|read0|none N\n"
	      "       hk-loop [--floor] sleep|tick MS\n", stderr);
	exit(2);
}

static double clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

/* CPU ns per tick of a bare 100 Hz interval timer into pause(). */
static double tick_floor(long ms)
{
	struct sigaction sa = { .sa_handler = on_tick };
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } }, off = { { 0, 0 }, { 0, 0 } };
	double t0, c0, c1;

	sigaction(SIGALRM, &sa, NULL);
	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_ns();
	setitimer(ITIMER_REAL, &it, NULL);
	while (now_ns() - t0 < (double)ms * 1e6)
		pause();
	setitimer(ITIMER_REAL, &off, NULL);
	c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	return ticks ? (c1 - c0) / ticks : 0;
}

/* The seccomp floor: `ret ALLOW` for every syscall. */
static void allow_all_filter(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		perror("hk-loop: installing the allow-all seccomp filter");
		exit(1);
	}
}

/* Raw syscall() everywhere, so that no libc caching can skip the kernel. */
static void loop(enum op op, long n, int fd)
{
	char c;

	switch (op) {
	case OP_GETPPID:
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		break;
	case OP_GETUID:
		for (long i = 0; i < n; i++)
			syscall(SYS_getuid);
		break;
	case OP_READ0:
		for (long i = 0; i < n; i++)
			if (syscall(SYS_read, fd, &c, 1) != 1) {
				perror("hk-loop: read /dev/zero");
				exit(1);
			}
		break;
	case OP_NONE:
		for (long i = 0; i < n; i++)
			__asm__ volatile("" ::: "memory");
		break;
	case OP_SLEEP:
	case OP_TICK:
		break;
	}
}

int main(int argc, char **argv)
{
	enum op op = OP_NONE;
	int fd = -1, found = 0, floor = 0;
	double t0, t1;
	char *end;
	long n;

	if (argc > 1 && !strcmp(argv[1], "--floor")) {
		floor = 1;
		argc--;
		argv++;
	}
	if (argc != 3)
		usage();
	for (int i = 0; i < (int)(sizeof op_names / sizeof op_names[0]); i++)
		if (!strcmp(argv[1], op_names[i])) {
			op = (enum op)i;
			found = 1;
		}
	n = strtol(argv[2], &end, 10);
	if (!found || end == argv[2] || *end || n < 1)
		usage();
	if (op == OP_READ0 && (fd = open("/dev/zero", O_RDONLY | O_CLOEXEC)) < 0) {
		perror("hk-loop: /dev/zero");
		return 1;
	}
	if (floor)
		allow_all_filter();

	if (op == OP_SLEEP) {
		struct timespec ts = { n / 1000, n % 1000 * 1000000 };

		t0 = now_ns();
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;	/* a signal: sleep the rest */
		printf("%.0f\n", now_ns() - t0);
		return 0;
	}
	if (op == OP_TICK) {
		printf("%.3f\n", tick_floor(n));
		return 0;
	}
	loop(op, n / 10, fd);
	t0 = now_ns();
	loop(op, n, fd);
	t1 = now_ns();
	printf("%.3f\n", (t1 - t0) / (double)n);
	return 0;
}
