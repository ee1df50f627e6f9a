/* The test device (drivers/test.c) in hostk's own process, for the unit
 * tests and `hostk bench irq`: two lines, low (IPL_BIO) and high priority
 * (IPL_SERIAL), raised by a hardware thread on demand. */
#ifndef HOSTK_DRIVERS_TEST_H
#define HOSTK_DRIVERS_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "../guest/include/hostk/hkcall.h"

struct device;

/* Request the lines (dev's, if given) and start the hardware thread (off
 * avoid_cpu if it can). */
int testdev_boot(struct device *dev, int avoid_cpu);
/* Stop the hardware thread and close the lines' eventfds: the device as
 * before testdev_boot, its counts at 0 (tests, each from scratch). */
void testdev_shutdown(void);
/* which: HK_TEST_LO or HK_TEST_HI. */
void testdev_raise(int which, uint64_t n);
void testdev_storm(int which, bool on);
void testdev_counts(int which, struct hk_dev_counts *out);
/* The controller's line for which. */
int testdev_line(int which);

#endif
