/* Unit test of real interrupts in one process: the test is hostk's kernel
 * thread.  irq_boot() installs the signal transport (an RT signal per line to
 * this thread, SIGALRM for the timer) and starts the controller's thread,
 * which watches device eventfds.  Some cases drive the real test device
 * (drivers/test.c: testdev_boot() starts its hardware thread); the nesting
 * cases are a device of their own, two lines whose eventfds they write and
 * whose top halves record what they saw.  The test is also the kernel loop, so its waits run the
 * bottom halves (do_softirq) themselves.  Every wait is a poll for a stated
 * condition with a generous bound, never a sleep that stands for one.  Each
 * case boots what it needs and the teardown takes it all down again, so the
 * suite passes without Check's fork per case too (CK_FORK=no). */
#include <check.h>

#include "ck-main.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hostk/irq.h"
#include "hostk/kregion.h"
#include "hostk/sched.h"
#include "hostk/softirq.h"
#include "hostk/timer.h"
#include "drivers/driver.h"
#include "drivers/test.h"

#define IRQ_TIMER 0	/* SIGALRM's line: the first requested */
#define IPL_TEST_LO IPL_BIO
#define IPL_TEST_HI IPL_SERIAL

#define MS 1000000ull
#define SEC 1000000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* The kernel loop's wait: run the bottom halves, test, nap; true once cond
 * holds, false after timeout. */
static bool wait_until(bool (*cond)(void), uint64_t timeout)
{
	uint64_t end = mono_ns() + timeout;
	struct timespec nap = { 0, 200000 };

	for (;;) {
		do_softirq();
		if (cond())
			return true;
		if (mono_ns() > end)
			return false;
		nanosleep(&nap, NULL);	/* an interrupt may end it early: fine */
	}
}

/* The real test device's counts for which (HK_TEST_LO or HK_TEST_HI). */
static struct hk_dev_counts dev(int which)
{
	struct hk_dev_counts c;

	memset(&c, 0xa5, sizeof c);
	testdev_counts(which, &c);
	return c;
}

static struct irq_counts counts_of(int line)
{
	struct irq_counts c;

	memset(&c, 0xa5, sizeof c);
	irq_counts(line, &c);
	return c;
}

/* The nesting cases' own device: a timer line that nothing arms (so lines
 * are numbered as in hostk), then LO and HI with the given top halves. */
static int lo_line = -1, hi_line = -1, lo_fd = -1, hi_fd = -1;

static void no_top(int line, void *cookie)
{
	(void)line;
	(void)cookie;
}

static void boot_lines(irq_top_fn *lo_top, irq_top_fn *hi_top)
{
	ck_assert_int_eq(irq_boot(), 0);
	ck_assert_int_eq(request_irq("timer", IPL_CLOCK, no_top, NULL, NULL), 0);
	lo_line = dev_request_line(NULL, "test-lo", IPL_TEST_LO, lo_top, NULL, NULL, &lo_fd);
	hi_line = dev_request_line(NULL, "test-hi", IPL_TEST_HI, hi_top, NULL, NULL, &hi_fd);
	ck_assert_int_eq(lo_line, 1);
	ck_assert_int_eq(hi_line, 2);
}

/* The hardware's raise: async-signal-safe, so a top half may do it. */
static void raise_fd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof one) != (ssize_t)sizeof one)
		abort();
}

static void boot_device(void)
{
	ck_assert_int_eq(irq_boot(), 0);
	ck_assert_int_eq(testdev_boot(NULL, -1), 0);
	ck_assert_int_eq(spl_current(), IPL_NONE);
	ck_assert(irq_enabled());
}

/* A burst while the line is masked. */

#define BURST 10000

static bool burst_arrived(void)
{
	struct hk_dev_counts c = dev(HK_TEST_LO);

	/* Every event written, and the controller has raised the line (once:
	 * its eventfd watch is one-shot), so the raise found the mask. */
	return c.device_raised == BURST && c.raised >= 1;
}

static bool burst_handled(void)
{
	return dev(HK_TEST_LO).handled >= BURST;
}

