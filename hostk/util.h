/* Small helpers every file may use: fatal errors for main() paths (bubblewrap's
 * die/die_errno), one-line warnings, array sizes and time. */
#ifndef HOSTK_UTIL_H
#define HOSTK_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Exit statuses hostk itself uses (guest statuses pass through). */
enum { EXIT_USAGE = 2, EXIT_NOEXEC = 126, EXIT_NOTFOUND = 127 };

_Noreturn void die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning a guest can cause over and over (one per process it has
 * killed, say): each call site shows its first WARN_BURST, then says once
 * that it shows no more.  hostk's log stays readable under a flood. */
#define WARN_BURST 10
#define warn_often(...) \
	do { \
		static unsigned seen_; \
		warn_burst(&seen_, __VA_ARGS__); \
	} while (0)
void warn_burst(unsigned *seen, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* hostk's one answer to running out of memory. */
_Noreturn void die_oom(void);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

/* Read /proc/TID/FILE (a host task's) into buf, NUL-terminated: its length,
 * or -errno.  A text file longer than size is cut. */
ssize_t read_proc(pid_t tid, const char *file, void *buf, size_t size);
/* Does the task have a handler for sig?  (SigCgt in /proc/TID/status.) */
bool sig_caught(pid_t tid, int sig);

/* hostk's own faults (a bug, never a guest's doing): one line, a backtrace
 * on stderr, then the default action.  hostk is not dumpable, so this is
 * all the evidence there will be. */
void crash_handlers_setup(void);

/* Start a hostk thread with every signal blocked from its first instruction
 * (interrupts are for the kernel thread only).  0 or an errno. */
int start_thread(void *(*fn)(void *), void *arg);
/* The same, kept off avoid_cpu (hostk's, when it is pinned to one): a
 * device's hardware is not the processor.  avoid_cpu -1: anywhere. */
int start_thread_off(void *(*fn)(void *), void *arg, int avoid_cpu);
/* The same, for a thread that its starter stops and joins (*th). */
int start_thread_joinable(pthread_t *th, void *(*fn)(void *), void *arg, int avoid_cpu);

/* Time in nanoseconds.  Guests hand hostk any timespec or timeval they like:
 * every conversion saturates at KTIME_MAX (~292 years, as Linux's ktime_t
 * does) instead of wrapping, so a huge timeout means "practically never",
 * never "already due". */
#define NSEC_PER_SEC 1000000000ull
#define KTIME_MAX ((uint64_t)INT64_MAX)

static inline uint64_t ns_add(uint64_t a, uint64_t b)
{
	return a >= KTIME_MAX || b >= KTIME_MAX - a ? KTIME_MAX : a + b;
}

/* A valid timespec (tv_sec >= 0, 0 <= tv_nsec < 1e9). */
static inline uint64_t ts_to_ns(const struct timespec *ts)
{
	if ((uint64_t)ts->tv_sec >= KTIME_MAX / NSEC_PER_SEC)
		return KTIME_MAX;
	return ns_add((uint64_t)ts->tv_sec * NSEC_PER_SEC, (uint64_t)ts->tv_nsec);
}

/* A valid timeval (tv_sec >= 0, 0 <= tv_usec < 1e6). */
static inline uint64_t tv_to_ns(const struct timeval *tv)
{
	struct timespec ts = { tv->tv_sec, tv->tv_usec * 1000 };

	return ts_to_ns(&ts);
}

static inline struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC) };
}

/* Monotonic nanoseconds (vDSO: no syscall). */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif
