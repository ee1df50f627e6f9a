/* The kernel region: hostk's state, mapped read-only at the top of every
 * guest's address space, at the same address in every guest.  hostk writes
 * it; guests read it without syscalls, taking consistent snapshots with the
 * sequence counter (see hk_kregion_read() in libhk).
 *
 * ABI rules: check magic and version; a reader of version 1 may read a
 * larger region (fields are only ever added at the end); every offset is
 * fixed and checked by _Static_assert below. */
#ifndef HOSTK_KREGION_H
#define HOSTK_KREGION_H

#include <stddef.h>
#include <stdint.h>

#define HK_KREGION_MAGIC	0x6e6772726b74736full	/* "ostkrrgn" */
#define HK_KREGION_VERSION	2
/* The header and the trap table's dispositions, then the scratch slots. */
#define HK_KREGION_HEAD		0x4000ul		/* 16 KiB */
#define HK_SCRATCH_SLOTS	1024
#define HK_SCRATCH_SLOT		256			/* bytes */
#define HK_KREGION_SIZE		(HK_KREGION_HEAD + HK_SCRATCH_SLOTS * HK_SCRATCH_SLOT)
/* The top of the 47-bit user address space, less the region. */
#define HK_KREGION_TOP		0x7ffffffff000ul
#define HK_KREGION_ADDR		(HK_KREGION_TOP - HK_KREGION_SIZE)

#define HK_MAX_IRQS		16
#define HK_MAX_SOFTIRQS		8
#define HK_NAME_LEN		16
#define HK_MAX_SYSCALLS		512
#define HK_MAX_EXC		16

/* The processor status word, as hostk keeps it. */
enum hk_mode { HK_MODE_USER = 0, HK_MODE_KERNEL = 1 };

struct hk_psw {
	uint32_t mode;		/* enum hk_mode: is hostk handling a trap or interrupt now */
	uint32_t ipl;		/* interrupt priority level: lines at or below it wait */
	uint64_t mask;		/* bit N: line N masked */
	uint64_t pending;	/* bit N: line N raised, not yet delivered */
	int32_t current;	/* guest pid of the task on the (first) CPU, 0 if idle */
	uint32_t intr_enabled;	/* the global interrupt-enable flag */
};

struct hk_kregion {
	/* Fixed at boot. */
	uint64_t magic;
	uint32_t version;
	uint32_t size;			/* bytes in the region */
	uint32_t hdr_size;		/* sizeof(struct hk_kregion) of the writer */
	uint32_t off_disp;		/* offset of disp[]: one byte per syscall (enum disp) */
	uint32_t nr_syscalls;		/* entries in disp[] */
	uint32_t nr_irqs;		/* lines in use */
	uint32_t nr_softirqs;
	uint32_t hz;			/* timer interrupts per second */
	char kernel_name[HK_NAME_LEN];	/* "hostk" */
	char kernel_version[HK_NAME_LEN];
	uint64_t boot_time_ns;		/* CLOCK_REALTIME at boot */
	char irq_names[HK_MAX_IRQS][HK_NAME_LEN];
	char softirq_names[HK_MAX_SOFTIRQS][HK_NAME_LEN];
	char disp_names[8][HK_NAME_LEN];	/* names of the disp[] values */

	/* Live: written under seq. */
	uint32_t seq;			/* odd while hostk writes */
	uint32_t ntasks;		/* guest threads */
	uint32_t nprocs;		/* guest processes */
	uint32_t pad0;
	uint64_t jiffies;		/* timer ticks since boot */
	uint64_t traps;			/* syscall traps handled */
	uint64_t exceptions;		/* guest CPU exceptions seen */
	uint64_t fence_refusals;	/* attempts on the region refused */
	struct hk_psw psw;
	uint64_t irq_count[HK_MAX_IRQS];	/* interrupts delivered, per line */
	uint64_t softirq_count[HK_MAX_SOFTIRQS];	/* bottom halves run */
	uint64_t context_switches;
	uint64_t preemptions;

	/* Fixed at boot (version 2).  The scratch slots: where hostk puts its
	 * own copy of a syscall argument it checked, for the host to read
	 * instead of the guest's (which a sibling thread could change after
	 * the check).  Guests may read them; nothing of theirs can write. */
	uint32_t off_scratch;
	uint32_t scratch_slots;
	uint32_t scratch_slot_size;
	uint32_t nr_exc;			/* kinds of exception in use */
	char exc_names[HK_MAX_EXC][HK_NAME_LEN];
	/* Live, under seq: exceptions seen, per kind (see exceptions for all). */
	uint64_t exc_count[HK_MAX_EXC];
};

_Static_assert(offsetof(struct hk_kregion, magic) == 0, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, kernel_name) == 40, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, boot_time_ns) == 72, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, seq) == 592, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, jiffies) == 608, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, psw) == 640, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, irq_count) == 672, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, off_scratch) == 880, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, exc_names) == 896, "kregion ABI");
_Static_assert(offsetof(struct hk_kregion, exc_count) == 1152, "kregion ABI");
_Static_assert(sizeof(struct hk_kregion) == 1280, "kregion ABI");
_Static_assert(sizeof(struct hk_kregion) + HK_MAX_SYSCALLS <= HK_KREGION_HEAD, "kregion fits");

#endif