START_TEST(test_burst_masked)
{
	struct hk_dev_counts c;

	boot_device();
	irq_mask(testdev_line(HK_TEST_LO));
	testdev_raise(HK_TEST_LO, BURST);
	ck_assert_msg(wait_until(burst_arrived, 10 * SEC), "the device did not raise %d events: %llu",
		      BURST, (unsigned long long)dev(HK_TEST_LO).device_raised);
	c = dev(HK_TEST_LO);
	ck_assert_uint_eq(c.delivered, 0);	/* nothing got through the mask */
	ck_assert_uint_eq(c.handled, 0);
	ck_assert_uint_eq(irq_pending() & (1ull << testdev_line(HK_TEST_LO)), 1ull << testdev_line(HK_TEST_LO));

	irq_unmask(testdev_line(HK_TEST_LO));
	ck_assert_msg(wait_until(burst_handled, 10 * SEC), "handled %llu of %d",
		      (unsigned long long)dev(HK_TEST_LO).handled, BURST);
	do_softirq();	/* the bottom half of the last delivery */
	c = dev(HK_TEST_LO);
	ck_assert_uint_eq(c.device_raised, BURST);
	ck_assert_uint_eq(c.handled, BURST);
	/* The accounting (drivers/test.c top_half): a delivery that reads a
	 * counter of n >= 1 handles n events and reports n - 1 coalesced; one
	 * that reads nothing handles none and reports itself spurious.  The
	 * controller adds to coalesced only for a raise that finds the line
	 * still pending, which a device line cannot do: its one-shot watch is
	 * re-armed only after the delivery.  So every event is one delivery or
	 * one coalesced, less the deliveries that had none: */
	ck_assert_uint_eq(c.delivered + c.coalesced - c.spurious, c.handled);
	ck_assert_uint_eq(c.raised, c.delivered);
	ck_assert_uint_ge(c.late, 1);	/* it waited for the mask */
	ck_assert_uint_ge(c.delivered, 1);
	ck_assert_uint_eq(c.throttled, 0);
	ck_assert_uint_eq(irq_pending(), 0);
	/* The other line saw none of it. */
	c = dev(HK_TEST_HI);
	ck_assert_uint_eq(c.device_raised, 0);
	ck_assert_uint_eq(c.raised, 0);
	ck_assert_uint_eq(c.delivered, 0);
}
END_TEST

/* Nesting with real signals, on the cases' own lines.  Their top halves
 * leave the eventfd unread, and nothing re-arms the watch, so each line
 * interrupts exactly once per case (an unread eventfd would only raise
 * again after irq_rearm()). */

static volatile int lo_calls, hi_calls;
static volatile int lo_depth, hi_depth, lo_ipl, hi_ipl;
static volatile int lo_running, hi_running;
static volatile int lo_saw_hi, hi_saw_lo, lo_pending_in_hi;
static volatile int lo_after_hi_done, hi_inside_lo;
static volatile pid_t lo_tid, hi_tid;
static volatile int lo_done, hi_done;

static void spin_until(volatile int *flag, uint64_t timeout)
{
	uint64_t end = mono_ns() + timeout;

	while (!*flag && mono_ns() < end)
		;
}

/* LO: raise HI at the device, and wait in the top half for it to arrive. */
static void lo_raises_hi(int line, void *cookie)
{
	(void)cookie;
	(void)line;
	lo_running = 1;
	lo_calls++;
	lo_depth = irq_nesting();
	lo_ipl = spl_current();
	lo_tid = gettid_();
	if (lo_calls == 1) {
		raise_fd(hi_fd);
		spin_until(&hi_done, 2 * SEC);
		lo_saw_hi = hi_done;
	}
	lo_running = 0;
	lo_done = 1;
}

static void hi_notes(int line, void *cookie)
{
	(void)cookie;
	(void)line;
	hi_calls++;
	hi_depth = irq_nesting();
	hi_ipl = spl_current();
	hi_tid = gettid_();
	hi_inside_lo = lo_running;
	hi_done = 1;
}

static bool lo_finished(void)
{
	return lo_done;
}

