/* Unit test of policies (hostk/policy.c): the built-in ones load, a file's
 * rules change dispositions, paths and limits as documented, and every
 * mistake is reported as FILE:LINE:COL: message.  Each test starts from the
 * trap table as it is (policy_reset), so the suite passes with CK_FORK=no. */
#include <check.h>

#include "ck-main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostk/policy.h"

static char err[512];

/* Load text as a policy file; returns policy_load()'s result. */
static int load(const char *text)
{
	char path[] = "/tmp/hostk-policy-XXXXXX";
	int fd = mkstemp(path), rc;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	err[0] = 0;
	rc = policy_load(path, err, sizeof err);
	/* The message names the file: make it stable for the comparisons. */
	if (rc < 0 && !strncmp(err, path, strlen(path))) {
		char rest[sizeof err - 8];

		snprintf(rest, sizeof rest, "%s", err + strlen(path));
		snprintf(err, sizeof err, "F%s", rest);
	}
	unlink(path);
	return rc;
}

static void setup(void)
{
	policy_reset();
}

START_TEST(test_builtins)
{
	for (int i = 0; policy_names[i]; i++) {
		policy_reset();
		ck_assert_msg(policy_load(policy_names[i], err, sizeof err) == 0, "%s: %s", policy_names[i], err);
		ck_assert_ptr_nonnull(policy_builtin(policy_names[i]));
	}
	ck_assert_ptr_null(policy_builtin("no-such"));
}
END_TEST

START_TEST(test_default)
{
	ck_assert_int_eq(policy_load("default", err, sizeof err), 0);
	ck_assert_uint_eq(limits.tasks, 4096);
	ck_assert_int_eq(sys_disp(SYS_getuid), D_FAST);
	ck_assert_int_eq(sys_disp(SYS_io_uring_setup), D_DENY);
	ck_assert_int_eq(npath_rules, 0);
}
END_TEST

START_TEST(test_syscalls)
{
	ck_assert_int_eq(load("# a comment\n\nsyscall getuid getgid deny EACCES\n"
			      "syscall io_uring_setup allow   # inline comment\n"
			      "syscall uname trap\nsyscall kill kill\nsyscall nanosleep emulate\n"), 0);
	ck_assert_int_eq(sys_disp(SYS_getuid), D_DENY);
	ck_assert_int_eq(policy_errno(SYS_getgid), EACCES);
	ck_assert_int_eq(sys_disp(SYS_io_uring_setup), D_FAST);
	ck_assert_int_eq(sys_disp(SYS_uname), D_TRAP);
	ck_assert_int_eq(sys_disp(SYS_kill), D_KILL);
	ck_assert_int_eq(sys_disp(SYS_nanosleep), D_CHECK);
	ck_assert_int_eq(load("syscall reboot deny\n"), 0);
	ck_assert_int_eq(policy_errno(SYS_reboot), EPERM);
}
END_TEST

/* "trap everything" must not let through what the table denies. */
START_TEST(test_wildcard)
{
	ck_assert_int_eq(policy_load("trace-all", err, sizeof err), 0);
	ck_assert_int_eq(sys_disp(SYS_getuid), D_TRAP);
	ck_assert_int_eq(sys_disp(SYS_read), D_CHECK);
	ck_assert_int_eq(sys_disp(SYS_mount), D_DENY);
	ck_assert_int_eq(sys_disp(SYS_io_uring_setup), D_DENY);
	policy_reset();
	ck_assert_int_eq(load("syscall * allow\n"), 0);
	ck_assert_int_eq(sys_disp(SYS_mount), D_DENY);
	ck_assert_int_eq(sys_disp(SYS_clone), D_CHECK);	/* a handled one keeps its handler */
	policy_reset();
	ck_assert_int_eq(load("syscall * deny ENOSYS\nsyscall exit exit_group allow\n"), 0);
	ck_assert_int_eq(sys_disp(SYS_mount), D_DENY);
	ck_assert_int_eq(policy_errno(SYS_getuid), ENOSYS);
	ck_assert_int_eq(sys_disp(SYS_exit), D_FAST);
}
END_TEST

