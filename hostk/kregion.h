/* The kernel region, hostk's side: create it, keep it current, map it into
 * every guest, and tell whether a guest's request would touch it. */
#ifndef HOSTK_KREGION_SIDE_H
#define HOSTK_KREGION_SIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "../guest/include/hostk/kregion.h"
#include "irq.h"

struct task;

/* hostk's own, writable view (NULL before kregion_boot). */
extern struct hk_kregion *kr;

/* Creates, fills and seals the region.  0 or -errno. */
int kregion_boot(void);
/* Unmap hostk's view and close the region's descriptors (the guests'
 * mappings stay): kr is NULL again (tests, each from scratch). */
void kregion_shutdown(void);
/* At an execve's exit stop: map the region into the new image.  0, or
 * -errno with why saying what went wrong (EEXIST: the image occupies the
 * region's place). */
int kregion_map(struct task *tk, char *why, size_t len);

/* A scratch slot for tk's syscall in flight, holding a copy of len bytes
 * (at most HK_SCRATCH_SLOT) of data: returns its address in the guest, or 0
 * when all are taken.  The slot is tk's until kregion_scratch_put(). */
unsigned long kregion_scratch(struct task *tk, const void *data, size_t len);
void kregion_scratch_put(struct task *tk);

/* A guest went for the region: count it, trace it, and say so (the first
 * few times; a hostile guest must not flood the terminal). */
void fence_report(const struct task *tk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The memory syscalls trap only for ranges that start this close below the
 * region, or are longer than this (the filter's rules, mem.c's checks). */
#define FENCE_REACH (16ul << 30)

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
