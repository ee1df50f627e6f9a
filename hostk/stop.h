/* The kernel loop: every ptrace report (trap, event, signal, exit) of every
 * guest task is collected here and handed to the code that owns it. */
#ifndef HOSTK_STOP_H
#define HOSTK_STOP_H

#include <signal.h>
#include <sys/types.h>

/* Set by the shutdown handler: the signal that asked hostk to stop. */
extern volatile sig_atomic_t shutdown_sig;
/* pid 1's host pid, for the shutdown handler (0 once it is gone). */
extern volatile pid_t init_host_pid;
/* Why pid 1's first program was refused (its image occupies the kernel
 * region's place), or "". */
extern char exec_refused[256];

/* Runs until no guest is left.  Returns pid 1's status as a shell shows it
 * (exit code, or 128+N for death by signal N). */
int kernel_loop(void);
/* Tells the interrupt controller where the loop waits (boot calls it). */
void kernel_loop_prepare(void);

#endif
