/* Process identity, groups and sessions, creation, waiting, exec.  Ids the
 * guest passes in are guest ids and are translated before the host sees
 * them; ids the host hands back are translated before the guest sees them. */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

static struct proc *target_proc(struct trap *t, pid_t vpid)
{
	return vpid == 0 ? t->task->proc : proc_by_vpid(vpid);
}

enum trap_action sys_getpid(struct trap *t)
{
	t->ret = t->task->proc->vpid;
	return TRAP_RETURN;
}

enum trap_action sys_getppid(struct trap *t)
{
	struct proc *parent = t->task->proc->parent;

	t->ret = parent ? parent->vpid : 0;
	return TRAP_RETURN;
}

enum trap_action sys_gettid(struct trap *t)
{
	t->ret = t->task->vtid;
	return TRAP_RETURN;
}

/* The host knows groups and sessions best; hostk only renames them. */
static enum trap_action ask_host(struct trap *t, pid_t (*get)(pid_t), pid_t vpid)
{
	struct proc *p = target_proc(t, vpid);
	pid_t id;

	if (!p || (int)t->arg[0] < 0) {
		t->ret = -ESRCH;
		return TRAP_RETURN;
	}
	id = get(p->pid);
	t->ret = id < 0 ? -errno : pid_to_guest(id);
	return TRAP_RETURN;
}

enum trap_action sys_getpgid(struct trap *t) { return ask_host(t, getpgid, (pid_t)t->arg[0]); }
enum trap_action sys_getsid(struct trap *t) { return ask_host(t, getsid, (pid_t)t->arg[0]); }

enum trap_action sys_getpgrp(struct trap *t)
{
	t->ret = pid_to_guest(getpgid(t->task->proc->pid));
	return TRAP_RETURN;
}

enum trap_action sys_setpgid(struct trap *t)
{
	pid_t pid = (pid_t)t->arg[0], pgid = (pid_t)t->arg[1];

	if (pid < 0 || pgid < 0)
		return TRAP_RUN;	/* EINVAL from the host */
	if (pid && pid_to_host(pid) < 0) {
		t->ret = -ESRCH;
		return TRAP_RETURN;
	}
	if (pgid && pid_to_host(pgid) < 0) {
		t->ret = -EPERM;	/* no such group in this guest's world */
		return TRAP_RETURN;
	}
	if (pid)
		trap_set_arg(t, 0, (unsigned long)pid_to_host(pid));
	if (pgid)
		trap_set_arg(t, 1, (unsigned long)pid_to_host(pgid));
	return TRAP_RUN_EXIT;
}

void sys_setpgid_exit(struct trap *t)
{
	struct proc *p = target_proc(t, (pid_t)t->arg[0]);

	if (t->ret == 0 && p)
		proc_set_pgid(p, t->arg[1] ? pid_to_host((pid_t)t->arg[1]) : p->pid);
}

enum trap_action sys_setsid(struct trap *t)
{
	(void)t;
	return TRAP_RUN_EXIT;
}

void sys_setsid_exit(struct trap *t)
{
	if (t->ret < 0)
		return;
	proc_set_sid(t->task->proc);
	t->ret = t->task->proc->vpid;
}

/* Namespaces would give guests ids hostk cannot see; CLONE_UNTRACED would
 * give them children hostk cannot see. */
static long clone_flags_check(unsigned long flags)
{
	return (flags & CLONE_NS_FLAGS) ? -EPERM : 0;
}

enum trap_action sys_clone(struct trap *t)
{
	unsigned long flags = t->arg[0];

	if ((t->ret = clone_flags_check(flags)))
		return TRAP_RETURN;
	if (flags & CLONE_UNTRACED)
		trap_set_arg(t, 0, flags & ~(unsigned long)CLONE_UNTRACED);
	if (flags & CLONE_VFORK)
		t->wait = WAIT_BLOCK;	/* the parent waits for the child's exec or exit */
	t->task->sys.scratch[0] = flags;
	t->task->sys.scratch[1] = t->arg[2];	/* parent_tid */
	t->task->sys.scratch[2] = t->arg[3];	/* child_tid */
	return TRAP_RUN_EXIT;
}

enum trap_action sys_clone3(struct trap *t)
{
	struct clone_args ca;

