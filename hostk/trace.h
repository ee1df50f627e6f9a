/* The event log (--trace) and the statistics (--stats): one line per trap,
 * per signal, exception, fork, exec and exit; counts and times at the end. */
#ifndef HOSTK_TRACE_H
#define HOSTK_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "systab.h"

struct task;

extern FILE *trace_fp;		/* NULL: tracing is off */
extern FILE *stats_fp;		/* NULL: no statistics */
extern bool out_json;

/* A finished trap: the guest's arguments, the result it saw. */
/* The line trace_syscall() prints, without the newline. */
size_t trace_format(char *buf, size_t size, const struct task *tk, long nr, const unsigned long *arg,
		    long ret, enum disp d);
/* "name(args)" of a syscall, decoded as the trace does, in plain text. */
size_t trace_call_format(char *buf, size_t size, const struct task *tk, long nr, const unsigned long *arg);
void trace_syscall(const struct task *tk, long nr, const unsigned long *arg, long ret, enum disp d);
/* A syscall whose arguments are gone by its exit (execve): printed at entry,
 * its result later as "<... resumed>". */
void trace_entry(const struct task *tk, long nr, const unsigned long *arg);
void trace_event(const struct task *tk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An event of the kernel's own (a bottom half's), not of a task: "[k] --- ... ---". */
void trace_kernel(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An event of a device's hardware side, from its own thread (the stream's
 * lock keeps lines whole): "[hw] --- ... ---". */
void trace_hardware(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print what the top halves logged (kernel loop only). */
void trace_interrupts(void);

void stats_trap(long nr, uint64_t ns, long ret);
void stats_exception(int kind);	/* enum exc_kind */
void stats_start(void);
void stats_report(void);

#endif
