/* Trap entry and exit.  stop.c calls trap_seccomp() for every seccomp stop:
 * the registers become a trap frame, systab says what to do, the handler
 * runs, and the guest resumes either with hostk's result (the host syscall
 * skipped) or into the host syscall, with an exit stop when the handler must
 * see the result. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "kregion.h"
#include "policy.h"
#include "sched.h"
#include "../drivers/devices.h"
#include "../guest/include/hostk/hkcall.h"
#include "hkcall.h"
#include "trace.h"
#include "trap.h"
#include "util.h"

static void warn_unknown(long nr)
{
	static uint64_t warned[(NR_SYSCALLS + 63) / 64];

	if (nr >= 0 && nr < NR_SYSCALLS) {
		if (warned[nr / 64] & (1ull << (nr % 64)))
			return;
		warned[nr / 64] |= 1ull << (nr % 64);
		warn("syscall %s (%ld) is not supported yet: ENOSYS", systab[nr].name ? systab[nr].name : "?", nr);
	} else {
		warn_often("unknown syscall %ld: ENOSYS", nr);
	}
}

/* A process that installed its own filter can make traps of its own with
 * SECCOMP_RET_TRACE; natively, with no tracer, those fail with ENOSYS. */
static bool foreign_trap(struct task *tk)
{
	unsigned long msg = HK_SECCOMP_DATA;

	ptrace(PTRACE_GETEVENTMSG, tk->tid, 0, &msg);
	return msg != HK_SECCOMP_DATA;
}

static void account(struct trap *t, enum disp d, uint64_t t0)
{
	if (stats_fp)
		stats_trap(t->nr, now_ns() - t0, t->ret);
	if (trace_fp)
		trace_syscall(t->task, t->nr, t->arg, t->ret, d);
}

void trap_seccomp(struct task *tk)
{
	uint64_t t0 = now_ns();	/* for --stats and the watchdog */
	struct trap t = { .task = tk };
	const struct sysent *e;
	enum trap_action act;
	enum disp d;

	if (ptrace(PTRACE_GETREGS, tk->tid, 0, &t.regs) < 0)
		return;
	int krs = kr_begin();
	kr->traps++;
	kr->psw.mode = HK_MODE_KERNEL;	/* until sched resumes a guest */
	kr->psw.current = tk->proc->vpid;
	kr_end(krs);
	t.nr = reg_nr(&t.regs);
	for (int i = 0; i < 6; i++)
		t.arg[i] = reg_arg(&t.regs, i);
	e = sysent_of(t.nr);
	d = sys_disp(t.nr);
	memset(&tk->sys, 0, sizeof tk->sys);
	if (e && (e->flags & SY_BLOCK))
		t.wait = WAIT_BLOCK;
	/* A restart of an interrupted sleep is recognised by its caller's
	 * address; anything else in between ends that memory. */
	if (reg_ip(&t.regs) != tk->sleep_ip)
		tk->sleep_interrupted = false;

	if (unlikely(tk->proc->own_filter) && foreign_trap(tk)) {
		t.ret = -ENOSYS;
		act = TRAP_RETURN;
	} else if (t.nr == HK_CALL_NR) {
		act = hkcall(&t);	/* a device request */
		d = D_EMULATE;
	} else {
		switch (d) {
		case D_NONE:
			warn_unknown(t.nr);
			t.ret = -ENOSYS;
			act = TRAP_RETURN;
			break;
		case D_DENY:
			t.ret = -(long)policy_errno(t.nr);
			act = TRAP_RETURN;
			break;
		case D_KILL:
			warn_often("pid %d killed: syscall %s is disposition kill", tk->proc->vpid, e->name);
			trace_event(tk, "killed by policy: %s", e->name);
			kill(tk->proc->pid, SIGKILL);
			return;
		case D_FAST:	/* the filter allows these; nothing to do */
		case D_TRAP:	/* a policy wants to see it: the host runs it */
			act = TRAP_RUN;
			break;
		case D_EMULATE:
		case D_CHECK:
			act = e->enter(&t);
			break;
		case NR_DISP:
		default:
			act = TRAP_RUN;
			break;
		}
	}

	/* Rewritten arguments must be put back at exit; a trace wants results;
	 * a task that waits in the host comes back at the exit stop. */
	if (act == TRAP_RUN && (t.dirty || trace_fp || t.wait != WAIT_NONE))
		act = TRAP_RUN_EXIT;

	switch (act) {
	case TRAP_RETURN:
		reg_set_nr(&t.regs, -1);
		reg_set_ret(&t.regs, t.ret);
		ptrace(PTRACE_SETREGS, tk->tid, 0, &t.regs);
		account(&t, d, t0);
		sched_resume(tk, 0);
		break;
	case TRAP_RUN:
		if (stats_fp)
			stats_trap(t.nr, now_ns() - t0, 0);
		sched_resume(tk, 0);
		break;
	case TRAP_RUN_EXIT:
		if (t.dirty)
			ptrace(PTRACE_SETREGS, tk->tid, 0, &t.regs);
		tk->sys.nr = t.nr;
		memcpy(tk->sys.arg, t.arg, sizeof t.arg);
		tk->sys.t0 = t0;
		tk->sys.active = true;
		if (trace_fp && (t.nr == SYS_execve || t.nr == SYS_execveat || t.wait != WAIT_NONE)) {
			trace_entry(tk, t.nr, t.arg);
			tk->sys.entry_traced = true;
		}
		if (t.wait == WAIT_BLOCK)
			sched_block(tk);
		else if (t.wait == WAIT_SLEEP)
			sched_sleep(tk, t.deadline);
		else
			sched_resume(tk, 0);
		break;
	}
}

void trap_exit(struct task *tk)
{
	struct insys *s = &tk->sys;
	struct trap t = { .task = tk, .nr = s->nr };
	const struct sysent *e = sysent_of(s->nr);
	long host_ret;

	if (!s->active) {	/* a stray exit stop: nothing was waiting for it */
		sched_resume(tk, 0);
		return;
	}
	s->active = false;
	kregion_scratch_put(tk);
	if (ptrace(PTRACE_GETREGS, tk->tid, 0, &t.regs) < 0)
		return;
	memcpy(t.arg, s->arg, sizeof t.arg);
	t.ret = host_ret = reg_ret(&t.regs);
	if (s->dev)
		devices_exit(&t);	/* a driver's operation that slept */
	else if (e && e->exit)
		e->exit(&t);
	else if (s->nr == HK_CALL_NR)
		hkcall_exit(&t);
	if (s->regs_rewritten) {
		for (int i = 0; i < 6; i++)
			reg_set_arg(&t.regs, i, s->arg[i]);
		reg_set_nr(&t.regs, s->nr);
	}
	if (t.ret != host_ret)
		reg_set_ret(&t.regs, t.ret);
	if (s->regs_rewritten || t.ret != host_ret)
		ptrace(PTRACE_SETREGS, tk->tid, 0, &t.regs);
	account(&t, sys_disp(t.nr), s->t0);
	sched_syscall_done(tk);
}
