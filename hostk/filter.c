/* The seccomp filter.  Syscalls whose disposition is fast are allowed in the
 * host kernel and never trap; everything else (including numbers the table
 * does not know, and x32 numbers) traps to hostk with SECCOMP_RET_TRACE, and
 * the i386 ABI (int 0x80) fails with ENOSYS in the host kernel, never run.  A few check syscalls trap only
 * for some argument values; libseccomp cannot say "not one of these" in one
 * rule, so those are a second, stacked filter: seccomp obeys the stricter of
 * the two, and the kernel's per-syscall allow cache still spares the fast path
 * from running either. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <termios.h>

#include "filter.h"
#include "../guest/include/hostk/devices.h"
#include "../guest/include/hostk/hkcall.h"
#include "kregion.h"
#include "systab.h"
#include "trap.h"
#include "util.h"

/* Check syscalls that trap only for some argument values.  Each rule traps
 * when all of its (at most two) comparisons hold; a syscall traps when any of
 * its rules does.  Trapping more than needed is safe; allowing is not. */
struct argrule {
	int nr;
	unsigned ncmp;
	struct scmp_arg_cmp cmp[2];
};

#define CMD(n, a, v)	{ n, 1, { { a, SCMP_CMP_MASKED_EQ, 0xffffffffu, v } } }	/* 32-bit commands */
#define GE(n, a, v)	{ n, 1, { { a, SCMP_CMP_GE, v, 0 } } }
#define GT(n, a, v)	{ n, 1, { { a, SCMP_CMP_GT, v, 0 } } }
#define FIXED_AND(n, a, op, v) \
	{ n, 2, { { 3, SCMP_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED }, { a, op, v, 0 } } }

/* The memory fence: a range can reach the kernel region only if it starts in
 * the top FENCE_REACH bytes below it, or is longer than that. */
#define FENCE_LOW (HK_KREGION_ADDR - FENCE_REACH)
#define RANGE(n)	GE(n, 0, FENCE_LOW), GT(n, 1, FENCE_REACH)

static const struct argrule argrules[] = {
	/* Keystrokes into the terminal the guest shares with the host's shell,
	 * and a line discipline that would leave that shell a dead terminal. */
	CMD(SYS_ioctl, 1, TIOCSTI), CMD(SYS_ioctl, 1, TIOCLINUX), CMD(SYS_ioctl, 1, TIOCSETD),
	/* hostk's devices' ioctls (their own type), and a block device's size. */
	{ SYS_ioctl, 1, { { 1, SCMP_CMP_MASKED_EQ, 0xff00, HK_IOC_TYPE << 8 } } }, CMD(SYS_ioctl, 1, BLKGETSIZE64),
	CMD(SYS_prctl, 0, PR_SET_SECCOMP),
	/* fcntl: only the lock waits may block. */
	CMD(SYS_fcntl, 1, F_SETLKW), CMD(SYS_fcntl, 1, F_OFD_SETLKW),
	/* Only ITIMER_REAL is hostk's: a trap per getitimer would also starve
	 * ITIMER_VIRTUAL, which counts user time only, of the time it counts. */
	CMD(SYS_getitimer, 0, ITIMER_REAL), CMD(SYS_setitimer, 0, ITIMER_REAL),
	FIXED_AND(SYS_mmap, 0, SCMP_CMP_GE, FENCE_LOW), FIXED_AND(SYS_mmap, 1, SCMP_CMP_GT, FENCE_REACH),
	RANGE(SYS_munmap), RANGE(SYS_mprotect), RANGE(SYS_pkey_mprotect), RANGE(SYS_madvise),
	RANGE(SYS_mremap), GT(SYS_mremap, 2, FENCE_REACH), GE(SYS_mremap, 4, FENCE_LOW),
	{ SYS_shmat, 1, { { 1, SCMP_CMP_NE, 0, 0 } } },	/* an address: it may be the region's */
	/* futex: only the waits may block (the command is op's low 7 bits). */
	{ SYS_futex, 1, { { 1, SCMP_CMP_MASKED_EQ, 0x7f, FUTEX_WAIT } } },
	{ SYS_futex, 1, { { 1, SCMP_CMP_MASKED_EQ, 0x7f, FUTEX_WAIT_BITSET } } },
	{ SYS_futex, 1, { { 1, SCMP_CMP_MASKED_EQ, 0x7f, FUTEX_LOCK_PI } } },
	{ SYS_futex, 1, { { 1, SCMP_CMP_MASKED_EQ, 0x7f, FUTEX_WAIT_REQUEUE_PI } } },
	{ SYS_futex, 1, { { 1, SCMP_CMP_MASKED_EQ, 0x7f, 13 /* FUTEX_LOCK_PI2 */ } } },
};

