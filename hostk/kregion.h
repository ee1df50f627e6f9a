/* The kernel region, hostk's side: create it, keep it current, map it into
 * every guest, and tell whether a guest's request would touch it. */
#ifndef HOSTK_KREGION_SIDE_H
#define HOSTK_KREGION_SIDE_H

#include <stdbool.h>

#include "../guest/include/hostk/kregion.h"

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

/* The writer's half of the seqlock: readers retry while seq is odd. */
static inline void kr_begin(void)
{
	__atomic_store_n(&kr->seq, kr->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void kr_end(void)
{
	__atomic_store_n(&kr->seq, kr->seq + 1, __ATOMIC_RELEASE);
}

#endif
