/* The devices (drivers/devices.c), as the kernel and the command line see
 * them: configured, probed and started by boot; found behind a guest's
 * descriptor by the trap path.  The kernel names no particular device. */
#ifndef HOSTK_DRIVERS_DEVICES_H
#define HOSTK_DRIVERS_DEVICES_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "driver.h"

#define MAX_DEVICES 8

/* --device NAME=KIND[:ARG][,OPTION=VALUE...].  0, or -1 with err. */
int devices_add(const char *spec, char *err, size_t errlen);
/* Before any guest: every driver's probe.  0, or -1 with err. */
int devices_probe(char *err, size_t errlen);
/* Once the guests run (after the interrupt controller and the timer). */
int devices_start(int host_cpu);
/* Once the guests are gone: each driver's stop. */
void devices_stop(void);
int devices_count(void);
/* Does a device have positions (then pread, pwrite, lseek and fsync trap)? */
bool devices_seekable(void);
/* The device whose /dev/hostk file is (dev, ino), in the guests' view. */
struct device *device_of_file(dev_t dev, ino_t ino);
/* What stat shows of a device's file or descriptor. */
void device_stat(const struct device *d, struct stat *st);
/* The i-th device's name (ns.c makes /dev/hostk/NAME of each), or NULL. */
const char *device_name(int i);
struct device *device_by_kind(const char *kind);
/* Learn each /dev/hostk/NAME file as the guests see it (pid: pid 1). */
int devices_learn_files(pid_t pid);
/* `hostk devices`: kinds, arguments, options, defaults. */
void devices_list(FILE *fp);
/* Each device's counters, for --stats: table rows, or JSON objects. */
void devices_report(FILE *fp, bool json);

/* The trap path's hooks. */
struct trap;
struct task;
/* At an open's exit stop: if the new descriptor is a device's file, it
 * becomes the device's descriptor (t->ret may become an errno). */
void devices_opened(struct trap *t);
/* The open device file behind a guest's descriptor, or NULL. */
struct devfile *devices_file(pid_t tid, int fd);
struct devfile *devices_file_by_ino(ino_t ino);
/* The exit stop of a driver operation that slept. */
void devices_exit(struct trap *t);
/* A task is gone: no driver may wake it any more. */
void devices_forget(struct task *tk);
/* A driver found every guest descriptor of f closed. */

#endif
