/* The other syscalls that name a pid: scheduling, limits, priorities, memory
 * of other processes, file and terminal owners, timers that signal a thread.
 * Ids in registers are rewritten (trap exit restores them); ids in guest
 * memory are rewritten there and restored by sys_mem_restore_exit. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>

#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

#ifndef F_SETOWN_EX
#define F_SETOWN_EX 15
#define F_GETOWN_EX 16
#endif
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2

/* A pid argument > 0 becomes the host's; one with no guest behind it ESRCH. */
static bool xlate_pos(struct trap *t, int i)
{
	pid_t v = (pid_t)t->arg[i], h;

	if (v <= 0)
		return true;	/* 0 is the caller; negatives are EINVAL from the host */
	if ((h = pid_to_host(v)) < 0) {
		t->ret = -ESRCH;
		return false;
	}
	trap_set_arg(t, i, (unsigned long)h);
	return true;
}

enum trap_action sys_pid_arg0(struct trap *t)
{
	return xlate_pos(t, 0) ? TRAP_RUN : TRAP_RETURN;
}

enum trap_action sys_kcmp(struct trap *t)
{
	return xlate_pos(t, 0) && xlate_pos(t, 1) ? TRAP_RUN : TRAP_RETURN;
}

enum trap_action sys_perf_event_open(struct trap *t)
{
	return xlate_pos(t, 1) ? TRAP_RUN : TRAP_RETURN;
}

/* (which, who): who is a pid or a group for the process and group kinds; the
 * user kind would reach host processes of the same user, so it is refused. */
enum trap_action sys_prio(struct trap *t)
{
	bool prio = t->nr == SYS_setpriority || t->nr == SYS_getpriority;
	int which = (int)t->arg[0];
	bool by_id = prio ? which == PRIO_PROCESS || which == PRIO_PGRP
			  : which == IOPRIO_WHO_PROCESS || which == IOPRIO_WHO_PGRP;
	bool by_user = prio ? which == PRIO_USER : which == 3;

	if (by_user) {
		t->ret = -EPERM;
		return TRAP_RETURN;
	}
	if (!by_id)
		return TRAP_RUN;
	return xlate_pos(t, 1) ? TRAP_RUN : TRAP_RETURN;
}

/* An owner: a pid when positive, a process group when negative. */
static int owner_to_host(int v, int *h)
{
	pid_t id;

	if (v == 0) {
		*h = 0;
		return 0;
	}
	if (v == INT_MIN || (id = pid_to_host(v < 0 ? -v : v)) < 0)
		return -ESRCH;
	*h = v < 0 ? -id : id;
	return 0;
}

static int owner_to_guest(int h)
{
	return h < 0 ? -pid_to_guest(-h) : pid_to_guest(h);
}

/* Rewrite an int in guest memory; sys_mem_restore_exit puts it back. */
static enum trap_action rewrite_int(struct trap *t, unsigned long addr, int host, int orig)
{
	unsigned long *s = t->task->sys.scratch;

	if (copy_to_guest(t->task->tid, addr, &host, sizeof host) < 0) {
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	s[0] = addr;
	s[1] = (unsigned)orig;
	s[3] = 1;
	return TRAP_RUN_EXIT;
}

void sys_mem_restore_exit(struct trap *t)
{
	unsigned long *s = t->task->sys.scratch;
	int orig = (int)s[1];

	if (s[3])
		copy_to_guest(t->task->tid, s[0], &orig, sizeof orig);
}

/* An int-sized owner in guest memory: translate it in place. */
static enum trap_action owner_in_memory(struct trap *t, unsigned long addr)
{
	int v, h;

