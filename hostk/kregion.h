/* The kernel region, hostk's side: create it, keep it current, map it into
 * every guest, and tell whether a guest's request would touch it. */
#ifndef HOSTK_KREGION_SIDE_H
#define HOSTK_KREGION_SIDE_H

#include <stdbool.h>

#include "../guest/include/hostk/kregion.h"
#include "irq.h"

struct task;

/* hostk's own, writable view (NULL before kregion_boot). */
extern struct hk_kregion *kr;

/* Creates, fills and seals the region.  0 or -errno. */
int kregion_boot(void);
/* At an execve's exit stop: map the region into the new image. */
void kregion_map(struct task *tk);
/* hostk is leaving: let the region's holder go. */
void kregion_shutdown(void);

/* A guest went for the region: count it, trace it, and say so (the first
 * few times; a hostile guest must not flood the terminal). */
void fence_report(const struct task *tk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Does [addr, addr+len) touch the region?  (len 0 counts as one byte; a
 * range that wraps touches everything.) */
static inline bool kregion_overlaps(unsigned long addr, unsigned long len)
{
	unsigned long end = addr + (len ? len : 1);

	return end < addr || (addr < HK_KREGION_TOP && end > HK_KREGION_ADDR);
}

/* The writer's half of the seqlock: readers retry while seq is odd.  A
 * write is a critical section at IPL_HIGH, so that no top half writes in
 * the middle of it (two nested writers would make seq even too early):
 *   int s = kr_begin(); kr->x = ...; kr_end(s);                          */
static inline int kr_begin(void)
{
	int s = splraise(IPL_HIGH);

	__atomic_store_n(&kr->seq, kr->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return s;
}

static inline void kr_end(int s)
{
	__atomic_store_n(&kr->seq, kr->seq + 1, __ATOMIC_RELEASE);
	splx(s);
}

#endif
