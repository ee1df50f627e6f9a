/* The scheduler.  hostk's guests share --cpus virtual CPUs: at most that many
 * guest tasks execute at once; the others wait stopped in the run queue.  A
 * task keeps its CPU through its traps; it gives it up when it enters a host
 * syscall that may block (and gets one back at that syscall's exit stop),
 * when it sleeps in one of hostk's own sleeps, when it is group-stopped, and
 * when it has used its time slice while others wait: the timer's bottom half
 * then interrupts it (PTRACE_INTERRUPT) and the next ready task runs.  The
 * run queue is ordered by virtual runtime, as Linux's CFS orders it: the
 * task that has executed least goes first, and one that wakes from a wait
 * may preempt a task that has run well past it, so that a shell beside a
 * spinner does not wait a whole slice at each wake-up.  Time is charged per
 * task: executing on a CPU (user) and hostk serving it (system).  Called
 * only from the kernel loop (stops and bottom halves). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>

#include "kregion.h"
#include "ktimer.h"
#include "sched.h"
#include "task.h"
#include "timer.h"
#include "trace.h"
#include "util.h"

const char *const sstate_names[NR_SSTATES] = {
	[TS_NEW] = "new", [TS_RUNNING] = "running", [TS_READY] = "ready", [TS_BLOCKED] = "blocked",
	[TS_SLEEPING] = "sleeping", [TS_STOPPED] = "stopped", [TS_DEAD] = "dead",
};
_Static_assert(NELEM(sstate_names) == NR_SSTATES, "a name for every state");

static struct task **cpus;
static int ncpus = 1, nrunning;
static uint64_t quantum_ns = 10000000;
static struct task *rq_head, *rq_tail;
static int nready;
static struct sched_stats st;
static uint64_t idle_since;
static uint64_t last_progress;	/* a task last stopped for hostk or was resumed */
static uint64_t cpu_ns;		/* charged to all guests, user and system */
static uint64_t min_vruntime;	/* never goes back: the queue's clock */

void sched_init(int n, int quantum_ms)
{
	free(cpus);	/* called again (the unit tests): from scratch */
	ncpus = n;
	quantum_ns = (uint64_t)quantum_ms * 1000000u;
	cpus = xcalloc((size_t)n, sizeof *cpus);
	nrunning = nready = 0;
	rq_head = rq_tail = NULL;
	st = (struct sched_stats){ 0 };
	idle_since = now_ns();
	last_progress = cpu_ns = min_vruntime = 0;
}

static void publish(void)
{
	if (!kr)
		return;
	int krs = kr_begin();
	kr->context_switches = st.switches;
	kr->preemptions = st.preemptions;
	kr_end(krs);
}

/* A task's time executing, charged to it and to its process at once (so
 * that a process's times are read in O(1), whatever its threads). */
static void add_utime(struct task *tk, uint64_t d)
{
	tk->vruntime += d;
	tk->utime_ns += d;
	tk->proc->utime_ns += d;
	cpu_ns += d;
}

void sched_stopped_for_hostk(struct task *tk)
{
	uint64_t now = now_ns();

	if (tk->sstate == TS_RUNNING && tk->run_since)
		add_utime(tk, now - tk->run_since);
	tk->stopped_at = last_progress = now;
}

/* Resume it; now is the caller's clock reading (one per resume). */
static void go(struct task *tk, int sig, uint64_t now)
{
	/* What hostk spent on it since it stopped is its system time. */
	if (tk->stopped_at) {
		tk->stime_ns += now - tk->stopped_at;
		tk->proc->stime_ns += now - tk->stopped_at;
		cpu_ns += now - tk->stopped_at;
	}
	tk->stopped_at = 0;
	tk->run_since = last_progress = now;
	if (kr) {
		int krs = kr_begin();

		kr->psw.mode = HK_MODE_USER;
		if (tk->sstate == TS_RUNNING && tk->proc)
			kr->psw.current = tk->proc->vpid;
		kr_end(krs);
	}
	/* ESRCH: it died meanwhile; its exit report follows. */
	ptrace(tk->sys.active || tk->map_kregion ? PTRACE_SYSCALL : PTRACE_CONT, tk->tid, 0, (long)sig);
}

