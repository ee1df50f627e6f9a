/* Unit test of the trace decoder (hostk/trace.c): trace_format() lines for a
 * hand-made task whose "guest" is this test process, so string arguments are
 * read from our own memory; text form exactly, and the JSON form parsed. */
#include <check.h>

#include "ck-main.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostk/systab.h"
#include "hostk/task.h"
#include "hostk/trace.h"

static struct proc guest_proc;
static struct task guest;
static char line[4096];

static void setup(void)
{
	memset(&guest_proc, 0, sizeof guest_proc);
	memset(&guest, 0, sizeof guest);
	guest_proc.pid = getpid();
	guest_proc.vpid = 7;
	guest_proc.nthreads = 1;
	guest.tid = getpid();
	guest.vtid = 7;
	guest.proc = &guest_proc;
	out_json = false;
}

/* The line for nr(a...) returning ret, checked for length and termination. */
static const char *fmt(long nr, const unsigned long *a, long ret, enum disp d)
{
	size_t n;

	memset(line, 0x55, sizeof line);
	n = trace_format(line, sizeof line, &guest, nr, a, ret, d);
	ck_assert_ptr_nonnull(memchr(line, 0, sizeof line));
	ck_assert_uint_eq(n, strlen(line));
	ck_assert_ptr_null(strchr(line, '\n'));
	return line;
}

#define ARGS(...) ((const unsigned long[6]){ __VA_ARGS__ })
#define U(x) ((unsigned long)(x))

/* A minimal JSON syntax check: one value, nothing after it. */
static const char *json_value(const char *s);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)	/* includes the end of the text */
			return NULL;
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)s[i]))
					return NULL;
			s += 4;
		} else if (!strchr("\"\\/bfnrt", *s) || !*s) {
			return NULL;
		}
	}
	return s + 1;
}

static const char *json_number(const char *s)
{
	const char *d;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		d = ++s;
		while (isdigit((unsigned char)*s))
			s++;
		if (s == d)
			return NULL;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		d = s;
		while (isdigit((unsigned char)*s))
			s++;
		if (s == d)
			return NULL;
	}
	return s;
}

static const char *json_list(const char *s, char close, bool object)
{
	s = json_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (object) {
			if (!(s = json_string(json_ws(s))))
				return NULL;
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		if (!(s = json_value(s)))
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *s)
{
	s = json_ws(s);
	switch (*s) {
	case '{':
		return json_list(s, '}', true);
	case '[':
		return json_list(s, ']', false);
	case '"':
		return json_string(s);
	case 't':
		return strncmp(s, "true", 4) ? NULL : s + 4;
	case 'f':
		return strncmp(s, "false", 5) ? NULL : s + 5;
	case 'n':
		return strncmp(s, "null", 4) ? NULL : s + 4;
	default:
		return json_number(s);
	}
}

static bool json_valid(const char *s)
{
	s = json_value(s);
	return s && !*json_ws(s);
}

#define ck_assert_json(s) ck_assert_msg(json_valid(s), "not JSON: %s", s)

START_TEST(test_openat)
{
	ck_assert_str_eq(fmt(SYS_openat, ARGS(U(AT_FDCWD), U("/etc/passwd"), O_RDONLY | O_CLOEXEC, 0), 3, D_CHECK),
			 "[7] openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC, 0) = 3 <check>");
	/* A 32-bit AT_FDCWD (upper half clear) is still AT_FDCWD. */
	ck_assert_str_eq(fmt(SYS_openat, ARGS(U(AT_FDCWD) & 0xffffffffu, U("a"), O_RDONLY, 0), 4, D_CHECK),
			 "[7] openat(AT_FDCWD, \"a\", O_RDONLY, 0) = 4 <check>");
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U("out"), O_WRONLY | O_CREAT | O_TRUNC, 0644), 5, D_CHECK),
			 "[7] openat(3, \"out\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 5 <check>");
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U("d"), O_RDWR | O_DIRECTORY | O_NOFOLLOW | O_EXCL, 0), 6, D_CHECK),
			 "[7] openat(3, \"d\", O_RDWR|O_EXCL|O_DIRECTORY|O_NOFOLLOW, 0) = 6 <check>");
	ck_assert_str_eq(fmt(SYS_open, ARGS(U(""), O_RDONLY | O_NONBLOCK | O_APPEND, 0755), 0, D_CHECK),
			 "[7] open(\"\", O_RDONLY|O_APPEND|O_NONBLOCK, 0755) = 0 <check>");
	/* Bits with no name are kept, in hex. */
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U("x"), O_RDONLY | 0x80000000ul, 0), 6, D_CHECK),
			 "[7] openat(3, \"x\", O_RDONLY|0x80000000, 0) = 6 <check>");
}
END_TEST

