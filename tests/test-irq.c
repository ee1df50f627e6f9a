/* Unit test of the interrupt controller (hostk/irq.c) and the bottom halves
 * (hostk/softirq.c) as a state machine, without signals: the transport is a
 * direct call of irq_deliver(), so a raise from the test delivers at once when
 * the line is deliverable, and the test's own top halves record every call
 * (line, nesting depth, level) in order. */
#include <check.h>
#include <errno.h>

#include "ck-main.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostk/irq.h"
#include "hostk/kregion.h"
#include "hostk/softirq.h"

/* The lines every case requests, in this order, with hostk's own levels:
 * a device below the clock, the timer, a device above it. */
enum { IRQ_TIMER, IRQ_TEST_LO, IRQ_TEST_HI, NR_IRQS };
#define IPL_TEST_LO IPL_BIO
#define IPL_TEST_HI IPL_SERIAL

/* What softirq.c bounds a pass by (MAX_SOFTIRQ_RESTART there). */
#define SOFTIRQ_RESTARTS 10

/* One entry per top half call (and per return, with ENTER false). */
struct call {
	int line, depth, ipl;
	bool enter;
};
static struct call calls[64];
static int ncalls;

/* What a top half does between its two records, if anything. */
static void (*action[MAX_IRQS])(int line);	/* request_irq hands out up to MAX_IRQS */

static void record(int line, bool enter)
{
	ck_assert_int_lt(ncalls, (int)(sizeof calls / sizeof calls[0]));
	calls[ncalls++] = (struct call){ line, irq_nesting(), spl_current(), enter };
}

static void top(int line, void *cookie)
{
	ck_assert_ptr_eq(cookie, &calls);
	record(line, true);
	if (action[line])
		action[line](line);
	record(line, false);
}

static void direct_kick(int line)
{
	(void)line;
	irq_deliver();
}

static void setup(void)
{
	irq_reset();
	softirq_reset();
	irq_set_kick(direct_kick);
	ck_assert_int_eq(request_irq("timer", IPL_CLOCK, top, NULL, &calls), IRQ_TIMER);
	ck_assert_int_eq(request_irq("test-lo", IPL_TEST_LO, top, NULL, &calls), IRQ_TEST_LO);
	ck_assert_int_eq(request_irq("test-hi", IPL_TEST_HI, top, NULL, &calls), IRQ_TEST_HI);
	ncalls = 0;
	memset(action, 0, sizeof action);
}

/* The i-th call is line entering (or leaving) at depth and level. */
static void expect_call(int i, int line, bool enter, int depth, int ipl)
{
	ck_assert_int_lt(i, ncalls);
	ck_assert_msg(calls[i].line == line && calls[i].enter == enter,
		      "call %d: line %d %s, expected line %d %s", i, calls[i].line,
		      calls[i].enter ? "enter" : "leave", line, enter ? "enter" : "leave");
	ck_assert_int_eq(calls[i].depth, depth);
	ck_assert_int_eq(calls[i].ipl, ipl);
}

static struct irq_counts counts_of(int line)
{
	struct irq_counts c;

	memset(&c, 0xa5, sizeof c);
	irq_counts(line, &c);
	return c;
}

static uint64_t bit(int line)
{
	return 1ull << line;
}

START_TEST(test_fresh)
{
	/* The controller as it starts: enabled, level 0, nothing masked or pending. */
	ck_assert(irq_enabled());
	ck_assert_int_eq(spl_current(), IPL_NONE);
	ck_assert_uint_eq(irq_pending(), 0);
	ck_assert_uint_eq(irq_masked(), 0);
	ck_assert_int_eq(irq_nesting(), 0);
	ck_assert_int_eq(irq_max_nesting(), 0);
	for (int l = 0; l < NR_IRQS; l++) {
		struct irq_counts c = counts_of(l);

		ck_assert_uint_eq(c.raised, 0);
		ck_assert_uint_eq(c.delivered, 0);
		ck_assert_uint_eq(c.coalesced, 0);
		ck_assert_uint_eq(c.late, 0);
		ck_assert_uint_eq(c.spurious, 0);
		ck_assert_uint_eq(c.nested, 0);
	}
	/* Priorities as documented: timer between the two test lines. */
	ck_assert_int_eq(irq_priority(IRQ_TIMER), IPL_CLOCK);
	ck_assert_int_eq(irq_priority(IRQ_TEST_LO), IPL_TEST_LO);
	ck_assert_int_eq(irq_priority(IRQ_TEST_HI), IPL_TEST_HI);
	for (int l = 0; l < NR_IRQS; l++) {
		ck_assert_int_gt(irq_priority(l), IPL_NONE);
		ck_assert_int_lt(irq_priority(l), IPL_HIGH);
	}
}
END_TEST

