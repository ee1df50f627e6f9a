/* Syscalls that may block in the host.  The task gives up its CPU while the
 * host runs them (the row's SY_BLOCK), and gets one back at the exit stop.
 * read and write block only on pipes, FIFOs, sockets, terminals and the
 * like: on a regular file they keep their CPU.  The descriptor of a hostk device goes
 * to its driver (drivers/devices.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <string.h>
#include <unistd.h>

#include "../../drivers/devices.h"
#include "../sched.h"
#include "../trap.h"
#include "../uaccess.h"
#include "sys.h"

enum trap_action sys_block(struct trap *t)
{
	(void)t;
	return TRAP_RUN;
}

/* Descriptor fd of tid: one stat of /proc/TID/fd/N, which is the open
 * file itself, not a path to it.  False for a bad descriptor (the host
 * answers the call at once). */
static bool fd_stat(pid_t tid, int fd, struct stat *st)
{
	char link[64];

	snprintf(link, sizeof link, "/proc/%d/fd/%d", tid, fd);
	return stat(link, st) == 0;
}

/* May an I/O on this open file wait?  Pipes and named FIFOs, sockets,
 * anonymous inodes (eventfd, timerfd, signalfd, epoll...: no file type)
 * and character devices other than the memory ones (null, zero, full,
 * random, urandom: major 1; but /dev/kmsg, 1:11, waits for the next
 * message) may; files, directories and block devices answer at once. */
static bool may_block(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFIFO:
	case S_IFSOCK:
	case 0:
		return true;
	case S_IFCHR:
		return major(st->st_rdev) != 1 || minor(st->st_rdev) == 11;
	default:
		return false;
	}
}

/* A read of a signalfd (its SIGALRMs may be hostk's): an anonymous inode
 * whose name says so. */
static bool is_signalfd(pid_t tid, int fd, const struct stat *st)
{
	char link[64], name[32];
	ssize_t n;

	if (st->st_mode & S_IFMT)
		return false;
	snprintf(link, sizeof link, "/proc/%d/fd/%d", tid, fd);
	n = readlink(link, name, sizeof name - 1);
	return n > 0 && (name[n] = 0, !strcmp(name, "anon_inode:[signalfd]"));
}

/* readv and writev reach a driver with their first buffer that has room
 * (a short transfer, as devices may make), or, for a driver of frames,
 * the length of the whole vector: a frame is all of it.  The vector is
 * checked as the host checks it: 0, or -EINVAL, -EFAULT. */
static int iov_span(struct trap *t, const struct devfile *f, unsigned long *buf, size_t *len)
{
	static struct iovec iov[IOV_MAX];
	unsigned long n = t->arg[2];
	size_t total = 0;

	*buf = 0;
	*len = 0;
	if (n > IOV_MAX)
		return -EINVAL;
	if (n && copy_from_guest(t->task->tid, iov, t->arg[1], n * sizeof *iov) < 0)
		return -EFAULT;
	for (unsigned long i = 0; i < n; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
		if (iov[i].iov_len && !*len) {
			*buf = (unsigned long)iov[i].iov_base;
			*len = iov[i].iov_len;
		}
	}
	if (f->dev->drv->socktype == SOCK_SEQPACKET)
		*len = total;
	return 0;
}

/* An offset where a call says it: -EINVAL if negative, but -1 (the
 * file's position) for preadv2 and pwritev2; their flags are the host's
 * to know, and a device takes none. */
static int check_off(struct trap *t, int64_t off)
{
	bool v2 = t->nr == SYS_preadv2 || t->nr == SYS_pwritev2;

	if (off < (v2 ? -1 : 0))
		return -EINVAL;
	if (v2 && (int)t->arg[5] & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND))
		return -EOPNOTSUPP;
	return 0;
}

/* A driver's operation's next step; one that does not return at once
 * finishes at the exit stop (devices_exit). */
enum trap_action dev_next(struct trap *t, struct devfile *f, enum trap_action a)
{
	t->task->sys.dev = a == TRAP_RETURN ? NULL : f->dev;
	return a;
}

