/* The memory fence: no guest may unmap, remap, re-protect, replace, guard or
 * drop the kernel region.  The filter traps the memory syscalls only when their
 * range could reach the top of the address space; here the exact overlap is
 * checked, and anything that touches the region is refused (EPERM) and
 * reported.  Writes need no check: the mapping is read-only and its memfd is
 * sealed against writable mappings, so the host refuses them itself. */
#include <errno.h>
#include <linux/mman.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include "../kregion.h"
#include "../trap.h"
#include "sys.h"

/* Advice that may touch the region: the kinds that only hint (its pages
 * stay what they are, in every process that maps it).  Everything else
 * (dropping pages, guards, fork behaviour, and advice yet to be invented)
 * is refused. */
static bool harmless(int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_COLD:
	case MADV_PAGEOUT:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
		return true;
	default:
		return false;
	}
}

static bool touches(struct trap *t)
{
	const unsigned long *a = t->arg;

	switch (t->nr) {
	case SYS_mmap:
		return (a[3] & MAP_FIXED) && kregion_overlaps(a[0], a[1]);
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		return kregion_overlaps(a[0], a[1]);
	case SYS_madvise:
		return !harmless((int)a[2]) && kregion_overlaps(a[0], a[1]);
	case SYS_mremap:
		return kregion_overlaps(a[0], a[1]) || kregion_overlaps(a[0], a[2]) ||
		       ((a[3] & MREMAP_FIXED) && kregion_overlaps(a[4], a[2]));
	case SYS_shmat:
		/* Only SHM_REMAP replaces what is there.  The segment's size is
		 * in the guests' IPC namespace, not hostk's: any remap starting
		 * within reach of the region is refused (one from further away
		 * is the host's to refuse: the mapping is sealed). */
		return (a[2] & SHM_REMAP) && a[1] >= HK_KREGION_ADDR - FENCE_REACH && a[1] < HK_KREGION_TOP;
	default:
		return false;
	}
}

enum trap_action sys_mem_fence(struct trap *t)
{
	if (!touches(t))
		return TRAP_RUN;
	fence_report(t->task, "%s of the kernel region refused", systab[t->nr].name);
	t->ret = -EPERM;
	return TRAP_RETURN;
}
