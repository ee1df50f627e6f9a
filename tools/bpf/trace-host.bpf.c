// SPDX-License-Identifier: GPL-2.0-only
/* The BPF half of `hostk trace-host`: follows hostk, its threads and its
 * guests through the host's scheduler, signal and syscall tracepoints and
 * splits each trap's wall time into the four phases of trace-host.h.  The
 * per-trap state machine runs here, in the kernel, so that one record per
 * finished trap (not a dozen raw events) crosses the ring buffer, and the
 * user-space half, asleep between polls, never competes with hostk for its
 * CPU.
 *
 * Licence: this object is GPL-2.0 (the kernel gives the helpers it uses only
 * to GPL programs); it is loaded into the kernel, not linked into hostk,
 * which is MIT.  Compiled by tools/bpf/meson.build with clang -target bpf
 * against the host's vmlinux.h; CO-RE relocates its field reads at load.
 *
 * One stop, as the host kernel shows it: the guest, in ptrace_stop(), sends
 * its tracer SIGCHLD (signal_generate: the notification) and switches out in
 * TASK_TRACED (sched_switch); hostk's wait4 returns its tid (sys_exit, with
 * the status saying what stop it is); hostk's resuming ptrace call
 * (sys_enter) wakes it; it switches in (sched_switch).  The guest's and
 * hostk's events run on different CPUs at once, and tracing programs may not
 * take locks: so each field has one writer, the guest's context or hostk's,
 * and the guest adds the stop's phases up when it runs again, after hostk's
 * last write (the wake-up orders them). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace-host.h"

char LICENSE[] SEC("license") = "GPL";

/* x86-64 only, as hostk is. */
#define NR_WAIT4 61
#define NR_PTRACE 101
#define SIG_TRAP 5
#define SIG_CHLD 17
#define PT_CONT 7
#define PT_KILL 8
#define PT_SINGLESTEP 9
#define PT_DETACH 17
#define PT_SYSCALL 24
#define PT_SYSEMU 31
#define PT_SYSEMU_SINGLESTEP 32
#define PT_SEIZE 0x4206
#define PT_EVENT_SECCOMP 7
#define PT_EVENT_STOP 128
#define TASK_TRACED_BIT 0x8	/* __TASK_TRACED */

/* hostk and its threads; a process hostk forked but has not seized (the
 * kernel region's holder, the first guest until PTRACE_SEIZE); guests. */
enum role { R_HOSTK = 1, R_CHILD, R_GUEST };

/* What hostk's wait4 status says a stop is: outside a syscall (a signal, a
 * group stop, an interrupt), in one (seccomp, an event, a syscall-exit
 * stop), or a syscall-entry stop, which begins one. */
enum kind { K_OTHER, K_TRAP, K_ENTRY };

/* G: written only in the guest's context (or on its CPU while it is off);
 * K: written only by hostk's thread. */
struct task {
	struct th_trap trap;	/* G: the syscall in progress, while in_sys */
	__u64 run;		/* G: its current leg in the host kernel began */
	__u64 on;		/* G: it last switched in */
	__u64 exit_ns;		/* G: its sys_exit, while an exit stop is still to come */
	__u64 notify, off;	/* G: the current stop's notification and switch-out */
	__u64 pick, resume;	/* K: wait4 returned the stop; hostk resumed it */
	__s32 notify_nr;	/* G: the syscall number at the notification */
	__u32 tid;		/* its host tid, the map's key */
	__u32 cur;		/* K, in hostk's own entry: the guest it is handling */
	__s32 cpu;		/* the CPU it last ran on; -1 before it ran */
	__s32 pick_cpu;		/* K: where hostk's wait4 returned the stop */
	__u16 k_syscalls;	/* K: hostk's syscalls for the stop */
	__u8 role;		/* enum role */
	__u8 kind;		/* K: enum kind of the stop */
	__u8 exit_stop;		/* K: the last resume was PTRACE_SYSCALL */
	__u8 in_sys;		/* G: inside a syscall we saw start */
	__u8 stopped;		/* G: in a stop (from its notification on) */
	__u8 sys_done;		/* G: sys_exit seen, the exit stop to come */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct task);
} tasks SEC(".maps");

