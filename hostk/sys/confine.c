/* The side doors: syscalls whose harm the guests' namespaces do not take
 * away, so hostk decides them here.  Each check reads only registers (the
 * guest cannot change them behind hostk's back).
 *   - TIOCSTI and TIOCLINUX type into the terminal the guest shares with the
 *     host's shell (a command that runs after hostk exits); TIOCSETD changes
 *     its line discipline for good (N_NULL: the shell's terminal is dead);
 *   - perf_event_open of another process, a whole CPU or a cgroup watches
 *     what is not the caller's (hostk, the host);
 *   - process_madvise with advice that changes mappings (it may drop the
 *     kernel region from a fork, or guard it) rather than only hint;
 *   - seccomp filters of the guest's own, which hostk must tell apart from
 *     its own traps, and which may not take a listener;
 *   - unshare into new namespaces hostk would not see into. */
#include <errno.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <termios.h>

#include "../../drivers/devices.h"
#include "../trace.h"
#include "../trap.h"
#include "sys.h"

#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

static enum trap_action refuse(struct trap *t, long err, const char *what)
{
	trace_event(t->task, "refused: %s", what);
	t->ret = err;
	return TRAP_RETURN;
}

enum trap_action sys_ioctl(struct trap *t)
{
	unsigned cmd = (unsigned)t->arg[1];

	struct devfile *f;

	if (cmd == TIOCSTI || cmd == TIOCLINUX || cmd == TIOCSETD)
		return refuse(t, -EPERM, cmd == TIOCSTI ? "TIOCSTI (typing into the terminal)" :
				  cmd == TIOCSETD ? "TIOCSETD (the terminal's line discipline)" : "TIOCLINUX");
	/* A device's ioctls (the filter traps hostk's type and BLKGETSIZE64). */
	if ((f = devices_file(t->task->tid, (int)t->arg[0])))
		return dev_next(t, f, dev_ioctl(f, t, cmd, t->arg[2]));
	return TRAP_RUN;
}

/* The caller's own threads only: pid 0 or one of its process's tids, on any
 * CPU; never a cgroup. */
enum trap_action sys_perf_event_open(struct trap *t)
{
	pid_t pid = (pid_t)t->arg[1];
	bool own = pid == 0;

	if (t->arg[4] & PERF_FLAG_PID_CGROUP)
		return refuse(t, -EACCES, "perf_event_open of a cgroup");
	for (struct task *o = tasks; o && !own && pid > 0; o = o->next)
		own = o->proc == t->task->proc && o->vtid == pid;
	if (!own)
		return refuse(t, -EACCES, pid == -1 ? "perf_event_open of a whole CPU" : "perf_event_open of another process");
	return TRAP_RUN;
}

/* Advice that only hints (the kinds Linux always took from other processes). */
enum trap_action sys_process_madvise(struct trap *t)
{
	switch ((int)t->arg[3]) {
	case MADV_COLD:
	case MADV_PAGEOUT:
	case MADV_WILLNEED:
#ifdef MADV_COLLAPSE
	case MADV_COLLAPSE:
#endif
		return TRAP_RUN;
	default:
		return refuse(t, -EPERM, "process_madvise advice that changes mappings");
	}
}

/* hostk's filter holds the listener a filter chain may have, so the host
 * refuses a guest's own (EBUSY); hostk answers the same before the host is
 * asked.  A guest filter is marked, so that its SECCOMP_RET_TRACE is not
 * taken for hostk's (trap.c). */
enum trap_action sys_seccomp(struct trap *t)
{
	if (t->arg[0] != SECCOMP_SET_MODE_FILTER)
		return TRAP_RUN;
	if (t->arg[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		return refuse(t, -EBUSY, "a seccomp filter with a listener");
	t->task->proc->own_filter = true;
	return TRAP_RUN;
}

enum trap_action sys_prctl(struct trap *t)
{
	if (t->arg[0] == PR_SET_SECCOMP)
		t->task->proc->own_filter = true;
	return TRAP_RUN;
}

long clone_flags_check(unsigned long flags)
{
	/* New namespaces would hide their insides from hostk's view of ids.
	 * (CLONE_UNTRACED, a child hostk would not see, is dropped: sys/proc.c.) */
	if (flags & CLONE_NS_FLAGS)
		return -EPERM;
	return 0;
}

enum trap_action sys_unshare(struct trap *t)
{
	if ((t->ret = clone_flags_check(t->arg[0])))
		return refuse(t, t->ret, "unshare into new namespaces");
	return TRAP_RUN;
}
