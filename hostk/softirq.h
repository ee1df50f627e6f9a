/* Bottom halves: deferred work raised by top halves and run in the kernel
 * loop at safe points, with interrupts enabled. */
#ifndef HOSTK_SOFTIRQ_H
#define HOSTK_SOFTIRQ_H

#include <stdint.h>

enum softirq {
	SOFTIRQ_TIMER,	/* the tick: jiffies, timers, the scheduler's charge */
	SOFTIRQ_DEV,	/* device bottom halves */
	NR_SOFTIRQS
};

extern const char *const softirq_names[NR_SOFTIRQS];
/* Bit N: softirq N raised and not yet run.  Read by the kernel loop's wait. */
extern volatile uint32_t softirq_pending;

typedef void softirq_fn(void);
void open_softirq(int nr, softirq_fn *fn);
/* Async-signal-safe. */
void raise_softirq(int nr);
/* Drain: snapshot and clear, run each with ffs(), restart at most
 * MAX_SOFTIRQ_RESTART times or for MAX_SOFTIRQ_NS, then leave the rest for
 * the next pass (an interrupt storm must not starve the kernel loop). */
void do_softirq(void);
/* None raised, no handler, nothing counted (tests, each from scratch). */
void softirq_reset(void);
uint64_t softirq_count(int nr);
uint64_t softirq_deferred(void);	/* passes that left work for later */

#endif
