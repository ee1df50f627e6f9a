/* libhk: finding hostk's kernel region and reading it consistently (see
 * hostk/libhk.h for the seqlock protocol). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* mincore() */
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <hostk/libhk.h>

#define PAGE 4096ul

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Is every page of [HK_KREGION_ADDR, HK_KREGION_TOP) mapped?  mincore()
 * fails with ENOMEM on an unmapped page and never faults. */
static int region_mapped(void)
{
	unsigned char vec[(HK_KREGION_SIZE + PAGE - 1) / PAGE];

	return mincore((void *)HK_KREGION_ADDR, HK_KREGION_SIZE, vec) == 0;
}

const volatile struct hk_kregion *hk_kregion(void)
{
	/* 0: not probed yet, 1: present, 2: absent. */
	static int state;
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	const volatile struct hk_kregion *kr = (const volatile struct hk_kregion *)HK_KREGION_ADDR;

	if (s == 0) {
		s = 2;
		if (region_mapped() && kr->magic == HK_KREGION_MAGIC &&
		    kr->version == HK_KREGION_VERSION)
			s = 1;
		__atomic_store_n(&state, s, __ATOMIC_RELEASE);
	}
	return s == 1 ? kr : NULL;
}

/* Copies n bytes of the region into dst with relaxed atomic loads: a word at
 * a time (the region and the struct are 8-byte aligned), then the tail. */
static void copy_relaxed(void *dst, const volatile void *src, size_t n)
{
	const volatile uint64_t *sw = src;
	uint64_t *dw = dst;
	size_t i;

	for (i = 0; i < n / 8; i++)
		dw[i] = __atomic_load_n(&sw[i], __ATOMIC_RELAXED);
	for (i = n & ~(size_t)7; i < n; i++)
		((unsigned char *)dst)[i] =
			__atomic_load_n(&((const volatile unsigned char *)src)[i], __ATOMIC_RELAXED);
}

int hk_kregion_read(const volatile struct hk_kregion *kr, struct hk_kregion *snap)
{
	size_t n;
	long tries;

	if (!kr || !snap) {
		errno = EINVAL;
		return -1;
	}
	n = kr->hdr_size < sizeof(*snap) ? kr->hdr_size : sizeof(*snap);
	if (n < sizeof(*snap))
		memset((char *)snap + n, 0, sizeof(*snap) - n);
	for (tries = 0; tries < HK_READ_TRIES; tries++) {
		uint32_t s1 = __atomic_load_n(&kr->seq, __ATOMIC_ACQUIRE), s2;

		if (s1 & 1) {
			cpu_relax();
			continue;
		}
		copy_relaxed(snap, kr, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&kr->seq, __ATOMIC_RELAXED);
		if (s1 == s2) {
			/* A short header may not reach seq; report the one we checked. */
			snap->seq = s1;
			return 0;
		}
		cpu_relax();
	}
	errno = EAGAIN;
	return -1;
}

const char *hk_disp_name(const struct hk_kregion *snap, unsigned v)
{
	const char *name;

	if (!snap || v >= sizeof(snap->disp_names) / sizeof(snap->disp_names[0]))
		return "?";
	name = snap->disp_names[v];
	if (!name[0] || !memchr(name, 0, HK_NAME_LEN))
		return "?";
	return name;
}

int hk_syscall_disp(const volatile struct hk_kregion *kr, unsigned nr)
{
	uint32_t off, count;

	if (!kr)
		return -1;
	off = kr->off_disp;
	count = kr->nr_syscalls;
	if (nr >= count || off < offsetof(struct hk_kregion, seq) ||
	    (uint64_t)off + count > HK_KREGION_SIZE)
		return -1;
	return ((const volatile unsigned char *)kr)[off + nr];
}