/* 8 MiB: about 100 000 records, several seconds of traps between polls. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} traps SEC(".maps");

__u64 counters[NR_COUNTERS];

/* trace-host's own tgid: the process it forks is hostk. */
const volatile __u32 root_tgid;

/* Kernels before 5.14 call task_struct's state "state". */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline void count(enum th_counter c, __u64 n)
{
	__sync_fetch_and_add(&counters[c], n);
}

static __always_inline struct task *task_of(__u32 tid)
{
	return bpf_map_lookup_elem(&tasks, &tid);
}

static __always_inline struct task *current_task(void)
{
	return task_of((__u32)bpf_get_current_pid_tgid());
}

static __always_inline __s32 current_nr(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return (__s32)BPF_CORE_READ(regs, orig_ax);
}

static __always_inline unsigned int task_state(struct task_struct *p)
{
	if (bpf_core_field_exists(p->__state))
		return BPF_CORE_READ(p, __state);
	return (unsigned int)BPF_CORE_READ((struct task_struct___pre514 *)p, state);
}

static __always_inline void unmatched(struct task *t)
{
	t->trap.flags |= TF_UNMATCHED;
	count(C_UNMATCHED, 1);
}

static __always_inline void open_sys(struct task *t, __u64 start, __s32 nr)
{
	__builtin_memset(&t->trap, 0, sizeof t->trap);
	t->trap.start_ns = start;
	t->trap.tid = t->tid;
	t->trap.nr = nr;
	t->run = start;
	t->in_sys = 1;
	t->sys_done = 0;
}

static __always_inline void finish(struct task *t, __u64 end)
{
	t->trap.total_ns = end - t->trap.start_ns;
	count(C_TRAPS, 1);
	/* No wake-up: user space polls, so a record costs hostk no switch. */
	if (bpf_ringbuf_output(&traps, &t->trap, sizeof t->trap, BPF_RB_NO_WAKEUP))
		count(C_LOST, 1);
	t->in_sys = 0;
	t->sys_done = 0;
}

/* G: the guest runs again after a stop, and adds up the stop's phases from
 * its own moments and hostk's: back in the syscall, or past an exit stop on
 * its way to user mode (no event marks that last leg).  A stop that hostk's
 * wait4 did not return, or that it did not resume, still has all its time
 * charged, so that the phases always sum to the total. */
static __always_inline void switched_in_after_stop(struct task *t, __u64 now, int stop_cpu, bool migrated,
						   bool missed)
{
	/* hostk's moments are this stop's if they came after the guest last ran. */
	bool seen = t->pick > t->on && t->resume > t->pick;
	__u64 off = t->off ? t->off : now, at;

	t->stopped = 0;
	if (!t->in_sys && seen && t->kind != K_OTHER) {
		/* No entry probe: the trap's first sight of its syscall. */
		open_sys(t, t->pick < t->notify ? t->pick : t->notify, t->notify_nr);
		t->trap.flags |= TF_NO_ENTRY | (t->kind == K_ENTRY ? TF_ENTRY_STOP : 0);
	}
	if (missed && t->in_sys)
		t->trap.flags |= TF_UNMATCHED;
	if (!t->in_sys || (seen && t->kind == K_OTHER)) {
		count(C_OTHER_STOPS, 1);
		count(C_OTHER_STOP_NS, now - t->notify);
		return;
	}
	t->trap.stops++;
	t->trap.switches += 2;
	t->trap.migrations += migrated;
	if (!seen) {
		unmatched(t);
		t->trap.phase_ns[PH_KERNEL] += off - t->run;
		t->trap.to_stop_ns += off - t->run;
		t->trap.phase_ns[PH_WAKE] += now - off;
	} else {
		/* hostk may return a stop before the guest is off its CPU. */
		at = t->pick < off ? t->pick : off;
		at = at < t->run ? t->run : at;
		t->trap.phase_ns[PH_KERNEL] += at - t->run;
		t->trap.to_stop_ns += at - t->run;
		t->trap.phase_ns[PH_WAKE] += t->pick - at;
		t->trap.phase_ns[PH_HANDLE] += t->resume - t->pick;
		t->trap.phase_ns[PH_RESUME] += now - t->resume;
		t->trap.hostk_syscalls += t->k_syscalls;
		if (t->pick_cpu != stop_cpu)
			t->trap.flags |= TF_CROSS_CPU;
	}
	t->run = now;
	if (t->sys_done) {
		t->trap.flags |= TF_EXIT_STOP;
		finish(t, now);
	}
}

