/* hk-loop: the guest that `hostk bench` times, the same static binary under
 * every mechanism (natively, under the bench's own tracers, under hostk and
 * under the peers).  `hk-loop OP N [K]` makes N/10 warm-up calls of OP, then
 * N/K batches of K calls, and prints one line per batch: the nanoseconds per
 * call in that batch, less the cost of the clock reads around it.  OP is
 * getppid (the null syscall), getuid, unshare0 (unshare(0)), hknull (the hostk
 * call's HK_NULL: ENOSYS natively) or none (an empty loop).  For `hostk bench
 * irq`: `hk-loop sleep MS` sleeps once and prints the ns it slept;
 * `hk-loop tick MS` takes a 100 Hz SIGALRM into an empty handler and pause()
 * for MS ms and prints the CPU ns per tick; `hk-loop devwake N`, under hostk
 * with the test device, prints N wake-ups' latencies (devwake() says how).
 * For `hostk bench workloads`
 * under User-Mode Linux: `hk-loop run [--in FILE] PROG ARGS...` runs PROG
 * (stdin FILE or /dev/null, stdout /dev/null) and prints the ns it took.
 *
 * Options, before OP:
 *   --floor   a one-instruction allow-everything seccomp filter first: the
 *             host kernel's seccomp entry with nothing of hostk's
 *   --sigsys  OP's syscall returns SECCOMP_RET_TRAP; a SIGSYS handler in this
 *             process answers it (no second task)
 *   --sud     the same answer through Syscall User Dispatch
 *   --cpu C   pin this process to host CPU C first
 *
 * The batches are timed with clock_gettime from the vDSO, which makes no
 * syscall on this host's clock source, so no mechanism intercepts the clock.
 * As the init of a User-Mode Linux guest (pid 1, and HK_LOOP_POWEROFF=1 in
 * its environment from UML's command line) it powers the machine off at the
 * end instead of exiting, which would panic that kernel.  Not for any pid 1:
 * in a pid namespace (hostk's guests') reboot() would kill it with SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "filter1.h"
#include "../guest/include/hostk/hkcall.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif

enum op { OP_GETPPID, OP_GETUID, OP_UNSHARE0, OP_HKNULL, OP_NONE, OP_SLEEP, OP_TICK, OP_DEVWAKE, NR_OPS };

/* Each op's syscall and first argument; nr < 0 makes no call. */
static const struct opent {
	const char *name;
	long nr, a0;
} ops[NR_OPS] = {
	[OP_GETPPID] = { "getppid", SYS_getppid, 0 },
	[OP_GETUID] = { "getuid", SYS_getuid, 0 },
	[OP_UNSHARE0] = { "unshare0", SYS_unshare, 0 },
	[OP_HKNULL] = { "hknull", HK_CALL_NR, HK_NULL },
	[OP_NONE] = { "none", -1, 0 },
	[OP_SLEEP] = { "sleep", -1, 0 },
	[OP_TICK] = { "tick", -1, 0 },
	[OP_DEVWAKE] = { "devwake", -1, 0 },
};

enum gate { G_NONE, G_FLOOR, G_SIGSYS, G_SUD };

static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static long sigsys_answer;	/* what the SIGSYS handler returns: getppid's value */

static _Noreturn void usage(void)
{
	fputs("usage: hk-loop [--floor|--sigsys|--sud] [--cpu C] getppid|getuid|unshare0|hknull|none N [K]\n"
	      "       hk-loop sleep|tick MS\n"
	      "       hk-loop devwake N\n"
	      "       hk-loop run [--in FILE] PROG [ARGS...]\n", stderr);
	exit(2);
}