/* O_TMPFILE includes O_DIRECTORY's bit; it must print under its own name. */
START_TEST(test_oflags_tmpfile)
{
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U("/tmp"), O_RDWR | O_TMPFILE, 0600), 4, D_CHECK),
			 "[7] openat(3, \"/tmp\", O_RDWR|O_TMPFILE, 0600) = 4 <check>");
}
END_TEST

START_TEST(test_result)
{
	const unsigned long *a = ARGS(U(AT_FDCWD), U("/nonexistent"), O_RDONLY, 0);

	ck_assert_str_eq(fmt(SYS_openat, a, -ENOENT, D_CHECK),
			 "[7] openat(AT_FDCWD, \"/nonexistent\", O_RDONLY, 0) = -1 ENOENT (No such file or directory) <check>");
	ck_assert_str_eq(fmt(SYS_openat, a, -EACCES, D_DENY),
			 "[7] openat(AT_FDCWD, \"/nonexistent\", O_RDONLY, 0) = -1 EACCES (Permission denied) <deny>");
	ck_assert_str_eq(fmt(SYS_getppid, ARGS(0), 1, D_EMULATE), "[7] getppid() = 1 <emulate>");
	ck_assert_str_eq(fmt(SYS_getuid, ARGS(0), 1000, D_FAST), "[7] getuid() = 1000 <fast>");
	ck_assert_str_eq(fmt(SYS_reboot, ARGS(1, 2, 3, 0), -EPERM, D_DENY),
			 "[7] reboot(0x1, 0x2, 0x3, NULL) = -1 EPERM (Operation not permitted) <deny>");
	/* -4095 is the last errno; below it is a value. */
	ck_assert_ptr_nonnull(strstr(fmt(SYS_getuid, ARGS(0), -4095, D_FAST), ") = -1 "));
	ck_assert_str_eq(fmt(SYS_getuid, ARGS(0), -4096, D_FAST), "[7] getuid() = -4096 <fast>");
	/* The trap's tid, not the process's. */
	guest.vtid = 9;
	ck_assert_str_eq(fmt(SYS_getuid, ARGS(0), 0, D_FAST), "[9] getuid() = 0 <fast>");
}
END_TEST

START_TEST(test_kill)
{
	ck_assert_str_eq(fmt(SYS_kill, ARGS(2, SIGTERM), 0, D_CHECK), "[7] kill(2, SIGTERM) = 0 <check>");
	ck_assert_str_eq(fmt(SYS_kill, ARGS(2, 0), 0, D_CHECK), "[7] kill(2, 0) = 0 <check>");
	ck_assert_str_eq(fmt(SYS_kill, ARGS(U(-2), SIGKILL), -ESRCH, D_CHECK),
			 "[7] kill(-2, SIGKILL) = -1 ESRCH (No such process) <check>");
	ck_assert_str_eq(fmt(SYS_kill, ARGS(U(-1), SIGHUP), 0, D_CHECK), "[7] kill(-1, SIGHUP) = 0 <check>");
	ck_assert_str_eq(fmt(SYS_kill, ARGS(3, 999), -EINVAL, D_CHECK),
			 "[7] kill(3, 999) = -1 EINVAL (Invalid argument) <check>");
	ck_assert_str_eq(fmt(SYS_tgkill, ARGS(2, 3, SIGSEGV), 0, D_CHECK), "[7] tgkill(2, 3, SIGSEGV) = 0 <check>");
	ck_assert_str_eq(fmt(SYS_rt_sigaction, ARGS(SIGCHLD, 0, 0x1000, 8), 0, D_FAST),
			 "[7] rt_sigaction(SIGCHLD, NULL, 0x1000, 8) = 0 <fast>");
}
END_TEST