START_TEST(test_nest_hi_in_lo)
{
	struct irq_counts c;

	boot_lines(lo_raises_hi, hi_notes);
	raise_fd(lo_fd);
	ck_assert_msg(wait_until(lo_finished, 10 * SEC), "LO never ran");
	ck_assert_int_eq(lo_calls, 1);
	ck_assert_int_eq(lo_depth, 1);
	ck_assert_int_eq(lo_ipl, IPL_TEST_LO);
	ck_assert_int_eq(lo_tid, gettid_());	/* on the kernel thread */
	ck_assert_msg(lo_saw_hi, "HI did not interrupt LO's top half within 2 s");
	ck_assert_int_eq(hi_calls, 1);
	ck_assert_int_eq(hi_inside_lo, 1);
	ck_assert_int_eq(hi_depth, 2);
	ck_assert_int_eq(hi_ipl, IPL_TEST_HI);
	ck_assert_int_eq(hi_tid, gettid_());
	ck_assert_int_eq(irq_max_nesting(), 2);
	ck_assert_int_eq(irq_nesting(), 0);
	ck_assert_int_eq(spl_current(), IPL_NONE);

	c = counts_of(hi_line);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 1);
	ck_assert_uint_eq(c.late, 0);
	c = counts_of(lo_line);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 0);
	ck_assert_uint_eq(irq_pending(), 0);
}
END_TEST

/* HI: raise LO at the device, wait in the top half until the controller has
 * it pending, then give it 50 ms more in which it must not get in. */
static void hi_raises_lo(int line, void *cookie)
{
	(void)cookie;
	uint64_t end;

	(void)line;
	hi_running = 1;
	hi_calls++;
	hi_depth = irq_nesting();
	hi_ipl = spl_current();
	if (hi_calls == 1) {
		raise_fd(lo_fd);
		end = mono_ns() + 2 * SEC;
		while (!(irq_pending() & (1ull << lo_line)) && mono_ns() < end)
			;
		lo_pending_in_hi = (irq_pending() & (1ull << lo_line)) != 0;
		end = mono_ns() + 50 * MS;
		while (mono_ns() < end && !lo_calls)
			;
		hi_saw_lo = lo_calls;
	}
	hi_running = 0;
	hi_done = 1;
}

static void lo_notes(int line, void *cookie)
{
	(void)cookie;
	(void)line;
	lo_calls++;
	lo_depth = irq_nesting();
	lo_ipl = spl_current();
	lo_tid = gettid_();
	lo_after_hi_done = hi_done && !hi_running;
	lo_done = 1;
}

START_TEST(test_lo_after_hi)
{
	struct irq_counts c;

	boot_lines(lo_notes, hi_raises_lo);
	raise_fd(hi_fd);
	ck_assert_msg(wait_until(lo_finished, 10 * SEC), "LO never ran (HI ran %d times)", hi_calls);
	ck_assert_int_eq(hi_calls, 1);
	ck_assert_int_eq(hi_depth, 1);
	ck_assert_int_eq(hi_ipl, IPL_TEST_HI);
	ck_assert_msg(lo_pending_in_hi, "LO was not raised within 2 s");
	ck_assert_msg(!hi_saw_lo, "LO ran inside HI's top half");
	ck_assert_int_eq(lo_calls, 1);
	ck_assert_int_eq(lo_after_hi_done, 1);
	ck_assert_int_eq(lo_depth, 1);
	ck_assert_int_eq(lo_ipl, IPL_TEST_LO);
	ck_assert_int_eq(lo_tid, gettid_());
	ck_assert_int_eq(irq_max_nesting(), 1);
	ck_assert_int_eq(spl_current(), IPL_NONE);

	c = counts_of(lo_line);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 0);
	ck_assert_uint_eq(c.late, 1);	/* it waited for HI's level */
	c = counts_of(hi_line);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 0);
	ck_assert_uint_eq(irq_pending(), 0);
}
END_TEST

/* Interrupts that arrive while the kernel thread is blocked in a syscall. */

static volatile int tm_calls, tm_depth, tm_ipl;
static volatile pid_t tm_tid;

static void timer_notes(int line, void *cookie)
{
	(void)cookie;
	(void)line;
	tm_calls++;
	tm_depth = irq_nesting();
	tm_ipl = spl_current();
	tm_tid = gettid_();
}

