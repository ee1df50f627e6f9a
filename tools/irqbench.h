/* `hostk bench irq` in two files: the interrupt machinery in this process
 * (irqbench.c), and real `hostk run`s watched from outside (irqrun.c).  The
 * runs inherit this process's CPU: hostk pins itself to it. */
#ifndef HOSTK_TOOLS_IRQBENCH_H
#define HOSTK_TOOLS_IRQBENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "bench.h"

_Noreturn void irqb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An idle hostk: `hostk run --stats -- hk-loop sleep MS`, its CPU time over
 * the middle of the sleep and the timer interrupts it took. */
struct idle {
	double seconds, window_s, window_cpu_s, whole_s, whole_cpu_s, slept_s;
	long interrupts, ticks;	/* hostk's timer interrupts and ticks (--stats); -1 unknown */
	bool schedstat;
};
void measure_idle(const char *self, const char *loop, int ms, struct idle *out);

/* The test device's path to a guest: `hostk run --device test=test --
 * hk-loop devwake N`, from each raise requested to the sleeper running
 * again; cmd gets the command line. */
void measure_wake(const char *self, const char *loop, int n, struct hist *out, char *cmd, size_t size);

/* The first number a run of argv prints; a run that fails or takes more
 * than timeout_s ends the bench.  No signals: this process's SIGALRM is
 * the timer interrupt's. */
double irqb_run_number(char *const argv[], unsigned timeout_s, const char *what);

#endif
