/* disk: a block device backed by a host file.  Reads and writes are
 * requests to the hardware side (a thread of the driver's), which performs
 * each after the simulated latency and completes it with an interrupt; the
 * guest sleeps meanwhile, off CPU.  The bottom half copies a read's data to
 * the guest, moves the file position and wakes the task.  The size is the
 * file's; a read past the end returns 0, a write past it ENOSPC; a
 * read-only disk refuses writes with EROFS; fsync waits for the device to
 * flush.  A host error is EIO for the guest, and hostk goes on.  A request
 * a signal interrupts is not lost: the call restarts and waits for it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../guest/include/hostk/devices.h"
#include "../hostk/irq.h"
#include "../hostk/sched.h"
#include "../hostk/trace.h"
#include "../hostk/trap.h"
#include "../hostk/uaccess.h"
#include "../hostk/util.h"
#include "devices.h"
#include "driver.h"

#define MAX_REQUEST (1u << 20)	/* bytes: a larger transfer is cut short, as devices may */
#define MAX_INFLIGHT 64		/* requests at once: a disk's queue depth (and hostk's memory bound) */

enum op { OP_READ, OP_WRITE, OP_FLUSH };

struct request {
	enum op op;
	struct task *task;
	struct devfile *file;
	uint64_t off;
	size_t len, asked;	/* what it transfers, what the call asked for */
	unsigned long buf;	/* the guest's */
	bool advance;		/* move the file position (read, write; not pread) */
	unsigned char *data;
	long result;
	bool done;		/* completed by the bottom half */
	struct request *next;	/* the hardware queue, then the completed list */
	struct request *inext;	/* the in-flight list, until its task takes it */
};

struct disk {
	struct device *dev;
	int line, efd, fd;
	bool ro;
	uint64_t size;
	long latency_us;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct request *queue, **queue_tail;	/* for the hardware side */
	struct request *completed;		/* for the bottom half */
	struct request *inflight;		/* queued or completed, until the task takes it */
	int ninflight;				/* requests allocated, in flight or not taken yet */
	struct waiter *waiters;			/* tasks waiting for a place in the queue */
	struct hk_dev_stats st;
};

struct waiter {
	struct task *task;
	struct waiter *next;
};

static const struct dev_option disk_options[] = {
	{ "latency", "100", "microseconds each request takes" },
	{ "ro", "0", "1 (or just ro): read-only, writes fail with EROFS" },
	{ NULL, NULL, NULL },
};

/* The hardware side: one request at a time, after its latency. */
static void *hardware(void *arg)
{
	struct disk *d = arg;
	uint64_t one = 1;

	for (;;) {
		struct request *r;
		struct timespec lat = { d->latency_us / 1000000, d->latency_us % 1000000 * 1000 };
		ssize_t n;

		pthread_mutex_lock(&d->lock);
		while (!d->queue)
			pthread_cond_wait(&d->work, &d->lock);
		r = d->queue;
		if (!(d->queue = r->next))
			d->queue_tail = &d->queue;
		pthread_mutex_unlock(&d->lock);
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &lat, &lat) == EINTR)
			;
		if (r->op == OP_READ)
			n = pread(d->fd, r->data, r->len, (off_t)r->off);
		else if (r->op == OP_WRITE)
			n = pwrite(d->fd, r->data, r->len, (off_t)r->off);
		else
			n = fdatasync(d->fd);
		/* Short inside the disk: the backing file lost it (a disk has
		 * no short transfers of its own). */
		r->result = n < 0 || (r->op != OP_FLUSH && (size_t)n < r->len) ? -EIO : n;
		pthread_mutex_lock(&d->lock);
		r->next = d->completed;
		d->completed = r;
		pthread_mutex_unlock(&d->lock);
		if (write(d->efd, &one, sizeof one) < 0)
			continue;	/* raised already */
	}
	return NULL;
}

