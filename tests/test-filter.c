/* Unit test of the seccomp filter (hostk/filter.c) and the policy overrides it
 * obeys (hostk/policy.c): the generated pseudo code, then the filter loaded
 * for real in an untraced child, where every trap fails with ENOSYS. */
#include <check.h>

#include "ck-main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "hostk/filter.h"
#include "hostk/policy.h"
#include "hostk/systab.h"
#include "hostk/trap.h"

#define X32_SYSCALL_BIT 0x40000000L

/* filter_dump() as one string, split into its two filters. */
struct dump {
	char *text;
	const char *main_f, *arg_f;	/* each up to the other's start */
};

static void dump_filters(struct dump *d)
{
	static const char start[] = "# pseudo filter code start";
	FILE *fp = tmpfile();
	struct stat st;
	char *second;

	ck_assert_ptr_nonnull(fp);
	filter_dump(fp);
	ck_assert_int_eq(fstat(fileno(fp), &st), 0);
	ck_assert_int_gt(st.st_size, 0);
	d->text = calloc(1, (size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(d->text);
	ck_assert_int_eq(pread(fileno(fp), d->text, (size_t)st.st_size, 0), st.st_size);
	fclose(fp);

	d->main_f = strstr(d->text, start);
	ck_assert_msg(d->main_f != NULL, "no filter in the dump:\n%s", d->text);
	second = strstr(d->main_f + 1, start);
	ck_assert_msg(second != NULL, "only one filter in the dump");
	ck_assert_ptr_null(strstr(second + 1, start));
	second[-1] = 0;		/* end the first filter's text there */
	d->arg_f = second;
}

/* The pseudo code a filter has for one syscall, from its "# filter for
 * syscall" comment to the next comment at the same or an outer level;
 * NULL when the filter has no rule for it (the default action applies). */
static char *rule_of(const char *f, long nr)
{
	char head[96];
	const char *s, *e, *line;
	size_t indent;

	snprintf(head, sizeof head, "# filter for syscall \"%s\" (%ld)", systab[nr].name, nr);
	s = strstr(f, head);
	if (!s)
		return NULL;
	for (line = s; line > f && line[-1] == ' '; line--)
		;
	indent = (size_t)(s - line);
	/* The rule ends at the first later line indented no deeper than the
	 * comment that is not part of its body. */
	e = strchr(s, '\n');
	while (e && e[1]) {
		const char *l = e + 1;
		size_t in = strspn(l, " ");

		if (in < indent || (in == indent && l[in] == '#'))
			break;
		e = strchr(l, '\n');
	}
	size_t n = e ? (size_t)(e - s) : strlen(s);
	char *r = malloc(n + 1);

	ck_assert_ptr_nonnull(r);
	memcpy(r, s, n);
	r[n] = 0;
	return r;
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	for (; (s = strstr(s, what)); s += strlen(what))
		n++;
	return n;
}

static void build(void)
{
	int rc = filter_build();

	ck_assert_msg(rc == 0, "filter_build() = %d", rc);
}

START_TEST(test_build)
{
	ck_assert_int_eq(filter_build(), 0);
}
END_TEST

START_TEST(test_dump_main)
{
	struct dump d;
	char trace[64], *r;

	build();
	dump_filters(&d);
	snprintf(trace, sizeof trace, "action TRACE(%d);", HK_SECCOMP_DATA);

	/* Fast: allowed. */
	r = rule_of(d.main_f, SYS_lseek);
	ck_assert_msg(r != NULL, "no rule for lseek in:\n%s", d.main_f);
	ck_assert_msg(strstr(r, "action ALLOW;") != NULL, "lseek: %s", r);
	free(r);
	/* May block: traps, so the task can give up its CPU. */
	ck_assert_ptr_null(rule_of(d.main_f, SYS_read));
	r = rule_of(d.main_f, SYS_getuid);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r, "action ALLOW;"));
	free(r);

	/* The pid namespace gives guest pids: no trap. */
	r = rule_of(d.main_f, SYS_getppid);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r, "action ALLOW;"));
	free(r);
	/* Emulated and checked: no rule, so the default (trace) applies. */
	ck_assert_ptr_null(rule_of(d.main_f, SYS_nanosleep));
	ck_assert_ptr_null(rule_of(d.main_f, SYS_openat));
	ck_assert_ptr_null(rule_of(d.main_f, SYS_reboot));	/* deny */
	ck_assert_ptr_null(rule_of(d.main_f, SYS_io_uring_setup));	/* deny */

	/* Default action: trace, with hostk's marker; any other ABI: ENOSYS
	 * in the host, the only errno the filter itself answers. */
	ck_assert_msg(strstr(d.main_f, "# default action\n") != NULL, "%s", d.main_f);
	ck_assert_ptr_nonnull(strstr(strstr(d.main_f, "# default action\n"), trace));
	ck_assert_ptr_nonnull(strstr(d.main_f, "# invalid architecture action\naction ERRNO(38);"));
	ck_assert_int_eq(count(d.main_f, "action ERRNO"), 1);
	free(d.text);
}
END_TEST