START_TEST(test_paths_limits)
{
	ck_assert_int_eq(load("path hide /root /home\npath readonly /etc\npath allow /usr\n"
			      "limit tasks 10\nlimit cpu 3\nlimit as 2G\nlimit nofile 64\nlimit fsize 1M\n"), 0);
	ck_assert_int_eq(npath_rules, 4);
	ck_assert_int_eq(path_rules[0].kind, PATH_HIDE);
	ck_assert_str_eq(path_rules[1].path, "/home");
	ck_assert_int_eq(path_rules[2].kind, PATH_READONLY);
	ck_assert_int_eq(path_rules[3].kind, PATH_ALLOW);
	ck_assert_uint_eq(limits.tasks, 10);
	ck_assert_uint_eq(limits.cpu_s, 3);
	ck_assert_uint_eq(limits.as, 2ul << 30);
	ck_assert_uint_eq(limits.nofile, 64);
	ck_assert_uint_eq(limits.fsize, 1ul << 20);
	ck_assert_int_eq(load("include default\nlimit tasks unlimited\n"), 0);
	ck_assert_uint_eq(limits.tasks, 0);
}
END_TEST

/* Every mistake: where it is, and what is wrong. */
START_TEST(test_errors)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "syscall foo allow\n", "F:1:9: unknown syscall 'foo'" },
		{ "\n  syscall getuid frob\n", "F:2:18: unknown disposition 'frob' (allow, trap, emulate, deny, kill)" },
		{ "syscall getuid deny EWHAT\n", "F:1:21: unknown errno 'EWHAT'" },
		{ "syscall getuid\n", "F:1:9: syscall wants names and a disposition" },
		{ "syscall clone allow\n", "F:1:9: clone needs hostk's handler (no new namespaces; CLONE_UNTRACED dropped): "
					    "it may be denied, killed or traced, not allowed" },
		{ "syscall getuid emulate\n", "F:1:9: getuid has no emulation in hostk" },
		{ "path hide\n", "F:1:1: path wants allow, readonly or hide and prefixes" },
		{ "path erase /x\n", "F:1:6: unknown path rule 'erase' (allow, readonly, hide)" },
		{ "path hide relative\n", "F:1:11: a path rule wants an absolute path without . or .., not 'relative'" },
		{ "path hide /a/../b\n", "F:1:11: a path rule wants an absolute path without . or .., not '/a/../b'" },
		{ "limit tasks\n", "F:1:7: limit wants a name and a value" },
		{ "limit pids 3\n", "F:1:7: unknown limit 'pids' (tasks, cpu, as, nofile, fsize)" },
		{ "limit tasks -1\n", "F:1:13: a limit wants a positive number or unlimited, not '-1'" },
		{ "limit as 3X\n", "F:1:10: a limit wants a positive number (K, M, G) or unlimited, not '3X'" },
		{ "limit cpu 0\n", "F:1:11: a limit wants a positive number or unlimited, not '0'" },
		{ "include nothing\n", "F:1:9: no built-in policy 'nothing' (default, strict, trace-all, permissive)" },
		{ "include\n", "F:1:1: include wants one built-in policy" },
		{ "ok?\n", "F:1:1: unknown rule 'ok?' (syscall, path, limit, include)" },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		policy_reset();
		ck_assert_msg(load(bad[i].text) < 0, "accepted: %s", bad[i].text);
		ck_assert_str_eq(err, bad[i].msg);
	}
	policy_reset();
	ck_assert_int_eq(policy_load("/no/such/policy", err, sizeof err), -1);
	ck_assert_str_eq(err, "/no/such/policy: No such file or directory (and no built-in policy has that name)");
}
END_TEST

START_TEST(test_command_line)
{
	ck_assert_int_eq(policy_set("getuid=EACCES", D_DENY), 0);
	ck_assert_int_eq(sys_disp(SYS_getuid), D_DENY);
	ck_assert_int_eq(policy_errno(SYS_getuid), EACCES);
	ck_assert_int_eq(policy_set("nosuch", D_DENY), -1);
	ck_assert_int_eq(policy_set("getuid=NOPE", D_DENY), -1);
	ck_assert_int_eq(policy_set("getuid=EACCES", D_KILL), -1);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");

#define ADD(name) ADD_CASE_X(s, name, tcase_add_checked_fixture(tc_, setup, NULL))
	ADD(builtins);
	ADD(default);
	ADD(syscalls);
	ADD(wildcard);
	ADD(paths_limits);
	ADD(errors);
	ADD(command_line);
	return s;
}

CK_MAIN(policy_suite)
