/* The timer driver (drivers/timer.c): the clock interrupt on line 0.  It
 * programs the host timer for the earliest of the kernel's timeouts
 * (ktimer.h) and, while guests run, the next scheduler tick. */
#ifndef HOSTK_TIMER_H
#define HOSTK_TIMER_H

#include <stdint.h>

#include "ktimer.h"

extern int timer_hz;

/* Creates the host timer (SIGALRM to the calling, kernel, thread). */
int timer_boot(int hz);
/* Delete the host timer; the statistics start again from 0 (tests). */
void timer_shutdown(void);
/* Programs the host timer for what is due next; call after a change to
 * the timeouts or to what the scheduler runs. */
void timer_reprogram(void);
uint64_t jiffies_now(void);

struct timer_stats {
	uint64_t ticks;		/* scheduler ticks */
	uint64_t programs;	/* host timer reprogrammings */
	uint64_t stops;		/* times it was stopped: nothing due (tickless idle) */
	uint64_t bh_runs, bh_ns;
};
void timer_get_stats(struct timer_stats *st);

#endif
