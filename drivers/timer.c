/* The timer driver.  Hardware side: the host's interval timer, whose SIGALRM
 * raises line 0.  Top half: note the time and raise the timer softirq.
 * Bottom half: advance jiffies, fire due kernel timers (hostk's own sleeps,
 * alarms), let the scheduler charge and preempt, and program the next
 * interrupt: a periodic tick at --hz while guests run, one shot for the next
 * kernel timer when none does, and none at all when idle (tickless). */
#include <errno.h>
#include <stddef.h>
#include <sys/time.h>

#include "../hostk/irq.h"
#include "../hostk/kregion.h"
#include "../hostk/sched.h"
#include "../hostk/softirq.h"
#include "../hostk/timer.h"
#include "../hostk/util.h"

int timer_hz = 100;
static uint64_t tick_ns = 10000000, boot_ns;
static struct ktimer *queue;
static struct timer_stats st;
static enum { OFF, PERIODIC, ONESHOT } mode = OFF;
static uint64_t oneshot_at;

void ktimer_add(struct ktimer *t, uint64_t when)
{
	struct ktimer **pp;

	ktimer_del(t);
	t->when = when;
	for (pp = &queue; *pp && (*pp)->when <= when; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

void ktimer_del(struct ktimer *t)
{
	struct ktimer **pp;

	if (!t->armed)
		return;
	for (pp = &queue; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->armed = false;
}

uint64_t ktimer_next(void)
{
	return queue ? queue->when : 0;
}

uint64_t jiffies_now(void)
{
	return (now_ns() - boot_ns) / tick_ns;
}

static void arm(uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerval it = {
		.it_interval = { (time_t)(interval_ns / 1000000000u), (suseconds_t)(interval_ns % 1000000000u / 1000) },
		.it_value = { (time_t)(first_ns / 1000000000u), (suseconds_t)(first_ns % 1000000000u / 1000) },
	};

	if (first_ns && !it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;	/* due now: as soon as possible, not never */
	setitimer(ITIMER_REAL, &it, NULL);
}

void timer_reprogram(void)
{
	uint64_t next = ktimer_next(), now;

	if (sched_next_timer()) {
		if (mode != PERIODIC) {
			arm(tick_ns, tick_ns);
			mode = PERIODIC;
		}
		return;
	}
	if (next) {
		if (mode == ONESHOT && oneshot_at == next)
			return;
		now = now_ns();
		arm(next > now ? next - now : 0, 0);
		mode = ONESHOT;
		oneshot_at = next;
		st.oneshots++;
		return;
	}
	if (mode != OFF) {
		arm(0, 0);
		mode = OFF;
		st.stops++;
	}
}

static void timer_top(int line)
{
	(void)line;
	raise_softirq(SOFTIRQ_TIMER);
}

static void timer_bh(void)
{
	uint64_t t0 = now_ns();

	st.bh_runs++;
	if (mode == ONESHOT)
		mode = OFF;	/* it fired */
	while (queue && queue->when <= t0) {
		struct ktimer *t = queue;

		queue = t->next;
		t->armed = false;
		if (t->interval)
			ktimer_add(t, t->when + t->interval);
		t->fn(t);
	}
	sched_tick();
	irq_bh_done(IRQ_TIMER);
	if (kr) {
		int krs = kr_begin();

		kr->jiffies = jiffies_now();
		kr_end(krs);
	}
	timer_reprogram();
	st.ticks++;
	st.bh_ns += now_ns() - t0;
}

int timer_boot(int hz)
{
	timer_hz = hz;
	tick_ns = 1000000000u / (uint64_t)hz;
	boot_ns = now_ns();
	irq_register(IRQ_TIMER, timer_top);
	open_softirq(SOFTIRQ_TIMER, timer_bh);
	if (kr) {
		int krs = kr_begin();

		kr->hz = (uint32_t)hz;
		kr_end(krs);
	}
	return 0;
}

void timer_get_stats(struct timer_stats *out)
{
	*out = st;
}
