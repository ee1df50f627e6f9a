/* Opens, and the /proc fence.  A guest must not open the /proc entries of a
 * process that is not a guest (hostk's memory, another user program's
 * environment).  Paths can't be judged before the open (symlinks, "..", a
 * directory fd, a rename racing the check), so the check is made after it,
 * on what the descriptor really is; a forbidden one is closed again inside
 * the guest and the guest sees ENOENT, as if the process did not exist. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../inject.h"
#include "../kregion.h"
#include "../trace.h"
#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

/* Opening a FIFO waits for the other end; a device may wait too.  Such an
 * open gives up its CPU (two ends that took turns on one CPU would never
 * meet).  Only regular files and directories open at once. */
static bool open_may_block(struct trap *t)
{
	bool at = t->nr == SYS_openat || t->nr == SYS_openat2;
	unsigned long flags = t->nr == SYS_creat ? O_CREAT : t->nr == SYS_openat ? t->arg[2] :
			      t->nr == SYS_openat2 ? 0 : t->arg[1];
	char path[PATH_MAX], where[PATH_MAX + 64];
	struct stat st;
	int dirfd = at ? (int)t->arg[0] : AT_FDCWD;

	if ((flags & (O_NONBLOCK | O_PATH)) ||
	    strncpy_from_guest(t->task->tid, path, t->arg[at ? 1 : 0], sizeof path) <= 0)
		return false;
	if (path[0] == '/')
		snprintf(where, sizeof where, "%s", path);
	else if (dirfd == AT_FDCWD)
		snprintf(where, sizeof where, "/proc/%d/cwd/%s", t->task->tid, path);
	else
		snprintf(where, sizeof where, "/proc/%d/fd/%d/%s", t->task->tid, dirfd, path);
	return stat(where, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

enum trap_action sys_open(struct trap *t)
{
	if (open_may_block(t))
		t->wait = WAIT_BLOCK;
	return TRAP_RUN_EXIT;
}

/* "/proc/N" or "/proc/N/..." with N not a guest. */
static bool foreign_proc_path(const char *path)
{
	char *end;
	long pid;

	if (strncmp(path, "/proc/", 6) != 0 || path[6] < '1' || path[6] > '9')
		return false;
	pid = strtol(path + 6, &end, 10);
	if (*end != '/' && *end != 0)
		return false;
	return !pid_is_guest((pid_t)pid);
}

void sys_open_exit(struct trap *t)
{
	char link[64], path[4096];
	unsigned long args[6] = { 0 };
	ssize_t n;
	long err;

	if (t->ret < 0)
		return;
	snprintf(link, sizeof link, "/proc/%d/fd/%ld", t->task->tid, t->ret);
	n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return;
	path[n] = 0;
	/* The kernel region's memfd, reopened through /proc/self/map_files:
	 * its seals hold, but a guest has no business holding it. */
	if (!strncmp(path, "/memfd:hostk-kregion", 20)) {
		fence_report(t->task, "open of the kernel region's memfd refused");
		err = -EACCES;
	} else if (foreign_proc_path(path)) {
		trace_event(t->task, "fence: open of %s refused", path);
		err = -ENOENT;
	} else {
		return;
	}
	args[0] = (unsigned long)t->ret;
	inject_syscall(t->task, &t->regs, reg_ip(&t->regs) - SYSCALL_INSN_LEN, SYS_close, args);
	t->ret = err;
}
