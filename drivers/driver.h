/* The driver model: what a driver declares, what a device is, and how a
 * guest's descriptor reaches it.  One driver per file in drivers/; the
 * kernel (hostk/) names no device.
 *
 * A device has two sides.  Its hardware side is a thread of the driver's
 * that does the device's work (a socket, a file, a source of randomness)
 * and raises the device's interrupt line by writing an eventfd.  Its driver
 * side is this interface: a top half that acknowledges (signal context) and
 * a bottom half that moves data and wakes the waiting (the kernel loop),
 * both registered with request_irq() (hostk/irq.h), and file operations.
 *
 * A guest opens /dev/hostk/NAME and gets a real descriptor: one end of a
 * socketpair whose other end the driver holds (drivers/devices.c explains
 * why).  Operations the host can do on the socket itself (a frame's read,
 * poll, dup, fork, close-on-exec...) are the host's; the driver's operations
 * are the ones it has to see: each is called at the syscall's trap and
 * returns what the trap path does next, like a syscall handler. */
#ifndef HOSTK_DRIVERS_DRIVER_H
#define HOSTK_DRIVERS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../hostk/irq.h"
#include "../hostk/systab.h"

struct trap;
struct task;
struct device;
struct hk_dev_stats;

/* One open of a device (an open file description: dup and fork share it). */
struct devfile {
	struct device *dev;
	ino_t ino;		/* of the guest's end: how hostk knows the descriptor */
	int fd;			/* the driver's end */
	int flags;		/* the open's flags (O_NONBLOCK, O_ACCMODE...) */
	bool masked;		/* it holds the device's lines masked (HK_IOC_MASK) */
	uint64_t pos;		/* the file position, for drivers that seek */
	void *priv;
	struct hw_file *hw;	/* its hardware side's view (hw_files), if any */
	struct devfile *next;	/* the device's open files */
	struct devfile *hnext;	/* by inode */
};

struct dev_option {
	const char *name, *dflt, *help;
};

/* The file operations a driver may have; a missing one is the host's own
 * on the socket (read, write) or, for a driver that emulates reads,
 * ENOTTY, ESPIPE... as for a device without it.  Each returns the trap's
 * next step; one that sleeps (trap_sleep) finishes in exit(). */
struct dev_fops {
	enum trap_action (*read)(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off);
	enum trap_action (*write)(struct devfile *f, struct trap *t, unsigned long buf, size_t len, int64_t off);
	enum trap_action (*lseek)(struct devfile *f, struct trap *t, int64_t off, int whence);
	enum trap_action (*ioctl)(struct devfile *f, struct trap *t, unsigned cmd, unsigned long arg);
	enum trap_action (*fsync)(struct devfile *f, struct trap *t);
	/* The exit stop of an operation that slept: set t->ret.  It gets the
	 * device: the file may be gone by then (closed by a sibling). */
	void (*exit)(struct device *dev, struct trap *t);
};

struct driver {
	const char *kind;		/* what --device NAME=KIND names */
	const char *arg;		/* what KIND:ARG means (NULL: it takes none) */
	const char *help;		/* one line for `hostk devices` */
	const struct dev_option *options;	/* NULL-terminated */
	int socktype;			/* the descriptor: SOCK_SEQPACKET (frames) or SOCK_STREAM */
	bool seekable;			/* it has positions: pread, pwrite, lseek reach it */
	/* poll is the host's, on the socket: a frame or bytes queued make it
	 * readable.  A driver that emulates its reads (nothing is ever queued)
	 * is always ready instead, as a disk is: one byte waits in the
	 * guest's end, which the emulated reads never take. */
	bool always_ready;
	/* Its hardware side reads what guests send on their end (a nic's
	 * frames).  Any other driver's end is shut for reading. */
	bool reads_end;
	/* Before any guest: read the options, take what the device needs (a
	 * socket, a file).  0, or -1 with a one-line reason in err. */
	int (*probe)(struct device *dev, char *err, size_t errlen);
	/* Once the guests run: request the lines, start the hardware side.
	 * 0 or -errno. */
	int (*start)(struct device *dev);
	/* A guest opened it (f->fd is the driver's end, ready); 0 or -errno. */
	int (*open)(struct devfile *f);
	void (*release)(struct devfile *f);	/* the last descriptor of f is closed */
	/* A task that may sleep in one of the driver's operations is gone. */
	void (*forget)(struct device *dev, struct task *tk);
	/* The guests are gone: finish what they handed the hardware (bounded). */
	void (*stop)(struct device *dev);
	/* Its counters now (HK_IOC_STATS's, and --stats's). */
	void (*stats)(struct device *dev, struct hk_dev_stats *out);
	struct dev_fops fops;
};

