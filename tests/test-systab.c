/* Unit test of the trap table (hostk/systab.c): every syscall the host headers
 * know has a well-formed row at its number.  sysnames.h is generated from the
 * host's <asm/unistd_64.h> by gen-sysnames.sh: one X(name) per syscall. */
#include <check.h>

#include "ck-main.h"
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "hostk/systab.h"

struct sysname {
	long nr;
	const char *name;
};

static const struct sysname sysnames[] = {
#define X(n) { __NR_##n, #n },
#include "sysnames.h"
#undef X
};
#define NR_SYSNAMES (sizeof sysnames / sizeof sysnames[0])

START_TEST(test_names)
{
	ck_assert_uint_gt(NR_SYSNAMES, 300);
	for (size_t i = 0; i < NR_SYSNAMES; i++) {
		const struct sysname *s = &sysnames[i];
		ck_assert_msg(s->nr >= 0 && s->nr < NR_SYSCALLS,
			      "__NR_%s = %ld is outside the table", s->name, s->nr);
		const struct sysent *e = sysent_of(s->nr);
		ck_assert_msg(e != NULL, "no row for %s (%ld)", s->name, s->nr);
		ck_assert_msg(strcmp(e->name, s->name) == 0,
			      "row %ld is named %s, not %s", s->nr, e->name, s->name);
	}
}
END_TEST

START_TEST(test_shape)
{
	for (long nr = 0; nr < NR_SYSCALLS; nr++) {
		const struct sysent *e = &systab[nr];
		if (!e->name)
			continue;
		ck_assert_msg(e->disp < NR_DISP, "%s: bad disp %u", e->name, e->disp);
		ck_assert_msg(e->nargs <= 6, "%s: nargs %u", e->name, e->nargs);
		for (unsigned i = 0; i < 6; i++) {
			ck_assert_msg(e->args[i] < NR_ARGK, "%s: arg %u kind %u",
				      e->name, i, e->args[i]);
			if (i < e->nargs)
				ck_assert_msg(e->args[i] != A_NONE,
					      "%s: arg %u of %u has no kind", e->name, i, e->nargs);
			else
				ck_assert_msg(e->args[i] == A_NONE,
					      "%s: kind for arg %u past nargs %u", e->name, i, e->nargs);
		}
	}
}
END_TEST

START_TEST(test_handlers)
{
	for (long nr = 0; nr < NR_SYSCALLS; nr++) {
		const struct sysent *e = &systab[nr];
		if (!e->name)
			continue;
		if (e->disp == D_EMULATE || e->disp == D_CHECK)
			ck_assert_msg(e->enter != NULL, "%s (%s) has no enter handler",
				      e->name, disp_names[e->disp]);
		if (e->exit)
			ck_assert_msg(e->enter != NULL, "%s has exit but no enter", e->name);
		if (e->disp != D_FAST)
			ck_assert_msg(e->note && e->note[0], "%s (%s) has no note",
				      e->name, disp_names[e->disp]);
	}
	for (int d = 0; d < NR_DISP; d++)
		ck_assert_ptr_nonnull(disp_names[d]);
}
END_TEST

START_TEST(test_spot)
{
	ck_assert_uint_eq(systab[__NR_getppid].disp, D_FAST);	/* the pid namespace's answer */
	ck_assert_uint_eq(systab[__NR_nanosleep].disp, D_CHECK);	/* sleeps in hostk's timer queue */
	ck_assert_uint_eq(systab[__NR_getuid].disp, D_FAST);
	ck_assert_uint_eq(systab[__NR_read].disp, D_CHECK);	/* may block: off CPU */
	ck_assert(systab[__NR_read].flags & SY_BLOCK);
	ck_assert_uint_eq(systab[__NR_reboot].disp, D_DENY);
	ck_assert_uint_eq(systab[__NR_openat].nargs, 4);
	ck_assert_uint_eq(systab[__NR_mmap].nargs, 6);
	ck_assert_str_eq(systab[__NR_newfstatat].name, "newfstatat");
	ck_assert_str_eq(systab[__NR__sysctl].name, "_sysctl");
}
END_TEST

/* No side doors: nothing on the fast path may open what the namespaces do
 * not cover, reach past them, load code into the host kernel or change the
 * host.  These must trap (to be refused or checked) whatever else changes.
 * (The clock's setters are fast: the host refuses them without CAP_SYS_TIME
 * in its own user namespace, which no guest has, with the errno a program
 * expects: EPERM, or EINVAL for a clock that cannot be set.) */
START_TEST(test_side_doors)
{
	static const int must_trap[] = {
		__NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,	/* syscalls no filter sees */
		__NR_mount, __NR_umount2, __NR_pivot_root, __NR_move_mount, __NR_open_tree, __NR_fsopen,
		__NR_fsconfig, __NR_fsmount, __NR_fspick, __NR_mount_setattr,		/* mounts are hostk's */
		__NR_setns, __NR_unshare, __NR_clone, __NR_clone3,			/* new namespaces, untraced */
		__NR_init_module, __NR_finit_module, __NR_delete_module, __NR_kexec_load,
		__NR_kexec_file_load, __NR_bpf,						/* code into the host kernel */
		__NR_perf_event_open, __NR_process_madvise, __NR_seccomp, __NR_prctl,	/* checked */
		__NR_open_by_handle_at, __NR_add_key, __NR_request_key, __NR_keyctl, __NR_syslog,
		__NR_reboot, __NR_swapon, __NR_swapoff, __NR_acct, __NR_iopl, __NR_ioperm, __NR_quotactl, __NR_vhangup,
		__NR_lookup_dcookie, __NR_remap_file_pages,
		__NR_mmap, __NR_mprotect, __NR_munmap, __NR_mremap, __NR_madvise, __NR_pkey_mprotect,
		__NR_shmat, __NR_ioctl,							/* the fence, TIOCSTI */
	};

	for (size_t i = 0; i < sizeof must_trap / sizeof must_trap[0]; i++) {
		const struct sysent *e = sysent_of(must_trap[i]);

		ck_assert_ptr_nonnull(e);
		ck_assert_msg(e->disp != D_FAST, "%s is on the fast path", e->name);
	}
}
END_TEST

START_TEST(test_bounds)
{
	ck_assert_ptr_null(sysent_of(-1));
	ck_assert_ptr_null(sysent_of(NR_SYSCALLS));
	ck_assert_ptr_null(sysent_of(100000));
	ck_assert_ptr_nonnull(sysent_of(0));
}
END_TEST

static Suite *systab_suite(void)
{
	Suite *s = suite_create("systab");
	ADD_CASE(s, names);
	ADD_CASE(s, shape);
	ADD_CASE(s, handlers);
	ADD_CASE(s, spot);
	ADD_CASE(s, side_doors);
	ADD_CASE(s, bounds);
	return s;
}

CK_MAIN(systab_suite)