static void disk_top(int line, void *cookie)
{
	struct disk *d = cookie;

	if (dev_ack(line, d->efd)) {
		__atomic_add_fetch(&d->st.interrupts, 1, __ATOMIC_RELAXED);
		irq_schedule_bh(line);
	}
}

static void request_free(struct disk *d, struct request *r);
static void wake_waiters(struct disk *d);

/* Completions: data to the guest, the position on, the task woken. */
static void disk_bottom(int line, void *cookie)
{
	struct disk *d = cookie;
	struct request *r;

	irq_bh_done(line);
	pthread_mutex_lock(&d->lock);
	r = d->completed;
	d->completed = NULL;
	pthread_mutex_unlock(&d->lock);
	for (struct request *next; r; r = next) {
		next = r->next;
		if (r->result < 0)
			d->st.errors++;
		else if (r->op == OP_READ && r->result > 0 && r->task &&
			 copy_to_guest(r->task->tid, r->buf, r->data, (size_t)r->result) < 0)
			r->result = -EFAULT;
		if (r->op == OP_READ && r->result >= 0)
			d->st.rx++, d->st.rx_bytes += (uint64_t)r->result;
		if (r->op == OP_WRITE && r->result >= 0)
			d->st.tx++, d->st.tx_bytes += (uint64_t)r->result;
		if (r->advance && r->result > 0 && r->file)
			r->file->pos = r->off + (uint64_t)r->result;
		r->done = true;
		trace_kernel("%s: %s of %zu bytes at %lu done: %ld", d->dev->name,
			     r->op == OP_READ ? "read" : r->op == OP_WRITE ? "write" : "flush", r->len,
			     (unsigned long)r->off, r->result);
		if (r->task)
			sched_wake(r->task);
		else	/* its task is gone */
			request_free(d, r);
	}
	if (d->waiters && d->ninflight < MAX_INFLIGHT)
		wake_waiters(d);
	irq_rearm(line);
}

static void request_free(struct disk *d, struct request *r)
{
	d->ninflight--;
	free(r->data);
	free(r);
}

/* A full queue: the task sleeps until a request ends, then its call starts
 * again (disk_exit) and looks for a place once more. */
static enum trap_action wait_for_room(struct disk *d, struct trap *t)
{
	struct waiter *w = xcalloc(1, sizeof *w);

	*w = (struct waiter){ t->task, d->waiters };
	d->waiters = w;
	t->task->sleep_expired = false;
	return trap_sleep(t, 0);
}

static bool take_waiter(struct disk *d, const struct task *tk)
{
	for (struct waiter **pp = &d->waiters, *w; (w = *pp); pp = &w->next)
		if (w->task == tk) {
			*pp = w->next;
			free(w);
			return true;
		}
	return false;
}

static void wake_waiters(struct disk *d)
{
	for (struct waiter *w = d->waiters; w; w = w->next)
		sched_wake(w->task);
}

static struct request *inflight_of(struct disk *d, const struct task *tk)
{
	for (struct request *r = d->inflight; r; r = r->inext)
		if (r->task == tk)
			return r;
	return NULL;
}

static void inflight_drop(struct disk *d, struct request *r)
{
	struct request **pp;

	for (pp = &d->inflight; *pp && *pp != r; pp = &(*pp)->inext)
		;
	if (*pp)
		*pp = r->inext;
}

/* A request for the hardware side; the task sleeps until it is done. */
static enum trap_action submit(struct disk *d, struct trap *t, struct request *r)
{
	r->task = t->task;
	r->inext = d->inflight;
	d->inflight = r;
	pthread_mutex_lock(&d->lock);
	r->next = NULL;
	*d->queue_tail = r;
	d->queue_tail = &r->next;
	pthread_cond_signal(&d->work);
	pthread_mutex_unlock(&d->lock);
	t->task->sleep_expired = false;
	return trap_sleep(t, 0);
}