/* A pipe that a case blocks on; the teardown closes it. */
static int test_pipe[2] = { -1, -1 };
static pthread_t watchdog_th;
static bool watchdog_on;

/* Ends a blocking read that no interrupt ended, so that the test fails
 * instead of hanging.  Its thread blocks every signal; the teardown
 * cancels it in its sleep. */
static void *watchdog(void *arg)
{
	struct timespec t = { 5, 0 };

	(void)arg;
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
	if (write(test_pipe[1], "w", 1) != 1)
		abort();
	return NULL;
}

static void start_watchdog(void)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ck_assert_int_eq(pthread_create(&watchdog_th, NULL, watchdog, NULL), 0);
	watchdog_on = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

START_TEST(test_timer_in_syscall)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };	/* one shot, 50 ms */
	struct irq_counts c;
	int err;
	uint64_t t0, t1;
	ssize_t n;
	char ch;

	ck_assert_int_eq(irq_boot(), 0);
	ck_assert_int_eq(request_irq("timer", IPL_CLOCK, timer_notes, NULL, NULL), IRQ_TIMER);
	ck_assert_int_eq(pipe(test_pipe), 0);
	start_watchdog();

	t0 = mono_ns();
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	n = read(test_pipe[0], &ch, 1);	/* nothing to read: only a signal ends it */
	err = errno;
	t1 = mono_ns();
	ck_assert_msg(n == -1 && err == EINTR, "read returned %zd (%s), not EINTR", n, strerror(err));
	ck_assert_uint_ge(t1 - t0, 49 * MS);
	ck_assert_int_eq(tm_calls, 1);
	ck_assert_int_eq(tm_depth, 1);
	ck_assert_int_eq(tm_ipl, IPL_CLOCK);
	ck_assert_int_eq(tm_tid, gettid_());
	ck_assert_int_eq(irq_nesting(), 0);
	ck_assert_int_eq(spl_current(), IPL_NONE);
	irq_counts(IRQ_TIMER, &c);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.late, 0);
	ck_assert_uint_eq(c.coalesced, 0);
	ck_assert_uint_eq(irq_pending(), 0);
}
END_TEST

START_TEST(test_timer_at_level)
{
	/* The timer fires while the kernel thread is at IPL_CLOCK: it waits,
	 * and splx runs it. */
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	struct irq_counts c;
	uint64_t end;
	int s;

	ck_assert_int_eq(irq_boot(), 0);
	ck_assert_int_eq(request_irq("timer", IPL_CLOCK, timer_notes, NULL, NULL), IRQ_TIMER);
	s = splraise(IPL_CLOCK);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	end = mono_ns() + 5 * SEC;
	while (!(irq_pending() & (1ull << IRQ_TIMER)) && mono_ns() < end) {
		struct timespec nap = { 0, 1000000 };

		nanosleep(&nap, NULL);
	}
	ck_assert_msg(irq_pending() & (1ull << IRQ_TIMER), "the timer did not fire within 5 s");
	ck_assert_int_eq(tm_calls, 0);
	splx(s);
	ck_assert_int_eq(tm_calls, 1);
	ck_assert_int_eq(tm_depth, 1);
	ck_assert_int_eq(tm_ipl, IPL_CLOCK);
	irq_counts(IRQ_TIMER, &c);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.late, 1);
	ck_assert_int_eq(spl_current(), IPL_NONE);
}
END_TEST

