/* Exceptions.  A divide by zero, a bad access, an illegal or breakpoint
 * instruction reaches hostk as a signal-delivery stop before the guest sees
 * the signal; hostk classifies it, counts it and traces it, then delivers it
 * unchanged, so the guest handles it or dies of it exactly as it would
 * natively. */
#include <stdio.h>

#include "exc.h"
#include "kregion.h"
#include "task.h"
#include "trace.h"

static const char *exc_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "page fault";
	case SIGBUS: return "bus error";
	case SIGFPE: return "arithmetic fault";
	case SIGILL: return "illegal instruction";
	case SIGTRAP: return "breakpoint";
	default: return NULL;
	}
}

bool exc_seen(struct task *tk, const siginfo_t *si)
{
	const char *what = exc_name(si->si_signo);

	/* si_code > 0: raised by the CPU, not sent by a process. */
	if (!what || si->si_code <= 0)
		return false;
	stats_exception(si->si_signo);
	int krs = kr_begin();
	kr->exceptions++;
	kr_end(krs);
	if (si->si_signo == SIGSEGV && kregion_overlaps((unsigned long)si->si_addr, 1)) {
		fence_report(tk, "protection fault in the kernel region at %p", si->si_addr);
		return true;
	}
	if (trace_fp)
		trace_event(tk, "exception: %s (signal %d, code %d) at %p", what, si->si_signo,
			    si->si_code, si->si_addr);
	return true;
}