START_TEST(test_dump_args)
{
	struct dump d;
	char trace[64], *r;

	build();
	dump_filters(&d);
	snprintf(trace, sizeof trace, "action TRACE(%d);", HK_SECCOMP_DATA);

	/* ioctl passes the first filter, the second traps only the listed commands. */
	r = rule_of(d.main_f, SYS_ioctl);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r, "action ALLOW;"));
	ck_assert_ptr_null(strstr(r, "$a1"));
	free(r);

	r = rule_of(d.arg_f, SYS_ioctl);
	ck_assert_msg(r != NULL, "no ioctl rule in:\n%s", d.arg_f);
	static const unsigned long trapped[] = { TIOCSTI, TIOCLINUX, TIOCSETD };
	static const unsigned long passed[] = { TIOCGWINSZ, TCGETS, FIONREAD, TIOCSCTTY, TIOCSPGRP, TIOCGPGRP };

	for (size_t i = 0; i < sizeof trapped / sizeof trapped[0]; i++) {
		char cmp[64];

		snprintf(cmp, sizeof cmp, "== %lu)\n", trapped[i]);
		ck_assert_msg(strstr(r, cmp) != NULL, "ioctl %#lx not trapped:\n%s", trapped[i], r);
	}
	for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++) {
		char cmp[64];

		snprintf(cmp, sizeof cmp, "== %lu)\n", passed[i]);
		ck_assert_msg(strstr(r, cmp) == NULL, "ioctl %#lx trapped:\n%s", passed[i], r);
	}
	/* Only the low 32 bits of the command are compared. */
	ck_assert_ptr_nonnull(strstr(r, "$a1.lo32 & 0xffffffff =="));
	ck_assert_ptr_null(strstr(r, "action ALLOW"));
	ck_assert_uint_ge(count(r, trace), 3);
	free(r);

	/* The second filter has no business with ordinary syscalls. */
	ck_assert_ptr_null(rule_of(d.arg_f, SYS_read));
	ck_assert_ptr_null(rule_of(d.arg_f, SYS_getppid));
	ck_assert_ptr_nonnull(strstr(d.arg_f, "# default action\n  action ALLOW;"));
	ck_assert_ptr_nonnull(strstr(d.arg_f, "# invalid architecture action\naction ERRNO(38);"));
	free(d.text);
}
END_TEST

/* Every row: fast rows are allowed by the first filter, argument-trapped
 * rows (check rows only) are allowed there and decided by the second, and
 * every other row traps by default. */
START_TEST(test_dump_table)
{
	struct dump d;
	unsigned nfast = 0, nargs = 0;

	build();
	dump_filters(&d);
	for (long nr = 0; nr < NR_SYSCALLS; nr++) {
		if (!systab[nr].name)
			continue;
		char *m = rule_of(d.main_f, nr), *a = rule_of(d.arg_f, nr);
		enum disp disp = sys_disp(nr);

		if (a) {
			nargs++;
			ck_assert_msg(disp == D_CHECK, "%s (%s) has argument rules", systab[nr].name,
				      disp_names[disp]);
			ck_assert_msg(m && strstr(m, "action ALLOW;"), "%s: argument-trapped but not passed by the first filter",
				      systab[nr].name);
		} else if (disp == D_FAST) {
			nfast++;
			ck_assert_msg(m && strstr(m, "action ALLOW;"), "fast %s not allowed", systab[nr].name);
		} else {
			ck_assert_msg(m == NULL, "%s (%s) has a rule in the first filter:\n%s", systab[nr].name,
				      disp_names[disp], m);
		}
		free(m);
		free(a);
	}
	ck_assert_uint_gt(nfast, 100);
	ck_assert_uint_ge(nargs, 3);
	free(d.text);
}
END_TEST

