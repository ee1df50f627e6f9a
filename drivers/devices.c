/* The devices: --device NAME=KIND[:ARG][,OPTION=VALUE...] makes one of a
 * driver, probed before any guest starts (a bad option, address or file is
 * one line and exit 2) and started once the guests run.
 *
 * A guest reaches a device as /dev/hostk/NAME: an empty file in the guests'
 * /dev (ns.c makes it) that an open really opens, so paths, symlinks,
 * relative lookups and openat all work as for any file.  At the open's
 * exit stop hostk sees which file the new descriptor is (its device and
 * inode) and, for a device, replaces it in the guest with one end of a
 * socketpair whose other end the driver holds, at the same descriptor
 * number, through the notification gate (inject_fd).  A socketpair rather
 * than a pipe: one descriptor both ways, SOCK_SEQPACKET keeps a NIC's
 * frames whole, and both ends see the other's close.  So every descriptor
 * operation is right at once because the host does it: dup, dup2, dup3,
 * fcntl(F_DUPFD*), close_range, fork, close-on-exec, poll, select, epoll,
 * O_NONBLOCK.  What the driver must see (a seek, an ioctl, a read it
 * emulates) traps, and hostk finds the device behind the descriptor by the
 * socket's inode.  While there are devices the stat family traps too, so
 * that stat of the file and fstat of the descriptor both show the device
 * (device_stat), not the placeholder or the socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../guest/include/hostk/devices.h"
#include "../hostk/inject.h"
#include "../hostk/irq.h"
#include "../hostk/ns.h"
#include "../hostk/trace.h"
#include "../hostk/trap.h"
#include "../hostk/uaccess.h"
#include "../hostk/util.h"
#include "devices.h"
#include "driver.h"

static const struct driver *const drivers[] = { &nic_driver, &disk_driver, &rng_driver, &test_driver };

static struct device *devices, **devices_tail = &devices;
static int ndevices;
static bool seekable;

#define FHASH 256
static struct devfile *by_ino[FHASH];

/* Every open file holds one of hostk's descriptors (the driver's end), so
 * the guests together may hold at most max_files of them, well inside
 * hostk's own limit: past it an open is ENFILE, as when a kernel's file
 * table is full, and hostk keeps descriptors for its own work.  hangups
 * watches the driver's ends for the guest's last close. */
#define MAX_FILES 4096
#define RESERVED_FDS 256	/* hostk's own: /proc files, eventfds, its devices' */
static int nfiles, max_files, hangups = -1;

const char *dev_opt(const struct device *dev, const char *name)
{
	const struct dev_option *o = dev->drv->options;

	for (int i = 0; o && o[i].name; i++)
		if (!strcmp(o[i].name, name))
			return dev->opt[i] ? dev->opt[i] : o[i].dflt;
	return NULL;
}

int dev_opt_num(const struct device *dev, const char *name, long min, long max, long *out, char *err, size_t errlen)
{
	const char *v = dev_opt(dev, name);
	char *end;

	errno = 0;
	*out = v ? strtol(v, &end, 10) : 0;
	if (!v || !*v || *end || errno || *out < min || *out > max) {
		snprintf(err, errlen, "device %s: %s wants a number from %ld to %ld, not '%s'", dev->name, name, min,
			 max, v ? v : "");
		return -1;
	}
	return 0;
}

int dev_request_line(struct device *dev, const char *name, int ipl, irq_top_fn *top, irq_bottom_fn *bottom,
		     void *cookie, int *efd)
{
	int line = request_irq(name, ipl, top, bottom, cookie), fd, rc;

	if (line < 0)
		return line;
	if ((fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	if ((rc = irq_attach_eventfd(line, fd)) < 0) {
		close(fd);
		return rc;
	}
	*efd = fd;
	if (dev && dev->nlines < (int)NELEM(dev->line))
		dev->line[dev->nlines++] = line;
	return line;
}

uint64_t dev_ack(int line, int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof n) != (ssize_t)sizeof n || n == 0) {
		irq_spurious(line);
		irq_rearm(line);
		return 0;
	}
	if (n > 1)
		irq_coalesced(line, n - 1);
	return n;
}

/* The open file f takes (mask) or lets go of (!mask) its hold on its
 * device's lines: the first hold masks them, the last to go unmasks. */
