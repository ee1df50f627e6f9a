/* Syscall injection.  At a syscall-exit stop the guest is about to return to
 * user mode; pointing its instruction pointer at a `syscall` instruction and
 * loading other registers makes it execute the syscall hostk chose, with the
 * guest's own credentials and address space.  The kernel region uses it to
 * map itself into a freshly exec'd guest: the notification gate puts the
 * region's descriptor in, then mmap and close. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "filter.h"
#include "inject.h"
#include "../guest/include/hostk/hkcall.h"

#define ERESTART_FIRST 512	/* the kernel's restart codes: -512..-516 */
#define ERESTART_LAST 516

/* Is a report (a stop or the end) waiting for tk?  Left unconsumed. */
static bool report_pending(struct task *tk, bool *dead)
{
	siginfo_t si = { 0 };

	*dead = false;
	if (waitid(P_PID, (id_t)tk->tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0) {
		*dead = true;
		return true;
	}
	*dead = si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
	return si.si_pid != 0;
}

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

/* The gate's side of the injected marker, which is now waiting for its
 * notification: install fd in the guest as the answer (1), and answer any
 * stray notification with ENOSYS.  0: a stop of tk came first (a signal
 * cut the wait short): the caller handles it and asks again.  Bounded. */
static int gate = -1;

void inject_set_gate(int listener)
{
	gate = listener;
}

/* How the gate installs a descriptor: where, and with what flags. */
struct install {
	int fd, target;
	bool cloexec;
};

static int answer_gate(struct task *tk, int listener, const struct install *in, long *result)
{
	for (int waits = 0; waits < 100; waits++) {
		struct pollfd pfd = { .fd = listener, .events = POLLIN };
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		bool dead;

		if (poll(&pfd, 1, 50) <= 0) {
			if (report_pending(tk, &dead))
				return dead ? -ESRCH : 0;
			continue;
		}
		memset(&req, 0, sizeof req);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			continue;	/* withdrawn meanwhile (a signal or a kill) */
		if ((pid_t)req.pid == tk->tid && req.data.nr == HK_CALL_NR && req.data.args[0] == HK_OP_GATE &&
		    req.data.args[1] == filter_cookie) {
			struct seccomp_notif_addfd add = {
				.id = req.id, .srcfd = (uint32_t)in->fd, .newfd_flags = in->cloexec ? O_CLOEXEC : 0,
				.flags = SECCOMP_ADDFD_FLAG_SEND | (in->target >= 0 ? SECCOMP_ADDFD_FLAG_SETFD : 0),
				.newfd = in->target >= 0 ? (uint32_t)in->target : 0,
			};

			*result = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
			if (*result < 0) {	/* e.g. its descriptor table is full: say so */
				*result = -errno;
				resp = (struct seccomp_notif_resp){ .id = req.id, .error = (int32_t)*result };
				ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
			}
			return 1;
		}
		resp = (struct seccomp_notif_resp){ .id = req.id, .error = -ENOSYS };
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	return -ETIMEDOUT;
}

/* Run the loaded syscall from its entry to its exit stop, answering the
 * gate on the way if listener >= 0.  A signal that arrives meanwhile is
 * held back and sent again afterwards.  Returns the guest's result. */
static long run_injected(struct task *tk, const struct install *in)
{
	int status, pending_sig = 0, asked = 0;
	long result = 0;

	if (ptrace(PTRACE_SYSCALL, tk->tid, 0, 0) < 0)
		return -ESRCH;
	for (int steps = 0; steps < 16; steps++) {
		struct __ptrace_syscall_info info;
		int sig;

		if (wait_stop(tk, &status) < 0)
			return -ESRCH;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80) &&
		    ptrace(PTRACE_GET_SYSCALL_INFO, tk->tid, sizeof info, &info) > 0 &&
		    info.op == PTRACE_SYSCALL_INFO_EXIT) {
			if (pending_sig)
				tgkill(tk->proc->pid, tk->tid, pending_sig);
			if (info.exit.rval <= -ERESTART_FIRST && info.exit.rval >= -ERESTART_LAST)
				return -EINTR;	/* cut short: the caller may try again */
			return asked > 0 ? result : info.exit.rval;
		}
		if (status >> 16 == 0 && sig != SIGTRAP && sig != (SIGTRAP | 0x80))
			pending_sig = sig;
		if (ptrace(PTRACE_SYSCALL, tk->tid, 0, 0) < 0)
			return -ESRCH;
		/* Past its entry stop, the marker waits for its notification. */
		if (in && asked <= 0 && sig == (SIGTRAP | 0x80) && (asked = answer_gate(tk, gate, in, &result)) < 0)
			return asked;
	}
	return -EIO;
}

static int load(struct task *tk, const regs_t *regs, unsigned long insn, long nr, const unsigned long args[6])
{
	regs_t r = *regs;

	r.rip = insn;
	r.rax = (unsigned long long)nr;
	for (int i = 0; i < 6; i++)
		reg_set_arg(&r, i, args[i]);
	return ptrace(PTRACE_SETREGS, tk->tid, 0, &r) < 0 ? -ESRCH : 0;
}

long inject_syscall(struct task *tk, const regs_t *regs, unsigned long insn, long nr, const unsigned long args[6])
{
	return load(tk, regs, insn, nr, args) < 0 ? -ESRCH : run_injected(tk, NULL);
}

long inject_fd(struct task *tk, const regs_t *regs, unsigned long insn, int fd, int target, bool cloexec)
{
	const unsigned long args[6] = { HK_OP_GATE, filter_cookie };
	const struct install in = { fd, target, cloexec };

	if (gate < 0)
		return -ENOSYS;
	return load(tk, regs, insn, HK_CALL_NR, args) < 0 ? -ESRCH : run_injected(tk, &in);
}
