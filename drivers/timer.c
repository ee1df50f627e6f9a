/* The timer driver.  Hardware side: a host POSIX timer on CLOCK_MONOTONIC,
 * always programmed for an absolute deadline, whose SIGALRM raises line 0.
 * Absolute deadlines make reprogramming race-free: a deadline that passed
 * while hostk was deciding fires at once instead of never.  Top half: raise
 * the timer softirq.  Bottom half: fire the kernel's due timeouts, run the
 * scheduler's tick when one is due, and program the next interrupt: the
 * earliest timeout, or the next tick if sooner while guests run; nothing at
 * all when idle (tickless, from the first tick that finds nothing to run).  Timeouts keep their own precision (a 100 us
 * sleep beside a spinner ends after ~100 us, not at the next tick). */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../hostk/irq.h"
#include "../hostk/kregion.h"
#include "../hostk/sched.h"
#include "../hostk/softirq.h"
#include "../hostk/timer.h"
#include "../hostk/util.h"

int timer_hz = 100;
static uint64_t tick_ns = 10000000, boot_ns;
static timer_t htimer;
static bool booted;
static uint64_t programmed;	/* the deadline armed in the host, 0: none */
static uint64_t next_tick;	/* 0: the scheduler needs no ticks */
static struct timer_stats st;
static int timer_line;

uint64_t jiffies_now(void)
{
	return (now_ns() - boot_ns) / tick_ns;
}

static void arm_at(uint64_t when)
{
	struct itimerspec its = { .it_value = ns_to_ts(when) };	/* 0: disarm */

	if (when == programmed)
		return;
	if (!when)
		st.stops++;
	st.programs++;
	programmed = when;
	timer_settime(htimer, TIMER_ABSTIME, &its, NULL);
}

void timer_reprogram(void)
{
	uint64_t next = ktimer_next();

	if (!booted)
		return;
	if (sched_next_timer() && !next_tick)
		next_tick = now_ns() + tick_ns;
	/* Gone idle, the pending tick is left to come: it stops the ticking
	 * then, if still idle, so a task that blocks for a moment costs no
	 * reprogramming at all. */
	if (next_tick && (!next || next_tick < next))
		next = next_tick;
	arm_at(next);
}

static void timer_top(int line, void *cookie)
{
	(void)line, (void)cookie;
	raise_softirq(SOFTIRQ_TIMER);
}

static void timer_bh(void)
{
	uint64_t now = now_ns();

	st.bh_runs++;
	if (programmed && programmed <= now)
		programmed = 0;	/* it fired: the host timer is disarmed */
	ktimer_run(now);
	if (next_tick && next_tick <= now) {
		sched_tick();
		st.ticks++;
		/* The next tick after now, on the same grid (a late bottom
		 * half does not shift every later tick); none when idle. */
		if (sched_next_timer())
			next_tick += tick_ns * ((now - next_tick) / tick_ns + 1);
		else
			next_tick = 0;
	}
	irq_bh_done(timer_line);
	if (kr) {
		int krs = kr_begin();

		kr->jiffies = jiffies_now();
		kr_end(krs);
	}
	timer_reprogram();
	st.bh_ns += now_ns() - now;
}

int timer_boot(int hz)
{
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };

	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &ev, &htimer) < 0)
		return -errno;
	timer_hz = hz;
	tick_ns = NSEC_PER_SEC / (uint64_t)hz;
	boot_ns = now_ns();
	/* The first line requested: line 0, the one SIGALRM raises. */
	if ((timer_line = request_irq("timer", IPL_CLOCK, timer_top, NULL, NULL)) != 0) {
		timer_delete(htimer);
		return timer_line < 0 ? timer_line : -EBUSY;
	}
	open_softirq(SOFTIRQ_TIMER, timer_bh);
	booted = true;
	if (kr) {
		int krs = kr_begin();

		kr->hz = (uint32_t)hz;
		kr_end(krs);
	}
	return 0;
}

void timer_shutdown(void)
{
	if (!booted)
		return;
	timer_delete(htimer);	/* and its signal, if still queued */
	booted = false;
	programmed = next_tick = 0;
	st = (struct timer_stats){ 0 };
	timer_line = 0;
}

void timer_get_stats(struct timer_stats *out)
{
	*out = st;
}
