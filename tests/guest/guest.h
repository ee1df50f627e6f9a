/* guest.h - tiny helpers shared by the hostk guest test programs.
 * Results go to stdout (deterministic lines), failures to stderr as "FAIL: ...". */
#ifndef HOSTK_TESTS_GUEST_H
#define HOSTK_TESTS_GUEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int guest_failures;

/* Print one result line and flush it (programs fork and die by signals). */
__attribute__((format(printf, 1, 2)))
static inline void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Report a failed check on stderr; the program will exit 1 at the end. */
__attribute__((format(printf, 1, 2)))
static inline void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	guest_failures++;
}

/* CHECK(cond, fmt, ...): evaluates to cond, reporting a failure if false. */
#define CHECK(cond, ...) ((cond) ? 1 : (fail(__VA_ARGS__), 0))

/* Errno name for messages ("ESRCH"), never NULL. */
static inline const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

/* Describe a wait status as "exited N" / "killed by N" into buf. */
static inline const char *wstr(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status 0x%x", st);
	return buf;
}

/* fork() after flushing stdout; exits on failure. */
static inline pid_t child(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", ename(errno));
		exit(1);
	}
	return pid;
}

/* Reaps pid and checks the pid waitpid returns and the wait status; 1 if both match. */
static inline int reap(pid_t pid, int want, const char *what)
{
	char a[32], b[32];
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	return CHECK(r == pid, "%s: waitpid returned %d, fork returned %d", what, r, pid) &&
	       CHECK(st == want, "%s: child %s, want %s", what, wstr(st, a, sizeof(a)),
		     wstr(want, b, sizeof(b)));
}

static inline int finish(void)
{
	fflush(stdout);
	return guest_failures ? 1 : 0;
}

/* A program of named checks: with no arguments run them all, else the
 * named ones (an unknown name is a usage error, status 2). */
struct check {
	const char *name;
	void (*fn)(void);
};

static inline int run_checks(int argc, char **argv, const struct check *checks, size_t n)
{
	size_t i;

	for (int a = 1; a < argc; a++) {
		for (i = 0; i < n && strcmp(argv[a], checks[i].name) != 0; i++)
			;
		if (i == n) {
			fprintf(stderr, "%s: unknown check %s\n", argv[0], argv[a]);
			return 2;
		}
	}
	for (i = 0; i < n; i++) {
		int run = argc == 1;

		for (int a = 1; a < argc; a++)
			run |= strcmp(argv[a], checks[i].name) == 0;
		if (run)
			checks[i].fn();
	}
	return finish();
}

#endif
