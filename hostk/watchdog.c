/* The watchdog (--watchdog SECONDS): a hang is the worst failure a kernel
 * can have, so when no guest task has stopped, run or been resumed for that
 * long while tasks exist, and no timer or device event could still end the
 * wait, it prints every task's state: guest and host ids, what it waits for
 * (the syscall and its arguments), its CPU or place in the run queue, its
 * pending signals and where the host has it sleeping.  Then it goes on
 * watching; the next report comes only after more time without progress.
 * It is a kernel timeout of its own, fired from the timer's bottom half. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irq.h"
#include "ktimer.h"
#include "sched.h"
#include "task.h"
#include "timer.h"
#include "trace.h"
#include "util.h"
#include "watchdog.h"

static struct ktimer wd;
static uint64_t period_ns, reported_at;
static FILE *out;

/* A field of /proc/TID/status, as text ("" if none). */
static void status_field(pid_t tid, const char *name, char *val, size_t len)
{
	char buf[4096], *p;
	size_t n = strlen(name);

	val[0] = 0;
	if (read_proc(tid, "status", buf, sizeof buf) <= 0)
		return;
	for (p = buf; p; p = (p = strchr(p, '\n')) ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " \t");
			snprintf(val, len, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
}

/* Is it asleep in the host (not executing)? */
static bool host_sleeping(pid_t tid)
{
	char state[64];

	status_field(tid, "State", state, sizeof state);
	return state[0] == 'S' || state[0] == 'D' || state[0] == 't' || state[0] == 'T';
}

static void report_task(const struct task *tk, uint64_t now)
{
	char call[512] = "", sigpnd[32], shdpnd[32], wchan[64] = "";
	int pos = sched_rq_position(tk);

	if (tk->sys.active)
		trace_call_format(call, sizeof call, tk, tk->sys.nr, tk->sys.arg);
	status_field(tk->tid, "SigPnd", sigpnd, sizeof sigpnd);
	status_field(tk->tid, "ShdPnd", shdpnd, sizeof shdpnd);
	read_proc(tk->tid, "wchan", wchan, sizeof wchan);
	fprintf(out, "  pid %d tid %d (host %d): %s", tk->proc ? tk->proc->vpid : 0, tk->vtid, tk->tid,
		sstate_names[tk->sstate]);
	if (tk->sstate == TS_RUNNING)
		fprintf(out, " on cpu %d", tk->cpu);
	if (pos)
		fprintf(out, ", run queue position %d", pos);
	if (call[0])
		fprintf(out, ", in %s for %.1f s", call, (double)(now - tk->sys.t0) / 1e9);
	if (tk->sstate == TS_SLEEPING && tk->sleep_timer.armed)
		fprintf(out, " until %+.3f s", ((double)tk->sleep_timer.when - (double)now) / 1e9);
	fprintf(out, "; signals pending %s (thread) %s (process); host wait %s\n", sigpnd[0] ? sigpnd : "?",
		shdpnd[0] ? shdpnd : "?", wchan[0] ? wchan : "-");
}

static void watch(struct ktimer *kt)
{
	uint64_t now = now_ns(), last = sched_last_progress();
	bool stuck = ntasks > 0 && now - last >= period_ns && last > reported_at;
	struct sched_stats ss;

	ktimer_add(kt, now + period_ns / 4);
	/* Anything that can still end the wait is not a hang: a timeout of
	 * the kernel's (but this one), a device line, a task computing. */
	sched_get_stats(&ss);
	if (!stuck || ktimer_count() > 1 || irq_pending())
		return;
	for (const struct task *t = tasks; t; t = t->next)
		if (t->sstate == TS_RUNNING && !host_sleeping(t->tid))
			return;
	reported_at = now;
	fprintf(out, "hostk: watchdog: no guest task ran for %.1f s; %d task(s) in %d process(es), %d ready, "
		"%d on a CPU, no timer or device event pending:\n", (double)(now - last) / 1e9, ntasks, nprocs,
		ss.ready, ss.running);
	for (const struct task *t = tasks; t; t = t->next)
		report_task(t, now);
	fflush(out);
}

void watchdog_start(int seconds, FILE *fp)
{
	period_ns = (uint64_t)seconds * NSEC_PER_SEC;
	out = fp;
	wd.fn = watch;
	ktimer_add(&wd, now_ns() + period_ns / 4);
	timer_reprogram();
}