/* What a child saw: the syscall's result and errno, or how it died. */
struct probe {
	long ret;
	int err;
	int status;	/* from waitpid */
};

/* Runs syscall(nr, a...) in a new, untraced child, with the filter loaded
 * first when filtered is true. */
static struct probe probe6(bool filtered, long nr, long a0, long a1, long a2)
{
	struct probe pr = { .ret = 0, .err = 0, .status = -1 };
	/* The child reports through shared memory: with the filter loaded and
	 * no tracer, even write() to a pipe may fail (it traps). */
	long *res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	ck_assert_ptr_ne(res, MAP_FAILED);
	res[2] = 0;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (filtered) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
				_exit(101);
			if (filter_load() < 0)
				_exit(102);
		}
		errno = 0;
		res[0] = syscall(nr, a0, a1, a2, 0L, 0L, 0L);
		res[1] = errno;
		res[2] = 1;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &pr.status, 0), pid);
	if (res[2]) {
		pr.ret = res[0];
		pr.err = (int)res[1];
	} else {
		pr.err = -1;	/* nothing came back */
	}
	munmap(res, 4096);
	return pr;
}

static struct probe probe(bool filtered, long nr)
{
	return probe6(filtered, nr, 0, 0, 0);
}

/* The child ran to the end: the filter loaded and the syscall returned. */
static void ran(struct probe pr, const char *what)
{
	ck_assert_msg(WIFEXITED(pr.status) && WEXITSTATUS(pr.status) == 0,
		      "%s: child status %#x (101 prctl, 102 filter_load; signal %d)", what,
		      (unsigned)pr.status, WIFSIGNALED(pr.status) ? WTERMSIG(pr.status) : 0);
}

static void traps(struct probe pr, const char *what)
{
	ran(pr, what);
	ck_assert_msg(pr.ret == -1 && pr.err == ENOSYS, "%s: %ld, errno %d; want -1 ENOSYS (a trap with no tracer)",
		      what, pr.ret, pr.err);
}

START_TEST(test_load_fast)
{
	struct probe pr;

	build();
	pr = probe(true, SYS_getuid);
	ran(pr, "getuid");
	ck_assert_int_eq(pr.ret, (long)getuid());
	pr = probe(true, SYS_getgid);
	ran(pr, "getgid");
	ck_assert_int_eq(pr.ret, (long)getgid());
	/* lseek(-1, ...) gets as far as the host kernel. */
	pr = probe6(true, SYS_lseek, -1, 0, 0);
	ran(pr, "lseek");
	ck_assert_int_eq(pr.ret, -1);
	ck_assert_int_eq(pr.err, EBADF);
}
END_TEST

START_TEST(test_load_trap)
{
	struct probe pr;

	build();
	/* Unfiltered, getppid works: the ENOSYS below is the filter's. */
	pr = probe(false, SYS_getppid);
	ran(pr, "getppid unfiltered");
	ck_assert_int_eq(pr.ret, (long)getpid());

	traps(probe(true, SYS_nanosleep), "nanosleep (check)");
	traps(probe6(true, SYS_openat, AT_FDCWD, (long)"/", O_RDONLY), "openat (check)");
	traps(probe(true, SYS_reboot), "reboot (deny)");
}
END_TEST

