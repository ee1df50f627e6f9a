/* The kernel loop.  hostk sleeps in waitpid() for any guest task; each report
 * is one of: a trap (seccomp stop) or its exit stop, a clone, exec or group
 * stop event, a signal about to be delivered, or a task that ended.  A new
 * task's first report is its own first stop (its parent's clone event may
 * come before or after it, or never, if the parent dies first): it is
 * registered then, from what the host says of it, and scheduled. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "exc.h"
#include "irq.h"
#include "kregion.h"
#include "ktimer.h"
#include "policy.h"
#include "sched.h"
#include "softirq.h"
#include "../drivers/devices.h"
#include "stop.h"
#include "sys/sys.h"
#include "trace.h"
#include "trap.h"
#include "uaccess.h"
#include "util.h"

volatile sig_atomic_t shutdown_sig;
volatile pid_t init_host_pid;
char exec_refused[256];		/* why pid 1's first program could not run */

static int init_status = -1;	/* pid 1's wait status once it ended */
static int init_fault;		/* the exception that ended pid 1, if one did */
static bool killing;		/* pid 1 is gone: the host takes the namespace down */
static bool first_exec = true;

static void kill_all_guests(void)
{
	for (struct task *t = tasks; t; t = t->next)
		kill(t->tid, SIGKILL);
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

/* The execve's exit stop: the new image gets the kernel region, or does
 * not run at all. */
static void exec_done(struct task *tk)
{
	char why[256];
	bool first = first_exec;	/* PROG's: pid 1's, or pid 2's under --init */

	tk->map_kregion = false;
	first_exec = false;
	if (kregion_map(tk, why, sizeof why) == 0)
		return;
	trace_event(tk, "exec refused: %s", why);
	if (first)
		snprintf(exec_refused, sizeof exec_refused, "%s", why);
	else
		warn_often("pid %d killed: its new program has no kernel region: %s", tk->proc->vpid, why);
	kill(tk->proc->pid, SIGKILL);
}

/* hostk lets a task go, stopped (--on-exception=stop): a debugger may
 * attach once hostk is no longer its tracer.  It stays in the guests'
 * namespaces, under their filter. */
static void let_go(struct task *tk)
{
	ptrace(PTRACE_DETACH, tk->tid, 0, SIGSTOP);
	sched_exit(tk);
	devices_forget(tk);
	kregion_scratch_put(tk);
	task_exit(tk);
}

/* --on-exception=kill|stop, for the exception a task just took. */
static void exc_act(struct task *tk, int sig)
{
	struct proc *p = tk->proc;

	if (exc_action == EXC_KILL) {
		warn_often("pid %d killed by its exception (signal %d): --on-exception=kill", p->vpid, sig);
		kill(p->pid, SIGKILL);
		sched_resume(tk, 0);
		return;
	}
	warn_often("pid %d (host pid %d) is stopped at its exception (signal %d) and no longer traced: "
		   "attach a debugger with 'gdb -p %d', or end it with 'kill -KILL %d'", p->vpid, p->pid, sig, p->pid, p->pid);
	p->let_go = true;
	kill(p->pid, SIGSTOP);	/* its other threads stop too, and go as they report */
	let_go(tk);
}

/* Signal ids are the guests' own already; hostk's business is exceptions
 * and its own alarms. */
static void on_signal(struct task *tk, int sig)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, tk->tid, 0, &si) == 0) {
		bool exc = exc_seen(tk, &si);

		if (exc && exc_action != EXC_DELIVER) {
			exc_act(tk, sig);
			return;
		}
		/* A fault pid 1 has no handler for kills an untraced init; a
		 * traced one the host keeps alive, faulting for ever (it does
		 * not clear an init's SIGNAL_UNKILLABLE under ptrace).  So hostk
		 * ends it, and reports the fault as what it died of. */
		if (exc && tk->proc == init_proc && !sig_caught(tk->tid, sig)) {
			init_fault = sig;
			trace_event(tk, "pid 1 killed by its exception (signal %d)", sig);
			kill(tk->proc->pid, SIGKILL);
			sched_resume(tk, 0);
			return;
		}
		if (sig == SIGALRM && itimer_signal(tk->proc, &si))
			ptrace(PTRACE_SETSIGINFO, tk->tid, 0, &si);
	}
	if (trace_fp)
		trace_event(tk, "signal %d (%s)", sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	sched_resume(tk, sig);
}