/* The least virtual runtime of the tasks that want a CPU (the queue is in
 * order), kept from going back: the clock that waking tasks are placed on. */
static void update_min_vruntime(void)
{
	uint64_t m = rq_head ? rq_head->vruntime : UINT64_MAX;

	for (int c = 0; c < ncpus; c++)
		if (cpus[c] && cpus[c]->vruntime < m)
			m = cpus[c]->vruntime;
	if (m != UINT64_MAX && m > min_vruntime)
		min_vruntime = m;
}

/* Into the queue after every task with no more virtual runtime (so equals
 * take turns in order), or, for a task that has never run, before those
 * with as much. */
static void enqueue(struct task *tk, int sig)
{
	struct task **pp = &rq_head;

	tk->sstate = TS_READY;
	tk->resume_sig = sig;
	while (*pp && ((*pp)->vruntime < tk->vruntime || (tk->ran && (*pp)->vruntime == tk->vruntime)))
		pp = &(*pp)->rq_next;
	tk->rq_next = *pp;
	*pp = tk;
	if (!tk->rq_next)
		rq_tail = tk;
	nready++;
}

static struct task *dequeue(void)
{
	struct task *tk = rq_head;

	if (tk) {
		rq_head = tk->rq_next;
		if (!rq_head)
			rq_tail = NULL;
		nready--;
	}
	return tk;
}

static void rq_remove(struct task *tk)
{
	struct task **pp, *prev = NULL;

	for (pp = &rq_head; *pp; prev = *pp, pp = &(*pp)->rq_next)
		if (*pp == tk) {
			*pp = tk->rq_next;
			if (rq_tail == tk)
				rq_tail = prev;
			nready--;
			return;
		}
}

/* Charge the time since the task last got going on its CPU. */
static void charge(struct task *tk, uint64_t now)
{
	if (tk->sstate == TS_RUNNING && tk->run_since) {
		add_utime(tk, now - tk->run_since);
		tk->run_since = now;
	}
}

/* Give CPU c to tk; from is who had it (NULL: it was idle). */
static void run_on(struct task *tk, int c, int sig, const char *why, const struct task *from)
{
	uint64_t now = now_ns();

	if (nrunning++ == 0)
		st.idle_ns += now - idle_since;
	cpus[c] = tk;
	tk->cpu = c;
	tk->sstate = TS_RUNNING;
	tk->ran = true;
	tk->woke = false;
	tk->slice_start = tk->run_since = now;
	st.switches++;
	if (trace_fp)
		trace_event(tk, "sched %d -> %d %s (cpu %d)", from ? from->vtid : 0, tk->vtid, why, c);
	go(tk, sig, now);
}

static void release(struct task *tk, int state, const char *why)
{
	uint64_t now = now_ns();

	if (tk->sstate == TS_RUNNING) {
		charge(tk, now);
		cpus[tk->cpu] = NULL;
		if (--nrunning == 0)
			idle_since = now;
		/* The CPU goes to the next in line. */
		struct task *next = dequeue();

		if (next)
			run_on(next, tk->cpu, next->resume_sig, why, tk);
	} else if (tk->sstate == TS_READY) {
		rq_remove(tk);
	}
	tk->sstate = state;
	tk->preempt_sent = false;
}

static int free_cpu(void)
{
	for (int c = 0; c < ncpus; c++)
		if (!cpus[c])
			return c;
	return -1;
}

/* The task that leads the queue takes the CPU of the task that has run
 * furthest past it, by more than a quarter slice (Linux's wake-up
 * preemption, and its granularity), and on its CPU for a fortieth of a
 * slice at least: one that just handed work to the other is about to wait
 * for the answer, and interrupting it would only cost a stop.  The victim's
 * next stop hands the CPU over.  Until both hold, preempt_timer waits for
 * the time they would if it runs on. */
static struct ktimer preempt_timer;

static void preempt_timer_fn(struct ktimer *kt);