START_TEST(test_device_in_syscall)
{
	/* The device line's signal is blocked until ppoll unblocks it
	 * atomically: the interrupt lands inside the blocking call whether
	 * the device is quick or slow. */
	sigset_t lo, old;
	struct pollfd pfd;
	struct timespec limit = { 5, 0 };
	struct irq_counts c;
	int n, err;

	boot_lines(lo_notes, no_top);
	ck_assert_int_eq(pipe(test_pipe), 0);
	sigemptyset(&lo);
	sigaddset(&lo, SIGRTMIN + 1 + lo_line);
	pthread_sigmask(SIG_BLOCK, &lo, &old);
	raise_fd(lo_fd);
	pfd = (struct pollfd){ .fd = test_pipe[0], .events = POLLIN };
	ck_assert_int_eq(lo_calls, 0);
	n = ppoll(&pfd, 1, &limit, &old);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ck_assert_msg(n == -1 && err == EINTR, "ppoll returned %d (%s), not EINTR", n, strerror(err));
	ck_assert_int_eq(lo_calls, 1);
	ck_assert_int_eq(lo_depth, 1);
	ck_assert_int_eq(lo_ipl, IPL_TEST_LO);
	ck_assert_int_eq(lo_tid, gettid_());
	c = counts_of(lo_line);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.late, 0);
	ck_assert_uint_eq(irq_pending(), 0);
}
END_TEST

/* An unmasked burst through the real driver: a signal per delivery, the
 * bottom half re-arming, and past the budget the line throttled until the
 * next tick.  That needs the tick's bottom half, so the machine is booted as
 * hostk boots it: kernel region (the timer writes jiffies there), scheduler
 * (the tick charges it), controller, timer, device. */
START_TEST(test_burst_unmasked)
{
	struct hk_dev_counts c;

	ck_assert_int_eq(kregion_boot(), 0);
	sched_init(1, 10);
	ck_assert_int_eq(irq_boot(), 0);
	ck_assert_int_eq(timer_boot(100), 0);
	ck_assert_int_eq(testdev_boot(NULL, -1), 0);
	timer_reprogram();
	testdev_raise(HK_TEST_LO, BURST);
	ck_assert_msg(wait_until(burst_handled, 15 * SEC), "handled %llu of %d (throttled %llu)",
		      (unsigned long long)dev(HK_TEST_LO).handled, BURST,
		      (unsigned long long)dev(HK_TEST_LO).throttled);
	do_softirq();
	c = dev(HK_TEST_LO);
	ck_assert_uint_eq(c.device_raised, BURST);
	ck_assert_uint_eq(c.handled, BURST);
	/* The same accounting as for the masked burst. */
	ck_assert_uint_eq(c.delivered + c.coalesced - c.spurious, c.handled);
	ck_assert_uint_eq(c.raised, c.delivered);
	ck_assert_uint_eq(dev(HK_TEST_HI).delivered, 0);
}
END_TEST

/* A storm: the device raises as fast as it can while the kernel loop runs its
 * bottom halves flat out, so the line may take more deliveries in a tick than
 * its budget (BUDGET_PER_SEC in drivers/test.c, 640 a tick at 10 Hz): the bottom half then
 * throttles it and the next tick's timer un-throttles it.  How many
 * deliveries fit in a tick depends on the machine's load, so the storm lasts
 * until the line was throttled twice or for 3 s, whichever comes first, and
 * what is checked holds either way: the kernel loop kept going (the storm did
 * not livelock it), a throttled line comes back (the drain below needs the
 * timer's un-throttle when the storm ended in a quiet period), and every
 * event is accounted for.  As hostk does when pinned, the kernel thread (and
 * the controller's thread, which inherits its CPU) stays on one CPU and the
 * device's hardware thread is kept off it, if there is another. */
static bool throttled_twice(void)
{
	return dev(HK_TEST_LO).throttled >= 2;
}

static bool hi_marker_raised(void)
{
	return dev(HK_TEST_HI).device_raised == 1;
}

static bool storm_drained(void)
{
	struct hk_dev_counts c = dev(HK_TEST_LO);

	return c.handled == c.device_raised && dev(HK_TEST_HI).handled == 1;
}