START_TEST(test_clone)
{
	unsigned long thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			       CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;

	ck_assert_str_eq(fmt(SYS_clone, ARGS(thread, 0x7f0000001000, 0x7f0000002000, 0x7f0000002000, 0x7f0000003000),
			     8, D_CHECK),
			 "[7] clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS"
			 "|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, 0x7f0000001000, 0x7f0000002000, 0x7f0000002000, "
			 "0x7f0000003000) = 8 <check>");
	ck_assert_str_eq(fmt(SYS_clone, ARGS(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, 0, 0x1000, 0), 8,
			     D_CHECK),
			 "[7] clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x1000, NULL) = 8 <check>");
	ck_assert_str_eq(fmt(SYS_clone, ARGS(CLONE_VM | CLONE_VFORK | SIGCHLD, 0x2000, 0, 0, 0), 9, D_CHECK),
			 "[7] clone(CLONE_VM|CLONE_VFORK|SIGCHLD, 0x2000, NULL, NULL, NULL) = 9 <check>");
	/* A thread's exit signal is 0: no signal printed. */
	ck_assert_str_eq(fmt(SYS_clone, ARGS(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, 0, 0, 0), 10, D_CHECK),
			 "[7] clone(CLONE_VM|CLONE_SIGHAND|CLONE_THREAD, NULL, NULL, NULL, NULL) = 10 <check>");
	ck_assert_str_eq(fmt(SYS_clone, ARGS(CLONE_PARENT | CLONE_NEWPID | SIGUSR1, 0, 0, 0, 0), -EPERM, D_CHECK),
			 "[7] clone(CLONE_PARENT|CLONE_NEWPID|SIGUSR1, NULL, NULL, NULL, NULL) = -1 EPERM "
			 "(Operation not permitted) <check>");
}
END_TEST

START_TEST(test_mmap)
{
	ck_assert_str_eq(fmt(SYS_mmap, ARGS(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, U(-1), 0),
			     0x10000, D_FAST),
			 "[7] mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x10000 <fast>");
	ck_assert_str_eq(fmt(SYS_mmap, ARGS(0x400000, 8192, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, 3, 4096),
			     0x400000, D_FAST),
			 "[7] mmap(0x400000, 8192, PROT_READ|PROT_EXEC, MAP_SHARED|MAP_FIXED, 3, 4096) = 0x400000 <fast>");
	ck_assert_str_eq(fmt(SYS_mmap, ARGS(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
					    U(-1), 0),
			     -ENOMEM, D_FAST),
			 "[7] mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_STACK, -1, 0) = -1 "
			 "ENOMEM (Cannot allocate memory) <fast>");
	ck_assert_str_eq(fmt(SYS_mprotect, ARGS(0x1000, 4096, PROT_NONE), 0, D_FAST),
			 "[7] mprotect(0x1000, 4096, PROT_NONE) = 0 <fast>");
	/* Unnamed bits stay visible. */
	ck_assert_str_eq(fmt(SYS_mprotect, ARGS(0x1000, 4096, PROT_READ | 0x100), 0, D_FAST),
			 "[7] mprotect(0x1000, 4096, PROT_READ|0x100) = 0 <fast>");
	ck_assert_str_eq(fmt(SYS_munmap, ARGS(0, 0), -EINVAL, D_FAST),
			 "[7] munmap(NULL, 0) = -1 EINVAL (Invalid argument) <fast>");
}
END_TEST

START_TEST(test_escape)
{
	static const char s[] = "a\"b\\c\td\n";

	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U(s), O_RDONLY, 0), 3, D_CHECK),
			 "[7] openat(3, \"a\\\"b\\\\c\\td\\n\", O_RDONLY, 0) = 3 <check>");
	/* Bytes outside printable ASCII are escaped too. */
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U("\x7f\xff\x01x"), O_RDONLY, 0), 3, D_CHECK),
			 "[7] openat(3, \"\\177\\377\\001x\", O_RDONLY, 0) = 3 <check>");
}
END_TEST