static void wakeup_preempt(uint64_t now)
{
	uint64_t gran = quantum_ns / 4, settle = quantum_ns / 40, most = 0, lead, age, wait;
	struct task *victim = NULL;

	/* Only for a task that woke or is new: the slice decides between
	 * tasks that ran out of theirs. */
	if (!rq_head || !rq_head->woke)
		return;
	for (int c = 0; c < ncpus; c++) {
		struct task *cur = cpus[c];
		uint64_t vr;

		if (!cur || cur->preempt_sent)
			continue;
		vr = cur->vruntime + (cur->run_since && now > cur->run_since ? now - cur->run_since : 0);
		if (!victim || vr > most) {
			most = vr;
			victim = cur;
		}
	}
	if (!victim)
		return;
	lead = most > rq_head->vruntime ? most - rq_head->vruntime : 0;
	age = now - victim->slice_start;
	if (lead <= gran || age < settle) {
		wait = lead <= gran ? gran - lead + 1 : 0;
		if (age < settle && settle - age > wait)
			wait = settle - age;
		preempt_timer.fn = preempt_timer_fn;
		ktimer_add(&preempt_timer, now + wait);
		return;
	}
	victim->preempt_sent = true;
	if (trace_fp)
		trace_event(victim, "sched preempt %d (%d waits)", victim->vtid, rq_head->vtid);
	ptrace(PTRACE_INTERRUPT, victim->tid, 0, 0);
}

static void preempt_timer_fn(struct ktimer *kt)
{
	(void)kt;
	wakeup_preempt(now_ns());
}

void sched_resume(struct task *tk, int sig)
{
	uint64_t now = now_ns();
	int c;

	if (tk->sstate == TS_DEAD)
		return;
	/* A stop in the middle of a syscall it waits in (a fork event, an
	 * interrupt): it goes on waiting, with no CPU.  Its exit stop comes
	 * through sched_syscall_done(). */
	if (tk->sstate == TS_BLOCKED || tk->sstate == TS_SLEEPING) {
		go(tk, sig, now);
		return;
	}
	if (tk->sstate == TS_RUNNING) {
		/* Its slice is used (or the tick said so) and others wait: this
		 * stop is a fine place to let the next one run. */
		if (rq_head && (tk->yielding || tk->preempt_sent || now - tk->slice_start >= quantum_ns)) {
			bool yielded = tk->yielding;

			tk->yielding = false;
			/* hands the CPU to the head of the queue */
			release(tk, TS_READY, yielded ? "yield" : "quantum");
			/* A yield goes behind every task that waits. */
			if (yielded && rq_tail && rq_tail->vruntime > tk->vruntime)
				tk->vruntime = rq_tail->vruntime;
			enqueue(tk, sig);
			if (yielded)
				st.yields++;
			else
				st.preemptions++;
			publish();
			return;
		}
		tk->yielding = false;
		go(tk, sig, now);
		return;
	}
	/* Woken or continued: on the queue's clock, with half a slice of
	 * credit for having waited.  A task that often waits goes ahead of
	 * one that spins, but cannot bank the time it spent waiting.  A new
	 * one starts on the clock, with no credit: it does not preempt the
	 * parent that forked it, which goes on to wait for it, as natively. */
	update_min_vruntime();
	if (!tk->ran && tk->vruntime < min_vruntime)
		tk->vruntime = min_vruntime;
	else if (tk->vruntime + quantum_ns / 2 < min_vruntime)
		tk->vruntime = min_vruntime - quantum_ns / 2;
	tk->woke = true;
	c = free_cpu();
	if (c >= 0 && !rq_head) {
		run_on(tk, c, sig, "wakeup", NULL);
	} else {
		enqueue(tk, sig);
		if (c >= 0) {
			struct task *next = dequeue();

			run_on(next, c, next->resume_sig, "wakeup", NULL);
		} else if (rq_head == tk) {
			wakeup_preempt(now);
		}
	}
	st.wakeups++;
	publish();
	timer_reprogram();
}

void sched_first(struct task *tk)
{
	cpus[0] = tk;
	tk->cpu = 0;
	tk->sstate = TS_RUNNING;
	tk->ran = true;
	tk->slice_start = tk->run_since = now_ns();
	nrunning = 1;
	st.idle_ns = 0;
	publish();
}

void sched_syscall_done(struct task *tk)
{
	if (tk->sstate == TS_BLOCKED || tk->sstate == TS_SLEEPING)
		tk->sstate = TS_NEW;	/* wants a CPU again */
	sched_resume(tk, 0);
}