START_TEST(test_immediate)
{
	for (int l = 0; l < NR_IRQS; l++) {
		struct irq_counts c;

		ncalls = 0;
		irq_raise(l);
		ck_assert_int_eq(ncalls, 2);
		expect_call(0, l, true, 1, irq_priority(l));
		expect_call(1, l, false, 1, irq_priority(l));
		ck_assert_uint_eq(irq_pending(), 0);
		ck_assert_int_eq(irq_nesting(), 0);
		ck_assert_int_eq(spl_current(), IPL_NONE);
		c = counts_of(l);
		ck_assert_uint_eq(c.raised, 1);
		ck_assert_uint_eq(c.delivered, 1);
		ck_assert_uint_eq(c.coalesced, 0);
		ck_assert_uint_eq(c.late, 0);
		ck_assert_uint_eq(c.nested, 0);
		ck_assert_uint_eq(c.spurious, 0);
	}
	/* Nothing more without another raise. */
	irq_deliver();
	splx(spl_current());
	ck_assert_int_eq(ncalls, 2);
	ck_assert_int_eq(irq_max_nesting(), 1);
}
END_TEST

START_TEST(test_mask)
{
	struct irq_counts c;

	irq_mask(IRQ_TEST_LO);
	ck_assert_uint_eq(irq_masked(), bit(IRQ_TEST_LO));
	irq_raise(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 0);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO));
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 0);

	/* Other lines are not held back by it. */
	irq_raise(IRQ_TEST_HI);
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	ck_assert_uint_eq(counts_of(IRQ_TEST_HI).late, 0);
	/* Nor does a delivery attempt take the masked one. */
	irq_deliver();
	splx(IPL_NONE);
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO));

	irq_unmask(IRQ_TEST_LO);
	ck_assert_uint_eq(irq_masked(), 0);
	ck_assert_int_eq(ncalls, 4);
	expect_call(2, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	expect_call(3, IRQ_TEST_LO, false, 1, IPL_TEST_LO);
	ck_assert_uint_eq(irq_pending(), 0);
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.raised, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.late, 1);
	ck_assert_uint_eq(c.coalesced, 0);

	/* Unmasking again delivers nothing more; the next raise is on time. */
	irq_unmask(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 4);
	irq_raise(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 6);
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.delivered, 2);
	ck_assert_uint_eq(c.late, 1);
}
END_TEST

START_TEST(test_priority)
{
	int s = splraise(IPL_CLOCK);

	ck_assert_int_eq(s, IPL_NONE);
	ck_assert_int_eq(spl_current(), IPL_CLOCK);
	irq_raise(IRQ_TEST_LO);		/* below the level */
	irq_raise(IRQ_TIMER);		/* at the level: not above it */
	ck_assert_int_eq(ncalls, 0);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO) | bit(IRQ_TIMER));

	irq_raise(IRQ_TEST_HI);		/* above: at once, and alone */
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	expect_call(1, IRQ_TEST_HI, false, 1, IPL_TEST_HI);
	ck_assert_int_eq(spl_current(), IPL_CLOCK);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO) | bit(IRQ_TIMER));
	ck_assert_uint_eq(counts_of(IRQ_TEST_HI).late, 0);

	/* Lowering the level runs the waiting ones, highest first. */
	splx(s);
	ck_assert_int_eq(spl_current(), IPL_NONE);
	ck_assert_int_eq(ncalls, 6);
	expect_call(2, IRQ_TIMER, true, 1, IPL_CLOCK);
	expect_call(3, IRQ_TIMER, false, 1, IPL_CLOCK);
	expect_call(4, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	expect_call(5, IRQ_TEST_LO, false, 1, IPL_TEST_LO);
	ck_assert_uint_eq(irq_pending(), 0);
	ck_assert_uint_eq(counts_of(IRQ_TIMER).late, 1);
	ck_assert_uint_eq(counts_of(IRQ_TEST_LO).late, 1);
	for (int l = 0; l < NR_IRQS; l++)
		ck_assert_uint_eq(counts_of(l).delivered, 1);
}
END_TEST

