/* The kernel's timeouts.  A binary min-heap of armed timers keyed by
 * deadline: adding, removing and firing are O(log n), so thousands of
 * sleeping threads or alarmed processes cost no more per event than one.
 * Called from the kernel loop only (traps and the timer's bottom half). */
#include <stdlib.h>

#include "ktimer.h"
#include "util.h"

static struct ktimer **heap;
static unsigned n, cap;

static void place(struct ktimer *t, unsigned i)
{
	heap[i] = t;
	t->slot = i;
}

static void sift_up(unsigned i)
{
	struct ktimer *t = heap[i];

	while (i > 0 && heap[(i - 1) / 2]->when > t->when) {
		place(heap[(i - 1) / 2], i);
		i = (i - 1) / 2;
	}
	place(t, i);
}

static void sift_down(unsigned i)
{
	struct ktimer *t = heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && heap[c + 1]->when < heap[c]->when)
			c++;
		if (heap[c]->when >= t->when)
			break;
		place(heap[c], i);
		i = c;
	}
	place(t, i);
}

void ktimer_del(struct ktimer *t)
{
	unsigned i = t->slot;

	if (!t->armed)
		return;
	t->armed = false;
	if (--n == i)
		return;
	place(heap[n], i);
	sift_down(i);
	sift_up(heap[i]->slot);
}

void ktimer_add(struct ktimer *t, uint64_t when)
{
	ktimer_del(t);
	if (n == cap) {
		cap = cap ? 2 * cap : 64;
		heap = realloc(heap, cap * sizeof *heap);
		if (!heap)
			die_oom();
	}
	t->when = when;
	t->armed = true;
	place(t, n++);
	sift_up(n - 1);
}

uint64_t ktimer_next(void)
{
	return n ? heap[0]->when : 0;
}

unsigned ktimer_count(void)
{
	return n;
}

void ktimer_run(uint64_t now)
{
	while (n && heap[0]->when <= now) {
		struct ktimer *t = heap[0];

		ktimer_del(t);
		t->fn(t);
		/* A handler that re-armed itself for now or earlier would be
		 * due again at once: it waits for the next run instead. */
		if (t->armed && t->when <= now)
			break;
	}
}
