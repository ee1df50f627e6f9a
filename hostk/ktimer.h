/* The kernel's timeouts: hostk's own sleeps, alarms and driver deadlines,
 * kept in a min-heap by deadline.  The timer driver (drivers/timer.c) fires
 * them from its bottom half and programs the host timer for the earliest. */
#ifndef HOSTK_KTIMER_H
#define HOSTK_KTIMER_H

#include <stdbool.h>
#include <stdint.h>

struct ktimer {
	uint64_t when;			/* CLOCK_MONOTONIC ns */
	void (*fn)(struct ktimer *);	/* runs in the timer's bottom half */
	void *data;
	unsigned slot;			/* its place in the heap, while armed */
	bool armed;
};

/* (Re)arm t for when; a zeroed struct with fn set is a valid timer. */
void ktimer_add(struct ktimer *t, uint64_t when);
void ktimer_del(struct ktimer *t);
/* The earliest deadline, 0 if none. */
uint64_t ktimer_next(void);
/* Fire every timer due at now (a timer that re-arms itself for a time not
 * after now waits for the next call: no handler can make this loop spin). */
void ktimer_run(uint64_t now);
unsigned ktimer_count(void);

#endif