START_TEST(test_priority_partial)
{
	/* Lowering to a level between the two waiting lines runs only the one above it. */
	int s = splraise(IPL_HIGH);

	for (int l = 0; l < NR_IRQS; l++)
		irq_raise(l);
	ck_assert_int_eq(ncalls, 0);
	splx(IPL_CLOCK);
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	ck_assert_int_eq(spl_current(), IPL_CLOCK);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO) | bit(IRQ_TIMER));
	splx(IPL_TEST_LO);
	ck_assert_int_eq(ncalls, 4);
	expect_call(2, IRQ_TIMER, true, 1, IPL_CLOCK);
	ck_assert_int_eq(spl_current(), IPL_TEST_LO);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO));
	splx(s);
	ck_assert_int_eq(ncalls, 6);
	expect_call(4, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	ck_assert_uint_eq(irq_pending(), 0);
	ck_assert_int_eq(spl_current(), IPL_NONE);
}
END_TEST

START_TEST(test_disable)
{
	irq_disable();
	ck_assert(!irq_enabled());
	for (int l = 0; l < NR_IRQS; l++)
		irq_raise(l);
	ck_assert_int_eq(ncalls, 0);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TIMER) | bit(IRQ_TEST_LO) | bit(IRQ_TEST_HI));
	irq_deliver();
	splx(IPL_NONE);
	ck_assert_int_eq(ncalls, 0);
	/* The level is not the switch: it stays where it was. */
	ck_assert_int_eq(spl_current(), IPL_NONE);

	irq_enable();
	ck_assert(irq_enabled());
	ck_assert_int_eq(ncalls, 6);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	expect_call(1, IRQ_TEST_HI, false, 1, IPL_TEST_HI);
	expect_call(2, IRQ_TIMER, true, 1, IPL_CLOCK);
	expect_call(3, IRQ_TIMER, false, 1, IPL_CLOCK);
	expect_call(4, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	expect_call(5, IRQ_TEST_LO, false, 1, IPL_TEST_LO);
	ck_assert_uint_eq(irq_pending(), 0);
	for (int l = 0; l < NR_IRQS; l++) {
		struct irq_counts c = counts_of(l);

		ck_assert_uint_eq(c.delivered, 1);
		ck_assert_uint_eq(c.late, 1);
		ck_assert_uint_eq(c.nested, 0);
	}
	ck_assert_int_eq(irq_max_nesting(), 1);
}
END_TEST

START_TEST(test_disable_with_level)
{
	/* Enabling while the level is raised delivers only what is above it. */
	int s = splraise(IPL_CLOCK);

	irq_disable();
	irq_raise(IRQ_TEST_LO);
	irq_raise(IRQ_TEST_HI);
	ck_assert_int_eq(ncalls, 0);
	irq_enable();
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO));
	splx(s);
	ck_assert_int_eq(ncalls, 4);
	expect_call(2, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	ck_assert_uint_eq(irq_pending(), 0);
}
END_TEST

START_TEST(test_coalesce)
{
	struct irq_counts c;

	irq_mask(IRQ_TEST_HI);
	for (int i = 0; i < 5; i++)
		irq_raise(IRQ_TEST_HI);
	ck_assert_int_eq(ncalls, 0);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_HI));
	c = counts_of(IRQ_TEST_HI);
	ck_assert_uint_eq(c.raised, 5);
	ck_assert_uint_eq(c.coalesced, 4);
	ck_assert_uint_eq(c.delivered, 0);

	irq_unmask(IRQ_TEST_HI);
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	c = counts_of(IRQ_TEST_HI);
	ck_assert_uint_eq(c.raised, 5);
	ck_assert_uint_eq(c.coalesced, 4);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.late, 1);
	/* raised == delivered + coalesced: every raise accounted once. */
	ck_assert_uint_eq(c.raised, c.delivered + c.coalesced);
	ck_assert_uint_eq(irq_pending(), 0);
}
END_TEST

/* Inside LO's top half: raise HI. */
static void lo_raises_hi(int line)
{
	(void)line;
	irq_raise(IRQ_TEST_HI);
}

/* Inside HI's top half: raise LO. */
static void hi_raises_lo(int line)
{
	(void)line;
	irq_raise(IRQ_TEST_LO);
	/* Still pending when HI's top half ends: it did not run in here. */
	ck_assert_uint_eq(irq_pending() & bit(IRQ_TEST_LO), bit(IRQ_TEST_LO));
}