START_TEST(test_storm)
{
	struct hk_dev_counts c;
	cpu_set_t set;
	int cpu = sched_getcpu();
	uint64_t rounds = 0, end;

	ck_assert_int_ge(cpu, 0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof set, &set), 0);

	ck_assert_int_eq(kregion_boot(), 0);
	sched_init(1, 10);
	ck_assert_int_eq(irq_boot(), 0);
	/* A long tick (100 ms): the budget is reached at 640 deliveries a
	 * second, which a moderately loaded machine still manages. */
	ck_assert_int_eq(timer_boot(10), 0);
	ck_assert_int_eq(testdev_boot(NULL, cpu), 0);
	timer_reprogram();
	testdev_storm(HK_TEST_LO, true);
	end = mono_ns() + 3 * SEC;
	while (!throttled_twice() && mono_ns() < end) {
		do_softirq();
		sched_yield();
		rounds++;
	}
	testdev_storm(HK_TEST_LO, false);
	ck_assert_uint_gt(rounds, 0);
	/* The hardware thread serves LO before HI, each under its lock: once
	 * it has written HI's single event, its last LO write is counted. */
	testdev_raise(HK_TEST_HI, 1);
	ck_assert(wait_until(hi_marker_raised, 10 * SEC));
	ck_assert_msg(wait_until(storm_drained, 10 * SEC), "handled %llu of %llu (throttled %llu)",
		      (unsigned long long)dev(HK_TEST_LO).handled,
		      (unsigned long long)dev(HK_TEST_LO).device_raised,
		      (unsigned long long)dev(HK_TEST_LO).throttled);
	c = dev(HK_TEST_LO);
	/* Under load the storm may have got few deliveries in its 3 s, but
	 * once drained every event was delivered. */
	ck_assert_uint_ge(c.delivered, 1);
	ck_assert_uint_ge(c.device_raised, c.delivered);
	ck_assert_uint_eq(c.handled, c.device_raised);
	ck_assert_uint_eq(c.delivered + c.coalesced - c.spurious, c.handled);
	ck_assert_uint_eq(c.raised, c.delivered);
	/* Throttled at most once per tick that took more than the budget. */
	ck_assert_uint_le(c.throttled * 65, c.delivered);
	c = dev(HK_TEST_HI);
	ck_assert_uint_eq(c.handled, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.throttled, 0);
}
END_TEST

/* The kernel region's sequence lock against interrupts.  hostk's kernel
 * thread writes the region's live part between kr_begin() (seq odd) and
 * kr_end() (seq even); a reader that sees the same even seq before and after
 * its copy trusts it.  An interrupt may land while the kernel thread is inside
 * such a write (do_softirq's counters, the scheduler's, irq_mask's), and the
 * controller publishes its state at the end of every top-level delivery.  The
 * region must never look stable (seq even) while the interrupted write is
 * still open.  A reader thread samples seq while the test holds a write open
 * and takes timer interrupts (SIGALRM to itself, the real transport); the
 * reader can only ever miss a wrong value, never see one that is not there,
 * so this test cannot fail with a correct controller (with one CPU it can
 * hardly catch a wrong one either: the reader runs only when preempted in). */
static volatile int kr_open, kr_stop;
static volatile uint32_t kr_even_seen;
static volatile uint64_t kr_samples;
static pthread_t reader_th;
static bool reader_on;

static void *seq_reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&kr_stop, __ATOMIC_SEQ_CST)) {
		if (__atomic_load_n(&kr_open, __ATOMIC_SEQ_CST)) {
			uint32_t seq = __atomic_load_n(&kr->seq, __ATOMIC_SEQ_CST);

			/* Still open after the read: the read was inside the write. */
			if (__atomic_load_n(&kr_open, __ATOMIC_SEQ_CST)) {
				kr_samples++;
				if (!(seq & 1) && !kr_even_seen)
					kr_even_seen = seq | 0x80000000u;
			}
		}
	}
	return NULL;
}

