/* hostk's devices, as a guest sees them: /dev/hostk/NAME, and the ioctls
 * every device (or one kind of device) answers.  Natively these files do not
 * exist.  (Open, read, write, poll, dup... are the usual calls; hostk(1),
 * DEVICES, says what each kind does with them.) */
#ifndef HOSTK_DEVICES_H
#define HOSTK_DEVICES_H

#include <stdint.h>
#include <sys/ioctl.h>

#define HK_IOC_TYPE 0xb8	/* the ioctl type byte of hostk's devices */

/* stat and fstat show a device file: a character device (a block device for
 * disk) with this major number (one of Linux's "local use" ones) and the
 * device's place on hostk's command line as its minor. */
#define HK_DEV_MAJOR 240

/* Any device: its counters, and its interrupt line(s) masked or not (a
 * masked line keeps its interrupts pending: nothing is lost). */
struct hk_dev_stats {
	uint64_t interrupts;	/* top halves run for the device */
	uint64_t rx, rx_bytes;	/* frames (nic) or requests (disk) or buffers (rng) done */
	uint64_t rx_dropped;	/* frames the RX ring had no room for (nic) */
	uint64_t tx, tx_bytes;	/* frames sent (nic), writes (disk) */
	uint64_t errors;	/* requests failed (EIO), frames the card could not send */
	uint64_t rx_ring;	/* frames in the RX ring now, waiting for the bottom half (nic) */
};
#define HK_IOC_STATS	_IOR(HK_IOC_TYPE, 1, struct hk_dev_stats)
#define HK_IOC_MASK	_IO(HK_IOC_TYPE, 2)
#define HK_IOC_UNMASK	_IO(HK_IOC_TYPE, 3)

/* disk: its size in bytes (BLKGETSIZE64 works too). */
#define HK_IOC_DISK_SIZE	_IOR(HK_IOC_TYPE, 4, uint64_t)

#endif