void sched_block(struct task *tk)
{
	st.blocks++;
	release(tk, TS_BLOCKED, "block");
	go(tk, 0, now_ns());	/* into the host syscall, without a CPU */
	publish();
	timer_reprogram();
}

void sched_wake(struct task *tk)
{
	tk->sleep_expired = true;
	/* Ends the host wait it sleeps in; its exit stop finishes the syscall. */
	ptrace(PTRACE_INTERRUPT, tk->tid, 0, 0);
}

static void sleep_expired(struct ktimer *kt)
{
	sched_wake(kt->data);
}

void sched_sleep(struct task *tk, uint64_t deadline)
{
	st.sleeps++;
	release(tk, TS_SLEEPING, "sleep");
	tk->sleep_expired = false;
	if (deadline) {
		tk->sleep_timer.fn = sleep_expired;
		tk->sleep_timer.data = tk;
		ktimer_add(&tk->sleep_timer, deadline);
	}
	go(tk, 0, now_ns());	/* into the host wait it sleeps in */
	publish();
	timer_reprogram();
}

void sched_stopped(struct task *tk)
{
	release(tk, TS_STOPPED, "stop");
	publish();
	timer_reprogram();
}

void sched_exit(struct task *tk)
{
	release(tk, TS_DEAD, "exit");
	ktimer_del(&tk->sleep_timer);
	publish();
	timer_reprogram();
}

void sched_takeover(struct task *leader, struct task *execer)
{
	/* The old leader died in the exec (its exit stop released it); the
	 * execer carries on under the leader's tid, with the execer's CPU. */
	release(leader, TS_DEAD, "exec");
	leader->vruntime = execer->vruntime;
	leader->ran = true;
	if (execer->sstate == TS_RUNNING) {
		cpus[execer->cpu] = leader;
		leader->cpu = execer->cpu;
		leader->slice_start = execer->slice_start;
		leader->run_since = execer->run_since;
	} else if (execer->sstate == TS_READY) {
		rq_remove(execer);
		enqueue(leader, execer->resume_sig);
		return;
	}
	leader->sstate = execer->sstate;
	execer->sstate = TS_DEAD;
}

void sched_yield_cpu(struct task *tk)
{
	/* Only if someone waits (sched_resume takes it back either way). */
	if (rq_head && tk->sstate == TS_RUNNING)
		tk->yielding = true;
}

void sched_interrupted(struct task *tk)
{
	sched_resume(tk, 0);	/* preempts it if the tick asked for that */
	tk->preempt_sent = false;
}

void sched_tick(void)
{
	uint64_t now = now_ns();
	uint64_t ends;

	if (!cpus)
		return;		/* before sched_init */
	/* Ticks come every 1/hz: a slice that ends before the next one ends
	 * at this one (else every slice would run a tick long). */
	ends = quantum_ns > 500000000u / (uint64_t)timer_hz ? quantum_ns - 500000000u / (uint64_t)timer_hz : 0;

	for (int c = 0; c < ncpus; c++) {
		struct task *tk = cpus[c];

		if (!tk)
			continue;
		charge(tk, now);
		/* Slice used and someone waits: interrupt it.  Its stop (or any
		 * earlier one) hands the CPU on. */
		if (rq_head && now - tk->slice_start >= ends && !tk->preempt_sent) {
			tk->preempt_sent = true;
			if (trace_fp)
				trace_event(tk, "sched preempt %d (quantum used, %d waiting)", tk->vtid, nready);
			ptrace(PTRACE_INTERRUPT, tk->tid, 0, 0);
		}
	}
}

uint64_t sched_next_timer(void)
{
	/* Ticks while anything runs (slices, accounting); otherwise only the
	 * next kernel timer, if any. */
	if (nrunning || nready)
		return 1;
	return 0;
}

int sched_rq_position(const struct task *tk)
{
	int n = 1;

	for (const struct task *t = rq_head; t; t = t->rq_next, n++)
		if (t == tk)
			return n;
	return 0;
}

uint64_t sched_cpu_ns(void)
{
	return cpu_ns;
}

uint64_t sched_last_progress(void)
{
	return last_progress;
}

void sched_get_stats(struct sched_stats *out)
{
	*out = st;
	out->ncpus = ncpus;
	out->quantum_ms = (int)(quantum_ns / 1000000u);
	out->running = nrunning;
	out->ready = nready;
}
