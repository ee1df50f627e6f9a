/* The bench's three minimal ptrace tracers, each the least a tracer does to
 * intercept one syscall (nr) of its guest:
 *   PTRACE_SYSCALL     a stop at the entry and at the exit of every syscall;
 *                      the host runs them all.
 *   PTRACE_SYSEMU      one stop at the entry of every syscall, which the host
 *                      then skips: nr is answered by the tracer (rax), any
 *                      other is rewound and taken again under PTRACE_SYSCALL
 *                      (two more stops: the skipped one's exit, the rewound
 *                      one's entry, resumed by SYSEMU, which lets it run), so
 *                      that the guest's start-up and its output still work.
 *   SECCOMP_RET_TRACE  a filter installed before exec stops the guest at nr
 *                      only (PTRACE_EVENT_SECCOMP); the host runs it.
 * bench.c forks a process for the tracer (pinned) that calls trace_ptrace. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "filter1.h"

#define REG(r) ((void *)offsetof(struct user_regs_struct, r))

/* In the guest, before exec: traced by its parent, and (RET_TRACE) the
 * filter that traps nr.  The SIGSTOP waits for the tracer's options. */
static _Noreturn void guest(enum ptrace_kind kind, long nr, char *const argv[])
{
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0 || raise(SIGSTOP) < 0)
		_exit(127);
	if (kind == TR_SECCOMP && filter1_install(nr, SECCOMP_RET_TRACE, 0) < 0) {
		fprintf(stderr, "hostk: bench: seccomp filter: %s\n", strerror(errno));
		_exit(127);
	}
	execv(argv[0], argv);
	fprintf(stderr, "hostk: bench: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* A PTRACE_SYSEMU stop.  nr gets its answer; any other syscall goes back to
 * its instruction (2 bytes) and is taken again, this time to run: true. */
static bool sysemu_stop(pid_t pid, long nr)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_PEEKUSER, pid, REG(orig_rax), 0) == nr) {
		ptrace(PTRACE_POKEUSER, pid, REG(rax), (long)getpid());	/* getppid's answer */
		return false;
	}
	if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
		return false;
	r.rip -= 2;
	r.rax = r.orig_rax;
	ptrace(PTRACE_SETREGS, pid, 0, &r);
	return true;
}

int trace_ptrace(enum ptrace_kind kind, long nr, char *const argv[])
{
	long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC;
	int status, sig = 0, req = kind == TR_SYSCALL ? PTRACE_SYSCALL : kind == TR_SYSEMU ? PTRACE_SYSEMU : PTRACE_CONT;
	int next = req;
	int rerun = 0;		/* SYSEMU: stops left before a rewound syscall runs */
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		guest(kind, nr, argv);
	if (kind == TR_SECCOMP)
		opts |= PTRACE_O_TRACESECCOMP;
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status) || ptrace(PTRACE_SETOPTIONS, pid, 0, opts) < 0) {
		fprintf(stderr, "hostk: bench: cannot trace the guest: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		return -1;
	}
	for (;;) {
		if (ptrace(next, pid, 0, sig) < 0 && errno != ESRCH)
			return -1;
		if (waitpid(pid, &status, __WALL) < 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return status;
		next = req;
		sig = 0;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {	/* a syscall stop */
			if (kind != TR_SYSEMU)
				continue;
			if (rerun)	/* the skipped one's exit, then the rewound one's entry */
				next = --rerun ? PTRACE_SYSCALL : PTRACE_SYSEMU;
			else if (sysemu_stop(pid, nr)) {
				rerun = 2;
				next = PTRACE_SYSCALL;
			}
		} else if (WSTOPSIG(status) != SIGTRAP) {
			sig = WSTOPSIG(status);	/* a signal for the guest: deliver it */
		}
		/* Else an exec or seccomp event: nothing to do but resume. */
	}
}