/* A request whose call is over (a signal ended it with EINTR): it completes
 * into nothing, as the request of a task that is gone. */
static void abandon(struct disk *d, struct request *r)
{
	inflight_drop(d, r);
	r->task = NULL;
	r->file = NULL;		/* nor does it move the position */
	if (r->done)
		request_free(d, r);
}

/* The task's earlier request, if a signal cut its wait short: wait again. */
static enum trap_action resume_inflight(struct disk *d, struct trap *t, struct request *r)
{
	if (r->done) {
		t->ret = r->result;
		inflight_drop(d, r);
		request_free(d, r);
		return TRAP_RETURN;
	}
	t->task->sleep_expired = false;
	return trap_sleep(t, 0);
}

static enum trap_action disk_rw(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off, enum op op)
{
	struct disk *d = f->dev->priv;
	uint64_t pos = off >= 0 ? (uint64_t)off : f->pos;
	struct request *r = inflight_of(d, t->task);
	size_t asked;

	/* The same call, restarted: a read at the position keeps no offset of
	 * its own (the completed request moved the position). */
	if (r && r->op == op && r->buf == buf && r->asked == len && r->file == f && r->advance == (off < 0) &&
	    (off < 0 || r->off == (uint64_t)off))
		return resume_inflight(d, t, r);
	if (r)
		abandon(d, r);	/* the interrupted call ended in EINTR: this is another */
	if (op == OP_WRITE && d->ro) {
		t->ret = -EROFS;
		return TRAP_RETURN;
	}
	if (off < -1) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	asked = len;
	if (pos >= d->size || !len) {
		t->ret = op == OP_WRITE && len ? -ENOSPC : 0;	/* the end of the device */
		return TRAP_RETURN;
	}
	if (d->ninflight >= MAX_INFLIGHT)
		return wait_for_room(d, t);
	if (len > MAX_REQUEST)
		len = MAX_REQUEST;
	if (len > d->size - pos)
		len = (size_t)(d->size - pos);
	d->ninflight++;
	r = xcalloc(1, sizeof *r);
	*r = (struct request){ .op = op, .file = f, .off = pos, .len = len, .asked = asked, .buf = buf,
			       .advance = off < 0 };
	r->data = xcalloc(1, len);
	if (op == OP_WRITE && copy_from_guest(t->task->tid, r->data, buf, len) < 0) {
		request_free(d, r);
		t->ret = -EFAULT;
		return TRAP_RETURN;
	}
	return submit(d, t, r);
}

static enum trap_action disk_read(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off)
{
	return disk_rw(f, t, buf, len, off, OP_READ);
}

static enum trap_action disk_write(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off)
{
	return disk_rw(f, t, buf, len, off, OP_WRITE);
}

static enum trap_action disk_fsync(struct devfile *f, struct trap *t)
{
	struct disk *d = f->dev->priv;
	struct request *r = inflight_of(d, t->task);

	if (r && r->op == OP_FLUSH && r->file == f)
		return resume_inflight(d, t, r);
	if (r)
		abandon(d, r);
	if (d->ninflight >= MAX_INFLIGHT)
		return wait_for_room(d, t);
	d->ninflight++;
	r = xcalloc(1, sizeof *r);
	*r = (struct request){ .op = OP_FLUSH, .file = f };
	return submit(d, t, r);
}

/* The exit stop of a request's sleep: done (its result), or cut short by a
 * signal.  A disk's request is not interruptible, as a real disk's is not:
 * the handler runs, and the call starts again (ERESTARTNOINTR, whatever
 * SA_RESTART says), to find its request in flight and wait on.  A task that
 * waited for room in the queue starts its call again too. */
