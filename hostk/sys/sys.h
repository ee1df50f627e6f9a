/* Syscall handlers, by subsystem.  systab.c names them; trap.c calls them.
 * An enter handler returns what the trap path does next (see enum trap_action);
 * an exit handler runs after the host ran the syscall and may rewrite t->ret. */
#ifndef HOSTK_SYS_H
#define HOSTK_SYS_H

#include <signal.h>
#include <stdbool.h>

#include "../systab.h"

struct proc;

/* proc.c: identity, process groups, creation, waiting, exec */
sys_enter_fn sys_getpid, sys_getppid, sys_gettid, sys_getpgid, sys_getpgrp, sys_getsid;
sys_enter_fn sys_setpgid, sys_setsid;
sys_exit_fn sys_setpgid_exit, sys_setsid_exit;
sys_enter_fn sys_clone, sys_clone3, sys_fork;
sys_exit_fn sys_clone_exit;
sys_enter_fn sys_wait4, sys_waitid;
sys_exit_fn sys_wait4_exit, sys_waitid_exit;
sys_enter_fn sys_execve;
sys_enter_fn sys_set_tid_address;
sys_exit_fn sys_ret_tid_exit;
sys_enter_fn sys_ptrace;
sys_enter_fn sys_unshare;

/* signal.c: signals addressed by pid */
sys_enter_fn sys_kill, sys_tkill, sys_tgkill, sys_rt_sigqueueinfo, sys_rt_tgsigqueueinfo;
sys_enter_fn sys_sigtimedwait;
sys_exit_fn sys_sigtimedwait_exit;

/* pid.c: other syscalls that name a pid */
sys_enter_fn sys_pid_arg0;	/* arg 0 is a pid; 0 means the caller */
sys_enter_fn sys_kcmp;		/* args 0 and 1 are pids */
sys_enter_fn sys_prio;		/* (which, who): setpriority, getpriority, ioprio_* */
sys_enter_fn sys_perf_event_open;
sys_enter_fn sys_fcntl;
sys_exit_fn sys_fcntl_exit;
sys_enter_fn sys_ioctl;
sys_exit_fn sys_ioctl_exit;
sys_enter_fn sys_capget;
sys_exit_fn sys_mem_restore_exit;	/* undo a pid rewritten in guest memory */
sys_enter_fn sys_timer_create;

/* file.c: opens (the /proc fence) */
sys_enter_fn sys_open;
sys_exit_fn sys_open_exit;

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

/* block.c: syscalls that may block in the host */
sys_enter_fn sys_block, sys_rw;

/* info.c: the guest's own seccomp filters */
sys_enter_fn sys_seccomp, sys_prctl;

#endif
