/* The kernel loop.  hostk sleeps in waitpid() for any guest task; each report
 * is one of: a trap (seccomp stop) or its exit stop, a clone, exec or group
 * stop event, a signal about to be delivered, or a task that ended.  Clone
 * children are held until both their parent's event and their own first stop
 * have been seen, so that their ids are fixed before either runs. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "exc.h"
#include "irq.h"
#include "kregion.h"
#include "sched.h"
#include "softirq.h"
#include "testdev.h"
#include "stop.h"
#include "sys/sys.h"
#include "trace.h"
#include "trap.h"
#include "uaccess.h"
#include "util.h"

volatile sig_atomic_t shutdown_sig;
volatile pid_t init_host_pid;

static int init_status = -1;	/* pid 1's wait status once it ended */
static bool killing;		/* pid 1 is gone: every other guest goes too */

static void kill_all_guests(void)
{
	for (struct task *t = tasks; t; t = t->next)
		kill(t->tid, SIGKILL);
}

/* A child's first stop, once its parent's clone event linked it: give it its
 * guest tid, then let it and its parent run. */
static void child_start(struct task *c)
{
	struct task *parent = c->held_parent;
	pid_t vtid = c->vtid;

	if (c->clone_flags & CLONE_CHILD_SETTID)
		copy_to_guest(c->tid, c->child_tid_addr, &vtid, sizeof vtid);
	if (trace_fp)
		trace_event(c, "%s of %d", (c->clone_flags & CLONE_THREAD) ? "thread" : "process",
			    parent ? parent->proc->vpid : 0);
	sched_resume(c, 0);
	if (parent) {
		c->held_parent = NULL;
		sched_resume(parent, 0);
	}
}

static void on_clone(struct task *parent, int event)
{
	unsigned long msg = 0, flags = 0, *s = parent->sys.scratch;
	struct task *c;

	if (ptrace(PTRACE_GETEVENTMSG, parent->tid, 0, &msg) < 0)
		return;
	if (parent->sys.active)
		flags = s[0];
	else if (event == PTRACE_EVENT_VFORK)
		flags = CLONE_VM | CLONE_VFORK;
	c = task_of((pid_t)msg);
	if (!c)
		c = task_embryo((pid_t)msg);
	task_link(c, parent, flags);
	c->child_tid_addr = s[2];
	if (flags & CLONE_PARENT_SETTID) {
		pid_t vtid = c->vtid;

		copy_to_guest(parent->tid, s[1], &vtid, sizeof vtid);
	}
	if (killing) {
		kill(c->tid, SIGKILL);
		return;
	}
	c->held_parent = parent;
	if (c->started)
		child_start(c);
}

static void on_exec(struct task *tk)
{
	unsigned long former = 0;

	ptrace(PTRACE_GETEVENTMSG, tk->tid, 0, &former);
	if ((pid_t)former != tk->tid) {
		struct task *execer = task_of((pid_t)former);

		if (execer)
			task_exec_takeover(tk, execer);
	}
	if (trace_fp)
		trace_event(tk, "exec");
	tk->map_kregion = true;
	sched_resume(tk, 0);
}

/* Signal ids name the sender or the child; the guest must see guest ids. */
static void on_signal(struct task *tk, int sig)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, tk->tid, 0, &si) == 0) {
		bool changed = !exc_seen(tk, &si) && siginfo_to_guest(&si);

		if (sig == SIGALRM)
			changed |= itimer_signal(tk->proc, &si);
		if (changed)
			ptrace(PTRACE_SETSIGINFO, tk->tid, 0, &si);
	}
	if (trace_fp)
		trace_event(tk, "signal %d (%s)", sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	sched_resume(tk, sig);
}