static void disk_exit(struct device *dev, struct trap *t)
{
	struct disk *d = dev->priv;
	struct request *r = inflight_of(d, t->task);

	if (!r) {
		if (take_waiter(d, t->task))
			t->ret = -ERESTARTNOINTR;
		return;
	}
	if (!r->done) {
		t->ret = -ERESTARTNOINTR;
		return;
	}
	t->ret = r->result;
	inflight_drop(d, r);
	request_free(d, r);
}

/* As a block device's: anywhere from 0 to the size, else EINVAL. */
static enum trap_action disk_lseek(struct devfile *f, struct trap *t, int64_t off, int whence)
{
	struct disk *d = f->dev->priv;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos :
		       whence == SEEK_END ? (int64_t)d->size : -1;

	if (base < 0 || (off < 0 && off < -base) || (off > 0 && off > (int64_t)d->size - base)) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	f->pos = (uint64_t)(base + off);
	t->ret = (long)f->pos;
	return TRAP_RETURN;
}

static void disk_stats(struct device *dev, struct hk_dev_stats *out)
{
	*out = ((struct disk *)dev->priv)->st;
}

static enum trap_action disk_ioctl(struct devfile *f, struct trap *t, unsigned cmd, unsigned long arg)
{
	struct disk *d = f->dev->priv;

	switch (cmd) {
	case HK_IOC_DISK_SIZE:
	case BLKGETSIZE64:
		t->ret = copy_to_guest(t->task->tid, arg, &d->size, sizeof d->size) < 0 ? -EFAULT : 0;
		return TRAP_RETURN;
	default:
		t->ret = -ENOTTY;
		return TRAP_RETURN;
	}
}

/* A task that is gone: its requests complete into nothing. */
static void disk_forget(struct device *dev, struct task *tk)
{
	struct disk *d = dev->priv;
	struct request *r;

	while ((r = inflight_of(d, tk)))
		abandon(d, r);	/* the bottom half frees one not done yet */
	take_waiter(d, tk);
}

static void disk_release(struct devfile *f)
{
	struct disk *d = f->dev->priv;

	/* A request still in flight keeps its file: the file goes after. */
	for (struct request *r = d->inflight; r; r = r->inext)
		if (r->file == f)
			r->file = NULL;
}

static int disk_probe(struct device *dev, char *err, size_t errlen)
{
	struct disk *d = xcalloc(1, sizeof *d);
	struct stat st;
	long ro;

	d->dev = dev;
	if (dev_opt_num(dev, "ro", 0, 1, &ro, err, errlen) < 0 ||
	    dev_opt_num(dev, "latency", 0, 10000000, &d->latency_us, err, errlen) < 0)
		return -1;
	d->ro = ro != 0;
	if ((d->fd = open(dev->arg, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0 || fstat(d->fd, &st) < 0) {
		snprintf(err, errlen, "device %s: %s: %s", dev->name, dev->arg, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "device %s: %s: not a regular file", dev->name, dev->arg);
		return -1;
	}
	d->size = (uint64_t)st.st_size;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	d->queue_tail = &d->queue;
	dev->priv = d;
	return 0;
}

static int disk_start(struct device *dev)
{
	struct disk *d = dev->priv;
	int rc;

	if ((d->line = dev_request_line(dev, dev->name, IPL_BIO, disk_top, disk_bottom, d, &d->efd)) < 0)
		return d->line;
	return (rc = start_thread_off(hardware, d, devices_host_cpu())) ? -rc : 0;
}

const struct driver disk_driver = {
	.kind = "disk",
	.arg = "PATH",
	.help = "a block device backed by the host file PATH: requests complete after their latency, by interrupt",
	.options = disk_options,
	.socktype = SOCK_STREAM,
	.always_ready = true,
	.seekable = true,
	.probe = disk_probe,
	.start = disk_start,
	.release = disk_release,
	.stats = disk_stats,
	.forget = disk_forget,
	.fops = { .read = disk_read, .write = disk_write, .lseek = disk_lseek, .ioctl = disk_ioctl,
		  .fsync = disk_fsync, .exit = disk_exit },
};
