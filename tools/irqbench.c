/* `hostk bench irq`: hostk's interrupt machinery, measured.  This process
 * plays hostk's kernel thread, with the real controller (irq_boot), timer
 * driver (timer_boot) and test device (testdev_boot) linked from hostk-core,
 * and a kernel loop of its own: do_softirq(), then a wait that a top half
 * rewinds if it lands after the check (as the real loop's wait does).
 *
 *   latency  raise the test device's low line at T0 (testdev_raise) and read
 *            the top half's entry and the bottom half's end from the
 *            controller's interrupt trace (irq_tracing).  The device keeps its
 *            own top and bottom halves, so the whole real path is timed:
 *            device thread, eventfd, the controller's epoll thread, the
 *            signal, the top half, the softirq.  Raises are paced below the
 *            device's budget per tick, so it never throttles the line.
 *   tick     a periodic interval timer at 100 Hz, as the timer driver
 *            programs it while guests run, into an otherwise idle loop: CPU
 *            time (all threads) per tick, next to its floor, `hk-loop tick`
 *            (the same timer into an empty handler and pause()).
 *   idle     `hostk run --stats -- hk-loop sleep MS` from outside: hostk's
 *            CPU time (its threads' schedstat) over the middle of the sleep,
 *            and the timer interrupts it took (from --stats). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../hostk/irq.h"
#include "../hostk/kregion.h"
#include "../hostk/sched.h"
#include "../hostk/softirq.h"
#include "../drivers/test.h"
#include "../hostk/timer.h"
#include "../hostk/util.h"

#define HZ 100
#define TIMER_LINE 0	/* timer_boot() requests the first line */
#define GAP_NS 200000		/* between raises: 50 a tick, under the device's 64 */
#define IDLE_TARGET_PCT 0.1	/* an idle (tickless) hostk: ~no CPU */