START_TEST(test_load_ioctl)
{
	int fds[2];
	struct probe pr;

	build();
	ck_assert_int_eq(pipe(fds), 0);	/* not a tty: real ioctls say ENOTTY */
	pr = probe6(true, SYS_ioctl, fds[0], TIOCGWINSZ, 0);
	ran(pr, "ioctl TIOCGWINSZ");
	ck_assert_int_eq(pr.ret, -1);
	ck_assert_int_eq(pr.err, ENOTTY);

	pr = probe6(true, SYS_ioctl, fds[0], TIOCGPGRP, 0);
	ran(pr, "ioctl TIOCGPGRP");
	ck_assert_int_eq(pr.err, ENOTTY);
	traps(probe6(true, SYS_ioctl, fds[0], TIOCSTI, 0), "ioctl TIOCSTI");
	traps(probe6(true, SYS_ioctl, fds[0], TIOCLINUX, 0), "ioctl TIOCLINUX");
	traps(probe6(true, SYS_ioctl, fds[0], TIOCSETD, 0), "ioctl TIOCSETD");
	/* The kernel takes the command as 32 bits: high garbage must not
	 * slip a trapped command past the filter. */
	traps(probe6(true, SYS_ioctl, fds[0], (long)(0xdead000000000000ul | TIOCSTI), 0),
	      "ioctl TIOCSTI with high bits");

	/* The interval timers trap only for ITIMER_REAL, hostk's (whatever
	 * the high bits: the kernel takes an int). */
	pr = probe6(true, SYS_getitimer, ITIMER_VIRTUAL, 0, 0);
	ran(pr, "getitimer ITIMER_VIRTUAL");
	ck_assert_int_eq(pr.err, EFAULT);
	traps(probe6(true, SYS_getitimer, ITIMER_REAL, 0, 0), "getitimer ITIMER_REAL");
	traps(probe6(true, SYS_setitimer, (long)(0x100000000ul | ITIMER_REAL), 0, 0), "setitimer ITIMER_REAL, high bits");

	/* fcntl is fast whatever the command: owners are guest pids already. */
	pr = probe6(true, SYS_fcntl, fds[0], F_GETOWN, 0);
	ran(pr, "fcntl F_GETOWN");
	ck_assert_int_ge(pr.ret, 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* An x32 number must never reach the host kernel's x32 table. */
START_TEST(test_x32_never_runs)
{
	struct probe pr;

	build();
	pr = probe(true, SYS_getuid | X32_SYSCALL_BIT);
	if (WIFSIGNALED(pr.status)) {
		ck_assert_int_eq(WTERMSIG(pr.status), SIGSYS);
	} else {
		ran(pr, "x32 getuid");
		ck_assert_int_eq(pr.ret, -1);
		ck_assert_int_eq(pr.err, ENOSYS);
	}
}
END_TEST

/* filter.c says x32 numbers trap to hostk (which answers ENOSYS, as a host
 * without x32 does); with no tracer that is ENOSYS, not a SIGSYS kill. */
START_TEST(test_x32_traps)
{
	build();
	traps(probe(true, SYS_getuid | X32_SYSCALL_BIT), "x32 getuid");
	traps(probe(true, SYS_getpid | X32_SYSCALL_BIT), "x32 getpid");
}
END_TEST

/* int 0x80 (the i386 ABI) is another architecture: the host runs none of
 * its syscalls and answers ENOSYS, and the process lives on. */
START_TEST(test_int80)
{
	pid_t pid;
	int status;

	build();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		long r;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || filter_load() < 0)
			_exit(102);
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) /* i386 getpid */
				 : "memory", "r8", "r9", "r10", "r11");
		_exit(r == -ENOSYS ? 0 : r > 0 ? 1 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* A host without the i386 ABI faults instead: still no syscall. */
	if (WIFSIGNALED(status))
		ck_assert_msg(WTERMSIG(status) == SIGSEGV, "killed by %d", WTERMSIG(status));
	else
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "int 0x80: %s", WEXITSTATUS(status) == 1 ? "getpid ran" : "not ENOSYS");
}
END_TEST

