/* The test device: two interrupt lines (low and high priority) that tests,
 * benchmarks and guests can raise at chosen moments.
 *
 * Hardware side: a thread of its own, kept off hostk's CPU when the host has
 * another (a device is not the processor), that writes a line's eventfd once
 * per event: a burst of N, or a storm until told to stop.
 * Driver side: the top half reads the eventfd's counter (the events since the
 * last read; more than one means they were coalesced) and raises the device
 * softirq.  The bottom half accounts the events, wakes a guest waiting for
 * them, and re-arms the line, NAPI-style: past its budget of deliveries for
 * the current tick (a rate per second, so --hz does not change it) it
 * leaves the line quiet until the next tick, so a storm costs a bounded
 * share of the CPU and cannot livelock the kernel.
 * Guests reach it with the hostk call (guest/include/hostk/hkcall.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../guest/include/hostk/hkcall.h"
#include "../hostk/irq.h"
#include "../hostk/sched.h"
#include "../hostk/softirq.h"
#include "../hostk/testdev.h"
#include "../hostk/timer.h"
#include "../hostk/trap.h"
#include "../hostk/uaccess.h"
#include "../hostk/util.h"

#define BUDGET_PER_SEC 6400	/* deliveries a line may take per second */

struct testline {
	int line, efd;
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

static struct testline lines[2] = { { .line = IRQ_TEST_LO }, { .line = IRQ_TEST_HI } };
static pthread_mutex_t hw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hw_work = PTHREAD_COND_INITIALIZER;
static struct ktimer unquiet;
static bool booted;

static struct testline *line_of(int line)
{
	return line == IRQ_TEST_LO ? &lines[0] : line == IRQ_TEST_HI ? &lines[1] : NULL;
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
		if (!work)
			pthread_cond_wait(&hw_work, &hw_lock);
	}
	return NULL;
}

void testdev_raise(int line, uint64_t n)
{
	struct testline *l = line_of(line);

	if (!l)
		return;
	pthread_mutex_lock(&hw_lock);
	l->burst += n;
	pthread_cond_signal(&hw_work);
	pthread_mutex_unlock(&hw_lock);
}

void testdev_storm(int line, bool on)
{
	struct testline *l = line_of(line);

	if (!l)
		return;
	pthread_mutex_lock(&hw_lock);
	l->storm = on;
	pthread_cond_signal(&hw_work);
	pthread_mutex_unlock(&hw_lock);
}

/* The driver side. */

static void top_half(int line)
{
	struct testline *l = line_of(line);
	uint64_t n = 0;

	if (read(l->efd, &n, sizeof n) != (ssize_t)sizeof n || n == 0) {
		irq_spurious(line);
		irq_rearm(line);
		return;
	}
	if (n > 1)
		irq_coalesced(line, n - 1);
	__atomic_add_fetch(&l->handled, n, __ATOMIC_SEQ_CST);
	raise_softirq(SOFTIRQ_DEV);
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

static void bottom_half(void)
{
	uint64_t j = jiffies_now();

	for (int i = 0; i < 2; i++) {
		struct testline *l = &lines[i];

		uint64_t h = __atomic_load_n(&l->handled, __ATOMIC_SEQ_CST);

		wake_waiter(l);
		if (h == l->bh_seen)
			continue;	/* nothing new on this line */
		l->bh_seen = h;
		irq_bh_done(l->line);
		if (l->quiet)
			continue;
		if (l->tick_jiffy != j) {
			l->tick_jiffy = j;
			l->tick_count = 0;
		}
		if (++l->tick_count > (uint64_t)(BUDGET_PER_SEC / timer_hz > 0 ? BUDGET_PER_SEC / timer_hz : 1)) {
			l->quiet = true;
			l->throttled++;
			ktimer_add(&unquiet, now_ns() + 1000000000u / (uint64_t)timer_hz);
			timer_reprogram();
		} else {
			irq_rearm(l->line);
		}
	}
}

int testdev_boot(int avoid_cpu)
{
	sigset_t all, old;
	pthread_t th;
	cpu_set_t set;
	int rc;

	for (int i = 0; i < 2; i++) {
		lines[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (lines[i].efd < 0)
			return -errno;
		irq_register(lines[i].line, top_half);
		if ((rc = irq_attach_eventfd(lines[i].line, lines[i].efd)) < 0)
			return rc;
	}
	unquiet.fn = end_quiet;
	open_softirq(SOFTIRQ_DEV, bottom_half);
	/* Signals blocked from its first instruction: interrupts are for the
	 * kernel thread only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&th, NULL, hardware, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	pthread_detach(th);
	/* Off hostk's CPU if the host has another. */
	if (avoid_cpu >= 0 && sched_getaffinity(0, sizeof set, &set) == 0) {
		CPU_ZERO(&set);
		for (int c = 0; c < (int)sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
			if (c != avoid_cpu)
				CPU_SET(c, &set);
		if (CPU_COUNT(&set))
			pthread_setaffinity_np(th, sizeof set, &set);
	}
	booted = true;
	return 0;
}

void testdev_counts(int line, struct hk_dev_counts *out)
{
	struct testline *l = line_of(line);
	struct irq_counts c;

	if (!l)
		return;
	irq_counts(line, &c);
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

/* The hostk call, for guests. */
enum trap_action hkcall(struct trap *t)
{
	int line = (int)t->arg[1];
	struct testline *l = line_of(line);
	struct hk_dev_counts c;

	if (t->arg[0] == HK_NULL) {	/* `hostk bench`'s emulated trap: the trap and nothing else */
		t->ret = 0;
		return TRAP_RETURN;
	}
	if (!booted || !l) {
		t->ret = booted ? -EINVAL : -ENODEV;
		return TRAP_RETURN;
	}
	switch (t->arg[0]) {
	case HK_DEV_RAISE:
		testdev_raise(line, t->arg[2]);
		t->ret = 0;
		return TRAP_RETURN;
	case HK_DEV_STORM:
		testdev_storm(line, t->arg[2] != 0);
		t->ret = 0;
		return TRAP_RETURN;
	case HK_DEV_COUNTS:
		testdev_counts(line, &c);
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

void hkcall_exit(struct trap *t)
{
	struct testline *l = line_of((int)t->arg[1]);

	if (t->arg[0] != HK_DEV_WAIT || !l)
		return;
	if (l->waiter == t->task)
		l->waiter = NULL;	/* a signal ended the wait: the host restarts it */
	if (t->task->sleep_expired)
		t->ret = (long)l->handled;
}

void testdev_forget(struct task *tk)
{
	for (int i = 0; i < 2; i++)
		if (lines[i].waiter == tk)
			lines[i].waiter = NULL;
}
