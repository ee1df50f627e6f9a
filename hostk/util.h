/* Small helpers every file may use: fatal errors for main() paths (bubblewrap's
 * die/die_errno), one-line warnings, array sizes and time. */
#ifndef HOSTK_UTIL_H
#define HOSTK_UTIL_H

#include <stdint.h>
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

/* Start a hostk thread with every signal blocked from its first instruction
 * (interrupts are for the kernel thread only).  0 or an errno. */
int start_thread(void *(*fn)(void *), void *arg);

/* Monotonic nanoseconds (vDSO: no syscall). */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