START_TEST(test_nest_higher)
{
	struct irq_counts c;

	action[IRQ_TEST_LO] = lo_raises_hi;
	irq_raise(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 4);
	expect_call(0, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	expect_call(1, IRQ_TEST_HI, true, 2, IPL_TEST_HI);
	expect_call(2, IRQ_TEST_HI, false, 2, IPL_TEST_HI);
	expect_call(3, IRQ_TEST_LO, false, 1, IPL_TEST_LO);	/* LO's level is back */
	ck_assert_int_eq(irq_max_nesting(), 2);
	ck_assert_int_eq(irq_nesting(), 0);
	ck_assert_int_eq(spl_current(), IPL_NONE);
	c = counts_of(IRQ_TEST_HI);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 1);
	ck_assert_uint_eq(c.late, 0);
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 0);
}
END_TEST

START_TEST(test_nest_lower)
{
	struct irq_counts c;

	action[IRQ_TEST_HI] = hi_raises_lo;
	irq_raise(IRQ_TEST_HI);
	ck_assert_int_eq(ncalls, 4);
	expect_call(0, IRQ_TEST_HI, true, 1, IPL_TEST_HI);
	expect_call(1, IRQ_TEST_HI, false, 1, IPL_TEST_HI);
	expect_call(2, IRQ_TEST_LO, true, 1, IPL_TEST_LO);	/* after, not inside */
	expect_call(3, IRQ_TEST_LO, false, 1, IPL_TEST_LO);
	ck_assert_int_eq(irq_max_nesting(), 1);
	ck_assert_int_eq(spl_current(), IPL_NONE);
	ck_assert_uint_eq(irq_pending(), 0);
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_uint_eq(c.nested, 0);
	ck_assert_uint_eq(c.late, 1);	/* it waited for HI's level */
	c = counts_of(IRQ_TEST_HI);
	ck_assert_uint_eq(c.nested, 0);
}
END_TEST

/* A line raised inside its own top half waits for it to end. */
static int self_raises;

static void raise_self(int line)
{
	if (self_raises++ == 0) {
		irq_raise(line);
		ck_assert_uint_eq(irq_pending(), bit(line));
	}
}

START_TEST(test_nest_same)
{
	action[IRQ_TIMER] = raise_self;
	irq_raise(IRQ_TIMER);
	ck_assert_int_eq(ncalls, 4);
	expect_call(0, IRQ_TIMER, true, 1, IPL_CLOCK);
	expect_call(1, IRQ_TIMER, false, 1, IPL_CLOCK);
	expect_call(2, IRQ_TIMER, true, 1, IPL_CLOCK);
	expect_call(3, IRQ_TIMER, false, 1, IPL_CLOCK);
	ck_assert_int_eq(irq_max_nesting(), 1);
	ck_assert_uint_eq(counts_of(IRQ_TIMER).delivered, 2);
	ck_assert_uint_eq(counts_of(IRQ_TIMER).nested, 0);
}
END_TEST

/* Three deep: LO, then the timer inside it, then HI inside the timer. */
static void lo_raises_timer(int line)
{
	(void)line;
	irq_raise(IRQ_TIMER);
}

static void timer_raises_hi(int line)
{
	(void)line;
	irq_raise(IRQ_TEST_HI);
}

START_TEST(test_nest_three)
{
	action[IRQ_TEST_LO] = lo_raises_timer;
	action[IRQ_TIMER] = timer_raises_hi;
	irq_raise(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 6);
	expect_call(0, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	expect_call(1, IRQ_TIMER, true, 2, IPL_CLOCK);
	expect_call(2, IRQ_TEST_HI, true, 3, IPL_TEST_HI);
	expect_call(3, IRQ_TEST_HI, false, 3, IPL_TEST_HI);
	expect_call(4, IRQ_TIMER, false, 2, IPL_CLOCK);
	expect_call(5, IRQ_TEST_LO, false, 1, IPL_TEST_LO);
	ck_assert_int_eq(irq_max_nesting(), 3);
	ck_assert_uint_eq(counts_of(IRQ_TIMER).nested, 1);
	ck_assert_uint_eq(counts_of(IRQ_TEST_HI).nested, 1);
	ck_assert_uint_eq(counts_of(IRQ_TEST_LO).nested, 0);
	ck_assert_int_eq(spl_current(), IPL_NONE);
}
END_TEST

START_TEST(test_top_level)
{
	/* At level 0, and from a raised level below the line's own. */
	int from[] = { IPL_NONE, IPL_TEST_LO };

	for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
		int s = splraise(from[i]);

		ncalls = 0;
		irq_raise(IRQ_TEST_HI);
		ck_assert_int_eq(ncalls, 2);
		ck_assert_int_eq(calls[0].ipl, irq_priority(IRQ_TEST_HI));
		ck_assert_int_eq(calls[1].ipl, irq_priority(IRQ_TEST_HI));
		ck_assert_int_eq(spl_current(), from[i]);
		ncalls = 0;
		irq_raise(IRQ_TIMER);
		ck_assert_int_eq(ncalls, 2);
		ck_assert_int_eq(calls[0].ipl, irq_priority(IRQ_TIMER));
		ck_assert_int_eq(spl_current(), from[i]);
		splx(s);
		ck_assert_int_eq(spl_current(), IPL_NONE);
	}
}
END_TEST

