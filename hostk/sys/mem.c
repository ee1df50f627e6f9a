/* The memory fence: no guest may unmap, remap, re-protect, replace or drop
 * the kernel region.  The filter traps the memory syscalls only when their
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

/* Advice that would drop the region's pages or keep it from a child. */
static bool drops(int advice)
{
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_REMOVE:
	case MADV_DONTFORK:
	case MADV_WIPEONFORK:
#ifdef MADV_DONTNEED_LOCKED
	case MADV_DONTNEED_LOCKED:
#endif
		return true;
	default:
		return false;
	}
}

static bool touches(struct trap *t)
{
	const unsigned long *a = t->arg;
	struct shmid_ds ds;

	switch (t->nr) {
	case SYS_mmap:
		return (a[3] & MAP_FIXED) && kregion_overlaps(a[0], a[1]);
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		return kregion_overlaps(a[0], a[1]);
	case SYS_madvise:
		return drops((int)a[2]) && kregion_overlaps(a[0], a[1]);
	case SYS_mremap:
		return kregion_overlaps(a[0], a[1]) || kregion_overlaps(a[0], a[2]) ||
		       ((a[3] & MREMAP_FIXED) && kregion_overlaps(a[4], a[2]));
	case SYS_shmat:		/* SHM_REMAP replaces what is there */
		return a[1] && shmctl((int)a[0], IPC_STAT, &ds) == 0 && kregion_overlaps(a[1], ds.shm_segsz);
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
