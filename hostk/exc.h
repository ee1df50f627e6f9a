/* Exceptions: the faults a guest's own instructions cause (exc.c). */
#ifndef HOSTK_EXC_H
#define HOSTK_EXC_H

#include <signal.h>
#include <stdbool.h>

#include "../guest/include/hostk/kregion.h"

struct task;

/* What the CPU (and the host kernel for it) said, as a teaching kernel
 * names it.  The region shows a count of each (HK_MAX_EXC at most). */
enum exc_kind {
	EXC_DIVIDE,		/* #DE: integer divide by zero or overflow */
	EXC_FLOAT,		/* #MF/#XM: a floating-point exception unmasked */
	EXC_OPCODE,		/* #UD: invalid opcode (ud2, an unknown instruction) */
	EXC_PRIVILEGED,		/* #GP from a privileged instruction (hlt, cli, in, rdmsr, mov to cr...) */
	EXC_GP,			/* #GP otherwise (a non-canonical address...) */
	EXC_BREAKPOINT,		/* #BP: int3, or a hardware breakpoint */
	EXC_STEP,		/* #DB: a single step (the trap flag) */
	EXC_UNMAPPED,		/* #PF on an address nothing is mapped at */
	EXC_PROTECTION,		/* #PF against a mapping's protection (or its protection key) */
	EXC_KREGION,		/* #PF on the kernel region: the fence */
	EXC_STACK,		/* #PF past the stack: a stack overflow */
	EXC_BUS,		/* SIGBUS: a page with nothing behind it (past a file's end) */
	EXC_ALIGN,		/* #AC or an SSE access that must be aligned */
	NR_EXC
};
_Static_assert(NR_EXC <= HK_MAX_EXC, "the kernel region shows every exception kind");
extern const char *const exc_names[NR_EXC];

/* --on-exception: what hostk does with a guest's exception. */
enum exc_action {
	EXC_DELIVER,		/* as Linux does: the guest's handler, or its death */
	EXC_KILL,		/* the process is killed (SIGKILL), with a report */
	EXC_STOP,		/* the process is stopped and let go, for a debugger to attach */
	NR_EXC_ACTIONS
};
extern enum exc_action exc_action;
extern const char *const exc_action_names[NR_EXC_ACTIONS];

/* A signal-delivery stop: if it is an exception, classify it, count it and
 * trace it.  Returns true for an exception. */
bool exc_seen(struct task *tk, const siginfo_t *si);

#endif