static void on_exit(pid_t tid, int status)
{
	struct task *tk = task_of(tid);
	struct proc *p;
	bool was_init;

	if (!tk) {
		/* A zombie whose guest parent died unreaped: hostk just reaped it. */
		if ((p = proc_by_pid(tid)) && p->exited)
			proc_reaped(p);
		return;
	}
	p = tk->proc;
	was_init = p && p == init_proc && tid == p->pid;
	if (trace_fp)
		trace_event(tk, WIFEXITED(status) ? "exit %d" : "killed by signal %d",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (tk->held_parent)
		sched_resume(tk->held_parent, 0);
	for (struct task *t = tasks; t; t = t->next)
		if (t->held_parent == tk)
			t->held_parent = NULL;
	sched_exit(tk);
	testdev_forget(tk);
	task_exit(tk);
	if (was_init) {
		init_status = status;
		init_host_pid = 0;
		killing = true;
		kill_all_guests();
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_stop(pid_t tid, int status)
{
	struct task *tk = task_of(tid);
	int sig = WSTOPSIG(status), event = status >> 16;

	if (!tk)
		tk = task_embryo(tid);	/* its parent's clone event is still to come */
	if (killing) {
		/* Dying tasks still stop once more, at PTRACE_EVENT_EXIT: let
		 * every stop go on into the kill. */
		kill(tid, SIGKILL);
		ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	}
	if (!tk->started) {
		tk->started = true;
		if (tk->linked)
			child_start(tk);
		return;
	}
	sched_stopped_for_hostk(tk);
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		trap_seccomp(tk);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		on_clone(tk, event);
		return;
	case PTRACE_EVENT_EXEC:
		on_exec(tk);
		return;
	case PTRACE_EVENT_EXIT:
		/* About to exit: its CPU is free now.  (A group leader's exit is
		 * reported only after its threads', too late to wait for.) */
		sched_exit(tk);
		ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) {
			/* Group stop: stay stopped, but let SIGCONT through. */
			if (trace_fp)
				trace_event(tk, "stopped (%s)", sigabbrev_np(sig));
			sched_stopped(tk);
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		} else {
			sched_interrupted(tk);	/* a preemption, a wake-up, or continued */
		}
		return;
	case 0:
		if (sig == (SIGTRAP | 0x80)) {
			if (tk->map_kregion) {
				tk->map_kregion = false;
				kregion_map(tk);
			}
			trap_exit(tk);
		} else
			on_signal(tk, sig);
		return;
	default:
		sched_resume(tk, 0);
		return;
	}
}

/* wait4(-1, status, __WALL) unless a bottom half is pending.  The check and
 * the syscall instruction form a window that a top half rewinds to its start
 * (irq.c), so an interrupt that lands after the check still wakes the loop:
 * the idle loop's classic race, closed without a syscall on the trap path. */
extern const char hk_wait_begin[], hk_wait_end[];

static __attribute__((noinline)) long wait_report(int *status)
{
	register long r10 __asm__("r10") = 0;
	long ret;

	__asm__ volatile(
		".globl hk_wait_begin\n"
		"hk_wait_begin:\n\t"
		"cmpl $0, %[pending]\n\t"
		"jne 1f\n\t"
		"movl %[nr], %%eax\n\t"
		".globl hk_wait_end\n"
		"hk_wait_end:\n\t"
		"syscall\n\t"
		"jmp 2f\n"
		"1:\tmovq %[eintr], %%rax\n"
		"2:"
		: "=a"(ret)
		: [pending] "m"(softirq_pending), [nr] "i"(SYS_wait4), [eintr] "i"(-EINTR),
		  "D"(-1L), "S"(status), "d"((long)__WALL), "r"(r10)
		: "rcx", "r11", "memory", "cc");
	return ret;
}

void kernel_loop_prepare(void)
{
	irq_set_idle_window((uintptr_t)hk_wait_begin, (uintptr_t)hk_wait_end);
}

int kernel_loop(void)
{
	for (;;) {
		int status;
		long tid;

		do_softirq();
		if (trace_fp)
			trace_interrupts();
		tid = wait_report(&status);
		if (tid < 0) {
			if (tid == -EINTR)
				continue;
			if (tid == -ECHILD)
				break;
			errno = (int)-tid;
			die_errno("waitpid");
		}
		if (WIFSTOPPED(status))
			on_stop((pid_t)tid, status);
		else if (WIFEXITED(status) || WIFSIGNALED(status))
			on_exit((pid_t)tid, status);
#ifndef NDEBUG
		/* OS/161's rule: no trap returns with the level still raised. */
		if (spl_current() != IPL_NONE)
			die("interrupt priority level %d left raised after a trap", spl_current());
#endif
		/* hostk has children that are not guests (the region's holder):
		 * done when pid 1 is gone and no guest is left to report. */
		if (killing && !tasks) {
			while (procs && waitpid(-1, &status, __WALL | WNOHANG) > 0)
				;
			break;
		}
	}
	if (init_status < 0)
		return 1;
	return WIFEXITED(init_status) ? WEXITSTATUS(init_status) : 128 + WTERMSIG(init_status);
}