static _Noreturn void fail(const char *what)
{
	fprintf(stderr, "hk-loop: %s: %s\n", what, strerror(errno));
	exit(1);
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

/* The answer to a trapped syscall, in this process: the result goes into
 * rax, and (SUD) the selector lets the handler's rt_sigreturn through. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	(void)si;
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	uc->uc_mcontext.gregs[REG_RAX] = sigsys_answer;
}

static void install_filter(long nr, unsigned action)
{
	if (filter1_install(nr, action, 0) < 0)
		fail("installing a seccomp filter");
}

static void set_gate(enum gate g, long nr)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	sigsys_answer = getppid();
	if (g == G_FLOOR)
		install_filter(-1, SECCOMP_RET_ALLOW);
	if (g == G_SIGSYS || g == G_SUD)
		sigaction(SIGSYS, &sa, NULL);
	if (g == G_SIGSYS)
		install_filter(nr, SECCOMP_RET_TRAP);
	/* No allowed region (offset 0, length 0): the selector alone decides. */
	if (g == G_SUD && prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &sud_selector) < 0)
		fail("Syscall User Dispatch");
}

/* k calls of op.  Raw syscall(), so that no libc caching skips the kernel;
 * under SUD each call first arms the selector (the handler disarms it). */
static void calls(const struct opent *o, enum gate g, long k)
{
	if (o->nr < 0) {
		for (long i = 0; i < k; i++)
			__asm__ volatile("" ::: "memory");
		return;
	}
	for (long i = 0; i < k; i++) {
		if (g == G_SUD)
			sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
		syscall(o->nr, o->a0);
	}
}

