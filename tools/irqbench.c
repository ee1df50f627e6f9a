/* `hostk bench irq`: hostk's interrupt machinery, measured, cyclictest's way
 * (one figure per event; min, p50, p99, max and a log2 histogram of each).
 * This process plays hostk's kernel thread, pinned as hostk pins itself (to
 * the idlest CPU, the test device's hardware thread off it), with the real
 * controller (irq_boot), timer driver (timer_boot) and test device
 * (testdev_boot) linked from hostk-core, and a kernel loop of its own:
 * do_softirq(), then a wait that a top half rewinds if it lands after the
 * check (as the real loop's wait does).
 *
 *   timer    a one-shot kernel timeout at an absolute time, every 1 ms, as
 *            cyclictest arms its timer: its lateness at the timer's top half
 *            (from the controller's interrupt trace) and at the timeout's
 *            handler (the bottom half).  Each is followed, half an interval
 *            later, by the floor: this thread's own clock_nanosleep(ABSTIME)
 *            lateness, which is cyclictest's measurement with hostk out of
 *            the way.
 *   latency  raise the test device's low line at T0 (testdev_raise) and read
 *            the top half's entry and the bottom half's end from the
 *            controller's interrupt trace (irq_tracing).  The device keeps its
 *            own top and bottom halves, so the whole real path is timed:
 *            device thread, eventfd, the controller's epoll thread, the
 *            signal, the top half, the softirq.  Raises are paced below the
 *            device's budget per tick, so it never throttles the line.
 *   wake     the same path's last stage, the guest waking, which only a
 *            real guest has: irqrun.c, from outside.
 *   tick     a periodic interval timer at 100 Hz, as the timer driver
 *            programs it while guests run, into an otherwise idle loop: CPU
 *            time (all threads) per timer interrupt, next to its floor,
 *            `hk-loop tick` (the same timer into an empty handler and pause()).
 *   idle     an idle `hostk run`'s CPU use, from outside: irqrun.c. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "irqbench.h"
#include "../hostk/irq.h"
#include "../hostk/kregion.h"
#include "../hostk/sched.h"
#include "../hostk/softirq.h"
#include "../drivers/test.h"
#include "../hostk/timer.h"
#include "../hostk/util.h"

#define HZ 100
#define TIMER_LINE 0		/* timer_boot() requests the first line */
#define GAP_NS 200000		/* between raises: 50 a tick, under the device's 64 */
#define INTERVAL_NS 1000000	/* between timeouts: cyclictest's default */
#define IDLE_TARGET_PCT 0.1	/* an idle (tickless) hostk: ~no CPU */

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
static void boot_machinery(int cpu)
{
	static struct hk_kregion scratch;
	int rc;

	kr = &scratch;
	sched_init(1, 10);
	if ((rc = irq_boot()) < 0 || (rc = timer_boot(HZ)) < 0 || (rc = testdev_boot(NULL, cpu)) < 0)
		irqb_fail("cannot boot the interrupt machinery: %s", strerror(-rc));
	irq_set_idle_window((uintptr_t)hkb_idle_begin, (uintptr_t)hkb_idle_end);
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = ns_to_ts(t);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static uint64_t *figures(int n)
{
	uint64_t *v = calloc((size_t)n, sizeof *v);

	if (!v)
		die_oom();
	return v;
}

/* (a) Timer interrupt latency. */
enum { T_TOP, T_HANDLER, T_FLOOR, NTIMER };
static const struct hist timer_rows[NTIMER] = {
	[T_TOP] = { "expiry_to_top_ns", "timer>top", "timer expiry -> top half entry" },
	[T_HANDLER] = { "expiry_to_handler_ns", "timer>bh", "timer expiry -> its handler (bottom half)" },
	[T_FLOOR] = { "nanosleep_ns", "nanosleep", "floor: clock_nanosleep lateness (cyclictest)" },
};

static volatile uint64_t fired_at;

static void timer_fired(struct ktimer *kt)
{
	(void)kt;
	fired_at = now_ns();
}

/* The timer's top half for a timeout due at when: the last one logged at
 * or after when, before its handler ran (a stray timeout's comes earlier). */
static void timer_top(uint64_t when, uint64_t *top)
{
	struct irq_event ev;

	while (irq_next_event(&ev))
		if (ev.line == TIMER_LINE && ev.kind == IRQ_EV_TOP && ev.t >= when && (!fired_at || ev.t <= fired_at))
			*top = ev.t;
}

static void measure_timer(int n, struct hist out[NTIMER])
{
	uint64_t *v[NTIMER], when = now_ns() + INTERVAL_NS, end;
	/* A second host timer, not the one measured, bounds the wait: its
	 * SIGALRM raises line 0 too, which wakes the loop to see the time. */
	struct itimerval bound = { .it_value = { (time_t)((uint64_t)n * INTERVAL_NS * 2 / NSEC_PER_SEC) + 10, 0 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct ktimer kt = { .fn = timer_fired };

	for (int k = 0; k < NTIMER; k++)
		v[k] = figures(n);
	end = now_ns() + (uint64_t)bound.it_value.tv_sec * NSEC_PER_SEC;
	setitimer(ITIMER_REAL, &bound, NULL);
	/* No timer slack (cyclictest's RT threads have none): a plain thread's
	 * sleeps end up to 50 us late on purpose, a POSIX timer's never. */
	prctl(PR_SET_TIMERSLACK, 1);
	irq_tracing = true;
	for (int i = 0; i < n; i++) {
		uint64_t top = 0, floor_at;

		fired_at = 0;
		ktimer_add(&kt, when);
		timer_reprogram();
		for (;;) {
			do_softirq();
			timer_top(when, &top);
			if (fired_at)
				break;
			if (now_ns() >= end)
				irqb_fail("the timer interrupt did not come within %ld s", (long)bound.it_value.tv_sec);
			idle_wait();
		}
		timer_top(when, &top);
		if (!top)
			irqb_fail("%s", "the timer's top half is not in the interrupt trace");
		v[T_TOP][i] = top - when;
		v[T_HANDLER][i] = fired_at - when;
		/* The floor half an interval on (or from now, after a late one). */
		floor_at = when + INTERVAL_NS / 2;
		if (floor_at <= now_ns())
			floor_at = now_ns() + INTERVAL_NS / 2;
		sleep_until(floor_at);
		v[T_FLOOR][i] = now_ns() - floor_at;
		when = floor_at + INTERVAL_NS / 2;
	}
	irq_tracing = false;
	prctl(PR_SET_TIMERSLACK, 0);	/* the default again */
	setitimer(ITIMER_REAL, &off, NULL);
	do_softirq();
	for (int k = 0; k < NTIMER; k++) {
		out[k] = timer_rows[k];
		hist_fill(&out[k], v[k], (size_t)n);
		free(v[k]);
	}
}

/* (b) Device interrupt latency; hostk's own figures (its controller's
 * samples of the last 4096 deliveries) beside the bench's. */
enum { D_TOP, D_BH, D_CTL_TOP, D_TOPRUN, D_CTL_BH, NDEV };
#define D_MEASURED 2	/* the bench's own, with histograms: D_TOP, D_BH */
static const struct hist dev_rows[NDEV] = {
	[D_TOP] = { "raise_to_top_ns", "raise>top", "device raise -> top half entry" },
	[D_BH] = { "raise_to_bh_ns", "raise>bh", "device raise -> bottom half done" },
	[D_CTL_TOP] = { "controller_to_top_ns", "", "controller raise -> top half (hostk's)" },
	[D_TOPRUN] = { "top_ns", "", "top half run time (hostk's)" },
	[D_CTL_BH] = { "controller_to_bh_ns", "", "controller raise -> bottom half (hostk's)" },
};

struct latency {
	struct hist h[NDEV];
	struct hk_dev_counts c;
};

static volatile bool wd_fired;

static void watchdog(struct ktimer *kt)
{
	(void)kt;
	wd_fired = true;
}

static void hostk_figures(struct hist *h, int line, int which)
{
	struct irq_latency l;

	irq_latency(line, which, &l);
	h->n = l.n;
	h->min = l.min;
	h->p50 = l.p50;
	h->p99 = l.p99;
	h->max = l.max;
}

static void measure_latency(int n, struct latency *out)
{
	uint64_t *top = figures(n), *bh = figures(n);
	struct ktimer wd = { .fn = watchdog };
	struct irq_event ev;
	int lo = testdev_line(HK_TEST_LO);

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
				irqb_fail("%s", "the test device's interrupt did not arrive in time");
			idle_wait();
		}
		top[i] = t_top - t0;
		bh[i] = t_bh - t0;
		sleep_until(t0 + GAP_NS);
	}
	irq_tracing = false;
	ktimer_del(&wd);
	timer_reprogram();
	memcpy(out->h, dev_rows, sizeof dev_rows);
	hist_fill(&out->h[D_TOP], top, (size_t)n);
	hist_fill(&out->h[D_BH], bh, (size_t)n);
	hostk_figures(&out->h[D_CTL_TOP], lo, IRQ_LAT_TO_TOP);
	hostk_figures(&out->h[D_TOPRUN], lo, IRQ_LAT_TOP);
	hostk_figures(&out->h[D_CTL_BH], lo, IRQ_LAT_TO_BH);
	testdev_counts(HK_TEST_LO, &out->c);
	free(top);
	free(bh);
}

/* (c) The tick's cost. */
struct tick {
	double seconds, cpu_s;
	uint64_t interrupts;
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
 * drifts hit both alike.  A tick is a timer interrupt: with no guest the
 * scheduler has no tick of its own to count. */
static void measure_tick(double seconds, int rounds, const char *loop, struct tick *out)
{
	char msbuf[16];
	char *argv[] = { (char *)loop, "tick", msbuf, NULL };
	uint64_t slice = (uint64_t)(seconds * 1e9) / (uint64_t)rounds, cpu = 0, wall = 0;
	struct timer_stats a, b;
	struct irq_counts ca, cb;
	double floor = 0;

	snprintf(msbuf, sizeof msbuf, "%lu", slice / 1000000u);
	timer_get_stats(&a);
	irq_counts(TIMER_LINE, &ca);
	for (int r = 0; r < rounds; r++) {
		tick_slice(slice, &cpu, &wall);
		floor += irqb_run_number(argv, (unsigned)(slice / NSEC_PER_SEC) + 60, "hk-loop tick") / 1e3 / rounds;
	}
	timer_get_stats(&b);
	irq_counts(TIMER_LINE, &cb);
	out->seconds = (double)wall / 1e9;
	out->cpu_s = (double)cpu / 1e9;
	out->interrupts = cb.delivered - ca.delivered;
	out->cpu_us = out->interrupts ? out->cpu_s * 1e6 / (double)out->interrupts : 0;
	out->bh_us = b.bh_runs > a.bh_runs ? (double)(b.bh_ns - a.bh_ns) / 1e3 / (double)(b.bh_runs - a.bh_runs) : 0;
	out->pct_100hz = out->cpu_us * 100 / 1e6 * 100;
	out->floor_us = floor;
	out->rounds = rounds;
}

/* Everything, for the output. */
struct irqb {
	int n, cpu;
	bool smoke;
	double load;
	struct hist timer[NTIMER], wake;
	struct latency lat;
	struct tick tick;
	struct idle idle;
	char wake_cmd[128];
};

/* The histograms, in the order of the path: timer, then device to guest. */
static int charted(const struct irqb *b, struct hist *out)
{
	int k = 0;

	for (int i = 0; i < NTIMER; i++)
		out[k++] = b->timer[i];
	for (int i = 0; i < D_MEASURED; i++)
		out[k++] = b->lat.h[i];
	out[k++] = b->wake;
	return k;
}

static void row(const struct hist *h)
{
	printf("  %-46s %8.1f %8.1f %8.1f %8.1f\n", h->label, (double)h->min / 1e3, (double)h->p50 / 1e3,
	       (double)h->p99 / 1e3, (double)h->max / 1e3);
}

static void print_table(const struct irqb *b)
{
	const struct latency *l = &b->lat;
	const struct tick *t = &b->tick;
	const struct idle *d = &b->idle;
	double pct = d->window_cpu_s * 100 / d->window_s;
	struct hist h[NTIMER + D_MEASURED + 1];
	const char *cols = "min      p50      p99      max";

	printf("hostk bench irq: in-process, with hostk's controller, timer driver and test device, on CPU %d "
	       "(the device's hardware thread off it); load average %.2f at the start\n\n", b->cpu, b->load);
	printf("timer interrupt latency, %d one-shot timeouts 1 ms apart (us)  %s\n", b->n, cols);
	for (int i = 0; i < NTIMER; i++)
		row(&b->timer[i]);
	printf("\ndevice interrupt latency, test-lo, %d raises (us)             %s\n", b->n, cols);
	for (int i = 0; i < NDEV; i++)
		row(&l->h[i]);
	printf("  device: %lu raised, %lu handled; controller: %lu delivered, %lu coalesced, %lu spurious; "
	       "%lu throttled\n", l->c.device_raised, l->c.handled, l->c.delivered, l->c.coalesced, l->c.spurious,
	       l->c.throttled);
	printf("  %s, from outside:\n", b->wake_cmd);
	row(&b->wake);
	printf("\n");
	hist_print(stdout, h, charted(b, h));
	printf("\ntimer tick, %d Hz periodic, otherwise idle, %.1f s in %d slice(s) taking turns with the floor\n", HZ,
	       t->seconds, t->rounds);
	printf("  %-44s %10lu\n", "timer interrupts", t->interrupts);
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

/* "key":{...}, with the histogram where the bench has one. */
static void json_hist(const struct hist *h, bool with_hist)
{
	printf("\"%s\":", h->key);
	if (with_hist)
		hist_json(stdout, h);
	else
		printf("{\"n\":%lu,\"min\":%lu,\"p50\":%lu,\"p99\":%lu,\"max\":%lu}", h->n, h->min, h->p50, h->p99, h->max);
	printf(",");
}

static void print_json(const struct irqb *b)
{
	const struct latency *l = &b->lat;
	const struct tick *t = &b->tick;
	const struct idle *d = &b->idle;
	double pct = d->window_cpu_s * 100 / d->window_s;

	printf("{\"bench\":\"irq\",\"smoke\":%s,\"cpu\":%d,\"loadavg\":%.2f,\n\"timer\":{\"interval_us\":%d,",
	       b->smoke ? "true" : "false", b->cpu, b->load, INTERVAL_NS / 1000);
	for (int i = 0; i < NTIMER; i++)
		json_hist(&b->timer[i], true);
	printf("\"timeouts\":%d},\n\"latency\":{\"line\":\"%s\",\"raises\":%d,", b->n,
	       irq_name(testdev_line(HK_TEST_LO)), b->n);
	for (int i = 0; i < NDEV; i++)
		json_hist(&l->h[i], i < D_MEASURED);
	printf("\"counts\":{\"device_raised\":%lu,\"handled\":%lu,\"delivered\":%lu,\"coalesced\":%lu,"
	       "\"spurious\":%lu,\"throttled\":%lu}},\n", l->c.device_raised, l->c.handled, l->c.delivered,
	       l->c.coalesced, l->c.spurious, l->c.throttled);
	printf("\"wake\":{\"command\":");
	json_str(stdout, b->wake_cmd);
	printf(",");
	json_hist(&b->wake, true);
	printf("\"raises\":%d},\n", b->n);
	printf("\"tick\":{\"hz\":%d,\"seconds\":%.3f,\"interrupts\":%lu,\"cpu_s\":%.6f,"
	       "\"cpu_us_per_tick\":%.2f,\"bh_us_per_tick\":%.2f,\"floor_us_per_tick\":%.2f,"
	       "\"cpu_pct_at_100hz\":%.4f},\n", HZ, t->seconds, t->interrupts, t->cpu_s, t->cpu_us, t->bh_us,
	       t->floor_us, t->pct_100hz);
	printf("\"idle\":{\"sleep_s\":%.3f,\"slept_s\":%.6f,\"window_s\":%.3f,\"hostk_cpu_s\":%.6f,"
	       "\"hostk_cpu_pct\":%.4f,\"precise\":%s,\"whole_s\":%.3f,\"whole_cpu_s\":%.6f,\"timer_interrupts\":%ld,"
	       "\"timer_ticks\":%ld,\"target_pct\":%.2f,\"met\":%s}}\n", d->seconds, d->slept_s, d->window_s,
	       d->window_cpu_s, pct, d->schedstat ? "true" : "false", d->whole_s, d->whole_cpu_s, d->interrupts,
	       d->ticks, IDLE_TARGET_PCT, pct <= IDLE_TARGET_PCT ? "true" : "false");
}

static void write_svg(const struct irqb *b, const char *path)
{
	struct hist h[NTIMER + D_MEASURED + 1];
	char sub[256];
	struct utsname u;
	int rc;

	uname(&u);
	snprintf(sub, sizeof sub, "%d timeouts and %d device raises each; kernel loop on CPU %d; Linux %s, %ld CPU(s) "
		 "online", b->n, b->n, b->cpu, u.release, sysconf(_SC_NPROCESSORS_ONLN));
	if ((rc = hist_svg(path, "hostk's interrupt latency: timer, and device to guest", sub, h, charted(b, h))) < 0)
		irqb_fail("%s: %s", path, strerror(-rc));
}

int bench_irq(int argc, char **argv, const char *self, const char *loop)
{
	static struct irqb b;
	const char *svg = NULL;
	bool json = false;
	long n = 0;
	int cpu[2];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--smoke"))
			b.smoke = true;
		else if (!strcmp(argv[i], "--svg") && i + 1 < argc)
			svg = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = bench_number("bench irq", "-n", argv[++i], 10, 1000000);
		else if (!strcmp(argv[i], "--svg") || !strcmp(argv[i], "-n"))
			die_status(EXIT_USAGE, "bench irq: %s wants a value", argv[i]);
		else
			die_status(EXIT_USAGE, "bench irq: unknown option '%s' (see hostk --help)", argv[i]);
	}
	b.n = n ? (int)n : b.smoke ? 100 : 2000;
	/* Where hostk would be: the idlest CPU, with every run below on it. */
	idlest_cpus(cpu);
	b.cpu = cpu[0];
	if (pin_cpu(b.cpu) < 0)
		irqb_fail("cannot pin to CPU %d: %s", b.cpu, strerror(errno));
	getloadavg(&b.load, 1);
	/* The runs from outside first, while this process is still a plain one. */
	measure_idle(self, loop, b.smoke ? 500 : 5000, &b.idle);
	b.wake = (struct hist){ "raise_to_wake_ns", "guest wake", "guest: raise requested -> the sleeper runs" };
	measure_wake(self, loop, b.n, &b.wake, b.wake_cmd, sizeof b.wake_cmd);
	boot_machinery(b.cpu);
	measure_timer(b.n, b.timer);
	measure_latency(b.n, &b.lat);
	measure_tick(b.smoke ? 0.2 : 2.0, b.smoke ? 1 : 4, loop, &b.tick);
	if (json)
		print_json(&b);
	else
		print_table(&b);
	if (svg)
		write_svg(&b, svg);
	return 0;
}