START_TEST(test_kregion_seqlock)
{
	sigset_t all, old;
	uint32_t before;
	uint64_t end;
	int rounds, krs;

	ck_assert_int_eq(kregion_boot(), 0);
	ck_assert_int_eq(irq_boot(), 0);
	ck_assert_int_eq(request_irq("timer", IPL_CLOCK, timer_notes, NULL, NULL), IRQ_TIMER);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ck_assert_int_eq(pthread_create(&reader_th, NULL, seq_reader, NULL), 0);
	reader_on = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	krs = kr_begin();
	before = kr->seq;
	ck_assert_uint_eq(before & 1, 1);
	__atomic_store_n(&kr_open, 1, __ATOMIC_SEQ_CST);
	/* The timer interrupt arrives again and again mid-write: a region
	 * write is a critical section at IPL_HIGH, so its top half must wait
	 * (pending), and the write stays odd for readers throughout. */
	end = mono_ns() + 300 * MS;
	for (rounds = 0; rounds < 100000 && mono_ns() < end; rounds++) {
		syscall(SYS_tgkill, getpid(), gettid_(), SIGALRM);
		ck_assert_msg(kr->seq & 1, "after interrupt %d the open write shows seq %u (even: stable)",
			      rounds + 1, kr->seq);
	}
	ck_assert_int_eq(tm_calls, 0);			/* no top half inside the write */
	ck_assert(irq_pending() & (1ull << IRQ_TIMER));
	__atomic_store_n(&kr_open, 0, __ATOMIC_SEQ_CST);
	kr_end(krs);					/* delivered now, once */
	__atomic_store_n(&kr_stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(reader_th, NULL);
	reader_on = false;

	ck_assert_int_eq(tm_calls, 1);
	ck_assert_int_eq(tm_depth, 1);
	ck_assert_uint_eq(kr->seq & 1, 0);
	ck_assert_msg(!kr_even_seen, "a reader saw seq %u (even: stable) while the kernel thread's "
		      "write (opened at seq %u) was still open, after %d interrupts (%llu samples)",
		      kr_even_seen & 0x7fffffffu, before, rounds, (unsigned long long)kr_samples);
}
END_TEST

/* Every case starts with nothing booted and no notes taken; the teardown
 * stops every thread a case started and undoes every boot, in the reverse
 * order (the device's hardware before the controller that watches it). */
static cpu_set_t affinity;

static void setup(void)
{
	lo_calls = hi_calls = lo_depth = hi_depth = lo_ipl = hi_ipl = 0;
	lo_running = hi_running = lo_saw_hi = hi_saw_lo = lo_pending_in_hi = 0;
	lo_after_hi_done = hi_inside_lo = lo_done = hi_done = 0;
	lo_tid = hi_tid = tm_tid = 0;
	tm_calls = tm_depth = tm_ipl = 0;
	kr_open = kr_stop = 0;
	kr_even_seen = 0;
	kr_samples = 0;
	ck_assert_int_eq(sched_getaffinity(0, sizeof affinity, &affinity), 0);
}

static void teardown(void)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &off, NULL);
	if (watchdog_on) {
		pthread_cancel(watchdog_th);
		pthread_join(watchdog_th, NULL);
		watchdog_on = false;
	}
	if (reader_on) {
		__atomic_store_n(&kr_stop, 1, __ATOMIC_SEQ_CST);
		pthread_join(reader_th, NULL);
		reader_on = false;
	}
	for (int i = 0; i < 2; i++) {
		if (test_pipe[i] >= 0)
			close(test_pipe[i]);
		test_pipe[i] = -1;
	}
	testdev_shutdown();
	timer_shutdown();
	irq_shutdown();
	if (lo_fd >= 0)
		close(lo_fd);
	if (hi_fd >= 0)
		close(hi_fd);
	lo_fd = hi_fd = lo_line = hi_line = -1;
	softirq_reset();
	kregion_shutdown();
	sched_setaffinity(0, sizeof affinity, &affinity);
}

#define ADD_TIMED_CASE(s, t, secs) \
	ADD_CASE_X(s, t, (tcase_set_timeout(tc_, secs), tcase_add_checked_fixture(tc_, setup, teardown)))

static Suite *intr_suite(void)
{
	Suite *s = suite_create("intr");
	ADD_TIMED_CASE(s, burst_masked, 30);
	ADD_TIMED_CASE(s, nest_hi_in_lo, 20);
	ADD_TIMED_CASE(s, lo_after_hi, 20);
	ADD_TIMED_CASE(s, timer_in_syscall, 20);
	ADD_TIMED_CASE(s, timer_at_level, 20);
	ADD_TIMED_CASE(s, device_in_syscall, 20);
	ADD_TIMED_CASE(s, burst_unmasked, 30);
	ADD_TIMED_CASE(s, storm, 40);
	ADD_TIMED_CASE(s, kregion_seqlock, 20);
	return s;
}

CK_MAIN(intr_suite)
