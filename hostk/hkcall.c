/* The hostk call.  HK_NULL is the kernel's: the trap and nothing else (what
 * `hostk bench` times).  The device requests (HK_DEV_*) are the test
 * device's ABI from before guests could open /dev/hostk/test; they go on
 * working, through its driver, when a test device is configured (ENODEV
 * when none is). */
#include <errno.h>

#include "../drivers/devices.h"
#include "../guest/include/hostk/hkcall.h"
#include "hkcall.h"
#include "trap.h"

enum trap_action hkcall(struct trap *t)
{
	struct device *dev;

	if (t->arg[0] == HK_NULL) {
		t->ret = 0;
		return TRAP_RETURN;
	}
	/* An op nobody serves, before whether its server is there. */
	if (t->arg[0] > HK_DEV_WAIT) {
		t->ret = -EINVAL;
		return TRAP_RETURN;
	}
	if (!(dev = device_by_kind("test"))) {
		t->ret = -ENODEV;
		return TRAP_RETURN;
	}
	return test_hkcall(dev, t);
}

void hkcall_exit(struct trap *t)
{
	struct device *dev = device_by_kind("test");

	if (dev)
		test_hkcall_exit(dev, t);
}