START_TEST(test_spl_balance)
{
	int a, b, c;

	a = splraise(IPL_TEST_LO);
	ck_assert_int_eq(a, IPL_NONE);
	b = splraise(IPL_TEST_HI);
	ck_assert_int_eq(b, IPL_TEST_LO);
	ck_assert_int_eq(spl_current(), IPL_TEST_HI);
	/* Raising to a lower level keeps the higher one. */
	c = splraise(IPL_CLOCK);
	ck_assert_int_eq(c, IPL_TEST_HI);
	ck_assert_int_eq(spl_current(), IPL_TEST_HI);
	c = splraise(IPL_NONE);
	ck_assert_int_eq(c, IPL_TEST_HI);
	ck_assert_int_eq(spl_current(), IPL_TEST_HI);
	splx(c);
	ck_assert_int_eq(spl_current(), IPL_TEST_HI);
	c = splraise(IPL_HIGH);
	ck_assert_int_eq(spl_current(), IPL_HIGH);
	splx(c);
	ck_assert_int_eq(spl_current(), IPL_TEST_HI);
	splx(b);
	ck_assert_int_eq(spl_current(), IPL_TEST_LO);
	splx(a);
	ck_assert_int_eq(spl_current(), IPL_NONE);

	/* Many balanced pairs, nested and in sequence. */
	for (int i = 0; i < 100; i++) {
		int x = splraise(1 + i % (NR_IPLS - 1));
		int y = splraise(1 + (i * 7) % (NR_IPLS - 1));

		ck_assert_int_ge(spl_current(), 1 + i % (NR_IPLS - 1));
		splx(y);
		splx(x);
	}
	ck_assert_int_eq(spl_current(), IPL_NONE);
	ck_assert_int_eq(ncalls, 0);
}
END_TEST

START_TEST(test_spurious_coalesced)
{
	struct irq_counts c;

	irq_spurious(IRQ_TEST_LO);
	irq_spurious(IRQ_TEST_LO);
	irq_coalesced(IRQ_TEST_LO, 7);
	irq_coalesced(IRQ_TEST_LO, 0);
	irq_coalesced(IRQ_TEST_LO, 3);
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.spurious, 2);
	ck_assert_uint_eq(c.coalesced, 10);
	ck_assert_uint_eq(c.raised, 0);
	ck_assert_uint_eq(c.delivered, 0);
	/* Only that line's counters moved, and nothing was delivered. */
	for (int l = 0; l < NR_IRQS; l++) {
		if (l == IRQ_TEST_LO)
			continue;
		c = counts_of(l);
		ck_assert_uint_eq(c.spurious, 0);
		ck_assert_uint_eq(c.coalesced, 0);
	}
	ck_assert_int_eq(ncalls, 0);
	ck_assert_uint_eq(irq_pending(), 0);

	/* They add to what the controller counts itself. */
	irq_mask(IRQ_TEST_LO);
	irq_raise(IRQ_TEST_LO);
	irq_raise(IRQ_TEST_LO);
	c = counts_of(IRQ_TEST_LO);
	ck_assert_uint_eq(c.coalesced, 11);
}
END_TEST

/* Softirqs. */

static int sirq_order[64];
static int nsirq;
static int reraise_left;

static void note_sirq(int nr)
{
	ck_assert_int_lt(nsirq, (int)(sizeof sirq_order / sizeof sirq_order[0]));
	sirq_order[nsirq++] = nr;
}

static void sirq_timer(void) { note_sirq(SOFTIRQ_TIMER); }
static void sirq_dev(void) { note_sirq(SOFTIRQ_DEV); }

