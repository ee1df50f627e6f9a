/* The interrupt controller: lines with priorities, per-line masks, a global
 * enable flag, the interrupt priority level (spl), pending bits, delivery to
 * the kernel thread, and per-line counters. */
#ifndef HOSTK_IRQ_H
#define HOSTK_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "../guest/include/hostk/kregion.h"

/* Lines are registered by drivers (request_irq), in order: the timer's is
 * line 0.  The kernel region shows every one. */
#define MAX_IRQS 16
_Static_assert(MAX_IRQS <= HK_MAX_IRQS, "the kernel region shows every line");

/* Interrupt priority levels, BSD's.  A line is delivered only above the
 * current level; a top half runs at its line's level, so only higher lines
 * nest. */
enum ipl {
	IPL_NONE,	/* everything enabled */
	IPL_BIO,	/* block devices */
	IPL_NET,	/* network devices */
	IPL_TTY,	/* character devices */
	IPL_CLOCK,	/* the timer */
	IPL_SERIAL,	/* above the clock (a device that must not wait for it) */
	IPL_HIGH,	/* everything masked (but the shutdown NMI) */
	NR_IPLS
};

/* A top half runs in signal context: async-signal-safe, it acknowledges,
 * records and schedules its bottom half.  A bottom half runs in the kernel
 * loop, with interrupts enabled.  Both get the cookie of request_irq(). */
typedef void irq_top_fn(int line, void *cookie);
typedef void irq_bottom_fn(int line, void *cookie);

struct irq_counts {
	uint64_t raised;	/* times the hardware raised it */
	uint64_t delivered;	/* top halves run */
	uint64_t coalesced;	/* raised again while still pending (merged) */
	uint64_t late;		/* delivered after waiting for a mask or the IPL */
	uint64_t spurious;	/* delivered with nothing to do */
	uint64_t nested;	/* delivered inside another top half */
};

/* Register a line (Linux's request_irq): its name, priority and halves.
 * Returns the line's number, or -ENOSPC.  Before irq_boot() or after. */
int request_irq(const char *name, int ipl, irq_top_fn *top, irq_bottom_fn *bottom, void *cookie);
/* From a top half: run the line's bottom half at the next safe point. */
void irq_schedule_bh(int line);
int nr_irqs(void);
const char *irq_name(int line);
/* Forget every line, count and sample: the controller as before the first
 * request_irq (tests, each from scratch). */
void irq_reset(void);

/* Raise a line, from any thread or signal handler (the hardware side). */
void irq_raise(int line);
/* Note a raise the top half found merged into one delivery (an eventfd
 * counter above 1): counted as coalesced. */
void irq_coalesced(int line, uint64_t n);
/* A top half that found nothing to do. */
void irq_spurious(int line);

/* spl: s = splraise(IPL_CLOCK); ... splx(s);  splx runs what became
 * deliverable.  Functions that need interrupts masked end in _irqoff. */
int splraise(int ipl);
void splx(int s);
int spl_current(void);
void irq_mask(int line);
void irq_unmask(int line);
void irq_disable(void);		/* the global enable flag */
void irq_enable(void);

/* Delivery.  Normally by signal to the kernel thread; the unit tests set a
 * transport that calls irq_deliver() directly. */
typedef void irq_kick_fn(int line);
void irq_set_kick(irq_kick_fn *kick);
/* Run every deliverable pending line, highest first (kernel thread only). */
void irq_deliver(void);

void irq_counts(int line, struct irq_counts *out);
int irq_nesting(void);		/* top halves running now */
int irq_max_nesting(void);
uint64_t irq_pending(void);
uint64_t irq_masked(void);
bool irq_enabled(void);
int irq_priority(int line);

/* Latencies, from the samples of the last 4096 deliveries. */
enum { IRQ_LAT_TOP, IRQ_LAT_TO_TOP, IRQ_LAT_TO_BH };
struct irq_latency {
	uint64_t n, min, p50, p99, max;	/* ns */
};
void irq_latency(int line, int which, struct irq_latency *out);
/* A bottom half finished the work of line's last delivery. */
void irq_bh_done(int line);

/* The interrupt trace: top halves log into a ring, the kernel loop prints. */
enum { IRQ_EV_TOP, IRQ_EV_BOTTOM };
struct irq_event {
	uint64_t t;
	uint8_t line, kind, depth;
	uint64_t pending, masked;
};
extern bool irq_tracing;
bool irq_next_event(struct irq_event *ev);

/* Signals: line N is SIGRTMIN+1+N; SIGALRM raises line 0, the timer's.
 * Starts the signal transport for the calling (kernel) thread. */
int irq_boot(void);
/* Undo irq_boot: stop the controller's thread, close its epoll set, give
 * the lines' signals their old actions, and irq_reset(). */
void irq_shutdown(void);
/* A device line: the controller raises it when fd (an eventfd) is readable.
 * One-shot: the driver calls irq_rearm() when it wants the next one. */
int irq_attach_eventfd(int line, int fd);
void irq_rearm(int line);
/* The kernel thread's RIP in the loop's wait window, for the top half. */
void irq_set_idle_window(uintptr_t begin, uintptr_t end);

#endif
