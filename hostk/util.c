/* Fatal errors and warnings.  Only main() paths die; everything a guest can
 * cause is answered with an errno for the guest instead. */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static void vmsg(const char *fmt, va_list ap, int err)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "hostk: ");

	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	if (err && n < (int)sizeof buf)
		snprintf(buf + n, sizeof buf - (size_t)n, ": %s", strerror(err));
	fprintf(stderr, "%s\n", buf);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, err);
	va_end(ap);
	exit(1);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void warn_burst(unsigned *seen, const char *fmt, ...)
{
	va_list ap;

	if (*seen > WARN_BURST)
		return;
	if (++*seen > WARN_BURST) {
		warn("(%d warnings like the last: no more of them are shown)", WARN_BURST);
		return;
	}
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void die_oom(void)
{
	/* No stdio: it may want memory itself. */
	static const char msg[] = "hostk: out of memory\n";

	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		_exit(1);
	_exit(1);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die_oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_oom();
	return p;
}

ssize_t read_proc(pid_t tid, const char *file, void *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", tid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	((char *)buf)[n > 0 ? n : 0] = 0;
	return n;
}

/* Async-signal-safe: numbers in decimal and hex, for the crash report. */
static char *put_dec(char *p, long v)
{
	char d[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	if (v < 0)
		*p++ = '-';
	do
		d[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < 24);
	while (n)
		*p++ = d[--n];
	return p;
}

static char *put_hex(char *p, unsigned long v)
{
	char d[16];
	int n = 0;

	do
		d[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) && n < 16);
	*p++ = '0', *p++ = 'x';
	while (n)
		*p++ = d[--n];
	return p;
}

static void on_crash(int sig, siginfo_t *si, void *uc)
{
	static const char head[] = "hostk: internal error: fatal signal ";
	char line[160], *p = line;
	void *frames[64];
	int n;

	(void)uc;
	/* Which signal, why (si_code), where, in which process and thread:
	 * enough to tell hostk's own fault from a copy of hostk's. */
	memcpy(p, head, sizeof head - 1);
	p = put_dec(p + sizeof head - 1, sig);
	memcpy(p, " code ", 6);
	p = put_dec(p + 6, si->si_code);
	memcpy(p, " addr ", 6);
	p = put_hex(p + 6, (unsigned long)si->si_addr);
	memcpy(p, " pid ", 5);
	p = put_dec(p + 5, getpid());
	memcpy(p, " tid ", 5);
	p = put_dec(p + 5, syscall(SYS_gettid));
	memcpy(p, "; backtrace:\n", 13);
	p += 13;
	if (write(STDERR_FILENO, line, (size_t)(p - line)) > 0) {
		n = backtrace(frames, 64);
		backtrace_symbols_fd(frames, n, STDERR_FILENO);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void crash_handlers_setup(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = { .sa_sigaction = on_crash, .sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK };
	static char altstack[64 << 10];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	void *frame;

	/* backtrace() loads its unwinder the first time: not in a handler. */
	backtrace(&frame, 1);
	sigaltstack(&ss, NULL);
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NELEM(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

bool sig_caught(pid_t tid, int sig)
{
	char buf[2048], *p;

	if (read_proc(tid, "status", buf, sizeof buf) <= 0)
		return false;
	p = strstr(buf, "SigCgt:");
	return p && (strtoull(p + 7, NULL, 16) >> (sig - 1) & 1);
}

int start_thread(void *(*fn)(void *), void *arg)
{
	return start_thread_off(fn, arg, -1);
}

int start_thread_off(void *(*fn)(void *), void *arg, int avoid_cpu)
{
	pthread_t th;
	int rc = start_thread_joinable(&th, fn, arg, avoid_cpu);

	if (!rc)
		pthread_detach(th);
	return rc;
}

int start_thread_joinable(pthread_t *th, void *(*fn)(void *), void *arg, int avoid_cpu)
{
	sigset_t all, old;
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	if ((rc = pthread_attr_init(&attr)))
		return rc;
	/* Off avoid_cpu from its first instruction, if the host has another. */
	if (avoid_cpu >= 0 && sched_getaffinity(0, sizeof set, &set) == 0) {
		CPU_CLR(avoid_cpu, &set);
		if (CPU_COUNT(&set) == 0) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);

			for (int c = 0; c < n && c < CPU_SETSIZE; c++)
				if (c != avoid_cpu)
					CPU_SET(c, &set);
		}
		if (CPU_COUNT(&set))
			pthread_attr_setaffinity_np(&attr, sizeof set, &set);
	}
	/* Signals blocked from its first instruction: interrupts are for the
	 * kernel thread only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(th, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}
