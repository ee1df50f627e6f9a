/* The test device (drivers/testdev.c) and the hostk call that reaches it. */
#ifndef HOSTK_TESTDEV_H
#define HOSTK_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "../guest/include/hostk/hkcall.h"
#include "systab.h"

struct task;
struct trap;

/* Starts the device; its hardware thread stays off avoid_cpu if it can. */
int testdev_boot(int avoid_cpu);
/* The hardware side, for tests and benchmarks in hostk's own process. */
void testdev_raise(int line, uint64_t n);
void testdev_storm(int line, bool on);
void testdev_counts(int line, struct hk_dev_counts *out);

/* The hostk call (HK_CALL_NR) from a guest, and its exit. */
enum trap_action hkcall(struct trap *t);
void hkcall_exit(struct trap *t);
/* A task that may wait on the device is gone. */
void testdev_forget(struct task *tk);

#endif
