/* Process creation, waiting and exec.  Ids need no translation (the guests'
 * pid namespace gives them); what hostk still does here: keep every new
 * task traced (no CLONE_UNTRACED) and in the guests' namespaces, let a
 * vfork parent and a waiting parent give up their CPU, and hand a reaped
 * child's times to its parent, as wait(2) does. */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kregion.h"
#include "../policy.h"
#include "../trace.h"
#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

/* The policy's task limit, for the whole tree.  The host enforces it too
 * (RLIMIT_NPROC, counted per user in the guests' user namespace), but not
 * for a guest that is the host's root (--host-root): so hostk counts. */
static bool over_task_limit(struct trap *t)
{
	if (!limits.tasks || (unsigned long)ntasks < limits.tasks)
		return false;
	t->ret = -EAGAIN;
	return true;
}

enum trap_action sys_fork(struct trap *t)
{
	return over_task_limit(t) ? TRAP_RETURN : TRAP_RUN;
}

enum trap_action sys_clone(struct trap *t)
{
	unsigned long flags = t->arg[0];

	if (over_task_limit(t) || (t->ret = clone_flags_check(flags)))
		return TRAP_RETURN;
	/* In a register: the host runs with exactly the flags checked here. */
	if (flags & CLONE_UNTRACED)
		trap_set_arg(t, 0, flags & ~(unsigned long)CLONE_UNTRACED);
	if (flags & CLONE_VFORK)
		t->wait = WAIT_BLOCK;	/* the parent waits for the child's exec or exit */
	return TRAP_RUN;
}

/* clone3's flags are in guest memory, where a sibling thread could change
 * them between hostk's check and the host's read.  So the host reads
 * hostk's own copy instead, in a scratch slot of the kernel region, which
 * no guest can write (every exec checks that what is in the region's place
 * is hostk's memfd: kregion_map).  The child's first argument register is
 * left pointing at the slot. */
enum trap_action sys_clone3(struct trap *t)
{
	union {
		struct clone_args ca;
		unsigned char b[HK_SCRATCH_SLOT];
	} u = { 0 };
	size_t size = t->arg[1];
	unsigned long copy;

	if (over_task_limit(t))
		return TRAP_RETURN;
	if (size < CLONE_ARGS_SIZE_VER0)
		return TRAP_RUN;	/* EINVAL from the host */
	if (size > sizeof u) {
		t->ret = -E2BIG;
		return TRAP_RETURN;
	}
	if (copy_from_guest(t->task->tid, u.b, t->arg[0], size) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	if ((t->ret = clone_flags_check(u.ca.flags)))
		return TRAP_RETURN;
	u.ca.flags &= ~(uint64_t)CLONE_UNTRACED;
	if (!(copy = kregion_scratch(t->task, u.b, size))) {
		t->ret = -EAGAIN;	/* every slot in use: try again, as for a fork */
		return TRAP_RETURN;
	}
	trap_set_arg(t, 0, copy);
	if (u.ca.flags & CLONE_VFORK)
		t->wait = WAIT_BLOCK;
	return TRAP_RUN_EXIT;
}

enum trap_action sys_vfork(struct trap *t)
{
	if (over_task_limit(t))
		return TRAP_RETURN;
	t->wait = WAIT_BLOCK;
	return TRAP_RUN;
}

/* wait4 and waitid may block: they give up the CPU (the row says so).  At
 * their exit, a child reaped dead adds its times to the caller's. */
enum trap_action sys_wait(struct trap *t)
{
	(void)t;
	return TRAP_RUN_EXIT;
}

void sys_wait4_exit(struct trap *t)
{
	int status;

	if (t->ret <= 0)
		return;
	/* Only a dead child is gone; a stopped or continued one stays.  (The
	 * status is read for hostk's accounting only.) */
	if (!t->arg[1] || copy_from_guest(t->task->tid, &status, t->arg[1], sizeof status) < 0 ||
	    WIFEXITED(status) || WIFSIGNALED(status))
		proc_reaped(t->task->proc, (pid_t)t->ret);
}

void sys_waitid_exit(struct trap *t)
{
	siginfo_t si;

	if (t->ret != 0 || !t->arg[2] || (t->arg[3] & WNOWAIT) ||
	    copy_from_guest(t->task->tid, &si, t->arg[2], sizeof si) < 0 || si.si_pid <= 0)
		return;
	if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
		proc_reaped(t->task->proc, si.si_pid);
}

enum trap_action sys_execve(struct trap *t)
{
	(void)t;
	return TRAP_RUN;	/* the exec event does the work */
}