/* int 0x80: the host runs no i386 syscall.  ENOSYS, as for a syscall hostk
 * lacks, rather than a kill: programs that probe the i386 ABI (trinity, some
 * runtimes) carry on as under a kernel without one, instead of dying of a
 * SIGSYS no kernel sends. */
#define BADARCH_ACT	SCMP_ACT_ERRNO(ENOSYS)

static scmp_filter_ctx main_ctx, arg_ctx;
uint64_t filter_cookie;

/* x32 numbers: libseccomp sends them to the bad-arch action; an x32-only
 * context merged in makes them trap instead (hostk answers ENOSYS, as this
 * host does natively), while int 0x80 still fails in the host. */
static int add_x32(scmp_filter_ctx *ctx, uint32_t dflt)
{
	scmp_filter_ctx x32 = seccomp_init(dflt);
	int rc;

	if (!x32)
		return -ENOMEM;
	if ((rc = seccomp_arch_remove(x32, SCMP_ARCH_NATIVE)) || (rc = seccomp_arch_add(x32, SCMP_ARCH_X32)) ||
	    (rc = seccomp_attr_set(x32, SCMP_FLTATR_ACT_BADARCH, BADARCH_ACT))) {
		seccomp_release(x32);
		return rc;
	}
	return seccomp_merge(*ctx, x32);	/* takes x32 over, even on failure */
}

/* Rules apply only while the syscall is a check one (a policy may have
 * made it deny or kill: then it traps always). */
static bool has_argrules(long nr)
{
	for (size_t i = 0; i < NELEM(argrules); i++)
		if (argrules[i].nr == nr)
			return sys_disp(nr) == D_CHECK;
	return false;
}

int filter_build(void)
{
	int rc;

	/* A second build (the unit tests', after a policy) replaces the first. */
	if (main_ctx)
		seccomp_release(main_ctx);
	if (arg_ctx)
		seccomp_release(arg_ctx);
	main_ctx = seccomp_init(SCMP_ACT_TRACE(HK_SECCOMP_DATA));
	arg_ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!main_ctx || !arg_ctx)
		return -ENOMEM;
	if ((rc = seccomp_attr_set(main_ctx, SCMP_FLTATR_ACT_BADARCH, BADARCH_ACT)) ||
	    (rc = seccomp_attr_set(main_ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) ||
	    (rc = seccomp_attr_set(arg_ctx, SCMP_FLTATR_ACT_BADARCH, BADARCH_ACT)))
		return rc;
	/* The gate's marker, a number only the native ABI has: before x32 joins. */
	if (getrandom(&filter_cookie, sizeof filter_cookie, 0) != (ssize_t)sizeof filter_cookie)
		return -errno;
	if ((rc = seccomp_rule_add(main_ctx, SCMP_ACT_NOTIFY, HK_CALL_NR, 2, SCMP_A0(SCMP_CMP_EQ, HK_OP_GATE),
				   SCMP_A1(SCMP_CMP_EQ, filter_cookie))))
		return rc;
	if ((rc = add_x32(&main_ctx, SCMP_ACT_TRACE(HK_SECCOMP_DATA))) || (rc = add_x32(&arg_ctx, SCMP_ACT_ALLOW)))
		return rc;
	for (long nr = 0; nr < NR_SYSCALLS; nr++)
		if ((sys_disp(nr) == D_FAST || has_argrules(nr)) &&
		    (rc = seccomp_rule_add(main_ctx, SCMP_ACT_ALLOW, (int)nr, 0)))
			return rc;
	for (size_t i = 0; i < NELEM(argrules); i++) {
		const struct argrule *r = &argrules[i];

		if (has_argrules(r->nr) &&
		    (rc = seccomp_rule_add_array(arg_ctx, SCMP_ACT_TRACE(HK_SECCOMP_DATA), r->nr, r->ncmp, r->cmp)))
			return rc;
	}
	return 0;
}

int filter_load(void)
{
	/* The argument filter first: it allows seccomp(2) itself, which the
	 * main filter would trap. */
	int rc = seccomp_load(arg_ctx);

	if (rc || (rc = seccomp_load(main_ctx)))
		return rc;
	return seccomp_notify_fd(main_ctx);
}

void filter_dump(FILE *fp)
{
	fflush(fp);
	seccomp_export_pfc(main_ctx, fileno(fp));
	seccomp_export_pfc(arg_ctx, fileno(fp));
}