static _Noreturn void fail(const char *fmt, const char *arg)
{
	fputs("hostk bench irq: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* The kernel loop's wait: pause() unless a bottom half is pending.  A top
 * half that lands between the check and the syscall rewinds to the check
 * (irq_set_idle_window), so no interrupt is slept through. */
extern const char hkb_idle_begin[], hkb_idle_end[];

static __attribute__((noinline, noclone)) void idle_wait(void)
{
	long ret;

	__asm__ volatile(
		".globl hkb_idle_begin\n"
		"hkb_idle_begin:\n\t"
		"cmpl $0, %[pending]\n\t"
		"jne 1f\n\t"
		"movl %[nr], %%eax\n\t"
		".globl hkb_idle_end\n"
		"hkb_idle_end:\n\t"
		"syscall\n"
		"1:"
		: "=a"(ret)
		: [pending] "m"(softirq_pending), [nr] "i"(SYS_pause)
		: "rcx", "r11", "memory", "cc");
	(void)ret;
}

/* The kernel's side of this process.  A private kernel region that no guest
 * maps, so that the region writes a real hostk makes on every interrupt and
 * bottom half are in the measurement; one idle CPU for the scheduler. */
static void boot_machinery(void)
{
	static struct hk_kregion scratch;
	int rc;

	kr = &scratch;
	sched_init(1, 10);
	if ((rc = irq_boot()) < 0 || (rc = timer_boot(HZ)) < 0 || (rc = testdev_boot(-1)) < 0)
		fail("cannot boot the interrupt machinery: %s", strerror(-rc));
	irq_set_idle_window((uintptr_t)hkb_idle_begin, (uintptr_t)hkb_idle_end);
}

struct stat5 {
	uint64_t n, min, p50, p99, max;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static struct stat5 stats_of(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return (struct stat5){ n, v[0], v[n / 2], v[n * 99 / 100], v[n - 1] };
}

static struct stat5 hostk_stats(int line, int which)
{
	struct irq_latency l;

	irq_latency(line, which, &l);
	return (struct stat5){ l.n, l.min, l.p50, l.p99, l.max };
}

/* (a) Interrupt latency. */
enum { L_TOP, L_BH, L_CTL_TOP, L_TOPRUN, L_CTL_BH, NLAT };
static const char *const lat_label[NLAT] = {
	"device raise -> top half entry", "device raise -> bottom half done",
	"controller raise -> top half (hostk's)", "top half run time (hostk's)",
	"controller raise -> bottom half (hostk's)",
};
static const char *const lat_key[NLAT] = {
	"raise_to_top_ns", "raise_to_bh_ns", "controller_to_top_ns", "top_ns", "controller_to_bh_ns",
};

struct latency {
	struct stat5 s[NLAT];
	struct hk_dev_counts c;
};

static volatile bool wd_fired;

static void watchdog(struct ktimer *kt)
{
	(void)kt;
	wd_fired = true;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void measure_latency(int n, struct latency *out)
{
	uint64_t *top = calloc((size_t)n, sizeof *top), *bh = calloc((size_t)n, sizeof *bh);
	struct ktimer wd = { .fn = watchdog };
	struct irq_event ev;
	int lo = testdev_line(HK_TEST_LO);

	if (!top || !bh)
		die_oom();
	ktimer_add(&wd, now_ns() + 5000000000u + (uint64_t)n * 5000000u);
	timer_reprogram();
	irq_tracing = true;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns(), t_top = 0, t_bh = 0;

		testdev_raise(HK_TEST_LO, 1);
		for (;;) {
			do_softirq();
			while (irq_next_event(&ev))
				if (ev.line == lo && ev.kind == IRQ_EV_TOP && !t_top)
					t_top = ev.t;
				else if (ev.line == lo && ev.kind == IRQ_EV_BOTTOM && t_top && !t_bh)
					t_bh = ev.t;
			if (t_bh)
				break;
			if (wd_fired)
				fail("%s", "the test device's interrupt did not arrive in time");
			idle_wait();
		}
		top[i] = t_top - t0;
		bh[i] = t_bh - t0;
		sleep_until(t0 + GAP_NS);
	}
	irq_tracing = false;
	ktimer_del(&wd);
	timer_reprogram();
	out->s[L_TOP] = stats_of(top, (size_t)n);
	out->s[L_BH] = stats_of(bh, (size_t)n);
	out->s[L_CTL_TOP] = hostk_stats(lo, IRQ_LAT_TO_TOP);
	out->s[L_TOPRUN] = hostk_stats(lo, IRQ_LAT_TOP);
	out->s[L_CTL_BH] = hostk_stats(lo, IRQ_LAT_TO_BH);
	testdev_counts(HK_TEST_LO, &out->c);
	free(top);
	free(bh);
}

/* Starts argv with its stdout on a pipe; *fd reads it. */
static pid_t spawn(char *const argv[], int *fd)
{
	int fds[2];
	pid_t pid;

	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		fail("cannot start a run: %s", strerror(errno));
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(fds[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	*fd = fds[0];
	return pid;
}

/* Reads the run's output into buf, reaps it, and returns the number it
 * printed; a failed run ends the bench. */
static double finish(pid_t pid, int fd, char *buf, size_t size, struct rusage *ru, const char *what)
{
	size_t got = 0;
	ssize_t k;
	int status;

	while ((k = read(fd, buf + got, size - 1 - got)) != 0)
		if (k > 0)
			got += (size_t)k;
		else if (errno != EINTR)
			break;
	buf[got] = '\0';
	close(fd);
	while (wait4(pid, &status, 0, ru) < 0)
		if (errno != EINTR)
			fail("wait4: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("'%s' failed", what);
	return strtod(buf, NULL);
}

/* (b) The tick's cost. */
struct tick {
	double seconds, cpu_s;
	uint64_t ticks, top_halves;
	double cpu_us, bh_us, pct_100hz;
	double floor_us;	/* hk-loop tick: a bare SIGALRM into pause() */
	int rounds;
};

static uint64_t cpu_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One slice of ticks into this process's kernel loop; adds CPU and wall ns. */
static void tick_slice(uint64_t ns, uint64_t *cpu, uint64_t *wall)
{
	struct itimerval it = { { 0, 1000000 / HZ }, { 0, 1000000 / HZ } }, off = { { 0, 0 }, { 0, 0 } };
	uint64_t t0, c0;

	c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_ns();
	setitimer(ITIMER_REAL, &it, NULL);
	for (;;) {
		do_softirq();
		if (now_ns() - t0 >= ns)
			break;
		idle_wait();
	}
	setitimer(ITIMER_REAL, &off, NULL);
	*wall += now_ns() - t0;
	*cpu += cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	do_softirq();
}

/* Slices of hostk's tick and of the floor take turns, so that the machine's
 * drifts hit both alike. */
static void measure_tick(double seconds, int rounds, const char *loop, struct tick *out)
{
	char msbuf[16], buf[256];
	char *argv[] = { (char *)loop, "tick", msbuf, NULL };
	uint64_t slice = (uint64_t)(seconds * 1e9) / (uint64_t)rounds, cpu = 0, wall = 0;
	struct timer_stats a, b;
	struct irq_counts ca, cb;
	struct rusage ru;
	double floor = 0;
	pid_t pid;
	int fd;

	snprintf(msbuf, sizeof msbuf, "%lu", slice / 1000000u);
	timer_get_stats(&a);
	irq_counts(TIMER_LINE, &ca);
	for (int r = 0; r < rounds; r++) {
		tick_slice(slice, &cpu, &wall);
		pid = spawn(argv, &fd);
		floor += finish(pid, fd, buf, sizeof buf, &ru, "hk-loop tick") / 1e3 / rounds;
	}
	timer_get_stats(&b);
	irq_counts(TIMER_LINE, &cb);
	out->seconds = (double)wall / 1e9;
	out->cpu_s = (double)cpu / 1e9;
	out->ticks = b.ticks - a.ticks;
	out->top_halves = cb.delivered - ca.delivered;
	out->cpu_us = out->ticks ? out->cpu_s * 1e6 / (double)out->ticks : 0;
	out->bh_us = b.bh_runs > a.bh_runs ? (double)(b.bh_ns - a.bh_ns) / 1e3 / (double)(b.bh_runs - a.bh_runs) : 0;
	out->pct_100hz = out->cpu_us * 100 / 1e6 * 100;
	out->floor_us = floor;
	out->rounds = rounds;
}

/* (c) An idle hostk, from outside. */
struct idle {
	double seconds, window_s, window_cpu_s, whole_s, whole_cpu_s, slept_s;
	long interrupts, ticks;	/* hostk's timer interrupts and ticks (--stats); -1 unknown */
	bool schedstat;
};

/* CPU time of all of pid's threads: schedstat (ns), else stat (clock ticks). */
static int64_t proc_cpu_ns(pid_t pid, bool *precise)
{
	char path[96], buf[1024], *p;
	unsigned long long ns, ut, st;
	int64_t sum = 0;
	bool any = false;
	struct dirent *e;
	DIR *d;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/task", pid);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", pid, e->d_name);
			if ((fp = fopen(path, "re"))) {
				if (fscanf(fp, "%llu", &ns) == 1) {
					sum += (int64_t)ns;
					any = true;
				}
				fclose(fp);
			}
		}
		closedir(d);
	}
	if ((*precise = any))
		return sum;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (!(fp = fopen(path, "re")))
		return -1;
	buf[fread(buf, 1, sizeof buf - 1, fp)] = '\0';
	fclose(fp);
	if (!(p = strrchr(buf, ')')) || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
					  &st) != 2)
		return -1;
	return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static void measure_idle(const char *self, const char *loop, int ms, struct idle *out)
{
	char stats[] = "/tmp/hostk-bench-idle.XXXXXX", msbuf[16], statsopt[64], buf[4096], *p;
	char *argv[] = { (char *)self, "run", statsopt, "--json", "--", (char *)loop, "sleep", msbuf, NULL };
	uint64_t settle = (uint64_t)(ms > 1000 ? ms / 10 : 100) * 1000000u, t0, ta, tb, t1;
	struct rusage ru;
	int64_t ca, cb;
	ssize_t got;
	int fd;
	pid_t pid;

	memset(out, 0, sizeof *out);
	out->interrupts = out->ticks = -1;
	if ((fd = mkstemp(stats)) < 0)
		fail("cannot make a temporary file: %s", strerror(errno));
	close(fd);
	snprintf(msbuf, sizeof msbuf, "%d", ms);
	snprintf(statsopt, sizeof statsopt, "--stats=%s", stats);
	pid = spawn(argv, &fd);
	t0 = now_ns();
	sleep_until(t0 + settle);
	ta = now_ns();
	ca = proc_cpu_ns(pid, &out->schedstat);
	sleep_until(t0 + (uint64_t)ms * 1000000u - settle);
	tb = now_ns();
	cb = proc_cpu_ns(pid, &out->schedstat);
	out->slept_s = finish(pid, fd, buf, sizeof buf, &ru, "hostk run -- hk-loop sleep") / 1e9;
	t1 = now_ns();
	if (ca < 0 || cb < 0)
		fail("%s", "cannot read hostk's CPU time in /proc");
	out->seconds = ms / 1e3;
	out->window_s = (double)(tb - ta) / 1e9;
	out->window_cpu_s = (double)(cb - ca) / 1e9;
	out->whole_s = (double)(t1 - t0) / 1e9;
	out->whole_cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	/* The timer in hostk's --stats: "timer":{"hz":H,"interrupts":N,"ticks":M,... */
	if ((fd = open(stats, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, buf, sizeof buf - 1);
		buf[got > 0 ? got : 0] = '\0';
		close(fd);
		if ((p = strstr(buf, "\"timer\":{")))
			sscanf(p, "\"timer\":{\"hz\":%*d,\"interrupts\":%ld,\"ticks\":%ld", &out->interrupts, &out->ticks);
	}
	unlink(stats);
}

/* Output. */
static void print_table(int n, const struct latency *l, const struct tick *t, const struct idle *d)
{
	double pct = d->window_cpu_s * 100 / d->window_s;

	printf("hostk bench irq: in-process, with hostk's controller, timer driver and test device\n\n");
	printf("interrupt latency, test-lo, %d raises (us)     %8s %8s %8s %8s\n", n, "min", "p50", "p99", "max");
	for (int i = 0; i < NLAT; i++)
		printf("%-46s %8.1f %8.1f %8.1f %8.1f\n", lat_label[i], (double)l->s[i].min / 1e3,
		       (double)l->s[i].p50 / 1e3, (double)l->s[i].p99 / 1e3, (double)l->s[i].max / 1e3);
	printf("device: %lu raised, %lu handled; controller: %lu delivered, %lu coalesced, %lu spurious; "
	       "%lu throttled\n\n", l->c.device_raised, l->c.handled, l->c.delivered, l->c.coalesced, l->c.spurious,
	       l->c.throttled);
	printf("timer tick, %d Hz periodic, otherwise idle, %.1f s in %d slice(s) taking turns with the floor\n", HZ,
	       t->seconds, t->rounds);
	printf("  %-44s %10lu (%lu top halves)\n", "ticks", t->ticks, t->top_halves);
	printf("  %-44s %10.1f us\n", "CPU per tick (all threads)", t->cpu_us);
	printf("  %-44s %10.1f us\n", "  of which the timer's bottom half", t->bh_us);
	printf("  %-44s %10.1f us\n", "floor: bare SIGALRM into pause(), per tick", t->floor_us);
	printf("  %-44s %10.1f us  (%.2fx the floor)\n", "hostk's own share per tick", t->cpu_us - t->floor_us,
	       t->floor_us > 0 ? t->cpu_us / t->floor_us : 0);
	printf("  %-44s %10.3f %% of one CPU\n", "at 100 Hz", t->pct_100hz);
	printf("\nidle hostk: hostk run --stats -- hk-loop sleep, %.1f s (guest slept %.3f s)\n", d->seconds,
	       d->slept_s);
	printf("  %-44s %10.6f s  %8.4f %%   (%s)\n", "hostk's CPU, middle of the sleep", d->window_cpu_s, pct,
	       d->schedstat ? "schedstat, ns" : "stat, clock ticks");
	printf("  %-44s %10.6f s  %8.4f %%   over %.2f s\n", "whole run, hostk + guest (wait4)", d->whole_cpu_s,
	       d->whole_cpu_s * 100 / d->whole_s, d->whole_s);
	if (d->interrupts >= 0)
		printf("  %-44s %10ld (%ld ticks)\n", "hostk's timer interrupts, whole run", d->interrupts, d->ticks);
	printf("  target: an idle hostk uses ~no CPU (<= %.2f %%): %s\n", IDLE_TARGET_PCT,
	       pct <= IDLE_TARGET_PCT ? "met" : "NOT MET");
}

static void print_stat5(const char *key, const struct stat5 *s, bool comma)
{
	printf("\"%s\":{\"n\":%lu,\"min\":%lu,\"p50\":%lu,\"p99\":%lu,\"max\":%lu}%s", key, s->n, s->min, s->p50, s->p99,
	       s->max, comma ? "," : "");
}

static void print_json(int n, const struct latency *l, const struct tick *t, const struct idle *d)
{
	double pct = d->window_cpu_s * 100 / d->window_s;

	printf("{\"latency\":{\"line\":\"%s\",\"raises\":%d,", irq_name(testdev_line(HK_TEST_LO)), n);
	for (int i = 0; i < NLAT; i++)
		print_stat5(lat_key[i], &l->s[i], true);
	printf("\"counts\":{\"device_raised\":%lu,\"handled\":%lu,\"delivered\":%lu,\"coalesced\":%lu,"
	       "\"spurious\":%lu,\"throttled\":%lu}},", l->c.device_raised, l->c.handled, l->c.delivered,
	       l->c.coalesced, l->c.spurious, l->c.throttled);
	printf("\"tick\":{\"hz\":%d,\"seconds\":%.3f,\"ticks\":%lu,\"top_halves\":%lu,\"cpu_s\":%.6f,"
	       "\"cpu_us_per_tick\":%.2f,\"bh_us_per_tick\":%.2f,\"floor_us_per_tick\":%.2f,"
	       "\"cpu_pct_at_100hz\":%.4f},", HZ, t->seconds, t->ticks, t->top_halves, t->cpu_s, t->cpu_us, t->bh_us,
	       t->floor_us, t->pct_100hz);
	printf("\"idle\":{\"sleep_s\":%.3f,\"slept_s\":%.6f,\"window_s\":%.3f,\"hostk_cpu_s\":%.6f,"
	       "\"hostk_cpu_pct\":%.4f,\"precise\":%s,\"whole_s\":%.3f,\"whole_cpu_s\":%.6f,\"timer_interrupts\":%ld,"
	       "\"timer_ticks\":%ld,\"target_pct\":%.2f,\"met\":%s}}\n", d->seconds, d->slept_s, d->window_s,
	       d->window_cpu_s, pct, d->schedstat ? "true" : "false", d->whole_s, d->whole_cpu_s, d->interrupts,
	       d->ticks, IDLE_TARGET_PCT, pct <= IDLE_TARGET_PCT ? "true" : "false");
}

int bench_irq(int argc, char **argv, const char *self, const char *loop)
{
	bool json = false, smoke = false;
	struct latency lat;
	struct tick tick;
	struct idle idle;
	int n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
		} else {
			fprintf(stderr, "hostk bench irq: unknown option '%s'\nUsage: hostk bench irq [--json] [--smoke]\n",
				argv[i]);
			return 2;
		}
	}
	n = smoke ? 100 : 2000;
	/* The idle run first, while this process is still a plain one. */
	measure_idle(self, loop, smoke ? 500 : 5000, &idle);
	boot_machinery();
	measure_latency(n, &lat);
	measure_tick(smoke ? 0.2 : 2.0, smoke ? 1 : 4, loop, &tick);
	if (json)
		print_json(n, &lat, &tick, &idle);
	else
		print_table(n, &lat, &tick, &idle);
	return 0;
}
