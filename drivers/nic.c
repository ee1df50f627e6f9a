/* nic: a network card bridged to UDP on the host.  Each datagram that comes
 * to its address is a received frame; each frame a guest writes goes out as
 * a datagram to its peer (the given one, or the last sender).
 *
 * The story of a received frame, in order (--trace shows it):
 *   1. the hardware side (a thread of the driver's) receives the datagram,
 *      puts it in the RX ring (bounded: a full ring drops the frame and
 *      counts it) and raises the line;
 *   2. the top half acknowledges (reads the line's eventfd) and schedules
 *      the bottom half;
 *   3. the bottom half moves the ring's frames into the device's queue: the
 *      socket each open file of the device has, whose other end the guest
 *      holds;
 *   4. the reader, asleep in read() with its CPU given to another task
 *      (read on a device traps and gives up its CPU), wakes;
 *   5. its read() returns the frame.
 * A written frame longer than the MTU is EMSGSIZE; the hardware side sends
 * the rest and raises the line again: the TX-complete interrupt.  Masking
 * the line (HK_IOC_MASK) keeps frames in the ring until it is unmasked. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
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

#define MAX_MTU 65507	/* the largest UDP payload */

struct frame {
	uint64_t arrived;	/* ns, when the hardware side took it */
	uint16_t len;
	unsigned char data[];
};

struct nic {
	struct device *dev;
	int line, efd, sock;
	struct sockaddr_in addr, peer, last;	/* bound to; sends to (peer, else last sender) */
	bool have_peer, have_last;
	size_t mtu, nring;
	struct frame **ring;		/* single producer (hardware), single consumer (bottom half) */
	uint64_t head, tail;		/* written by the hardware side / by the bottom half */
	uint64_t tx_done, tx_seen;	/* TX completions, and those the bottom half traced */
	bool tx_busy;			/* the hardware side holds a frame it has not sent yet */
	struct hw_files hw;		/* the open files, for the hardware side's TX */
	pthread_mutex_t lock;
	struct hk_dev_stats st;
};

static const struct dev_option nic_options[] = {
	{ "peer", NULL, "ADDR:PORT a written frame goes to (without it: the last sender)" },
	{ "rxring", "64", "frames the RX ring holds before it drops" },
	{ "mtu", "1500", "the largest frame, in bytes (up to 65507)" },
	{ NULL, NULL, NULL },
};

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || !colon[1])
		return -1;
	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void raise_line(struct nic *n)
{
	uint64_t one = 1;

	if (write(n->efd, &one, sizeof one) < 0)
		return;	/* the counter is full: it is raised already */
}