START_TEST(test_bad_string)
{
	ck_assert_str_eq(fmt(SYS_openat, ARGS(U(AT_FDCWD), 0x10, O_RDONLY, 0), -EFAULT, D_CHECK),
			 "[7] openat(AT_FDCWD, 0x10, O_RDONLY, 0) = -1 EFAULT (Bad address) <check>");
	ck_assert_str_eq(fmt(SYS_openat, ARGS(U(AT_FDCWD), U(-1), O_RDONLY, 0), -EFAULT, D_CHECK),
			 "[7] openat(AT_FDCWD, 0xffffffffffffffff, O_RDONLY, 0) = -1 EFAULT (Bad address) <check>");

	/* A string that ends right before an unmapped page is whole; one that
	 * runs into it cannot be read. */
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(munmap(m + pg, (size_t)pg), 0);
	memcpy(m + pg - 4, "end", 4);
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U(m + pg - 4), O_RDONLY, 0), 3, D_CHECK),
			 "[7] openat(3, \"end\", O_RDONLY, 0) = 3 <check>");
	memcpy(m + pg - 3, "abc", 3);
	char want[256];

	snprintf(want, sizeof want, "[7] openat(3, %p, O_RDONLY, 0) = -1 EFAULT (Bad address) <check>",
		 (void *)(m + pg - 3));
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U(m + pg - 3), O_RDONLY, 0), -EFAULT, D_CHECK), want);
	munmap(m, (size_t)pg);
}
END_TEST

START_TEST(test_long_string)
{
	char s[400], want[600];

	memset(s, 'x', sizeof s - 1);
	s[sizeof s - 1] = 0;

	/* 96 characters print whole. */
	s[96] = 0;
	snprintf(want, sizeof want, "[7] openat(3, \"%s\", O_RDONLY, 0) = 3 <check>", s);
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U(s), O_RDONLY, 0), 3, D_CHECK), want);

	/* 97 are cut to 96 and marked. */
	s[96] = 'x';
	s[97] = 0;
	snprintf(want, sizeof want, "[7] openat(3, \"%.96s\"..., O_RDONLY, 0) = 3 <check>", s);
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U(s), O_RDONLY, 0), 3, D_CHECK), want);

	/* Longer than hostk reads at all. */
	s[97] = 'x';
	ck_assert_uint_eq(strlen(s), sizeof s - 1);
	snprintf(want, sizeof want, "[7] openat(3, \"%.96s\"..., O_RDONLY, 0) = -1 ENAMETOOLONG "
		 "(File name too long) <check>", s);
	ck_assert_str_eq(fmt(SYS_openat, ARGS(3, U(s), O_RDONLY, 0), -ENAMETOOLONG, D_CHECK), want);
}
END_TEST

START_TEST(test_unknown)
{
	ck_assert_str_eq(fmt(1000, ARGS(1, 2, 3, 4, 5, 6), -ENOSYS, D_NONE),
			 "[7] syscall_0x3e8(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented) <none>");
	ck_assert_str_eq(fmt(400, ARGS(0, 0xffffffffffffffff, 0, 0, 0, 0x10), -ENOSYS, D_NONE),
			 "[7] syscall_0x190(0, 0xffffffffffffffff, 0, 0, 0, 0x10) = -1 ENOSYS (Function not implemented) <none>");
	ck_assert_str_eq(fmt(-1, ARGS(0), -ENOSYS, D_NONE),
			 "[7] syscall_0xffffffffffffffff(0, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented) <none>");
}
END_TEST

START_TEST(test_truncate)
{
	char small[16];
	size_t n = trace_format(small, sizeof small, &guest, SYS_getuid, ARGS(0), 0, D_FAST);

	ck_assert_uint_eq(n, strlen("[7] getuid() = 0 <fast>"));
	ck_assert_str_eq(small, "[7] getuid() = ");
}
END_TEST

