/* Bottom halves.  A top half raises a softirq by setting its bit; the kernel
 * loop drains them at safe points (after a trap, after an interrupt, before
 * it waits), with interrupts enabled.  Like Linux's __do_softirq: snapshot
 * and clear the pending word, run each raised handler in bit order, and
 * restart while more was raised, at most MAX_SOFTIRQ_RESTART times and for
 * at most MAX_SOFTIRQ_NS; what is left waits for the next pass, so that an
 * interrupt storm cannot keep the kernel from serving traps. */
#include <string.h>
#include <strings.h>

#include "irq.h"
#include "kregion.h"
#include "softirq.h"
#include "util.h"

#define MAX_SOFTIRQ_RESTART 10
#define MAX_SOFTIRQ_NS 2000000

const char *const softirq_names[NR_SOFTIRQS] = {
	[SOFTIRQ_TIMER] = "timer",
	[SOFTIRQ_DEV] = "dev",
};
_Static_assert(NELEM(softirq_names) == NR_SOFTIRQS, "a name for every softirq");
_Static_assert(NR_SOFTIRQS <= HK_MAX_SOFTIRQS, "the kernel region shows every softirq");

volatile uint32_t softirq_pending;
static softirq_fn *handlers[NR_SOFTIRQS];
static uint64_t runs[NR_SOFTIRQS];
static uint64_t deferred;

void open_softirq(int nr, softirq_fn *fn)
{
	handlers[nr] = fn;
}

void raise_softirq(int nr)
{
	__atomic_fetch_or(&softirq_pending, 1u << nr, __ATOMIC_SEQ_CST);
}

void do_softirq(void)
{
	uint64_t t0 = now_ns();
	int restart = MAX_SOFTIRQ_RESTART;
	uint32_t p;

	/* Bottom halves run with interrupts enabled, at level 0. */
	if (spl_current() != IPL_NONE)
		return;
	while ((p = __atomic_exchange_n(&softirq_pending, 0, __ATOMIC_SEQ_CST))) {
		int nr;

		while ((nr = ffs((int)p))) {
			p &= ~(1u << (nr - 1));
			runs[nr - 1]++;
			if (handlers[nr - 1])
				handlers[nr - 1]();
		}
		if (!softirq_pending)
			break;
		if (--restart == 0 || now_ns() - t0 > MAX_SOFTIRQ_NS) {
			deferred++;	/* left raised: the loop comes back to it */
			break;
		}
	}
	if (kr) {
		int krs = kr_begin();
		kr->nr_softirqs = NR_SOFTIRQS;
		for (int i = 0; i < NR_SOFTIRQS; i++)
			kr->softirq_count[i] = runs[i];
		kr_end(krs);
	}
}

void softirq_reset(void)
{
	softirq_pending = 0;
	memset(handlers, 0, sizeof handlers);
	memset(runs, 0, sizeof runs);
	deferred = 0;
}

uint64_t softirq_count(int nr)
{
	return runs[nr];
}

uint64_t softirq_deferred(void)
{
	return deferred;
}