/* G: the guest runs again after a stop whose switch-in the host did not
 * report (seen on a 6.18 host, about once in 4 000 cross-CPU traps, after a
 * thread of an unrelated process ran on the guest's CPU): close the stop at
 * the guest's first event since. */
static __always_inline void ran_unseen(struct task *t, __u64 now)
{
	__s32 cpu = (__s32)bpf_get_smp_processor_id(), last = t->cpu;

	if (!t->stopped || !t->off)
		return;
	count(C_UNSEEN, 1);
	t->cpu = cpu;
	switched_in_after_stop(t, now, last, last >= 0 && last != cpu, true);
	t->on = now;
}

/* Syscall entry, where the kernel lets us see it: the entry to the seccomp
 * check, the first thing a filtered task does in a syscall (the sys_enter
 * tracepoint comes only after seccomp, and never for a syscall hostk
 * skipped).  Without it a trap starts at its first stop's notification. */
static __always_inline int on_entry(void)
{
	struct task *t = current_task();
	__u64 now;

	if (!t || t->role != R_GUEST)
		return 0;
	now = bpf_ktime_get_ns();
	ran_unseen(t, now);
	if (t->sys_done)
		finish(t, t->exit_ns);	/* the exit stop hostk asked for did not come */
	if (t->in_sys && (t->trap.flags & TF_ENTRY_STOP) && t->trap.stops == 1)
		return 0;		/* just past its syscall-entry stop: the same syscall */
	if (t->in_sys)
		unmatched(t);
	open_sys(t, now, current_nr());
	return 0;
}

/* Two ways in: fentry where the kernel has BPF trampolines and allows
 * tracing programs, else a kprobe; trace-host.c loads one, or neither. */
SEC("fentry/__secure_computing")
int BPF_PROG(entry_fentry)
{
	return on_entry();
}

SEC("kprobe/__secure_computing")
int BPF_KPROBE(entry_kprobe)
{
	return on_entry();
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptid = BPF_CORE_READ(parent, pid), ptgid = BPF_CORE_READ(parent, tgid);
	__u32 tid = BPF_CORE_READ(child, pid);
	struct task t = { .tid = tid, .cpu = -1 }, *p;

	if (ptgid == root_tgid)
		t.role = R_HOSTK;
	else if (!(p = task_of(ptid)))
		return 0;
	else if (p->role == R_HOSTK)	/* a thread of hostk, or a process it forked */
		t.role = BPF_CORE_READ(child, tgid) == ptgid ? R_HOSTK : R_CHILD;
	else
		t.role = p->role;	/* a guest's children are guests (traced from birth) */
	bpf_map_update_elem(&tasks, &tid, &t, BPF_ANY);
	count(C_TASKS, 1);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_task_exit, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct task *t = task_of(tid);

	if (!t)
		return 0;
	if (t->role == R_GUEST && t->in_sys && t->trap.stops)
		count(C_UNFINISHED, 1);	/* exit, exit_group, or killed inside a trap */
	bpf_map_delete_elem(&tasks, &tid);
	return 0;
}

