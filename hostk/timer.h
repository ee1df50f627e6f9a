/* Kernel timers (a sorted queue hostk's timer interrupt serves) and the
 * timer's programming: periodic ticks while guests run, one shot for the
 * next timer when they don't, nothing at all when idle. */
#ifndef HOSTK_TIMER_H
#define HOSTK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct ktimer {
	uint64_t when;			/* CLOCK_MONOTONIC ns */
	uint64_t interval;		/* re-armed by this much after firing, if not 0 */
	void (*fn)(struct ktimer *);
	void *data;
	struct ktimer *next;
	bool armed;
};

extern int timer_hz;

void ktimer_add(struct ktimer *t, uint64_t when);
void ktimer_del(struct ktimer *t);
uint64_t ktimer_next(void);	/* the earliest deadline, 0 if none */

/* Starts the timer line (SIGALRM from an interval timer). */
int timer_boot(int hz);
/* Reprograms the interval timer for what is due; call after a change. */
void timer_reprogram(void);
uint64_t jiffies_now(void);

struct timer_stats {
	uint64_t ticks, oneshots, stops, bh_runs, bh_ns;
};
void timer_get_stats(struct timer_stats *st);

#endif