/* RX: a datagram into the ring, or counted as dropped. */
static void receive(struct nic *n, unsigned char *buf)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t len = recvfrom(n->sock, buf, MAX_MTU, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	uint64_t head = n->head;
	struct frame *fr;

	if (len < 0)
		return;
	pthread_mutex_lock(&n->lock);
	n->last = from;
	n->have_last = true;
	pthread_mutex_unlock(&n->lock);
	if ((size_t)len > n->mtu || head - __atomic_load_n(&n->tail, __ATOMIC_ACQUIRE) >= n->nring) {
		__atomic_add_fetch(&n->st.rx_dropped, 1, __ATOMIC_RELAXED);
		trace_hardware("%s: frame of %zd bytes dropped: %s", n->dev->name, len,
			       (size_t)len > n->mtu ? "over the MTU" : "the RX ring is full");
		return;
	}
	fr = malloc(sizeof *fr + (size_t)len);
	if (!fr) {
		__atomic_add_fetch(&n->st.rx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	fr->arrived = now_ns();
	fr->len = (uint16_t)len;
	memcpy(fr->data, buf, (size_t)len);
	trace_hardware("%s: frame of %zd bytes arrives, into the RX ring", n->dev->name, len);
	n->ring[head % n->nring] = fr;
	__atomic_store_n(&n->head, head + 1, __ATOMIC_RELEASE);
	raise_line(n);
}

/* TX: a frame a guest wrote, out to the peer, then TX-complete.  A frame
 * over the MTU that got past the write's check (writev, sendmsg) is
 * dropped and counted as an error, as a card would.  false: there was no
 * frame, only the end (a card has no empty frames: nic_write sends none). */
static bool transmit(struct nic *n, int fd, unsigned char *buf)
{
	ssize_t len = recv(fd, buf, MAX_MTU, MSG_DONTWAIT | MSG_TRUNC);
	struct sockaddr_in to;
	bool have;

	if (len <= 0)
		return len < 0 && errno == EAGAIN;
	if ((size_t)len > n->mtu) {
		__atomic_add_fetch(&n->st.errors, 1, __ATOMIC_RELAXED);
		return true;
	}
	pthread_mutex_lock(&n->lock);
	have = n->have_peer || n->have_last;
	to = n->have_peer ? n->peer : n->last;
	pthread_mutex_unlock(&n->lock);
	if (!have || sendto(n->sock, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof to) != len) {
		__atomic_add_fetch(&n->st.errors, 1, __ATOMIC_RELAXED);
		return true;
	}
	if (trace_fp) {
		char a[INET_ADDRSTRLEN];

		trace_hardware("%s: frame of %zd bytes sent to %s:%u", n->dev->name, len,
			       inet_ntop(AF_INET, &to.sin_addr, a, sizeof a), ntohs(to.sin_port));
	}
	__atomic_add_fetch(&n->st.tx, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n->st.tx_bytes, (uint64_t)len, __ATOMIC_RELAXED);
	__atomic_add_fetch(&n->tx_done, 1, __ATOMIC_RELEASE);
	raise_line(n);
	return true;
}

/* The hardware side: the UDP socket and every open file's end.  It sleeps
 * until one of them has something: an idle card costs nothing. */
static void *hardware(void *arg)
{
	struct nic *n = arg;
	unsigned char *buf = xcalloc(1, MAX_MTU);
	struct pollfd p[2 + HW_MAX_FILES];

	for (;;) {
		int nf = hw_files_poll_set(&n->hw, p + 1, POLLIN);

		p[0] = (struct pollfd){ .fd = n->sock, .events = POLLIN };
		if (poll(p, (nfds_t)(1 + nf), -1) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			receive(n, buf);
		__atomic_store_n(&n->tx_busy, true, __ATOMIC_SEQ_CST);
		for (int i = 1; i < nf; i++)
			if ((p[1 + i].revents & POLLIN) && !transmit(n, p[1 + i].fd, buf))
				p[1 + i].revents &= ~POLLIN;	/* the end: the guest closed it */
		__atomic_store_n(&n->tx_busy, false, __ATOMIC_SEQ_CST);
		hw_files_after_poll(&n->hw, p + 1, nf);
	}
	return NULL;
}

static void nic_top(int line, void *cookie)
{
	struct nic *n = cookie;

	if (dev_ack(line, n->efd)) {
		__atomic_add_fetch(&n->st.interrupts, 1, __ATOMIC_RELAXED);
		irq_schedule_bh(line);
	}
}

static void nic_bottom(int line, void *cookie)
{
	struct nic *n = cookie;
	uint64_t tail = n->tail, head = __atomic_load_n(&n->head, __ATOMIC_ACQUIRE);
	uint64_t done = __atomic_load_n(&n->tx_done, __ATOMIC_ACQUIRE);

	irq_bh_done(line);
	for (; tail != head; tail++) {
		struct frame *fr = n->ring[tail % n->nring];
		int readers = 0;

		for (struct devfile *f = n->dev->files; f; f = f->next)
			if (send(f->fd, fr->data, fr->len, MSG_DONTWAIT | MSG_NOSIGNAL) == fr->len)
				readers++;
		if (readers) {
			n->st.rx++;
			n->st.rx_bytes += fr->len;
		} else {
			n->st.rx_dropped++;	/* no reader, or every queue full */
		}
		trace_kernel("%s: frame of %u bytes (arrived %lu us ago) to %d open file(s)", n->dev->name, fr->len,
			     (unsigned long)((now_ns() - fr->arrived) / 1000), readers);
		free(fr);
	}
	__atomic_store_n(&n->tail, tail, __ATOMIC_RELEASE);
	if (done != n->tx_seen) {
		trace_kernel("%s: tx complete, %lu frame(s)", n->dev->name, (unsigned long)(done - n->tx_seen));
		n->tx_seen = done;
	}
	irq_rearm(line);
}

static int nic_probe(struct device *dev, char *err, size_t errlen)
{
	struct nic *n = xcalloc(1, sizeof *n);
	const char *peer = dev_opt(dev, "peer");
	long ring, mtu;

	n->dev = dev;
	if (parse_addr(dev->arg, &n->addr) < 0) {
		snprintf(err, errlen, "device %s: nic wants ADDR:PORT (an IPv4 address), not '%s'", dev->name, dev->arg);
		return -1;
	}
	if (peer && parse_addr(peer, &n->peer) < 0) {
		snprintf(err, errlen, "device %s: peer wants ADDR:PORT (an IPv4 address), not '%s'", dev->name, peer);
		return -1;
	}
	n->have_peer = peer != NULL;
	if (dev_opt_num(dev, "rxring", 1, 65536, &ring, err, errlen) < 0 ||
	    dev_opt_num(dev, "mtu", 1, MAX_MTU, &mtu, err, errlen) < 0)
		return -1;
	n->nring = (size_t)ring;
	n->mtu = (size_t)mtu;
	n->ring = xcalloc(n->nring, sizeof *n->ring);
	if ((n->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(n->sock, (struct sockaddr *)&n->addr, sizeof n->addr) < 0) {
		snprintf(err, errlen, "device %s: cannot bind %s: %s%s", dev->name, dev->arg, strerror(errno),
			 errno == EADDRINUSE ? " (the port is in use)" : "");
		return -1;
	}
	if (hw_files_init(&n->hw) < 0) {
		snprintf(err, errlen, "device %s: eventfd: %s", dev->name, strerror(errno));
		return -1;
	}
	pthread_mutex_init(&n->lock, NULL);
	dev->priv = n;
	return 0;
}

static int nic_start(struct device *dev)
{
	struct nic *n = dev->priv;
	int rc;

	if ((n->line = dev_request_line(dev, dev->name, IPL_NET, nic_top, nic_bottom, n, &n->efd)) < 0)
		return n->line;
	return (rc = start_thread_off(hardware, n, devices_host_cpu())) ? -rc : 0;
}

static int nic_open(struct devfile *f)
{
	return hw_files_add(&((struct nic *)f->dev->priv)->hw, f);
}

static void nic_release(struct devfile *f)
{
	hw_files_remove(&((struct nic *)f->dev->priv)->hw, f);
}

/* A frame out: the host writes it to the socket, the hardware side sends
 * it.  Longer than the MTU: EMSGSIZE, as a card would say. */
static enum trap_action nic_write(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off)
{
	struct nic *n = f->dev->priv;

	(void)buf;
	if (off >= 0 || len > n->mtu || !len) {
		t->ret = off >= 0 ? -ESPIPE : len ? -EMSGSIZE : 0;	/* an empty write sends nothing */
		return TRAP_RETURN;
	}
	t->wait = WAIT_BLOCK;	/* the hardware side may be behind: the host waits */
	return TRAP_RUN;
}

static void nic_stats(struct device *dev, struct hk_dev_stats *out)
{
	struct nic *n = dev->priv;

	*out = n->st;
	out->rx_dropped = __atomic_load_n(&n->st.rx_dropped, __ATOMIC_RELAXED);
	out->rx_ring = __atomic_load_n(&n->head, __ATOMIC_ACQUIRE) - n->tail;
}

/* Frames the guests wrote and the hardware side has not sent yet go out
 * before hostk exits, as a card drains its TX ring; a second at most. */
#define DRAIN_MS 1000

static void nic_stop(struct device *dev)
{
	struct nic *n = dev->priv;

	for (int waited = 0;; waited++) {
		int queued = __atomic_load_n(&n->tx_busy, __ATOMIC_SEQ_CST), bytes;

		for (struct devfile *f = dev->files; f; f = f->next)
			queued += ioctl(f->fd, SIOCINQ, &bytes) == 0 && bytes > 0;
		if (!queued)
			return;
		if (waited == DRAIN_MS) {
			warn("%s: %d open file(s) with frames not sent at exit", dev->name, queued);
			return;
		}
		poll(NULL, 0, 1);
	}
}


const struct driver nic_driver = {
	.kind = "nic",
	.arg = "ADDR:PORT",
	.help = "a network card: UDP datagrams to ADDR:PORT are its frames in, its frames out go to the peer",
	.options = nic_options,
	.socktype = SOCK_SEQPACKET,
	.reads_end = true,
	.probe = nic_probe,
	.start = nic_start,
	.open = nic_open,
	.release = nic_release,
	.stop = nic_stop,
	.stats = nic_stats,
	.fops = { .write = nic_write },
};
