/* Syscall handlers, by subsystem.  systab.c names them; trap.c calls them.
 * An enter handler returns what the trap path does next (see enum trap_action);
 * an exit handler runs after the host ran the syscall and may rewrite t->ret. */
#ifndef HOSTK_SYS_H
#define HOSTK_SYS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../systab.h"

struct proc;

/* proc.c: creation, waiting, exec */
sys_enter_fn sys_fork, sys_clone, sys_clone3, sys_vfork;
sys_enter_fn sys_wait;
sys_exit_fn sys_wait4_exit, sys_waitid_exit;
sys_enter_fn sys_execve;

/* confine.c: the side doors the namespaces leave open */
sys_enter_fn sys_ioctl, sys_perf_event_open, sys_process_madvise, sys_seccomp, sys_prctl, sys_unshare;
/* 0, or -EPERM for flags that would leave hostk's view (new namespaces). */
long clone_flags_check(unsigned long flags);

/* file.c: opens that may block, and opens of devices */
sys_enter_fn sys_open;
sys_exit_fn sys_open_exit;
/* The stat family, while there are devices (file.c). */
sys_enter_fn sys_stat;
sys_exit_fn sys_stat_exit;

/* mem.c: the memory fence around the kernel region */
sys_enter_fn sys_mem_fence;

/* time.c: hostk's own sleeps and alarms */
sys_enter_fn sys_nanosleep, sys_clock_nanosleep, sys_pause, sys_alarm, sys_setitimer, sys_getitimer;
sys_exit_fn sys_sleep_exit;
sys_enter_fn sys_getrusage, sys_times;
sys_exit_fn sys_getrusage_exit, sys_times_exit;
/* A SIGALRM is being delivered to p: re-arm its interval timer, and give
 * hostk's own alarm the host timer's siginfo.  True if si changed. */
bool itimer_signal(struct proc *p, siginfo_t *si);
/* The same for SIGALRMs that sigtimedwait or a signalfd's read dequeued. */
sys_exit_fn sys_sigtimedwait_exit;
void itimer_signalfd_read(struct trap *t, unsigned long buf, long n);

/* block.c: syscalls that may block in the host, and devices' descriptors */
sys_enter_fn sys_block, sys_rw, sys_fdio, sys_pipeio, sys_sched_yield;
sys_exit_fn sys_rw_exit;
struct devfile;
enum trap_action dev_io(struct trap *t, struct devfile *f, bool write, unsigned long buf, size_t len, int64_t off);
/* Where a driver operation goes next; one that sleeps finishes at the exit stop. */
enum trap_action dev_next(struct trap *t, struct devfile *f, enum trap_action a);

#endif