/* Raises the timer softirq again: it runs in the restart of the same pass. */
static void sirq_dev_raises_timer(void)
{
	note_sirq(SOFTIRQ_DEV);
	if (reraise_left > 0) {
		reraise_left--;
		raise_softirq(SOFTIRQ_TIMER);
	}
}

static void sirq_forever(void)
{
	note_sirq(SOFTIRQ_DEV);
	raise_softirq(SOFTIRQ_DEV);
}

static void sirq_reraise_some(void)
{
	note_sirq(SOFTIRQ_DEV);
	if (reraise_left > 0) {
		reraise_left--;
		raise_softirq(SOFTIRQ_DEV);
	}
}

START_TEST(test_softirq_order)
{
	nsirq = 0;
	open_softirq(SOFTIRQ_TIMER, sirq_timer);
	open_softirq(SOFTIRQ_DEV, sirq_dev);
	ck_assert_uint_eq(softirq_pending, 0);
	raise_softirq(SOFTIRQ_DEV);
	ck_assert_uint_eq(softirq_pending, 1u << SOFTIRQ_DEV);
	raise_softirq(SOFTIRQ_TIMER);
	raise_softirq(SOFTIRQ_DEV);	/* raised twice, runs once */
	ck_assert_uint_eq(softirq_pending, (1u << SOFTIRQ_DEV) | (1u << SOFTIRQ_TIMER));
	ck_assert_int_eq(nsirq, 0);	/* raising runs nothing */

	do_softirq();
	ck_assert_int_eq(nsirq, 2);
	ck_assert_int_eq(sirq_order[0], SOFTIRQ_TIMER);	/* bit order */
	ck_assert_int_eq(sirq_order[1], SOFTIRQ_DEV);
	ck_assert_uint_eq(softirq_pending, 0);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_TIMER), 1);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_DEV), 1);
	ck_assert_uint_eq(softirq_deferred(), 0);

	/* Nothing raised: nothing runs. */
	do_softirq();
	ck_assert_int_eq(nsirq, 2);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_TIMER), 1);

	/* A handler raising an earlier one: it runs in the restart, same pass. */
	open_softirq(SOFTIRQ_DEV, sirq_dev_raises_timer);
	reraise_left = 1;
	raise_softirq(SOFTIRQ_DEV);
	do_softirq();
	ck_assert_int_eq(nsirq, 4);
	ck_assert_int_eq(sirq_order[2], SOFTIRQ_DEV);
	ck_assert_int_eq(sirq_order[3], SOFTIRQ_TIMER);
	ck_assert_uint_eq(softirq_pending, 0);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_TIMER), 2);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_DEV), 2);
	ck_assert_uint_eq(softirq_deferred(), 0);
}
END_TEST

START_TEST(test_softirq_unhandled)
{
	/* A raised softirq without a handler is consumed and counted. */
	raise_softirq(SOFTIRQ_TIMER);
	do_softirq();
	ck_assert_uint_eq(softirq_pending, 0);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_TIMER), 1);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_DEV), 0);
}
END_TEST

START_TEST(test_softirq_restart)
{
	/* A few re-raises fit in one pass. */
	nsirq = 0;
	open_softirq(SOFTIRQ_DEV, sirq_reraise_some);
	reraise_left = 3;
	raise_softirq(SOFTIRQ_DEV);
	do_softirq();
	ck_assert_int_eq(nsirq, 4);
	ck_assert_uint_eq(softirq_pending, 0);
	ck_assert_uint_eq(softirq_deferred(), 0);
}
END_TEST

START_TEST(test_softirq_storm)
{
	uint64_t n;

	nsirq = 0;
	open_softirq(SOFTIRQ_DEV, sirq_forever);
	raise_softirq(SOFTIRQ_DEV);
	do_softirq();	/* must return */
	n = softirq_count(SOFTIRQ_DEV);
	/* At most MAX_SOFTIRQ_RESTART rounds (fewer if 2 ms ran out first). */
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, SOFTIRQ_RESTARTS);
	ck_assert_int_eq(nsirq, (int)n);
	ck_assert_uint_eq(softirq_deferred(), 1);
	/* Left raised for the next pass. */
	ck_assert_uint_eq(softirq_pending, 1u << SOFTIRQ_DEV);

	/* The next pass takes it up, and is cut off again. */
	do_softirq();
	ck_assert_uint_gt(softirq_count(SOFTIRQ_DEV), n);
	ck_assert_uint_le(softirq_count(SOFTIRQ_DEV), 2 * SOFTIRQ_RESTARTS);
	ck_assert_uint_eq(softirq_deferred(), 2);
	ck_assert_uint_eq(softirq_pending, 1u << SOFTIRQ_DEV);
}
END_TEST

