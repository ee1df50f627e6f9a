/* The seccomp filter.  Syscalls whose disposition is fast are allowed in the
 * host kernel and never trap; everything else (including numbers the table
 * does not know, and x32 numbers) traps to hostk with SECCOMP_RET_TRACE, and
 * the i386 ABI (int 0x80) kills the process.  A few check syscalls trap only
 * for some argument values; libseccomp cannot say "not one of these" in one
 * rule, so those are a second, stacked filter: seccomp obeys the stricter of
 * the two, and the kernel's per-syscall allow cache still spares the fast path
 * from running either. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>

#include "filter.h"
#include "systab.h"
#include "trap.h"
#include "util.h"

#ifndef F_SETOWN_EX
#define F_SETOWN_EX 15
#define F_GETOWN_EX 16
#endif

/* Check syscalls that trap only for some values of one argument: one of a
 * list of commands, or a pid other than 0 (the caller, which needs no
 * translation).  Trapping more than needed is safe; allowing is not. */
static const struct argtrap {
	int nr;
	unsigned arg;
	unsigned long vals[8];	/* 0-terminated; none: trap when the argument is not 0 */
} argtraps[] = {
	{ SYS_ioctl, 1, { TIOCSPGRP, TIOCGPGRP, TIOCGSID, FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP } },
	{ SYS_fcntl, 1, { F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX } },
	{ SYS_prctl, 0, { PR_SET_SECCOMP } },
	{ SYS_prlimit64, 0, { 0 } },
	{ SYS_sched_getaffinity, 0, { 0 } },
	{ SYS_sched_setaffinity, 0, { 0 } },
	{ SYS_sched_getparam, 0, { 0 } },
	{ SYS_sched_setparam, 0, { 0 } },
	{ SYS_sched_getscheduler, 0, { 0 } },
	{ SYS_sched_setscheduler, 0, { 0 } },
	{ SYS_sched_getattr, 0, { 0 } },
	{ SYS_sched_setattr, 0, { 0 } },
	{ SYS_sched_rr_get_interval, 0, { 0 } },
	{ SYS_get_robust_list, 0, { 0 } },
};

static scmp_filter_ctx main_ctx, arg_ctx;

/* x32 numbers: libseccomp sends them to the bad-arch action; an x32-only
 * context merged in makes them trap instead (hostk answers ENOSYS, as this
 * host does natively), while int 0x80 still kills. */
static int add_x32(scmp_filter_ctx *ctx, uint32_t dflt)
{
	scmp_filter_ctx x32 = seccomp_init(dflt);
	int rc;

	if (!x32)
		return -ENOMEM;
	if ((rc = seccomp_arch_remove(x32, SCMP_ARCH_NATIVE)) || (rc = seccomp_arch_add(x32, SCMP_ARCH_X32)) ||
	    (rc = seccomp_attr_set(x32, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS))) {
		seccomp_release(x32);
		return rc;
	}
	return seccomp_merge(*ctx, x32);	/* takes x32 over, even on failure */
}

static const struct argtrap *argtrap_of(long nr)
{
	for (size_t i = 0; i < NELEM(argtraps); i++)
		if (argtraps[i].nr == nr && sys_disp(nr) == D_CHECK)
			return &argtraps[i];
	return NULL;
}

int filter_build(void)
{
	int rc;

	main_ctx = seccomp_init(SCMP_ACT_TRACE(HK_SECCOMP_DATA));
	arg_ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!main_ctx || !arg_ctx)
		return -ENOMEM;
	if ((rc = seccomp_attr_set(main_ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) ||
	    (rc = seccomp_attr_set(main_ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) ||
	    (rc = seccomp_attr_set(arg_ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)))
		return rc;
	if ((rc = add_x32(&main_ctx, SCMP_ACT_TRACE(HK_SECCOMP_DATA))) || (rc = add_x32(&arg_ctx, SCMP_ACT_ALLOW)))
		return rc;
	for (long nr = 0; nr < NR_SYSCALLS; nr++) {
		const struct argtrap *at = argtrap_of(nr);

		if (sys_disp(nr) != D_FAST && !at)
			continue;
		if ((rc = seccomp_rule_add(main_ctx, SCMP_ACT_ALLOW, (int)nr, 0)))
			return rc;
		/* Commands are 32-bit in the kernel: compare only the low half,
		 * or high garbage bits would slip a command past the filter. */
		for (int i = 0; at && (i == 0 || at->vals[i]); i++) {
			struct scmp_arg_cmp cmp = at->vals[0] ?
				SCMP_CMP(at->arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, at->vals[i]) :
				SCMP_CMP(at->arg, SCMP_CMP_NE, 0);

			if ((rc = seccomp_rule_add_array(arg_ctx, SCMP_ACT_TRACE(HK_SECCOMP_DATA), (int)nr, 1, &cmp)))
				return rc;
		}
	}
	return 0;
}

int filter_load(void)
{
	/* The argument filter first: it allows seccomp(2) itself, which the
	 * main filter would trap. */
	int rc = seccomp_load(arg_ctx);

	return rc ? rc : seccomp_load(main_ctx);
}

void filter_dump(FILE *fp)
{
	fflush(fp);
	seccomp_export_pfc(main_ctx, fileno(fp));
	seccomp_export_pfc(arg_ctx, fileno(fp));
}
