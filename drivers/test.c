/* The test device: two interrupt lines, low and high priority, that tests,
 * benchmarks and guests raise at chosen moments.
 *
 * Hardware side: a thread of its own, kept off hostk's CPU when it is pinned
 * to one (a device is not the processor), that writes a line's eventfd once
 * per event: a burst of N, or a storm until told to stop.
 * Driver side: the top half reads the eventfd's counter (the events since the
 * last read; more than one means they were coalesced) and schedules the
 * bottom half.  The bottom half accounts the events, wakes a guest waiting
 * for them, and re-arms the line, NAPI-style: past its budget of deliveries
 * for the current tick (a rate per second, so --hz does not change it) it
 * leaves the line quiet until the next tick, so a storm costs a bounded
 * share of the CPU and cannot livelock the kernel.
 *
 * Guests reach it as /dev/hostk/test (read: its counts as a line of text;
 * ioctl HK_IOC_STATS, HK_IOC_MASK, HK_IOC_UNMASK) and, as before there were
 * device files, with the hostk call (guest/include/hostk/hkcall.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../guest/include/hostk/devices.h"
#include "../guest/include/hostk/hkcall.h"
#include "../hostk/irq.h"
#include "../hostk/ktimer.h"
#include "../hostk/sched.h"
#include "../hostk/timer.h"
#include "../hostk/trap.h"
#include "../hostk/uaccess.h"
#include "../hostk/util.h"
#include "driver.h"
#include "test.h"

#define BUDGET_PER_SEC 6400	/* deliveries a line may take per second */

struct testline {
	const char *name;
	int ipl, line, efd;
	uint64_t hw_raised;		/* written by the hardware thread */
	uint64_t burst;			/* events the hardware still owes */
	int storm;
	uint64_t handled;		/* events the top halves took */
	uint64_t bh_seen;		/* handled, as the bottom half last saw it */
	uint64_t tick_jiffy, tick_count;
	uint64_t throttled;
	bool quiet;			/* throttled until the next tick */
	struct task *waiter;		/* a guest in HK_DEV_WAIT */
	uint64_t wait_for;
};

static struct testline lines[2] = {
	[HK_TEST_LO] = { .name = "test-lo", .ipl = IPL_BIO, .line = -1, .efd = -1 },
	[HK_TEST_HI] = { .name = "test-hi", .ipl = IPL_SERIAL, .line = -1, .efd = -1 },
};
static pthread_mutex_t hw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hw_work = PTHREAD_COND_INITIALIZER;
static struct ktimer unquiet;
static pthread_t hw_thread;
static bool hw_running, hw_stop;	/* hw_stop under hw_lock: the thread returns */

/* A line by its number, all of the argument's bits (2^32 is no line). */
static struct testline *line_of(unsigned long which)
{
	return which == HK_TEST_LO || which == HK_TEST_HI ? &lines[which] : NULL;
}

int testdev_line(int which)
{
	return line_of(which) ? line_of(which)->line : -1;
}

/* The hardware side. */

static void assert_line(struct testline *l)
{
	uint64_t one = 1;

	if (write(l->efd, &one, sizeof one) == (ssize_t)sizeof one)
		__atomic_add_fetch(&l->hw_raised, 1, __ATOMIC_SEQ_CST);
}

static void *hardware(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hw_lock);
	for (;;) {
		bool work = false;

		for (int i = 0; i < 2; i++) {
			struct testline *l = &lines[i];

			if (l->burst || l->storm) {
				work = true;
				if (l->burst)
					l->burst--;
				pthread_mutex_unlock(&hw_lock);
				assert_line(l);
				pthread_mutex_lock(&hw_lock);
			}
		}
		if (hw_stop)
			break;
		if (!work)
			pthread_cond_wait(&hw_work, &hw_lock);
	}
	pthread_mutex_unlock(&hw_lock);
	return NULL;
}