/* G: a stop begins, at the guest's notification or (without one) at its
 * switch-out. */
static __always_inline void stop_begins(struct task *g, __u64 now)
{
	ran_unseen(g, now);
	if (g->stopped)
		unmatched(g);	/* the last stop never ran again */
	g->stopped = 1;
	g->notify = now;
	g->notify_nr = current_nr();
	g->off = 0;
}

SEC("raw_tp/signal_generate")
int BPF_PROG(on_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *target)
{
	struct task *t = task_of(BPF_CORE_READ(target, pid)), *g;

	if (!t)
		return 0;
	if (t->role == R_GUEST) {
		count(C_SIG_GUEST, 1);
	} else if (t->role == R_HOSTK) {
		count(C_SIG_HOSTK, 1);
		if (sig == SIG_CHLD && (g = current_task()) && g->role == R_GUEST)
			stop_begins(g, bpf_ktime_get_ns());
	}
	return 0;
}

SEC("raw_tp/signal_deliver")
int BPF_PROG(on_signal_deliver, int sig)
{
	struct task *t = current_task();

	if (t && t->role == R_GUEST)
		count(C_DELIVER_GUEST, 1);
	else if (t && t->role == R_HOSTK)
		count(C_DELIVER_HOSTK, 1);
	return 0;
}

/* K: the guest is stopped (or about to be), so what it last wrote of in_sys
 * stands. */
static __always_inline enum kind stop_kind(const struct task *g, __u32 status)
{
	__u32 event = status >> 16, sig = (status >> 8) & 0xff;

	if (event == PT_EVENT_SECCOMP)
		return K_TRAP;
	if (event == 0 && sig == (SIG_TRAP | 0x80))
		return g->in_sys ? K_TRAP : K_ENTRY;
	if (event == 0 || event == PT_EVENT_STOP)	/* a signal, a group stop, an interrupt */
		return K_OTHER;
	/* Fork, clone, exec, exit: in the syscall that made them, except the
	 * exit of a task a signal killed. */
	return g->in_sys ? K_TRAP : K_OTHER;
}

/* K: hostk's wait4 returned a guest's stop: the tracer is awake for it. */
static __always_inline void hostk_picked(struct task *k, __u32 pid, const int *statusp)
{
	struct task *g = task_of(pid);
	int status = 0;

	if (!g || g->role != R_GUEST)
		return;
	if (!statusp || bpf_probe_read_user(&status, sizeof status, statusp) || (status & 0xff) != 0x7f)
		return;		/* an exit report, or no status to tell */
	k->cur = pid;
	g->kind = stop_kind(g, (__u32)status);
	g->k_syscalls = 0;
	g->pick_cpu = (__s32)bpf_get_smp_processor_id();
	g->pick = bpf_ktime_get_ns();
}

static __always_inline bool is_resume(long req)
{
	/* Not PTRACE_LISTEN: after it the guest stays stopped. */
	return req == PT_CONT || req == PT_SYSCALL || req == PT_SINGLESTEP || req == PT_SYSEMU ||
	       req == PT_SYSEMU_SINGLESTEP || req == PT_DETACH || req == PT_KILL;
}

/* K: a hostk thread enters a syscall: one more for the stop it handles; a
 * resuming ptrace call ends the handling. */
