/* `hostk trace-host`.  The first half is what the BPF program
 * (bpf/trace-host.bpf.c) and the user-space command (trace-host.c,
 * trace-report.c) share: one record per finished trap, sent through a ring
 * buffer, and the counters the BPF program keeps in its .bss.  clang
 * -target bpf includes it after vmlinux.h; the second half, the user-space
 * interface, is only for the C compiler. */
#ifndef HOSTK_TOOLS_TRACE_HOST_H
#define HOSTK_TOOLS_TRACE_HOST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The four phases a trap's wall time is split into.  Each stop in a trap:
 * the guest runs in the host kernel up to the stop, the stopped guest waits
 * for hostk's wait4 to return it, hostk handles it up to its resuming ptrace
 * call, the resumed guest waits to run; then it runs in the host kernel again
 * up to the syscall's exit or its next stop. */
enum th_phase {
	PH_KERNEL,	/* guest in the host kernel */
	PH_WAKE,	/* stop to tracer wake-up: the stop until hostk's wait4 returns it */
	PH_HANDLE,	/* hostk handling: wait4's return to the resuming ptrace call */
	PH_RESUME,	/* resume to guest wake-up: that ptrace call until the guest runs */
	NR_PHASES
};

/* th_trap.flags */
#define TF_HOST_RAN	0x01	/* the host ran the syscall after the stop (not emulated) */
#define TF_CROSS_CPU	0x02	/* hostk picked a stop up on another CPU than the guest's */
#define TF_EXIT_STOP	0x04	/* ended at a syscall-exit stop: the last return leg is not seen */
#define TF_UNMATCHED	0x08	/* an event came out of order; a phase was closed early */
#define TF_NO_ENTRY	0x10	/* started at the stop's notification: the entry is not seen */
#define TF_ENTRY_STOP	0x20	/* began with a syscall-entry stop (PTRACE_SYSCALL) */
#define TF_NFLAGS	6

/* One finished trap: a guest syscall with at least one ptrace stop in it. */
struct th_trap {
	__u64 start_ns;			/* syscall entry (bpf_ktime_get_ns) */
	__u64 total_ns;			/* entry to exit */
	__u64 phase_ns[NR_PHASES];	/* sums to total_ns */
	__u64 to_stop_ns;		/* the part of PH_KERNEL that ends at a stop */
	__u32 tid;			/* the guest task (host tid) */
	__s32 nr;			/* syscall number at entry */
	__u16 stops;			/* ptrace stops in it (seccomp, exit, events) */
	__u16 switches;			/* the guest's context switches, out and in */
	__u16 migrations;		/* times the guest came back on another CPU */
	__u16 hostk_syscalls;		/* syscalls hostk made while handling it */
	__u32 flags;			/* TF_* */
	__u32 pad;
};

/* Counters in the BPF program's .bss, indexed by this enum. */
enum th_counter {
	C_TRAPS,		/* traps finished (records sent + lost) */
	C_LOST,			/* trap records the ring buffer had no room for */
	C_UNFINISHED,		/* traps cut short by the task's exit */
	C_UNMATCHED,		/* events out of the expected order */
	C_UNSEEN,		/* a guest ran again after a stop with no switch-in reported */
	C_FAST,			/* guest syscalls without a stop: the fast path */
	C_FAST_NS,		/* their summed time, entry to exit */
	C_OTHER_STOPS,		/* ptrace stops outside a syscall (signals, group stops, preemption) */
	C_OTHER_STOP_NS,	/* their summed time, stop to running again */
	C_SWITCH_GUEST,		/* context switches away from a guest task */
	C_SWITCH_HOSTK,		/* context switches away from a hostk thread */
	C_MIGRATE_GUEST,	/* a guest task ran on another CPU than last time */
	C_MIGRATE_HOSTK,	/* the same for hostk's threads */
	C_WAKE_GUEST,		/* sched_wakeup of a guest task */
	C_WAKE_HOSTK,		/* sched_wakeup of a hostk thread */
	C_SIG_GUEST,		/* signals generated for a guest */
	C_SIG_HOSTK,		/* signals generated for hostk (SIGCHLD per stop, SIGALRM ticks) */
	C_DELIVER_GUEST,	/* signals delivered in a guest (signal_deliver) */
	C_DELIVER_HOSTK,	/* signals delivered in hostk */
	C_TASKS,		/* tasks tracked: hostk's threads and its descendants */
	NR_COUNTERS
};

#ifndef __VMLINUX_H__
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../hostk/systab.h"

/* `hostk trace-host ...` (trace-host.c; trace-host-none.c in a build
 * without libbpf). */
int cmd_trace_host(int argc, char **argv);

/* Log-linear buckets: exact below 128 ns, then 128 per power of two, so a
 * percentile is within 1% at any scale and the memory stays fixed. */
#define TH_SUB 128
#define TH_BUCKETS (TH_SUB * 58)
/* One per syscall number hostk knows, the hostk call, and "other". */
#define TH_SLOT_HKCALL NR_SYSCALLS
#define TH_SLOT_OTHER (NR_SYSCALLS + 1)
#define TH_NR_SLOTS (NR_SYSCALLS + 2)

struct th_dist {
	uint64_t n, sum, max;
	uint64_t bucket[TH_BUCKETS];
};

/* Everything the report prints (trace-report.c). */
struct th_report {
	struct th_dist phase[NR_PHASES], total;
	struct th_dist to_stop, from_resume;	/* PH_KERNEL's two parts */
	uint64_t log2[64];		/* total trap time, for --hist */
	uint64_t stops, switches, migrations, hostk_syscalls;
	uint64_t flagged[TF_NFLAGS];	/* traps with each TF_* bit */
	uint64_t slot_n[TH_NR_SLOTS], slot_ns[TH_NR_SLOTS];
	uint64_t counters[NR_COUNTERS];
	uint64_t elapsed_ns;
	uint64_t probe_runs, probe_ns;	/* BPF run-time statistics, with --cost */
	bool probe_cost, attached, detached;
	const char *entry_probe;	/* "fentry", "kprobe" or "none" */
	int status;			/* hostk run's exit status */
};

void th_report_trap(struct th_report *r, const struct th_trap *t);
void th_report_text(const struct th_report *r, FILE *fp, bool hist);
void th_report_json(const struct th_report *r, FILE *fp);
#endif

#endif