struct device {
	const char *name;		/* /dev/hostk/NAME */
	const struct driver *drv;
	const char *arg;		/* KIND:ARG's ARG, or NULL */
	const char *opt[16];		/* the options' values, in the driver's order */
	int index;			/* its place on the command line: the minor number */
	struct stat st;			/* its /dev/hostk file, as the guests see it */
	struct devfile *files;
	int line[2], nlines;		/* its interrupt lines (dev_request_line) */
	int masks;			/* open files that hold them masked */
	void *priv;
	struct device *next;
};

/* The value of a device's option (its default if not given). */
const char *dev_opt(const struct device *dev, const char *name);
/* An option as a number in [min, max]: 0, or -1 with err. */
int dev_opt_num(const struct device *dev, const char *name, long min, long max, long *out, char *err,
		size_t errlen);
/* A line for a device (request_irq; the device, if any, keeps it among
 * its lines) and the eventfd its hardware side raises it by, watched by
 * the interrupt controller: the line, with the eventfd in *efd, or -errno. */
int dev_request_line(struct device *dev, const char *name, int ipl, irq_top_fn *top, irq_bottom_fn *bottom,
		     void *cookie, int *efd);
/* A top half's acknowledgement: the events the line's eventfd counted
 * (more than one were coalesced into this interrupt, and are counted so),
 * or 0 for a spurious interrupt (counted, the line re-armed). */
uint64_t dev_ack(int line, int efd);
/* An ioctl of a device's descriptor.  Every device answers HK_IOC_STATS
 * (its driver's stats) and HK_IOC_MASK, HK_IOC_UNMASK (its lines:
 * devices.h); the rest is its driver's ioctl, or ENOTTY.  A mask is the
 * open file's: the lines stay masked while any file holds them so, and a
 * file's release lets go of its hold. */
enum trap_action dev_ioctl(struct devfile *f, struct trap *t, unsigned cmd, unsigned long arg);
/* The CPU hostk is pinned to, or -1: hardware threads start off it
 * (start_thread_off). */
int devices_host_cpu(void);

/* The hardware side's own view of a device's open files, for a thread that
 * polls them: its own duplicates of the driver's ends, which only it
 * closes, so that a file the kernel releases meanwhile can never turn into
 * some other descriptor under its poll.  A bell (an eventfd it polls too)
 * tells it the set changed. */
#define HW_MAX_FILES 64
struct hw_file {
	int fd;			/* the hardware side's duplicate, or -1 once hung up */
	bool gone;		/* released by the kernel: the hardware side frees it */
};
struct hw_files {
	pthread_mutex_t lock;
	int bell;
	struct hw_file *f[HW_MAX_FILES];
	int n;
};
int hw_files_init(struct hw_files *h);
/* The kernel: a file opened (0, or -EMFILE, -errno) and released. */
int hw_files_add(struct hw_files *h, struct devfile *f);
void hw_files_remove(struct hw_files *h, struct devfile *f);
/* The hardware side: pollfds for the bell (p[0]) and each live file, with
 * events; frees what the kernel released.  Returns how many it filled. */
int hw_files_poll_set(struct hw_files *h, struct pollfd *p, short events);
/* After its poll: read the bell, and stop watching files that hung up (the
 * guest closed its last descriptor). */
void hw_files_after_poll(struct hw_files *h, const struct pollfd *p, int n);

/* The drivers there are (devices.c lists them). */
extern const struct driver nic_driver, disk_driver, rng_driver, test_driver;

/* The test device's part of the hostk call (hostk/hkcall.c). */
enum trap_action test_hkcall(struct device *dev, struct trap *t);
void test_hkcall_exit(struct device *dev, struct trap *t);

#endif