START_TEST(test_softirq_ipl)
{
	int s;

	nsirq = 0;
	open_softirq(SOFTIRQ_TIMER, sirq_timer);
	raise_softirq(SOFTIRQ_TIMER);
	for (int level = IPL_TEST_LO; level < NR_IPLS; level++) {
		s = splraise(level);
		do_softirq();
		ck_assert_int_eq(nsirq, 0);
		ck_assert_uint_eq(softirq_pending, 1u << SOFTIRQ_TIMER);
		ck_assert_uint_eq(softirq_count(SOFTIRQ_TIMER), 0);
		splx(s);
	}
	do_softirq();
	ck_assert_int_eq(nsirq, 1);
	ck_assert_uint_eq(softirq_pending, 0);
	ck_assert_uint_eq(softirq_count(SOFTIRQ_TIMER), 1);
}
END_TEST

/* A top half raises a softirq; it runs later, not in the top half. */
static void top_raises_softirq(int line)
{
	(void)line;
	raise_softirq(SOFTIRQ_DEV);
	do_softirq();	/* at the line's level: must not run here */
	ck_assert_int_eq(nsirq, 0);
}

START_TEST(test_softirq_from_top)
{
	nsirq = 0;
	open_softirq(SOFTIRQ_DEV, sirq_dev);
	action[IRQ_TEST_LO] = top_raises_softirq;
	irq_raise(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(softirq_pending, 1u << SOFTIRQ_DEV);
	do_softirq();
	ck_assert_int_eq(nsirq, 1);
	ck_assert_uint_eq(softirq_pending, 0);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_int_eq(nr_irqs(), NR_IRQS);
	ck_assert_str_eq(irq_name(IRQ_TIMER), "timer");
	ck_assert_str_eq(irq_name(IRQ_TEST_LO), "test-lo");
	ck_assert_str_eq(irq_name(IRQ_TEST_HI), "test-hi");
	ck_assert_str_eq(irq_name(NR_IRQS), "?");
	ck_assert_str_eq(irq_name(-1), "?");
	for (int i = 0; i < NR_SOFTIRQS; i++) {
		ck_assert_ptr_nonnull(softirq_names[i]);
		ck_assert_int_gt((int)strlen(softirq_names[i]), 0);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(softirq_names[i], softirq_names[j]);
	}
}
END_TEST

/* request_irq hands out lines in order up to MAX_IRQS and refuses levels a
 * line cannot have; a line never requested is never delivered. */
START_TEST(test_request)
{
	ck_assert_int_eq(request_irq("bad", IPL_NONE, top, NULL, &calls), -ENOSPC);
	ck_assert_int_eq(request_irq("bad", IPL_HIGH, top, NULL, &calls), -ENOSPC);
	ck_assert_int_eq(nr_irqs(), NR_IRQS);
	ncalls = 0;
	irq_raise(NR_IRQS);			/* not a line yet */
	irq_raise(-1);
	ck_assert_int_eq(ncalls, 0);
	ck_assert_uint_eq(irq_pending(), 0);
	ck_assert_int_eq(irq_priority(NR_IRQS), IPL_NONE);
	for (int l = NR_IRQS; l < MAX_IRQS; l++)
		ck_assert_int_eq(request_irq("more", IPL_TTY, top, NULL, &calls), l);
	ck_assert_int_eq(request_irq("one too many", IPL_TTY, top, NULL, &calls), -ENOSPC);
	ck_assert_int_eq(nr_irqs(), MAX_IRQS);
	irq_raise(MAX_IRQS - 1);
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, MAX_IRQS - 1, true, 1, IPL_TTY);
	irq_reset();
	ck_assert_int_eq(nr_irqs(), 0);
	ck_assert_int_eq(irq_priority(IRQ_TIMER), IPL_NONE);
}
END_TEST

/* A top half asks for its bottom half; the device softirq runs every asked
 * line's bottom half once, in line order, with its cookie. */
static int bh_order[8], nbh;
static int cookie_a, cookie_b;