void testdev_raise(int which, uint64_t n)
{
	struct testline *l = line_of(which);

	if (!l)
		return;
	pthread_mutex_lock(&hw_lock);
	l->burst += n;
	pthread_cond_signal(&hw_work);
	pthread_mutex_unlock(&hw_lock);
}

void testdev_storm(int which, bool on)
{
	struct testline *l = line_of(which);

	if (!l)
		return;
	pthread_mutex_lock(&hw_lock);
	l->storm = on;
	pthread_cond_signal(&hw_work);
	pthread_mutex_unlock(&hw_lock);
}

/* The driver side. */

static void top_half(int line, void *cookie)
{
	struct testline *l = cookie;
	uint64_t n = dev_ack(line, l->efd);

	if (n) {
		__atomic_add_fetch(&l->handled, n, __ATOMIC_SEQ_CST);
		irq_schedule_bh(line);
	}
}

static void wake_waiter(struct testline *l)
{
	struct task *tk = l->waiter;

	if (tk && __atomic_load_n(&l->handled, __ATOMIC_SEQ_CST) >= l->wait_for) {
		l->waiter = NULL;
		sched_wake(tk);
	}
}

static void end_quiet(struct ktimer *kt)
{
	(void)kt;
	for (int i = 0; i < 2; i++)
		if (lines[i].quiet) {
			lines[i].quiet = false;
			irq_rearm(lines[i].line);
		}
}

static void bottom_half(int line, void *cookie)
{
	struct testline *l = cookie;
	uint64_t j = jiffies_now(), h = __atomic_load_n(&l->handled, __ATOMIC_SEQ_CST);

	wake_waiter(l);
	if (h == l->bh_seen)
		return;	/* nothing new on this line */
	l->bh_seen = h;
	irq_bh_done(line);
	if (l->quiet)
		return;
	if (l->tick_jiffy != j) {
		l->tick_jiffy = j;
		l->tick_count = 0;
	}
	if (++l->tick_count > (uint64_t)(BUDGET_PER_SEC / timer_hz > 0 ? BUDGET_PER_SEC / timer_hz : 1)) {
		l->quiet = true;
		l->throttled++;
		ktimer_add(&unquiet, now_ns() + NSEC_PER_SEC / (uint64_t)timer_hz);
		timer_reprogram();
	} else {
		irq_rearm(line);
	}
}

int testdev_boot(struct device *dev, int avoid_cpu)
{
	int rc;

	for (int i = 0; i < 2; i++) {
		struct testline *l = &lines[i];

		if ((l->line = dev_request_line(dev, l->name, l->ipl, top_half, bottom_half, l, &l->efd)) < 0)
			return l->line;
	}
	unquiet.fn = end_quiet;
	if ((rc = start_thread_joinable(&hw_thread, hardware, NULL, avoid_cpu)))
		return -rc;
	hw_running = true;
	return 0;
}

void testdev_shutdown(void)
{
	if (hw_running) {
		pthread_mutex_lock(&hw_lock);
		hw_stop = true;
		pthread_cond_signal(&hw_work);
		pthread_mutex_unlock(&hw_lock);
		pthread_join(hw_thread, NULL);
		hw_running = hw_stop = false;
	}
	ktimer_del(&unquiet);
	for (int i = 0; i < 2; i++) {
		struct testline *l = &lines[i];

		if (l->efd >= 0)
			close(l->efd);
		*l = (struct testline){ .name = l->name, .ipl = l->ipl, .line = -1, .efd = -1 };
	}
}

void testdev_counts(int which, struct hk_dev_counts *out)
{
	struct testline *l = line_of(which);
	struct irq_counts c;

	if (!l || l->line < 0)
		return;
	irq_counts(l->line, &c);
	out->device_raised = __atomic_load_n(&l->hw_raised, __ATOMIC_SEQ_CST);
	out->handled = __atomic_load_n(&l->handled, __ATOMIC_SEQ_CST);
	out->raised = c.raised;
	out->delivered = c.delivered;
	out->coalesced = c.coalesced;
	out->late = c.late;
	out->spurious = c.spurious;
	out->nested = c.nested;
	out->throttled = l->throttled;
}