/* A policy override changes what the filter allows. */
START_TEST(test_policy_deny)
{
	struct dump d;
	struct probe pr;

	ck_assert_int_eq(sys_disp(SYS_getuid), D_FAST);
	ck_assert_int_eq(policy_set("getuid", D_DENY), 0);
	ck_assert_int_eq(sys_disp(SYS_getuid), D_DENY);
	ck_assert_int_eq(policy_errno(SYS_getuid), EPERM);
	ck_assert_int_eq(policy_set("ioctl", D_DENY), 0);
	build();

	dump_filters(&d);
	ck_assert_ptr_null(rule_of(d.main_f, SYS_getuid));
	ck_assert_ptr_null(rule_of(d.main_f, SYS_ioctl));
	ck_assert_ptr_null(rule_of(d.arg_f, SYS_ioctl));
	free(d.text);

	traps(probe(true, SYS_getuid), "denied getuid");
	pr = probe(true, SYS_getgid);	/* its neighbour is still fast */
	ran(pr, "getgid");
	ck_assert_int_eq(pr.ret, (long)getgid());
	/* A denied ioctl traps whatever the command. */
	traps(probe6(true, SYS_ioctl, 0, TIOCGWINSZ, 0), "denied ioctl");
}
END_TEST

START_TEST(test_policy_parse)
{
	ck_assert_int_eq(policy_set("no_such_syscall", D_DENY), -1);
	ck_assert_int_eq(policy_set("", D_DENY), -1);
	ck_assert_int_eq(policy_set("=EACCES", D_DENY), -1);
	char longname[200];

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	ck_assert_int_eq(policy_set(longname, D_DENY), -1);

	ck_assert_int_eq(policy_errno(SYS_openat), EPERM);
	ck_assert_int_eq(policy_set("openat=EACCES", D_DENY), 0);
	ck_assert_int_eq(sys_disp(SYS_openat), D_DENY);
	ck_assert_int_eq(policy_errno(SYS_openat), EACCES);

	/* Bad errnos are refused and change nothing. */
	ck_assert_int_eq(policy_set("openat=NOPE", D_DENY), -1);
	ck_assert_int_eq(policy_set("openat=", D_DENY), -1);
	ck_assert_int_eq(policy_set("openat=0", D_DENY), -1);
	ck_assert_int_eq(policy_set("openat=5000", D_DENY), -1);
	ck_assert_int_eq(sys_disp(SYS_openat), D_DENY);
	ck_assert_int_eq(policy_errno(SYS_openat), EACCES);

	/* By number, too; and an errno only goes with deny. */
	ck_assert_int_eq(policy_set("mkdir=13", D_DENY), 0);
	ck_assert_int_eq(policy_errno(SYS_mkdir), EACCES);
	ck_assert_int_eq(policy_set("rmdir=EACCES", D_KILL), -1);
	ck_assert_int_eq(sys_disp(SYS_rmdir), systab[SYS_rmdir].disp);
	ck_assert_int_eq(policy_set("rmdir", D_KILL), 0);
	ck_assert_int_eq(sys_disp(SYS_rmdir), D_KILL);

	/* A later plain override drops the errno. */
	ck_assert_int_eq(policy_set("openat", D_DENY), 0);
	ck_assert_int_eq(policy_errno(SYS_openat), EPERM);

	ck_assert_int_eq(sys_lookup("openat"), SYS_openat);
	ck_assert_int_eq(sys_lookup("open"), SYS_open);
	ck_assert_int_eq(sys_lookup("nope"), -1);
	ck_assert_int_eq(errno_lookup("ENOENT"), ENOENT);
	ck_assert_int_eq(errno_lookup("2"), 2);
	ck_assert_int_eq(errno_lookup("NOPE"), -1);
	ck_assert_str_eq(errno_name(ENOENT), "ENOENT");
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	ADD_CASE(s, build);
	ADD_CASE(s, dump_main);
	ADD_CASE(s, dump_args);
	ADD_CASE(s, dump_table);
	ADD_CASE(s, load_fast);
	ADD_CASE(s, load_trap);
	ADD_CASE(s, load_ioctl);
	ADD_CASE(s, x32_never_runs);
	ADD_CASE(s, x32_traps);
	ADD_CASE(s, int80);
	ADD_CASE(s, policy_deny);
	ADD_CASE(s, policy_parse);
	return s;
}

CK_MAIN(filter_suite)