static void on_end(pid_t tid, int status)
{
	struct task *tk = task_of(tid);
	bool was_init;

	if (!tk)
		return;		/* never seen stopped: nothing of it to forget */
	was_init = tk->proc == init_proc && tid == tk->proc->pid;
	if (trace_fp)
		trace_event(tk, WIFEXITED(status) ? "exit %d" : "killed by signal %d",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	sched_exit(tk);
	devices_forget(tk);
	kregion_scratch_put(tk);
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

	if (killing) {
		/* Dying tasks may still stop once more, at PTRACE_EVENT_EXIT:
		 * let every stop go on into the kill. */
		kill(tid, SIGKILL);
		ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	}
	if (!tk) {
		/* A new task.  Its first report is the stop ptrace gives every
		 * auto-attached child; then it is ready to run once it has a CPU. */
		tk = task_new(tid);
		if (trace_fp)
			trace_event(tk, "%s %d", tk->proc->pid == tid ? "new process, parent" : "new thread of",
				    tk->proc->pid == tid ? (tk->proc->parent ? tk->proc->parent->vpid : 0) :
				    tk->proc->vpid);
		if (event == PTRACE_EVENT_STOP && !is_stop_signal(sig)) {
			sched_resume(tk, 0);
			return;
		}
	}
	if (tk->proc->let_go) {
		let_go(tk);
		return;
	}
	sched_stopped_for_hostk(tk);
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		trap_seccomp(tk);
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
			if (tk->map_kregion)
				exec_done(tk);
			trap_exit(tk);
		} else {
			on_signal(tk, sig);
		}
		return;
	default:
		/* A clone, fork or vfork event: the child registers itself. */
		sched_resume(tk, 0);
		return;
	}
}

/* wait4(-1, status, __WALL) unless a bottom half is pending.  The check and
 * the syscall instruction form a window that a top half rewinds to its start
 * (irq.c), so an interrupt that lands after the check still wakes the loop:
 * the idle loop's classic race, closed without a syscall on the trap path.
 * The window writes rax (the syscall number), so no input may live there
 * (the early clobber): a rewind would find the address of softirq_pending
 * replaced by SYS_wait4, and the loop would fault on its own check. */
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
		: "=&a"(ret)
		: [pending] "m"(softirq_pending), [nr] "i"(SYS_wait4), [eintr] "i"(-EINTR),
		  "D"(-1L), "S"(status), "d"((long)__WALL), "r"(r10)
		: "rcx", "r11", "memory", "cc");
	return ret;
}

/* The policy's CPU limit is for the guests together: past it, they all go. */
static struct ktimer budget;

static void check_budget(struct ktimer *kt)
{
	uint64_t used = sched_cpu_ns();

	if (used < limits.cpu_s * NSEC_PER_SEC) {
		ktimer_add(kt, now_ns() + NSEC_PER_SEC / 10);
		return;
	}
	warn("the guests used their %lu s of CPU (the policy's limit cpu): killed", limits.cpu_s);
	if (init_host_pid > 0)
		kill(init_host_pid, SIGKILL);	/* and with pid 1, its whole namespace */
}

void kernel_loop_prepare(void)
{
	irq_set_idle_window((uintptr_t)hk_wait_begin, (uintptr_t)hk_wait_end);
	if (limits.cpu_s) {
		budget.fn = check_budget;
		ktimer_add(&budget, now_ns() + NSEC_PER_SEC / 10);
	}
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
			on_end((pid_t)tid, status);
#ifndef NDEBUG
		/* OS/161's rule: no trap returns with the level still raised. */
		if (spl_current() != IPL_NONE)
			die("interrupt priority level %d left raised after a trap", spl_current());
#endif
	}
	if (init_status < 0)
		return 1;
	if (init_fault)
		return 128 + init_fault;
	return WIFEXITED(init_status) ? WEXITSTATUS(init_status) : 128 + WTERMSIG(init_status);
}