/* A read, write, pread or pwrite of a device's descriptor (off -1: at the
 * file's position).  A driver without the operation leaves it to the host,
 * on the socket (a frame, bytes), which may wait for the bottom half. */
enum trap_action dev_io(struct trap *t, struct devfile *f, bool write, unsigned long buf, size_t len, int64_t off)
{
	const struct dev_fops *ops = &f->dev->drv->fops;
	typeof(ops->read) op = write ? ops->write : ops->read;
	int mode = f->flags & O_ACCMODE;

	/* The open's access mode, as the host checks it for any file. */
	if (mode == (write ? O_RDONLY : O_WRONLY)) {
		t->ret = -EBADF;
		return TRAP_RETURN;
	}
	if (!op) {
		if (off >= 0 || f->dev->drv->always_ready) {
			/* Nothing on the socket for a driver that emulates
			 * its reads: as a device without the operation. */
			t->ret = off >= 0 ? -ESPIPE : -EINVAL;
			return TRAP_RETURN;
		}
		t->wait = WAIT_BLOCK;
		return dev_next(t, f, TRAP_RUN);
	}
	return dev_next(t, f, op(f, t, buf, len, off));
}

enum trap_action sys_rw(struct trap *t)
{
	bool write = t->nr == SYS_write || t->nr == SYS_writev || t->nr == SYS_pwritev2;
	bool vec = t->nr != SYS_read && t->nr != SYS_write;
	pid_t tid = t->task->tid;
	int fd = (int)t->arg[0];
	unsigned long buf = t->arg[1];
	size_t len = t->arg[2];
	struct devfile *f;
	struct stat st;

	t->task->sys.signalfd = false;
	t->wait = WAIT_NONE;
	if (!fd_stat(tid, fd, &st))
		return TRAP_RUN;
	if (S_ISSOCK(st.st_mode) && (f = devices_file_by_ino(st.st_ino))) {
		/* preadv2 and pwritev2 at an offset, or (-1) at the position. */
		bool at = t->nr == SYS_preadv2 || t->nr == SYS_pwritev2;
		int64_t off = at ? (int64_t)t->arg[3] : -1;

		if ((vec && (t->ret = iov_span(t, f, &buf, &len)) < 0) || (at && (t->ret = check_off(t, off)) < 0))
			return TRAP_RETURN;
		return dev_io(t, f, write, buf, len, off);
	}
	t->task->sys.signalfd = t->nr == SYS_read && is_signalfd(tid, fd, &st);
	if (may_block(&st))
		t->wait = WAIT_BLOCK;
	return TRAP_RUN;
}

void sys_rw_exit(struct trap *t)
{
	if (t->task->sys.signalfd && t->ret > 0)
		itimer_signalfd_read(t, t->arg[1], t->ret);
}

/* sendfile, splice, tee and vmsplice wait when one of their descriptors
 * is a pipe, a socket or a terminal that has no room or nothing yet. */
enum trap_action sys_pipeio(struct trap *t)
{
	int fds[2] = { (int)t->arg[0], t->nr == SYS_splice ? (int)t->arg[2] : (int)t->arg[1] };
	struct stat st;

	t->wait = WAIT_NONE;
	for (int i = 0; i < (t->nr == SYS_vmsplice ? 1 : 2); i++)
		if (fd_stat(t->task->tid, fds[i], &st) && may_block(&st))
			t->wait = WAIT_BLOCK;
	return TRAP_RUN;
}

/* Natively a yield lets another runnable task have the CPU; here that is
 * a guest waiting for the virtual CPU, so the yield hands it over (its
 * stop is the place: sched_resume sees the request). */
enum trap_action sys_sched_yield(struct trap *t)
{
	sched_yield_cpu(t->task);
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
		if ((t->ret = check_off(t, (int64_t)t->arg[3])) < 0)
			return TRAP_RETURN;
		return dev_io(t, f, t->nr == SYS_pwrite64, buf, len, (int64_t)t->arg[3]);
	case SYS_preadv:
	case SYS_pwritev:
		if ((t->ret = iov_span(t, f, &buf, &len)) < 0 || (t->ret = check_off(t, (int64_t)t->arg[3])) < 0)
			return TRAP_RETURN;
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
