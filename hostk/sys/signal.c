/* Signals addressed by pid.  A guest can reach only guests: its ids are
 * translated, an id with no guest behind it does not exist (ESRCH), and
 * kill(-1) is hostk's own loop over the guest processes. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>

#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

bool siginfo_to_guest(siginfo_t *si)
{
	pid_t v;

	/* Only ids the host filled in: a sender's (kill, tkill, a message
	 * queue) or a child's.  A queued siginfo says what its guest sender
	 * wrote, which is a guest id already. */
	if (si->si_code != SI_USER && si->si_code != SI_TKILL && si->si_code != SI_MESGQ &&
	    !(si->si_signo == SIGCHLD && si->si_code > 0))
		return false;
	v = pid_to_guest(si->si_pid);
	if (v == si->si_pid)
		return false;
	si->si_pid = v;
	return true;
}

/* A signal taken by sigtimedwait is never delivered, so no delivery stop
 * translates it: its siginfo is fixed here instead. */
enum trap_action sys_sigtimedwait(struct trap *t)
{
	return t->arg[1] ? TRAP_RUN_EXIT : TRAP_RUN;
}

void sys_sigtimedwait_exit(struct trap *t)
{
	siginfo_t si;

	if (t->ret > 0 && copy_from_guest(t->task->tid, &si, t->arg[1], sizeof si) == 0 && siginfo_to_guest(&si))
		copy_to_guest(t->task->tid, t->arg[1] + offsetof(siginfo_t, si_pid), &si.si_pid, sizeof si.si_pid);
}

/* Translate argument i, a pid (or a group when negative); ESRCH if unknown. */
static bool xlate_arg(struct trap *t, int i)
{
	pid_t v = (pid_t)t->arg[i], h;

	if (v == 0 || v == -1)
		return true;
	h = v == INT_MIN ? -1 : pid_to_host(v < 0 ? -v : v);
	if (h < 0) {
		t->ret = -ESRCH;
		return false;
	}
	trap_set_arg(t, i, (unsigned long)(v < 0 ? -h : h));
	return true;
}

static enum trap_action kill_all(struct trap *t, int sig)
{
	struct proc *self = t->task->proc;
	int hit = 0, denied = 0;

	if (sig < 0 || sig > SIGRTMAX) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}

	/* Linux: every process but init and the caller. */
	for (struct proc *p = procs; p; p = p->next) {
		if (p == self || p == init_proc || p->exited)
			continue;
		if (kill(p->pid, sig) == 0)
			hit++;
		else if (errno == EPERM)
			denied++;
	}
	t->ret = hit ? 0 : denied ? -EPERM : -ESRCH;
	return TRAP_RETURN;
}

enum trap_action sys_kill(struct trap *t)
{
	if ((pid_t)t->arg[0] == -1)
		return kill_all(t, (int)t->arg[1]);
	return xlate_arg(t, 0) ? TRAP_RUN : TRAP_RETURN;
}

enum trap_action sys_tkill(struct trap *t)
{
	if ((pid_t)t->arg[0] <= 0)
		return TRAP_RUN;	/* EINVAL from the host */
	return xlate_arg(t, 0) ? TRAP_RUN : TRAP_RETURN;
}

enum trap_action sys_tgkill(struct trap *t)
{
	if ((pid_t)t->arg[0] <= 0 || (pid_t)t->arg[1] <= 0)
		return TRAP_RUN;
	return xlate_arg(t, 0) && xlate_arg(t, 1) ? TRAP_RUN : TRAP_RETURN;
}

enum trap_action sys_rt_sigqueueinfo(struct trap *t)
{
	if ((pid_t)t->arg[0] <= 0)
		return TRAP_RUN;
	return xlate_arg(t, 0) ? TRAP_RUN : TRAP_RETURN;
}

enum trap_action sys_rt_tgsigqueueinfo(struct trap *t)
{
	return sys_tgkill(t);
}
