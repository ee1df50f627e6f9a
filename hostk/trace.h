/* The event log (--trace) and the statistics (--stats): one line per trap,
 * per signal, exception, fork, exec and exit; counts and times at the end. */
#ifndef HOSTK_TRACE_H
#define HOSTK_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "systab.h"

struct task;

extern FILE *trace_fp;		/* NULL: tracing is off */
extern FILE *stats_fp;		/* NULL: no statistics */
extern bool out_json;

/* A finished trap: the guest's arguments, the result it saw. */
void trace_syscall(const struct task *tk, long nr, const unsigned long *arg, long ret, enum disp d);
void trace_event(const struct task *tk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void stats_trap(long nr, uint64_t ns, long ret);
void stats_exception(int sig);
void stats_start(void);
void stats_report(void);

#endif