static void hold_mask(struct devfile *f, bool mask)
{
	struct device *dev = f->dev;

	if (f->masked == mask)
		return;
	f->masked = mask;
	if (mask ? dev->masks++ : --dev->masks)
		return;
	for (int i = 0; i < dev->nlines; i++)
		(mask ? irq_mask : irq_unmask)(dev->line[i]);
}

enum trap_action dev_ioctl(struct devfile *f, struct trap *t, unsigned cmd, unsigned long arg)
{
	const struct driver *drv = f->dev->drv;
	struct hk_dev_stats st = { 0 };

	switch (cmd) {
	case HK_IOC_STATS:
		if (drv->stats)
			drv->stats(f->dev, &st);
		t->ret = copy_to_guest(t->task->tid, arg, &st, sizeof st) < 0 ? -EFAULT : 0;
		return TRAP_RETURN;
	case HK_IOC_MASK:
	case HK_IOC_UNMASK:
		hold_mask(f, cmd == HK_IOC_MASK);
		t->ret = 0;
		return TRAP_RETURN;
	default:
		if (drv->fops.ioctl)
			return drv->fops.ioctl(f, t, cmd, arg);
		t->ret = -ENOTTY;
		return TRAP_RETURN;
	}
}

int hw_files_init(struct hw_files *h)
{
	memset(h, 0, sizeof *h);
	pthread_mutex_init(&h->lock, NULL);
	return (h->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ? -errno : 0;
}

static void ring(int bell)
{
	uint64_t one = 1;

	if (write(bell, &one, sizeof one) < 0)
		return;	/* the counter is full: it rings already */
}

int hw_files_add(struct hw_files *h, struct devfile *f)
{
	struct hw_file *hf;
	int fd;

	pthread_mutex_lock(&h->lock);
	if (h->n == HW_MAX_FILES) {
		pthread_mutex_unlock(&h->lock);
		return -EMFILE;
	}
	if ((fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		pthread_mutex_unlock(&h->lock);
		return -errno;
	}
	hf = xcalloc(1, sizeof *hf);
	hf->fd = fd;
	h->f[h->n++] = hf;
	f->hw = hf;
	pthread_mutex_unlock(&h->lock);
	ring(h->bell);
	return 0;
}

void hw_files_remove(struct hw_files *h, struct devfile *f)
{
	pthread_mutex_lock(&h->lock);
	if (f->hw)
		f->hw->gone = true;
	f->hw = NULL;
	pthread_mutex_unlock(&h->lock);
	ring(h->bell);
}

int hw_files_poll_set(struct hw_files *h, struct pollfd *p, short events)
{
	int n = 1;

	p[0] = (struct pollfd){ .fd = h->bell, .events = POLLIN };
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < h->n;) {
		struct hw_file *hf = h->f[i];

		if (hf->gone) {
			if (hf->fd >= 0)
				close(hf->fd);
			free(hf);
			h->f[i] = h->f[--h->n];
			continue;
		}
		if (hf->fd >= 0)
			p[n++] = (struct pollfd){ .fd = hf->fd, .events = events };
		i++;
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

void hw_files_after_poll(struct hw_files *h, const struct pollfd *p, int n)
{
	uint64_t rang;

	if ((p[0].revents & POLLIN) && read(h->bell, &rang, sizeof rang) < 0)
		rang = 0;
	for (int i = 1; i < n; i++) {
		if (!(p[i].revents & (POLLHUP | POLLERR | POLLNVAL)) || (p[i].revents & POLLIN))
			continue;
		pthread_mutex_lock(&h->lock);
		for (int j = 0; j < h->n; j++)
			if (h->f[j]->fd == p[i].fd) {
				close(h->f[j]->fd);
				h->f[j]->fd = -1;
			}
		pthread_mutex_unlock(&h->lock);
	}
}

static const struct driver *driver_of(const char *kind, size_t len)
{
	for (size_t i = 0; i < NELEM(drivers); i++)
		if (strlen(drivers[i]->kind) == len && !strncmp(drivers[i]->kind, kind, len))
			return drivers[i];
	return NULL;
}

int devices_add(const char *spec, char *err, size_t errlen)
{
	char *s = xstrdup(spec), *kind, *opts, *arg, *opt;
	struct device *dev = xcalloc(1, sizeof *dev);
	const struct dev_option *o;

	if (!(kind = strchr(s, '=')) || kind == s || kind - s > 15 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") <
	    (size_t)(kind - s)) {
		snprintf(err, errlen, "--device wants NAME=KIND[:ARG][,OPTION=VALUE...] with a NAME of up to 15 "
			 "letters, digits, - and _, not '%s'", spec);
		return -1;
	}
	*kind++ = 0;
	dev->name = s;
	opts = strchr(kind, ',');
	if (opts)
		*opts++ = 0;
	if ((arg = strchr(kind, ':')))
		*arg++ = 0;
	if (!(dev->drv = driver_of(kind, strlen(kind)))) {
		snprintf(err, errlen, "--device %s: unknown kind '%s' (see hostk devices)", dev->name, kind);
		return -1;
	}
	if (!arg != !dev->drv->arg) {
		snprintf(err, errlen, "--device %s: %s %s", dev->name, kind,
			 dev->drv->arg ? "wants :ARG, " : "takes no :ARG");
		if (dev->drv->arg)
			snprintf(err + strlen(err), errlen - strlen(err), "%s", dev->drv->arg);
		return -1;
	}
	dev->arg = arg;
	for (opt = opts ? strtok(opts, ",") : NULL; opt; opt = strtok(NULL, ",")) {
		char *eq = strchr(opt, '=');
		int i;

		if (eq)
			*eq++ = 0;
		for (i = 0, o = dev->drv->options; o && o[i].name && strcmp(o[i].name, opt); i++)
			;
		if (!o || !o[i].name) {
			snprintf(err, errlen, "--device %s: %s has no option '%s' (see hostk devices)", dev->name, kind, opt);
			return -1;
		}
		/* "ro" alone means ro=1. */
		dev->opt[i] = eq ? eq : "1";
	}
	for (struct device *d = devices; d; d = d->next)
		if (!strcmp(d->name, dev->name)) {
			snprintf(err, errlen, "--device %s: a device of that name is there already", dev->name);
			return -1;
		}
	if (ndevices == MAX_DEVICES) {
		snprintf(err, errlen, "--device %s: at most %d devices", dev->name, MAX_DEVICES);
		return -1;
	}
	*devices_tail = dev;
	devices_tail = &dev->next;
	dev->index = ndevices++;
	seekable |= dev->drv->seekable;
	return 0;
}

int devices_probe(char *err, size_t errlen)
{
	for (struct device *d = devices; d; d = d->next)
		if (d->drv->probe && d->drv->probe(d, err, errlen) < 0)
			return -1;
	return 0;
}

static int host_cpu = -1;

int devices_host_cpu(void)
{
	return host_cpu;
}

/* How many files the guests may open: MAX_FILES, less if hostk's own
 * descriptor limit (raised to its hard limit) leaves less room. */
static int files_limit(void)
{
	struct rlimit rl;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	room = (long)(rl.rlim_cur > INT_MAX ? INT_MAX : rl.rlim_cur) - RESERVED_FDS - HW_MAX_FILES * ndevices;
	return room < 0 ? 0 : room > MAX_FILES ? MAX_FILES : (int)room;
}

int devices_start(int cpu)
{
	int rc;

	host_cpu = cpu;
	max_files = files_limit();
	if (ndevices && (hangups = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -errno;
	for (struct device *d = devices; d; d = d->next)
		if (d->drv->start && (rc = d->drv->start(d)) < 0)
			return rc;
	return 0;
}

void devices_stop(void)
{
	for (struct device *d = devices; d; d = d->next)
		if (d->drv->stop)
			d->drv->stop(d);
}

int devices_count(void)
{
	return ndevices;
}

bool devices_seekable(void)
{
	return seekable;
}

const char *device_name(int i)
{
	struct device *d = devices;

	while (d && i--)
		d = d->next;
	return d ? d->name : NULL;
}

struct device *device_by_kind(const char *kind)
{
	for (struct device *d = devices; d; d = d->next)
		if (!strcmp(d->drv->kind, kind))
			return d;
	return NULL;
}

struct device *device_of_file(dev_t dev, ino_t ino)
{
	for (struct device *d = devices; d; d = d->next)
		if (d->st.st_dev == dev && d->st.st_ino == ino)
			return d;
	return NULL;
}

void device_stat(const struct device *d, struct stat *st)
{
	*st = d->st;
	st->st_mode = (d->drv->seekable ? S_IFBLK : S_IFCHR) | (d->st.st_mode & 07777);
	st->st_rdev = makedev(HK_DEV_MAJOR, (unsigned)d->index);
	st->st_size = 0;
	st->st_blocks = 0;
}

int devices_learn_files(pid_t pid)
{
	for (struct device *d = devices; d; d = d->next) {
		char path[128];
		struct stat st;

		snprintf(path, sizeof path, "/proc/%d/root/dev/hostk/%s", pid, d->name);
		if (stat(path, &st) < 0)
			return -errno;
		st.st_uid = ns_uid_inside(st.st_uid);
		st.st_gid = ns_gid_inside(st.st_gid);
		d->st = st;
	}
	return 0;
}

void devices_report(FILE *fp, bool json)
{
	struct hk_dev_stats st;
	int n = 0;

	for (struct device *d = devices; d; d = d->next, n++) {
		memset(&st, 0, sizeof st);
		if (d->drv->stats)
			d->drv->stats(d, &st);
		if (json)
			fprintf(fp, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"interrupts\":%lu,\"rx\":%lu,\"rx_bytes\":%lu,"
				"\"rx_dropped\":%lu,\"tx\":%lu,\"tx_bytes\":%lu,\"errors\":%lu}", n ? "," : "", d->name,
				d->drv->kind, st.interrupts, st.rx, st.rx_bytes, st.rx_dropped, st.tx, st.tx_bytes, st.errors);
		else
			fprintf(fp, "  %-8s %-5s %10lu %9lu %11lu %8lu %9lu %11lu %7lu\n", d->name, d->drv->kind,
				st.interrupts, st.rx, st.rx_bytes, st.rx_dropped, st.tx, st.tx_bytes, st.errors);
	}
}

void devices_list(FILE *fp)
{
	fprintf(fp, "hostk devices: --device NAME=KIND[:ARG][,OPTION=VALUE...]; a guest opens /dev/hostk/NAME\n");
	for (size_t i = 0; i < NELEM(drivers); i++) {
		const struct driver *d = drivers[i];

		fprintf(fp, "\n%s%s%s  %s\n", d->kind, d->arg ? ":" : "", d->arg ? d->arg : "", d->help);
		for (const struct dev_option *o = d->options; o && o->name; o++)
			if (o->dflt)
				fprintf(fp, "  %-10s %s (default: %s)\n", o->name, o->help, o->dflt);
			else
				fprintf(fp, "  %-10s %s\n", o->name, o->help);
	}
}

/* Open files, by the inode of the guest's end. */
static void file_hash(struct devfile *f)
{
	f->hnext = by_ino[f->ino % FHASH];
	by_ino[f->ino % FHASH] = f;
}

static void file_free(struct devfile *f)
{
	struct devfile **pp;

	/* Before the close: a hardware side's duplicate keeps the file, and
	 * with it the watch, alive. */
	epoll_ctl(hangups, EPOLL_CTL_DEL, f->fd, NULL);
	nfiles--;

	for (pp = &by_ino[f->ino % FHASH]; *pp && *pp != f; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = f->hnext;
	for (pp = &f->dev->files; *pp && *pp != f; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = f->next;
	hold_mask(f, false);
	if (f->dev->drv->release)
		f->dev->drv->release(f);
	close(f->fd);
	free(f);
}

/* Open files whose every guest descriptor is gone: the driver's end hears
 * the hang-up, and only those are reported, so looking at each open and
 * each task's end costs what was closed, not what is open. */
static void reap_closed(void)
{
	struct epoll_event ev[64];
	int n;

	while ((n = epoll_wait(hangups, ev, (int)NELEM(ev), 0)) > 0)
		for (int i = 0; i < n; i++)
			file_free(ev[i].data.ptr);
}

struct devfile *devices_file(pid_t tid, int fd)
{
	char link[64];
	struct stat st;

	if (!ndevices)
		return NULL;
	/* The open file itself: a device's is a socket of a known inode. */
	snprintf(link, sizeof link, "/proc/%d/fd/%d", tid, fd);
	return stat(link, &st) == 0 && S_ISSOCK(st.st_mode) ? devices_file_by_ino(st.st_ino) : NULL;
}

struct devfile *devices_file_by_ino(ino_t ino)
{
	for (struct devfile *f = by_ino[ino % FHASH]; f; f = f->hnext)
		if (f->ino == ino)
			return f;
	return NULL;
}

/* The open's flags; openat2's are in the guest's struct open_how (a
 * sibling changing it meanwhile changes only what its own open gets). */
static int open_flags(const struct trap *t)
{
	uint64_t how_flags;

	switch (t->nr) {
	case SYS_open:
		return (int)t->arg[1];
	case SYS_openat:
		return (int)t->arg[2];
	case SYS_creat:
		return O_CREAT | O_WRONLY;
	default:
		return copy_from_guest(t->task->tid, &how_flags, t->arg[2], sizeof how_flags) < 0 ? O_RDWR :
		       (int)how_flags;
	}
}

void devices_opened(struct trap *t)
{
	char link[64];
	struct stat st;
	struct device *dev;
	struct devfile *f;
	int fd = (int)t->ret, sv[2], flags, rc;
	long r;

	snprintf(link, sizeof link, "/proc/%d/fd/%d", t->task->tid, fd);
	if (stat(link, &st) < 0)
		return;
	if (!(dev = device_of_file(st.st_dev, st.st_ino)) || (flags = open_flags(t)) & O_PATH)
		return;	/* an O_PATH descriptor names the file and no more: it stays */
	reap_closed();
	if (nfiles >= max_files) {
		t->ret = -ENFILE;
		goto undo;
	}
	if (socketpair(AF_UNIX, dev->drv->socktype | SOCK_CLOEXEC, 0, sv) < 0) {
		t->ret = -errno;
		goto undo;
	}
	f = xcalloc(1, sizeof *f);
	f->dev = dev;
	f->fd = sv[1];
	f->flags = flags;
	fstat(sv[0], &st);
	f->ino = st.st_ino;
	if ((flags & O_NONBLOCK) && fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		t->ret = -errno;
		goto fail;
	}
	if (dev->drv->always_ready && send(sv[1], "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
		t->ret = -errno;
		goto fail;
	}
	/* What a guest sends on its end (bytes, descriptors) would pile up
	 * unread in the driver's, and a descriptor sent there would keep its
	 * own file open for ever: a driver that does not read its end shuts
	 * it, and the guest's sends fail with EPIPE. */
	if (!dev->drv->reads_end && shutdown(sv[1], SHUT_RD) < 0) {
		t->ret = -errno;
		goto fail;
	}
	if (dev->drv->open && (rc = dev->drv->open(f)) < 0) {
		t->ret = rc;
		goto fail;
	}
	/* The placeholder's descriptor becomes the device's, at its number.
	 * A signal may cut the gate's wait short: it is held back, so the
	 * next try goes through. */
	r = -EINTR;
	for (int tries = 0; tries < 3 && r == -EINTR; tries++)
		r = inject_fd(t->task, &t->regs, reg_ip(&t->regs) - SYSCALL_INSN_LEN, sv[0], fd, flags & O_CLOEXEC);
	t->task->sys.regs_rewritten = true;	/* the gate's marker used the argument registers */
	if (r != fd) {
		t->ret = r < 0 ? r : -EIO;
		if (dev->drv->release)
			dev->drv->release(f);
		goto fail;
	}
	close(sv[0]);
	f->next = dev->files;
	dev->files = f;
	file_hash(f);
	nfiles++;
	epoll_ctl(hangups, EPOLL_CTL_ADD, f->fd, &(struct epoll_event){ .events = 0, .data.ptr = f });
	trace_event(t->task, "%s: opened, descriptor %d", dev->name, fd);
	return;
fail:
	close(sv[0]);
	close(sv[1]);
	free(f);
undo:
	/* The guest must not keep the placeholder under a failed open. */
	inject_syscall(t->task, &t->regs, reg_ip(&t->regs) - SYSCALL_INSN_LEN, SYS_close,
		       (unsigned long[6]){ (unsigned long)fd });
	t->task->sys.regs_rewritten = true;
}

void devices_exit(struct trap *t)
{
	struct device *dev = t->task->sys.dev;

	t->task->sys.dev = NULL;
	if (!dev)
		return;
	if (dev->drv->fops.exit)
		dev->drv->fops.exit(dev, t);
	else if (t->nr == SYS_read || t->nr == SYS_readv)	/* the host's, on the socket */
		trace_event(t->task, "%s: reader %s, read returns %ld", dev->name,
			    t->ret == -EAGAIN ? "not put to sleep" : "woken", t->ret);
}

void devices_forget(struct task *tk)
{
	reap_closed();	/* its descriptors may have been the last */
	for (struct device *d = devices; d; d = d->next)
		if (d->drv->forget)
			d->drv->forget(d, tk);
}
