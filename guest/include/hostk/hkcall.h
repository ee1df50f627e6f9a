/* Device requests: a guest asks hostk's virtual devices for something with
 * the hostk call, a syscall number no Linux kernel uses.  Natively it fails
 * with ENOSYS, so a program can tell whether it runs under hostk. */
#ifndef HOSTK_HKCALL_H
#define HOSTK_HKCALL_H

#include <stdint.h>

#define HK_CALL_NR		0x4b48	/* "HK" */

enum hk_call_op {
	HK_NULL = 0,		/* (): returns 0 from hostk, the host runs nothing (the trap's own cost) */
	HK_DEV_RAISE = 1,	/* (line, count): the test device raises line count times */
	HK_DEV_STORM = 2,	/* (line, on): raise line as fast as the device can, until off */
	HK_DEV_COUNTS = 3,	/* (line, struct hk_dev_counts *): the line's counters */
	HK_DEV_WAIT = 4,	/* (line, count): sleep until count events were handled in all */
};

/* Which of the test device's two lines: low or high priority.  (The kernel
 * region names each line: "test-lo" and "test-hi".) */
enum { HK_TEST_LO = 0, HK_TEST_HI = 1 };

struct hk_dev_counts {
	uint64_t device_raised;	/* events the device's hardware side signalled */
	uint64_t handled;	/* events the driver took (summed eventfd counters) */
	uint64_t raised, delivered, coalesced, late, spurious, nested;	/* the controller's */
	uint64_t throttled;	/* bottom halves that left the line masked until the next tick */
};

#endif