	if (t->arg[1] < CLONE_ARGS_SIZE_VER0 ||
	    copy_from_guest(t->task->tid, &ca, t->arg[0], CLONE_ARGS_SIZE_VER0) < 0)
		return TRAP_RUN_EXIT;	/* the host says EINVAL or EFAULT */
	memset((char *)&ca + CLONE_ARGS_SIZE_VER0, 0, sizeof ca - CLONE_ARGS_SIZE_VER0);
	if (t->arg[1] >= CLONE_ARGS_SIZE_VER1 &&
	    copy_from_guest(t->task->tid, &ca.set_tid, t->arg[0] + CLONE_ARGS_SIZE_VER0, 16) < 0)
		return TRAP_RUN_EXIT;
	if ((t->ret = clone_flags_check(ca.flags)))
		return TRAP_RETURN;
	if ((ca.flags & CLONE_UNTRACED) || ca.set_tid_size) {
		t->ret = -EPERM;
		return TRAP_RETURN;
	}
	if (ca.flags & CLONE_VFORK)
		t->wait = WAIT_BLOCK;
	t->task->sys.scratch[0] = ca.flags;
	t->task->sys.scratch[1] = ca.parent_tid;
	t->task->sys.scratch[2] = ca.child_tid;
	return TRAP_RUN_EXIT;
}

enum trap_action sys_fork(struct trap *t)
{
	t->task->sys.scratch[0] = t->nr == SYS_vfork ? CLONE_VM | CLONE_VFORK : 0;
	if (t->nr == SYS_vfork)
		t->wait = WAIT_BLOCK;
	return TRAP_RUN_EXIT;
}

void sys_clone_exit(struct trap *t)
{
	if (t->ret > 0)
		t->ret = pid_to_guest((pid_t)t->ret);
}

/* A wait target: pid > 0 is a child, pid < -1 a group. */
static enum trap_action wait_target(struct trap *t, int i, long id, bool group)
{
	pid_t h = pid_to_host((pid_t)id);

	if (h < 0) {
		t->ret = -ECHILD;
		return TRAP_RETURN;
	}
	trap_set_arg(t, i, (unsigned long)(group ? -h : h));
	return TRAP_RUN_EXIT;
}

enum trap_action sys_wait4(struct trap *t)
{
	pid_t pid = (pid_t)t->arg[0];

	if (pid > 0)
		return wait_target(t, 0, pid, false);
	if (pid < -1)
		return wait_target(t, 0, -pid, true);
	return TRAP_RUN_EXIT;
}

static void reaped(pid_t h)
{
	struct proc *p = proc_by_pid(h);

	if (p)
		proc_reaped(p);
}

void sys_wait4_exit(struct trap *t)
{
	pid_t h = (pid_t)t->ret;
	int status;

	if (h <= 0)
		return;
	t->ret = pid_to_guest(h);
	/* Only a dead child is gone; a stopped or continued one stays. */
	if (!t->arg[1] || copy_from_guest(t->task->tid, &status, t->arg[1], sizeof status) < 0 ||
	    WIFEXITED(status) || WIFSIGNALED(status))
		reaped(h);
}

enum trap_action sys_waitid(struct trap *t)
{
	int idtype = (int)t->arg[0];

	if (idtype == P_PID)
		return wait_target(t, 1, (pid_t)t->arg[1], false);
	if (idtype == P_PGID && (pid_t)t->arg[1] > 0)
		return wait_target(t, 1, (pid_t)t->arg[1], false);
	return TRAP_RUN_EXIT;
}

void sys_waitid_exit(struct trap *t)
{
	siginfo_t si;
	pid_t tid = t->task->tid, h;

	if (t->ret != 0 || !t->arg[2] || copy_from_guest(tid, &si, t->arg[2], sizeof si) < 0)
		return;
	h = si.si_pid;
	if (h <= 0)
		return;		/* WNOHANG and nothing ready */
	si.si_pid = pid_to_guest(h);
	copy_to_guest(tid, t->arg[2] + offsetof(siginfo_t, si_pid), &si.si_pid, sizeof si.si_pid);
	if (!(t->arg[3] & WNOWAIT) &&
	    (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED))
		reaped(h);
}

enum trap_action sys_execve(struct trap *t)
{
	(void)t;
	return TRAP_RUN;	/* the exec event does the work */
}

enum trap_action sys_set_tid_address(struct trap *t)
{
	(void)t;
	return TRAP_RUN_EXIT;
}

void sys_ret_tid_exit(struct trap *t)
{
	if (t->ret > 0)
		t->ret = t->task->vtid;
}

/* Every guest is already traced by hostk, so natively, too, attaching fails:
 * EPERM for a guest, ESRCH for anything else (it does not exist here). */
enum trap_action sys_ptrace(struct trap *t)
{
	long req = (long)t->arg[0];
	pid_t pid = (pid_t)t->arg[1];

	if (req == PTRACE_TRACEME)
		t->ret = -EPERM;
	else if (pid_to_host(pid) <= 0)
		t->ret = -ESRCH;
	else
		t->ret = (req == PTRACE_ATTACH || req == PTRACE_SEIZE) ? -EPERM : -ESRCH;
	return TRAP_RETURN;
}

enum trap_action sys_unshare(struct trap *t)
{
	if ((t->ret = clone_flags_check(t->arg[0])))
		return TRAP_RETURN;
	return TRAP_RUN;
}