static void bh_record(int line, void *cookie)
{
	ck_assert_ptr_eq(cookie, line == IRQ_TEST_HI + 1 ? (void *)&cookie_a : (void *)&cookie_b);
	ck_assert_int_lt(nbh, 8);
	bh_order[nbh++] = line;
}

static void top_schedules(int line, void *cookie)
{
	(void)cookie;
	record(line, true);
	irq_schedule_bh(line);
	record(line, false);
}

START_TEST(test_bottom_halves)
{
	int a = request_irq("dev-a", IPL_NET, top_schedules, bh_record, &cookie_a);
	int b = request_irq("dev-b", IPL_BIO, top_schedules, bh_record, &cookie_b);

	ck_assert_int_eq(a, IRQ_TEST_HI + 1);
	ck_assert_int_eq(b, IRQ_TEST_HI + 2);
	nbh = 0;
	irq_raise(b);
	irq_raise(a);
	irq_raise(b);			/* again before its bottom half ran */
	ck_assert_int_eq(nbh, 0);	/* deferred, not run in the top half */
	ck_assert(softirq_pending & (1u << SOFTIRQ_DEV));
	do_softirq();
	ck_assert_int_eq(nbh, 2);	/* b once, though its top half ran twice */
	ck_assert_int_eq(bh_order[0], a);
	ck_assert_int_eq(bh_order[1], b);
	do_softirq();
	ck_assert_int_eq(nbh, 2);
}
END_TEST

/* A masked line that stays pending while the kernel region is written: the
 * write's splx must not deliver (nothing is deliverable), so it must not
 * publish again either.  It once did, forever, from the timer's signal. */
START_TEST(test_masked_pending_publish)
{
	static struct hk_kregion scratch;
	int s;

	kr = &scratch;
	irq_mask(IRQ_TEST_LO);
	irq_raise(IRQ_TEST_LO);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO));
	s = kr_begin();
	kr_end(s);			/* returns: the test would time out if not */
	irq_raise(IRQ_TIMER);		/* delivered, then published, with LO still pending */
	ck_assert_int_eq(ncalls, 2);
	expect_call(0, IRQ_TIMER, true, 1, IPL_CLOCK);
	ck_assert_uint_eq(irq_pending(), bit(IRQ_TEST_LO));
	ck_assert_uint_eq(scratch.psw.pending, bit(IRQ_TEST_LO));
	ck_assert_uint_eq(scratch.psw.mask, bit(IRQ_TEST_LO));
	irq_unmask(IRQ_TEST_LO);
	ck_assert_int_eq(ncalls, 4);
	expect_call(2, IRQ_TEST_LO, true, 1, IPL_TEST_LO);
	ck_assert_uint_eq(scratch.psw.pending, 0);
	kr = NULL;
}
END_TEST

/* Every case starts from setup(). */
#define ADD_FIXED_CASE(s, t) ADD_CASE_X(s, t, tcase_add_checked_fixture(tc_, setup, NULL))

static Suite *irq_suite(void)
{
	Suite *s = suite_create("irq");
	ADD_FIXED_CASE(s, fresh);
	ADD_FIXED_CASE(s, immediate);
	ADD_FIXED_CASE(s, mask);
	ADD_FIXED_CASE(s, priority);
	ADD_FIXED_CASE(s, priority_partial);
	ADD_FIXED_CASE(s, disable);
	ADD_FIXED_CASE(s, disable_with_level);
	ADD_FIXED_CASE(s, coalesce);
	ADD_FIXED_CASE(s, nest_higher);
	ADD_FIXED_CASE(s, nest_lower);
	ADD_FIXED_CASE(s, nest_same);
	ADD_FIXED_CASE(s, nest_three);
	ADD_FIXED_CASE(s, top_level);
	ADD_FIXED_CASE(s, spl_balance);
	ADD_FIXED_CASE(s, spurious_coalesced);
	ADD_FIXED_CASE(s, softirq_order);
	ADD_FIXED_CASE(s, softirq_unhandled);
	ADD_FIXED_CASE(s, softirq_restart);
	ADD_FIXED_CASE(s, softirq_storm);
	ADD_FIXED_CASE(s, softirq_ipl);
	ADD_FIXED_CASE(s, softirq_from_top);
	ADD_FIXED_CASE(s, names);
	ADD_FIXED_CASE(s, request);
	ADD_FIXED_CASE(s, bottom_halves);
	ADD_FIXED_CASE(s, masked_pending_publish);
	return s;
}

CK_MAIN(irq_suite)
