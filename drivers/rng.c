/* rng: random bytes.  Hardware side: a thread that fills a buffer from the
 * host's getrandom() whenever an open file of the device has room for more,
 * and raises the line: one interrupt per filled buffer.  Top half: take the
 * buffer (ack).  Bottom half: copy it into an open file's queue (the socket
 * the guest reads), the files taking turns, and let the hardware fill the
 * next.  A guest read() takes bytes from its queue, and
 * waits (its CPU given away) while the queue is empty. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../guest/include/hostk/devices.h"
#include "../hostk/irq.h"
#include "../hostk/trace.h"
#include "../hostk/trap.h"
#include "../hostk/uaccess.h"
#include "../hostk/util.h"
#include "devices.h"
#include "driver.h"

struct rng {
	struct device *dev;
	int line, efd;
	size_t size;
	unsigned char *buf;
	bool full;		/* a buffer waits for the bottom half */
	struct hw_files hw;	/* the open files, for the hardware side to wait for room */
	int next;		/* whose turn it is */
	pthread_mutex_t lock;
	pthread_cond_t emptied;
	struct hk_dev_stats st;
};

static const struct dev_option rng_options[] = {
	{ "buffer", "4096", "bytes in each buffer the hardware fills" },
	{ NULL, NULL, NULL },
};

/* Wait until an open file has room for more (a socket is writable when it
 * has): asleep while nobody reads. */
static void wait_room(struct rng *r)
{
	struct pollfd p[1 + HW_MAX_FILES];

	for (;;) {
		int n = hw_files_poll_set(&r->hw, p, POLLOUT), ready = poll(p, (nfds_t)n, -1);
		bool room = false;

		for (int i = 1; i < n && ready > 0; i++)
			room |= (p[i].revents & POLLOUT) != 0;
		hw_files_after_poll(&r->hw, p, n);
		if (room)
			return;
	}
}

static void *hardware(void *arg)
{
	struct rng *r = arg;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->full)
			pthread_cond_wait(&r->emptied, &r->lock);
		pthread_mutex_unlock(&r->lock);
		wait_room(r);
		for (size_t got = 0; got < r->size;) {
			ssize_t n = getrandom(r->buf + got, r->size - got, 0);

			if (n > 0)
				got += (size_t)n;
		}
		pthread_mutex_lock(&r->lock);
		r->full = true;
		pthread_mutex_unlock(&r->lock);
		if (write(r->efd, &one, sizeof one) < 0)
			continue;
	}
	return NULL;
}

static void rng_top(int line, void *cookie)
{
	struct rng *r = cookie;

	if (dev_ack(line, r->efd)) {
		__atomic_add_fetch(&r->st.interrupts, 1, __ATOMIC_RELAXED);
		irq_schedule_bh(line);
	}
}

static void rng_bottom(int line, void *cookie)
{
	struct rng *r = cookie;

	irq_bh_done(line);
	pthread_mutex_lock(&r->lock);
	if (r->full) {
		/* To one open file with room, taking turns: no two readers ever
		 * get the same bytes. */
		struct devfile *f;
		int nf = 0;

		for (f = r->dev->files; f; f = f->next)
			nf++;
		for (int i = 0; i < nf; i++) {
			int k = (r->next + i) % nf;
			ssize_t n;

			for (f = r->dev->files; k--; f = f->next)
				;
			if ((n = send(f->fd, r->buf, r->size, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0) {
				r->st.rx_bytes += (uint64_t)n;
				r->next = (r->next + i + 1) % nf;
				break;
			}
		}
		r->st.rx++;
		r->full = false;
		pthread_cond_signal(&r->emptied);
	}
	pthread_mutex_unlock(&r->lock);
	irq_rearm(line);
}

static int rng_probe(struct device *dev, char *err, size_t errlen)
{
	struct rng *r = xcalloc(1, sizeof *r);
	long size;

	if (dev_opt_num(dev, "buffer", 1, 1 << 20, &size, err, errlen) < 0)
		return -1;
	r->dev = dev;
	r->size = (size_t)size;
	r->buf = xcalloc(1, r->size);
	if (hw_files_init(&r->hw) < 0) {
		snprintf(err, errlen, "device %s: eventfd: %s", dev->name, strerror(errno));
		return -1;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->emptied, NULL);
	dev->priv = r;
	return 0;
}

static int rng_start(struct device *dev)
{
	struct rng *r = dev->priv;
	int rc;

	if ((r->line = dev_request_line(dev, dev->name, IPL_TTY, rng_top, rng_bottom, r, &r->efd)) < 0)
		return r->line;
	return (rc = start_thread_off(hardware, r, devices_host_cpu())) ? -rc : 0;
}

static int rng_open(struct devfile *f)
{
	return hw_files_add(&((struct rng *)f->dev->priv)->hw, f);
}

static void rng_release(struct devfile *f)
{
	hw_files_remove(&((struct rng *)f->dev->priv)->hw, f);
}

/* Writes are taken and forgotten, as /dev/urandom's are. */
static enum trap_action rng_write(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off)
{
	(void)f, (void)buf;
	t->ret = off >= 0 ? -ESPIPE : (long)len;
	return TRAP_RETURN;
}

static void rng_stats(struct device *dev, struct hk_dev_stats *out)
{
	*out = ((struct rng *)dev->priv)->st;
}


const struct driver rng_driver = {
	.kind = "rng",
	.help = "random bytes from the host, a buffer at a time, one interrupt per buffer",
	.options = rng_options,
	.socktype = SOCK_STREAM,
	.probe = rng_probe,
	.start = rng_start,
	.open = rng_open,
	.release = rng_release,
	.stats = rng_stats,
	.fops = { .write = rng_write },
};
