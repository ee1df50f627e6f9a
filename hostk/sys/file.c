/* Opens.  Nothing to fence: the guests' /proc is a procfs of their own pid
 * namespace, where no other process exists, and the kernel region's memfd
 * cannot be reopened (map_files needs a capability of the host's).  What is
 * left is scheduling: an open that may wait gives up its CPU.  The path is
 * read only for that hint, so a sibling changing it harms nothing.  And the
 * devices': /dev/hostk/NAME becomes the device's descriptor once opened,
 * and the stat family shows it as a device file. */
#include <fcntl.h>
#include <linux/stat.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <string.h>

#include "../../drivers/devices.h"
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
	/* With devices, each open is looked at once done: it may be one. */
	return devices_count() ? TRAP_RUN_EXIT : TRAP_RUN;
}

void sys_open_exit(struct trap *t)
{
	if (t->ret >= 0)
		devices_opened(t);
}

/* stat and fstat of a device.  Its /dev/hostk file is an empty regular file
 * and its descriptor a socket; both become the device file the guest asked
 * for (device_stat), the same for either, so the guest can tell they are
 * one file.  What is rewritten is the guest's own buffer, after the host
 * filled it: the guest racing it changes only what it reads itself. */
enum trap_action sys_stat(struct trap *t)
{
	if (!devices_count())
		return TRAP_RUN;
	if (t->nr == SYS_fstat)		/* a descriptor: known now */
		return devices_file(t->task->tid, (int)t->arg[0]) ? TRAP_RUN_EXIT : TRAP_RUN;
	return TRAP_RUN_EXIT;
}

static struct device *device_seen(dev_t dev, ino_t ino, mode_t mode)
{
	struct devfile *f;

	if (S_ISSOCK(mode))
		return (f = devices_file_by_ino(ino)) ? f->dev : NULL;
	return S_ISREG(mode) ? device_of_file(dev, ino) : NULL;
}

void sys_stat_exit(struct trap *t)
{
	pid_t tid = t->task->tid;
	unsigned long buf;
	struct device *d;
	struct stat st;

	if (t->ret < 0)
		return;
	if (t->nr == SYS_statx) {
		struct statx sx;

		buf = t->arg[4];
		if (copy_from_guest(tid, &sx, buf, sizeof sx) < 0 ||
		    (sx.stx_mask & (STATX_TYPE | STATX_INO)) != (STATX_TYPE | STATX_INO) ||
		    !(d = device_seen(makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino, sx.stx_mode)))
			return;
		device_stat(d, &st);
		sx.stx_mode = (uint16_t)st.st_mode;
		sx.stx_ino = st.st_ino;
		sx.stx_dev_major = major(st.st_dev);
		sx.stx_dev_minor = minor(st.st_dev);
		sx.stx_rdev_major = major(st.st_rdev);
		sx.stx_rdev_minor = minor(st.st_rdev);
		sx.stx_uid = st.st_uid;
		sx.stx_gid = st.st_gid;
		sx.stx_nlink = (uint32_t)st.st_nlink;
		sx.stx_size = 0;
		sx.stx_blocks = 0;
		copy_to_guest(tid, buf, &sx, sizeof sx);
		return;
	}
	buf = t->nr == SYS_newfstatat ? t->arg[2] : t->arg[1];
	if (copy_from_guest(tid, &st, buf, sizeof st) < 0 || !(d = device_seen(st.st_dev, st.st_ino, st.st_mode)))
		return;
	device_stat(d, &st);
	copy_to_guest(tid, buf, &st, sizeof st);
}
