/* Syscalls that may block in the host.  The task gives up its CPU while the
 * host runs them (the row's SY_BLOCK), and gets one back at the exit stop.
 * read and write block only on pipes, sockets, terminals and the like: on a
 * regular file they keep their CPU.  The descriptor of a hostk device goes
 * to its driver (drivers/devices.c). */
#include <errno.h>
#include <stdio.h>
#include <sys/uio.h>
#include <string.h>
#include <unistd.h>

#include "../../drivers/devices.h"
#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

enum trap_action sys_block(struct trap *t)
{
	(void)t;
	return TRAP_RUN;
}

/* What the descriptor is, from the name the host gives it (name, n bytes):
 * a path for files and devices, "pipe:[...]", "socket:[...]",
 * "anon_inode:[...]" otherwise. */
static bool may_block(const char *name, ssize_t n)
{
	if (n <= 0)
		return false;	/* a bad descriptor: the host answers at once */
	if (name[0] != '/')
		return true;
	if (strncmp(name, "/dev/", 5) != 0)
		return false;
	return strcmp(name, "/dev/null") && strcmp(name, "/dev/zero") && strcmp(name, "/dev/full") &&
	       strcmp(name, "/dev/urandom") && strcmp(name, "/dev/random");
}

/* readv and writev reach a driver with their first buffer that has room
 * (a short transfer, as devices may make). */
static bool first_iov(struct trap *t, unsigned long *buf, size_t *len)
{
	struct iovec iov;

	for (unsigned long i = 0; i < t->arg[2] && i < 1024; i++) {
		if (copy_from_guest(t->task->tid, &iov, t->arg[1] + i * sizeof iov, sizeof iov) < 0)
			return false;
		if (iov.iov_len) {
			*buf = (unsigned long)iov.iov_base;
			*len = iov.iov_len;
			return true;
		}
	}
	*buf = 0;
	*len = 0;
	return true;
}

/* A driver's operation's next step; one that does not return at once
 * finishes at the exit stop (devices_exit). */
enum trap_action dev_next(struct trap *t, struct devfile *f, enum trap_action a)
{
	t->task->sys.dev = a == TRAP_RETURN ? NULL : f;
	return a;
}

/* A read, write, pread or pwrite of a device's descriptor (off -1: at the
 * file's position).  A driver without the operation leaves it to the host,
 * on the socket (a frame, bytes), which may wait for the bottom half. */
enum trap_action dev_io(struct trap *t, struct devfile *f, bool write, unsigned long buf, size_t len, int64_t off)
{
	const struct dev_fops *ops = &f->dev->drv->fops;
	typeof(ops->read) op = write ? ops->write : ops->read;

	if (!op) {
		if (off >= 0) {
			t->ret = -ESPIPE;
			return TRAP_RETURN;
		}
		t->wait = WAIT_BLOCK;
		return dev_next(t, f, TRAP_RUN);
	}
	return dev_next(t, f, op(f, t, buf, len, off));
}

enum trap_action sys_rw(struct trap *t)
{
	char link[64], name[64];
	bool write = t->nr == SYS_write || t->nr == SYS_writev;
	unsigned long ino, buf = t->arg[1];
	size_t len = t->arg[2];
	struct devfile *f;
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%d/fd/%d", t->task->tid, (int)t->arg[0]);
	n = readlink(link, name, sizeof name - 1);
	name[n > 0 ? n : 0] = 0;
	if (n > 0 && sscanf(name, "socket:[%lu]", &ino) == 1 && (f = devices_file_by_ino((ino_t)ino))) {
		if ((t->nr == SYS_readv || t->nr == SYS_writev) && !first_iov(t, &buf, &len)) {
			t->ret = -EFAULT;
			return TRAP_RETURN;
		}
		return dev_io(t, f, write, buf, len, -1);
	}
	t->wait = may_block(name, n) ? WAIT_BLOCK : WAIT_NONE;
	return TRAP_RUN;
}

/* pread, pwrite, lseek, fsync... trap only while a device has positions:
 * one that is not a device's goes on to the host at once. */
enum trap_action sys_fdio(struct trap *t)
{
	struct devfile *f = devices_file(t->task->tid, (int)t->arg[0]);
	const struct dev_fops *ops;
	unsigned long buf = t->arg[1];
	size_t len = t->arg[2];

	if (!f)
		return TRAP_RUN;
	ops = &f->dev->drv->fops;
	switch (t->nr) {
	case SYS_pread64:
	case SYS_pwrite64:
		return dev_io(t, f, t->nr == SYS_pwrite64, buf, len, (int64_t)t->arg[3]);
	case SYS_preadv:
	case SYS_pwritev:
		if (!first_iov(t, &buf, &len)) {
			t->ret = -EFAULT;
			return TRAP_RETURN;
		}
		return dev_io(t, f, t->nr == SYS_pwritev, buf, len, (int64_t)t->arg[3]);
	case SYS_lseek:
		if (ops->lseek)
			return dev_next(t, f, ops->lseek(f, t, (int64_t)t->arg[1], (int)t->arg[2]));
		t->ret = -ESPIPE;
		return TRAP_RETURN;
	case SYS_fsync:
	case SYS_fdatasync:
		if (ops->fsync)
			return dev_next(t, f, ops->fsync(f, t));
		t->ret = -EINVAL;	/* as for a descriptor that cannot be synced */
		return TRAP_RETURN;
	default:
		return TRAP_RUN;
	}
}