	if (copy_from_guest(t->task->tid, &v, addr, sizeof v) < 0)
		return TRAP_RUN;	/* EFAULT from the host */
	if ((t->ret = owner_to_host(v, &h)))
		return TRAP_RETURN;
	return v == h ? TRAP_RUN : rewrite_int(t, addr, h, v);
}

/* Translate an owner the host wrote into guest memory. */
static void owner_out(struct trap *t, unsigned long addr)
{
	int v;

	if (copy_from_guest(t->task->tid, &v, addr, sizeof v) == 0) {
		v = owner_to_guest(v);
		copy_to_guest(t->task->tid, addr, &v, sizeof v);
	}
}

enum trap_action sys_fcntl(struct trap *t)
{
	unsigned cmd = (unsigned)t->arg[1];
	int h;

	switch (cmd) {
	case F_SETOWN:
		if ((t->ret = owner_to_host((int)t->arg[2], &h)))
			return TRAP_RETURN;
		if (h != (int)t->arg[2])
			trap_set_arg(t, 2, (unsigned long)(long)h);
		return TRAP_RUN;
	case F_SETOWN_EX:
		return owner_in_memory(t, t->arg[2] + offsetof(struct f_owner_ex, pid));
	case F_GETOWN:
	case F_GETOWN_EX:
		return TRAP_RUN_EXIT;
	default:
		return TRAP_RUN;
	}
}

void sys_fcntl_exit(struct trap *t)
{
	unsigned cmd = (unsigned)t->arg[1];

	if (t->ret < 0 && cmd != F_GETOWN)
		return;
	if (cmd == F_GETOWN)
		t->ret = owner_to_guest((int)t->ret);
	else if (cmd == F_GETOWN_EX)
		owner_out(t, t->arg[2] + offsetof(struct f_owner_ex, pid));
	else
		sys_mem_restore_exit(t);
}

enum trap_action sys_ioctl(struct trap *t)
{
	switch ((unsigned)t->arg[1]) {
	case TIOCSPGRP: {
		int v, h;

		if (copy_from_guest(t->task->tid, &v, t->arg[2], sizeof v) < 0)
			return TRAP_RUN;
		if (v <= 0 || (h = pid_to_host(v)) < 0) {
			t->ret = v < 0 ? -EINVAL : -EPERM;
			return TRAP_RETURN;
		}
		return rewrite_int(t, t->arg[2], h, v);
	}
	case FIOSETOWN:
	case SIOCSPGRP:
		return owner_in_memory(t, t->arg[2]);
	case TIOCGPGRP:
	case TIOCGSID:
	case FIOGETOWN:
	case SIOCGPGRP:
		return TRAP_RUN_EXIT;
	default:
		return TRAP_RUN;
	}
}

void sys_ioctl_exit(struct trap *t)
{
	if (t->ret < 0)
		return;
	switch ((unsigned)t->arg[1]) {
	case TIOCGPGRP:
	case TIOCGSID:
	case FIOGETOWN:
	case SIOCGPGRP:
		owner_out(t, t->arg[2]);
		break;
	default:
		sys_mem_restore_exit(t);
		break;
	}
}

enum trap_action sys_capget(struct trap *t)
{
	unsigned long addr = t->arg[0] + offsetof(struct __user_cap_header_struct, pid);
	int v;
	pid_t h;

	if (copy_from_guest(t->task->tid, &v, addr, sizeof v) < 0 || v <= 0)
		return TRAP_RUN;
	if ((h = pid_to_host(v)) < 0) {
		t->ret = -ESRCH;
		return TRAP_RETURN;
	}
	return rewrite_int(t, addr, h, v);
}

/* SIGEV_THREAD_ID names a thread to signal (glibc's SIGEV_THREAD uses it). */
enum trap_action sys_timer_create(struct trap *t)
{
	struct sigevent ev;
	unsigned long addr = t->arg[1];
	pid_t h;

	if (!addr || copy_from_guest(t->task->tid, &ev, addr, sizeof ev) < 0 ||
	    ev.sigev_notify != SIGEV_THREAD_ID)
		return TRAP_RUN;
	if ((h = pid_to_host(ev._sigev_un._tid)) < 0) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	return rewrite_int(t, addr + offsetof(struct sigevent, _sigev_un._tid), h,
			   ev._sigev_un._tid);
}