START_TEST(test_json)
{
	const char *j;

	out_json = true;
	j = fmt(SYS_openat, ARGS(U(AT_FDCWD), U("/etc/passwd"), O_RDONLY | O_CLOEXEC, 0), -ENOENT, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"syscall\":\"openat\""));
	ck_assert_ptr_nonnull(strstr(j, "\"errno\":\"ENOENT\""));
	ck_assert_ptr_nonnull(strstr(j, "\"pid\":7,\"tid\":7,"));
	ck_assert_ptr_nonnull(strstr(j, "\"nr\":257,"));
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[\"AT_FDCWD\", \"/etc/passwd\", \"O_RDONLY|O_CLOEXEC\", \"0\"]"));
	ck_assert_ptr_nonnull(strstr(j, "\"ret\":-2,"));
	ck_assert_ptr_nonnull(strstr(j, "\"disp\":\"check\""));
	ck_assert_msg(j[0] == '{' && j[strlen(j) - 1] == '}', "%s", j);

	j = fmt(SYS_openat, ARGS(U(AT_FDCWD), U("/etc/passwd"), O_RDONLY, 0), 3, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"ret\":3,\"errno\":null,"));

	/* Threads: pid is the process, tid the thread. */
	guest.vtid = 8;
	j = fmt(SYS_kill, ARGS(2, SIGTERM), 0, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"pid\":7,\"tid\":8,"));
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[2, \"SIGTERM\"]"));
	j = fmt(SYS_kill, ARGS(2, 0), 0, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[2, 0]"));

	j = fmt(SYS_clone, ARGS(CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0), 9, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[\"CLONE_VM|CLONE_VFORK|SIGCHLD\", \"NULL\", \"NULL\", \"NULL\", \"NULL\"]"));
	j = fmt(SYS_mmap, ARGS(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, U(-1), 0), 0x10000,
		D_FAST);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[\"NULL\", 4096, \"PROT_READ|PROT_WRITE\", \"MAP_PRIVATE|MAP_ANONYMOUS\", -1, 0]"));
	j = fmt(SYS_openat, ARGS(3, U("a\"b\\c\td\n\x7f"), O_WRONLY | O_CREAT, 0644), 3, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[3, \"a\\\"b\\\\c\\td\\n\x7f\", \"O_WRONLY|O_CREAT\", \"0644\"]"));
	j = fmt(SYS_openat, ARGS(U(AT_FDCWD), 0x10, O_RDONLY, 0), -EFAULT, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[\"AT_FDCWD\", \"0x10\", \"O_RDONLY\", \"0\"]"));
	j = fmt(1000, ARGS(1, 2, 3, 4, 5, 6), -ENOSYS, D_NONE);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"nr\":1000,\"syscall\":\"syscall_0x3e8\",\"args\":[\"0x1\", \"0x2\", \"0x3\", \"0x4\", \"0x5\", \"0x6\"]"));
	ck_assert_ptr_nonnull(strstr(j, "\"errno\":\"ENOSYS\",\"disp\":\"none\"}"));
	j = fmt(SYS_getppid, ARGS(0), 1, D_EMULATE);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"args\":[],"));
}
END_TEST

/* A cut string must leave the line valid JSON. */
START_TEST(test_json_long_string)
{
	char s[200];
	const char *j;

	memset(s, 'x', sizeof s - 1);
	s[sizeof s - 1] = 0;
	out_json = true;
	j = fmt(SYS_openat, ARGS(U(AT_FDCWD), U(s), O_RDONLY, 0), -ENAMETOOLONG, D_CHECK);
	ck_assert_json(j);
	ck_assert_ptr_nonnull(strstr(j, "\"errno\":\"ENAMETOOLONG\""));
}
END_TEST

/* Whatever strings a guest passes, its line keeps its result: mount takes
 * three strings, and is traced (it is denied). */
START_TEST(test_long_line)
{
	char s[120];

	memset(s, '\x01', sizeof s - 1);
	s[sizeof s - 1] = 0;
	const char *j = fmt(SYS_mount, ARGS(U(s), U(s), U(s), 0, 0), -EPERM, D_DENY);
	const char *tail = ") = -1 EPERM (Operation not permitted) <deny>";
	size_t n = strlen(j);

	ck_assert_msg(n > strlen(tail) && !strcmp(j + n - strlen(tail), tail),
		      "result lost (%zu bytes), the line ends: %s", n, j + (n > 60 ? n - 60 : 0));
}
END_TEST

/* ... and in JSON stays valid. */
START_TEST(test_json_long_line)
{
	char s[120];

	memset(s, '\x01', sizeof s - 1);
	s[sizeof s - 1] = 0;
	out_json = true;
	const char *j = fmt(SYS_mount, ARGS(U(s), U(s), U(s), 0, 0), -EPERM, D_DENY);
	size_t n = strlen(j);

	ck_assert_msg(json_valid(j), "not JSON (%zu bytes), the line ends: %s", n, j + (n > 60 ? n - 60 : 0));
	ck_assert_ptr_nonnull(strstr(j, "\"disp\":\"deny\"}"));
}
END_TEST

/* The log itself: a call printed at entry and resumed at exit, and events. */
static char *log_text(void)
{
	static char text[4096];
	long n;

	fflush(trace_fp);
	n = pread(fileno(trace_fp), text, sizeof text - 1, 0);
	ck_assert_int_ge(n, 0);
	text[n] = 0;
	return text;
}