/* The hostk call's device requests, for guests. */
enum trap_action test_hkcall(struct device *dev, struct trap *t)
{
	struct testline *l = line_of(t->arg[1]);
	int which = (int)t->arg[1];
	struct hk_dev_counts c = { 0 };

	(void)dev;
	if (!l) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	switch (t->arg[0]) {
	case HK_DEV_RAISE:
		testdev_raise(which, t->arg[2]);
		t->ret = 0;
		return TRAP_RETURN;
	case HK_DEV_STORM:
		testdev_storm(which, t->arg[2] != 0);
		t->ret = 0;
		return TRAP_RETURN;
	case HK_DEV_COUNTS:
		testdev_counts(which, &c);
		t->ret = copy_to_guest(t->task->tid, t->arg[2], &c, sizeof c) < 0 ? -EFAULT : 0;
		return TRAP_RETURN;
	case HK_DEV_WAIT:
		if (__atomic_load_n(&l->handled, __ATOMIC_SEQ_CST) >= t->arg[2] || l->waiter) {
			t->ret = l->waiter && l->waiter != t->task ? -EBUSY : (long)l->handled;
			return TRAP_RETURN;
		}
		/* Sleep until the bottom half has seen enough: off CPU, in a
		 * host wait that a signal also ends. */
		l->waiter = t->task;
		l->wait_for = t->arg[2];
		t->task->sleep_expired = false;
		return trap_sleep(t, 0);
	default:
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
}

void test_hkcall_exit(struct device *dev, struct trap *t)
{
	struct testline *l = line_of(t->arg[1]);

	(void)dev;
	if (t->arg[0] != HK_DEV_WAIT || !l)
		return;
	if (l->waiter == t->task)
		l->waiter = NULL;	/* a signal ended the wait: EINTR for a handler, else restarted */
	if (t->task->sleep_expired)
		t->ret = (long)l->handled;
}

/* The driver. */

static int test_start(struct device *dev)
{
	return testdev_boot(dev, devices_host_cpu());
}

static void test_forget(struct device *dev, struct task *tk)
{
	(void)dev;
	for (int i = 0; i < 2; i++)
		if (lines[i].waiter == tk)
			lines[i].waiter = NULL;
}

/* A read gives the counts as one line of text, then the end of the file. */
static enum trap_action test_read(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off)
{
	char text[160];
	int n = snprintf(text, sizeof text, "test-lo %lu handled, test-hi %lu handled\n",
			 (unsigned long)__atomic_load_n(&lines[0].handled, __ATOMIC_SEQ_CST),
			 (unsigned long)__atomic_load_n(&lines[1].handled, __ATOMIC_SEQ_CST));
	uint64_t pos = off >= 0 ? (uint64_t)off : f->pos;
	size_t take = pos >= (uint64_t)n ? 0 : (size_t)n - pos;

	if (take > len)
		take = len;
	if (take && copy_to_guest(t->task->tid, buf, text + pos, take) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	if (off < 0)
		f->pos += take;
	t->ret = (long)take;
	return TRAP_RETURN;
}

/* Interrupts: both lines'; rx: the events they handled. */
static void test_stats(struct device *dev, struct hk_dev_stats *out)
{
	(void)dev;
	memset(out, 0, sizeof *out);
	for (int i = 0; i < 2; i++) {
		struct irq_counts c;

		irq_counts(lines[i].line, &c);
		out->interrupts += c.delivered;
		out->rx += __atomic_load_n(&lines[i].handled, __ATOMIC_SEQ_CST);
	}
}


const struct driver test_driver = {
	.kind = "test",
	.help = "two interrupt lines (low and high priority) that guests raise with the hostk call",
	.socktype = SOCK_STREAM,
	.always_ready = true,
	.start = test_start,
	.forget = test_forget,
	.stats = test_stats,
	.fops = { .read = test_read },
};