static __always_inline void hostk_enter(struct task *k, struct pt_regs *regs, long id)
{
	struct task *g;
	__u32 pid;
	long req;

	if (id == NR_WAIT4) {
		k->cur = 0;
		return;
	}
	if (k->cur && (g = task_of(k->cur)))
		g->k_syscalls++;
	if (id != NR_PTRACE)
		return;
	req = (long)BPF_CORE_READ(regs, di);
	pid = (__u32)BPF_CORE_READ(regs, si);
	if (!(g = task_of(pid)))
		return;
	if (req == PT_SEIZE && g->role == R_CHILD) {
		g->role = R_GUEST;
		return;
	}
	if (g->role != R_GUEST || !is_resume(req))
		return;
	g->exit_stop = req == PT_SYSCALL;
	if (g->pick > g->resume)
		g->resume = bpf_ktime_get_ns();
	if (k->cur == pid)
		k->cur = 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	struct task *t = current_task();

	if (!t)
		return 0;
	if (t->role == R_HOSTK) {
		hostk_enter(t, regs, id);
	} else if (t->role == R_GUEST) {
		ran_unseen(t, bpf_ktime_get_ns());
		if (t->sys_done)
			finish(t, t->exit_ns);	/* the exit stop hostk asked for did not come */
		if (!t->in_sys)		/* no entry probe: from here, after seccomp */
			open_sys(t, bpf_ktime_get_ns(), (__s32)id);
		else if (t->trap.stops)
			t->trap.flags |= TF_HOST_RAN;	/* hostk let the host run it */
	}
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task *t = current_task();
	__u64 now;

	if (!t)
		return 0;
	if (t->role == R_HOSTK) {
		if (ret > 0 && (long)BPF_CORE_READ(regs, orig_ax) == NR_WAIT4)
			hostk_picked(t, (__u32)ret, (const int *)BPF_CORE_READ(regs, si));
		return 0;
	}
	if (t->role != R_GUEST)
		return 0;
	now = bpf_ktime_get_ns();
	ran_unseen(t, now);
	if (!t->in_sys || t->sys_done)
		return 0;
	t->trap.phase_ns[PH_KERNEL] += now - t->run;
	t->run = now;
	if (!t->trap.stops) {
		count(C_FAST, 1);
		count(C_FAST_NS, now - t->trap.start_ns);
		t->in_sys = 0;
	} else if (t->exit_stop) {
		t->sys_done = 1;	/* the syscall-exit stop is next */
		t->exit_ns = now;
	} else {
		finish(t, now);
	}
	return 0;
}

static __always_inline void switched_out(struct task *t, bool preempt, unsigned int state, __u64 now)
{
	if (t->role == R_HOSTK) {
		count(C_SWITCH_HOSTK, 1);
		return;
	}
	if (t->role != R_GUEST)
		return;
	ran_unseen(t, now);
	count(C_SWITCH_GUEST, 1);
	if (preempt || !(state & TASK_TRACED_BIT)) {
		if (t->in_sys)
			t->trap.switches++;	/* blocked or preempted in the host kernel */
		return;
	}
	if (!t->stopped)
		stop_begins(t, now);	/* no notification seen */
	if (!t->off)
		t->off = now;
}

static __always_inline void switched_in(struct task *t, __u64 now)
{
	__s32 cpu = (__s32)bpf_get_smp_processor_id(), last = t->cpu;
	bool guest = t->role == R_GUEST, migrated = last >= 0 && last != cpu;

	if (migrated)
		count(guest ? C_MIGRATE_GUEST : C_MIGRATE_HOSTK, 1);
	t->cpu = cpu;
	if (!guest)
		return;
	if (t->stopped && t->off) {
		switched_in_after_stop(t, now, last, migrated, false);
	} else if (t->in_sys) {
		t->trap.switches++;
		t->trap.migrations += migrated;
	}
	t->on = now;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task *p = task_of(BPF_CORE_READ(prev, pid));
	struct task *n = task_of(BPF_CORE_READ(next, pid));

	/* Apart, not "if (!p && !n)": the verifier refuses OR-ed pointers. */
	if (p)
		switched_out(p, preempt, task_state(prev), bpf_ktime_get_ns());
	if (n)
		switched_in(n, bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	struct task *t = task_of(BPF_CORE_READ(p, pid));

	if (t && t->role == R_GUEST)
		count(C_WAKE_GUEST, 1);
	else if (t && t->role == R_HOSTK)
		count(C_WAKE_HOSTK, 1);
	return 0;
}