START_TEST(test_log)
{
	trace_fp = tmpfile();
	ck_assert_ptr_nonnull(trace_fp);
	trace_entry(&guest, SYS_execve, ARGS(U("/bin/sh"), 0x1000, 0x2000));
	guest.sys.entry_traced = true;
	trace_syscall(&guest, SYS_execve, ARGS(U("/bin/sh"), 0x1000, 0x2000), 0, D_CHECK);
	guest.sys.entry_traced = false;
	trace_syscall(&guest, SYS_getppid, ARGS(0), 1, D_EMULATE);
	trace_event(&guest, "exit %d", 3);
	ck_assert_str_eq(log_text(),
			 "[7] execve(\"/bin/sh\", 0x1000, 0x2000) ...\n"
			 "[7] <... execve resumed) = 0 <check>\n"
			 "[7] getppid() = 1 <emulate>\n"
			 "[7] --- exit 3 ---\n");
	fclose(trace_fp);
	trace_fp = NULL;
}
END_TEST

START_TEST(test_json_log)
{
	char *text, *nl;
	int lines = 0;

	out_json = true;
	trace_fp = tmpfile();
	ck_assert_ptr_nonnull(trace_fp);
	trace_entry(&guest, SYS_execve, ARGS(U("/bin/sh"), 0x1000, 0x2000));
	guest.sys.entry_traced = true;
	trace_syscall(&guest, SYS_execve, ARGS(U("/bin/sh"), 0x1000, 0x2000), -ENOENT, D_CHECK);
	trace_event(&guest, "exec \"%s\"\\\n", "/bin/sh");
	text = log_text();
	for (char *l = text; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		ck_assert_ptr_nonnull(nl);
		*nl = 0;
		ck_assert_json(l);
		switch (lines++) {
		case 0:
			ck_assert_ptr_nonnull(strstr(l, "\"syscall\":\"execve\",\"args\":[\"/bin/sh\", \"0x1000\", \"0x2000\"]"));
			ck_assert_ptr_nonnull(strstr(l, "\"unfinished\":true}"));
			break;
		case 1:
			ck_assert_ptr_nonnull(strstr(l, "\"nr\":59,\"resumed\":true,"));
			ck_assert_ptr_nonnull(strstr(l, "\"errno\":\"ENOENT\""));
			break;
		case 2:
			ck_assert_ptr_nonnull(strstr(l, "\"event\":\"exec "));
			break;
		}
	}
	ck_assert_int_eq(lines, 3);
	fclose(trace_fp);
	trace_fp = NULL;
}
END_TEST

/* The JSON checker itself. */
START_TEST(test_json_checker)
{
	ck_assert(json_valid("{\"a\":[1,-2.5e3,\"x\\u00e9\",true,null,{}],\"b\":\"\\\"\"}"));
	ck_assert(!json_valid("{\"a\":\"x\"...}"));
	ck_assert(!json_valid("{\"a\":[1,2}"));
	ck_assert(!json_valid("{\"a\":\"\\x01\"}"));
	ck_assert(!json_valid("{\"a\":1} x"));
	ck_assert(!json_valid("{\"a\":\"abc"));
}
END_TEST

/* Every case starts from setup(). */
#define ADD_FIXED_CASE(s, t) ADD_CASE_X(s, t, tcase_add_checked_fixture(tc_, setup, NULL))

static Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	ADD_FIXED_CASE(s, openat);
	ADD_FIXED_CASE(s, oflags_tmpfile);
	ADD_FIXED_CASE(s, result);
	ADD_FIXED_CASE(s, kill);
	ADD_FIXED_CASE(s, clone);
	ADD_FIXED_CASE(s, mmap);
	ADD_FIXED_CASE(s, escape);
	ADD_FIXED_CASE(s, bad_string);
	ADD_FIXED_CASE(s, long_string);
	ADD_FIXED_CASE(s, unknown);
	ADD_FIXED_CASE(s, truncate);
	ADD_FIXED_CASE(s, json);
	ADD_FIXED_CASE(s, json_long_string);
	ADD_FIXED_CASE(s, long_line);
	ADD_FIXED_CASE(s, json_long_line);
	ADD_FIXED_CASE(s, log);
	ADD_FIXED_CASE(s, json_log);
	ADD_FIXED_CASE(s, json_checker);
	return s;
}

CK_MAIN(trace_suite)
