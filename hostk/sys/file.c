/* Opens.  Nothing to fence: the guests' /proc is a procfs of their own pid
 * namespace, where no other process exists, and the kernel region's memfd
 * cannot be reopened (map_files needs a capability of the host's).  What is
 * left is scheduling: an open that may wait gives up its CPU.  The path is
 * read only for that hint, so a sibling changing it harms nothing. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <string.h>

#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

/* Opening a FIFO waits for the other end; a device may wait too (a modem
 * line for its carrier, a driver for its hardware).  Such an open gives up
 * its CPU: two ends that took turns on one CPU would never meet.  Files,
 * directories and the devices that never wait (memory devices: null, zero,
 * random...; terminals and pseudo-terminals) open at once. */
static bool dev_may_block(dev_t rdev)
{
	unsigned maj = major(rdev);

	return maj != 1 && maj != 4 && maj != 5 && !(maj >= 136 && maj <= 143);
}

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
	/* As the guest resolves it, in its own mount namespace. */
	if (path[0] == '/')
		snprintf(where, sizeof where, "/proc/%d/root%s", t->task->tid, path);
	else if (dirfd == AT_FDCWD)
		snprintf(where, sizeof where, "/proc/%d/cwd/%s", t->task->tid, path);
	else
		snprintf(where, sizeof where, "/proc/%d/fd/%d/%s", t->task->tid, dirfd, path);
	return stat(where, &st) == 0 && (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && dev_may_block(st.st_rdev)));
}

enum trap_action sys_open(struct trap *t)
{
	if (open_may_block(t))
		t->wait = WAIT_BLOCK;
	return TRAP_RUN;
}