/* The least an empty timed section costs: taken off every batch. */
static double clock_overhead(void)
{
	double best = 1e18;

	for (int i = 0; i < 256; i++) {
		double t0 = now_ns(), t1 = now_ns();

		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

static void timed(const struct opent *o, enum gate g, long n, long k)
{
	long batches = n / k;
	double *ns = malloc(sizeof *ns * (size_t)(batches ? batches : 1)), over;

	if (!ns)
		fail("malloc");
	over = clock_overhead();
	calls(o, g, n / 10 > k ? n / 10 : k);
	for (long b = 0; b < batches; b++) {
		double t0 = now_ns();

		calls(o, g, k);
		double t = now_ns() - t0 - over;
		ns[b] = t > 0 ? t / (double)k : 0;
	}
	for (long b = 0; b < batches; b++)
		printf("%.1f\n", ns[b]);
	free(ns);
}

/* devwake: the test device's whole path as a guest sees it, from a request
 * to raise (HK_DEV_RAISE) to the sleeper in HK_DEV_WAIT running again, its
 * bottom half having woken it.  Two threads, so that the sleeper is surely
 * asleep when the raise comes (one thread raising, then waiting, would race
 * the interrupt into the wait and often not sleep at all): the raiser asks
 * HK_DEV_WAIT itself, which says EBUSY only while another task sleeps in it,
 * then takes t0 and raises, and blocks on a pipe until the sleeper, woken,
 * sends its clock.  Raises are 500 us apart, 20 a tick at 100 Hz, under the
 * device's budget (64 a tick), so that it never throttles the line. */
#define DEVWAKE_GAP_NS 500000

static int wake_pipe[2];
static uint64_t wake_base;	/* events handled before the first raise */
static long wake_n;

static long hkcall(long op, long line, long arg)
{
	return syscall(HK_CALL_NR, op, line, arg);
}

static void *devwake_sleeper(void *arg)
{
	(void)arg;
	for (long i = 1; i <= wake_n; i++) {
		double t1;

		if (hkcall(HK_DEV_WAIT, HK_TEST_LO, (long)(wake_base + (uint64_t)i)) < 0)
			fail("HK_DEV_WAIT");
		t1 = now_ns();
		if (write(wake_pipe[1], &t1, sizeof t1) != (ssize_t)sizeof t1)
			fail("write");
	}
	return NULL;
}

static void devwake(long n)
{
	double *ns = malloc(sizeof *ns * (size_t)n), t0, t1;
	struct hk_dev_counts c;
	struct timespec next;
	pthread_t th;

	if (!ns)
		fail("malloc");
	if (hkcall(HK_DEV_COUNTS, HK_TEST_LO, (long)&c) < 0)
		fail(errno == ENOSYS ? "not under hostk" : "the test device (hostk run --device test=test)");
	wake_base = c.handled;
	wake_n = n;
	if (pipe(wake_pipe) < 0 || (errno = pthread_create(&th, NULL, devwake_sleeper, NULL)))
		fail("starting the sleeper");
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; i < n; i++) {
		long tries = 0;

		/* 100 000 yields without the sleeper asleep: it is stuck. */
		while (hkcall(HK_DEV_WAIT, HK_TEST_LO, 0) != -1 || errno != EBUSY) {
			if (++tries == 100000) {
				errno = ETIMEDOUT;
				fail("the sleeper never went to sleep in HK_DEV_WAIT");
			}
			sched_yield();
		}
		t0 = now_ns();
		if (hkcall(HK_DEV_RAISE, HK_TEST_LO, 1) < 0)
			fail("HK_DEV_RAISE");
		if (read(wake_pipe[0], &t1, sizeof t1) != (ssize_t)sizeof t1)
			fail("read");
		ns[i] = t1 - t0;
		next.tv_nsec += DEVWAKE_GAP_NS;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	pthread_join(th, NULL);
	for (long i = 0; i < n; i++)
		printf("%.0f\n", ns[i]);
	free(ns);
}

static int run_prog(int argc, char **argv)
{
	const char *in = "/dev/null";
	int status;
	double t0;
	pid_t pid;

	if (argc > 2 && !strcmp(argv[0], "--in")) {
		in = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		usage();
	t0 = now_ns();
	if ((pid = fork()) < 0)
		fail("fork");
	if (pid == 0) {
		int i = open(in, O_RDONLY), o = open("/dev/null", O_WRONLY);

		if (i < 0 || o < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0)
			fail(in);
		execv(argv[0], argv);
		fail(argv[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("hk-loop: %s failed (wait status %#x)\n", argv[0], status);
		return 1;
	}
	printf("%.0f\n", now_ns() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	enum gate gate = G_NONE;
	int op = -1, cpu = -1;
	long n, k = 20;
	char *end;

	if (argc > 1 && !strcmp(argv[1], "run")) {
		int rc = run_prog(argc - 2, argv + 2);

		if (getpid() == 1 && getenv("HK_LOOP_POWEROFF")) {
			fflush(stdout);
			reboot(RB_POWER_OFF);
		}
		return rc;
	}
	for (; argc > 1 && !strncmp(argv[1], "--", 2); argc--, argv++) {
		if (!strcmp(argv[1], "--floor"))
			gate = G_FLOOR;
		else if (!strcmp(argv[1], "--sigsys"))
			gate = G_SIGSYS;
		else if (!strcmp(argv[1], "--sud"))
			gate = G_SUD;
		else if (!strcmp(argv[1], "--cpu") && argc > 2) {
			cpu = (int)strtol(argv[2], &end, 10);
			if (end == argv[2] || *end || cpu < 0 || cpu >= CPU_SETSIZE)
				usage();
			argc--, argv++;
		} else
			usage();
	}
	if (argc != 3 && argc != 4)
		usage();
	for (int i = 0; i < NR_OPS; i++)
		if (!strcmp(argv[1], ops[i].name))
			op = i;
	n = strtol(argv[2], &end, 10);
	if (op < 0 || end == argv[2] || *end || n < 1)
		usage();
	if (argc == 4 && ((k = strtol(argv[3], &end, 10)) < 1 || *end || k > n))
		usage();
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			fail("pinning to a CPU");
	}

	if (op == OP_SLEEP) {
		struct timespec ts = { n / 1000, n % 1000 * 1000000 };
		double t0 = now_ns();

		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;	/* a signal: sleep the rest */
		printf("%.0f\n", now_ns() - t0);
	} else if (op == OP_TICK) {
		printf("%.3f\n", tick_floor(n));
	} else if (op == OP_DEVWAKE) {
		devwake(n);
	} else {
		set_gate(gate, ops[op].nr);
		timed(&ops[op], gate, n, k);
	}
	if (getpid() == 1 && getenv("HK_LOOP_POWEROFF")) {
		fflush(stdout);
		reboot(RB_POWER_OFF);
	}
	return 0;
}
