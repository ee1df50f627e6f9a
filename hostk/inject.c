/* Syscall injection.  At a syscall-exit stop the guest is about to return to
 * user mode; pointing its instruction pointer at a `syscall` instruction and
 * loading other registers makes it execute the syscall hostk chose, with the
 * guest's own credentials and address space.  Used by the /proc fence (to
 * close a descriptor the guest must not keep) and by the kernel region (to
 * map it into a freshly exec'd guest). */
#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "inject.h"

/* Wait for tk's next stop, leaving an exit report unconsumed for the loop. */
static int wait_stop(struct task *tk, int *status)
{
	siginfo_t si = { 0 };

	for (;;) {
		if (waitid(P_PID, (id_t)tk->tid, &si, WEXITED | WSTOPPED | WNOWAIT | __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -ESRCH;
		}
		if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
			return -ESRCH;
		if (waitpid(tk->tid, status, __WALL) == tk->tid)
			return 0;
		if (errno != EINTR)
			return -ESRCH;
	}
}

long inject_syscall(struct task *tk, const regs_t *regs, unsigned long insn, long nr, const unsigned long args[6])
{
	regs_t r = *regs;
	int status, pending_sig = 0;
	bool entered = false;

	r.rip = insn;
	r.rax = (unsigned long long)nr;
	for (int i = 0; i < 6; i++)
		reg_set_arg(&r, i, args[i]);
	if (ptrace(PTRACE_SETREGS, tk->tid, 0, &r) < 0 || ptrace(PTRACE_SYSCALL, tk->tid, 0, 0) < 0)
		return -ESRCH;
	/* Bounded: entry stop (or seccomp stop), then exit stop; a signal that
	 * arrives meanwhile is held back and sent again afterwards. */
	for (int steps = 0; steps < 16; steps++) {
		int sig;

		if (wait_stop(tk, &status) < 0)
			return -ESRCH;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80) && entered) {
			if (ptrace(PTRACE_GETREGS, tk->tid, 0, &r) < 0)
				return -ESRCH;
			if (pending_sig)
				tgkill(tk->proc->pid, tk->tid, pending_sig);
			return (long)r.rax;
		}
		if (sig == (SIGTRAP | 0x80) || status >> 16 == PTRACE_EVENT_SECCOMP)
			entered = true;
		else if (status >> 16 == 0 && sig != SIGTRAP)
			pending_sig = sig;
		if (ptrace(PTRACE_SYSCALL, tk->tid, 0, 0) < 0)
			return -ESRCH;
	}
	return -EIO;
}
