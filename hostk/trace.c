/* The event log and the statistics.  --trace prints one line per trap in
 * strace's spirit (guest pid, syscall, decoded arguments, result, and what
 * hostk did), plus lines for forks, execs, signals, exceptions and exits;
 * --stats prints counts and times at exit, like `strace -c`.  --json makes
 * both one JSON object per line / one object. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "exc.h"
#include "irq.h"
#include "policy.h"
#include "sched.h"
#include "softirq.h"
#include "task.h"
#include "timer.h"
#include "../drivers/devices.h"
#include "trace.h"
#include "uaccess.h"
#include "util.h"

FILE *trace_fp;
FILE *stats_fp;
bool out_json;

struct flagname {
	unsigned long val;
	const char *name;
};

#define F(x) { x, #x }
static const struct flagname oflags[] = {
	{ O_TMPFILE, "O_TMPFILE" }, F(O_CREAT), F(O_EXCL), F(O_NOCTTY), F(O_TRUNC), F(O_APPEND), F(O_NONBLOCK), F(O_DSYNC),
	F(O_DIRECT), F(O_LARGEFILE), F(O_DIRECTORY), F(O_NOFOLLOW), F(O_NOATIME), F(O_CLOEXEC),
	F(O_PATH), { 0, 0 }
};
static const struct flagname cloneflags[] = {
	F(CLONE_VM), F(CLONE_FS), F(CLONE_FILES), F(CLONE_SIGHAND), F(CLONE_PIDFD), F(CLONE_PTRACE),
	F(CLONE_VFORK), F(CLONE_PARENT), F(CLONE_THREAD), F(CLONE_NEWNS), F(CLONE_SYSVSEM),
	F(CLONE_SETTLS), F(CLONE_PARENT_SETTID), F(CLONE_CHILD_CLEARTID), F(CLONE_UNTRACED),
	F(CLONE_CHILD_SETTID), F(CLONE_NEWCGROUP), F(CLONE_NEWUTS), F(CLONE_NEWIPC), F(CLONE_NEWUSER),
	F(CLONE_NEWPID), F(CLONE_NEWNET), F(CLONE_IO), { 0, 0 }
};
static const struct flagname protflags[] = {
	F(PROT_READ), F(PROT_WRITE), F(PROT_EXEC), F(PROT_GROWSDOWN), F(PROT_GROWSUP), { 0, 0 }
};
static const struct flagname mmapflags[] = {
	F(MAP_SHARED), F(MAP_PRIVATE), F(MAP_FIXED), F(MAP_ANONYMOUS), F(MAP_GROWSDOWN),
	F(MAP_DENYWRITE), F(MAP_EXECUTABLE), F(MAP_LOCKED), F(MAP_NORESERVE), F(MAP_POPULATE),
	F(MAP_NONBLOCK), F(MAP_STACK), F(MAP_HUGETLB), F(MAP_FIXED_NOREPLACE), { 0, 0 }
};
#undef F

/* A small growing buffer for one line. */
struct line {
	char buf[4096];		/* six worst-case escaped strings and a result */
	size_t n;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n >= sizeof l->buf - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->buf + l->n, sizeof l->buf - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n = l->n + (size_t)k < sizeof l->buf ? l->n + (size_t)k : sizeof l->buf - 1;
}

static void put_flags(struct line *l, unsigned long v, const struct flagname *t, const char *zero)
{
	bool any = false;

	for (; t->name; t++)
		if (t->val && (v & t->val) == t->val) {
			put(l, "%s%s", any ? "|" : "", t->name);
			v &= ~t->val;
			any = true;
		}
	if (v)
		put(l, "%s%#lx", any ? "|" : "", v);
	else if (!any)
		put(l, "%s", zero);
}

/* Quoted and escaped; in JSON also valid as a JSON string. */
static void put_str(struct line *l, pid_t tid, unsigned long addr)
{
	char s[256];
	long n = strncpy_from_guest(tid, s, addr, sizeof s);

	if (!addr) {
		put(l, out_json ? "null" : "NULL");
		return;
	}
	if (n == -EFAULT) {
		put(l, out_json ? "\"%#lx\"" : "%#lx", addr);
		return;
	}
	put(l, "\"");
	for (long i = 0; s[i] && i < 96; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;

		if (c == '"' || c == '\\')
			put(l, "\\%c", c);
		else if (esc)
			put(l, "%s", esc);
		else if (out_json && c < 0x20)
			put(l, "\\u%04x", c);
		else if (!out_json && (c < 0x20 || c >= 0x7f))
			put(l, "\\%03o", c);
		else
			put(l, "%c", c);	/* JSON keeps UTF-8 bytes as they are */
	}
	/* Cut strings end in "...", inside the quotes for JSON. */
	if (n < 0 || n > 96)
		put(l, out_json ? "...\"" : "\"...");
	else
		put(l, "\"");
}

static void put_arg(struct line *l, pid_t tid, enum argk k, unsigned long v)
{
	const char *q = out_json ? "\"" : "";

	switch (k) {
	case A_STR:
		put_str(l, tid, v);
		return;
	case A_INT:
	case A_PID:
		put(l, "%d", (int)v);
		return;
	case A_FD:
		if ((int)v == AT_FDCWD)
			put(l, "%sAT_FDCWD%s", q, q);
		else
			put(l, "%d", (int)v);
		return;
	case A_UINT:
		put(l, "%lu", v);
		return;
	case A_SIG:
		if (sigabbrev_np((int)v))
			put(l, "%sSIG%s%s", q, sigabbrev_np((int)v), q);
		else
			put(l, "%d", (int)v);
		return;
	case A_OCT:
		put(l, "%s%#lo%s", q, v, q);
		return;
	case A_PTR:
		if (!v) {
			put(l, "%sNULL%s", q, q);
			return;
		}
		/* fall through */
	case A_HEX:
	case A_NONE:
	case NR_ARGK:
		put(l, "%s%#lx%s", q, v, q);
		return;
	case A_OFLAGS:
		put(l, "%s%s", q, (v & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : (v & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_RDONLY");
		if (v & ~(unsigned long)O_ACCMODE) {
			put(l, "|");
			put_flags(l, v & ~(unsigned long)O_ACCMODE, oflags, "0");
		}
		put(l, "%s", q);
		return;
	case A_CLONE:
		put(l, "%s", q);
		if (v & ~0xfful || !(v & 0xff))
			put_flags(l, v & ~0xfful, cloneflags, "0");
		if (v & 0xff) {
			const char *sig = sigabbrev_np((int)(v & 0xff));

			put(l, "%s", v & ~0xfful ? "|" : "");
			put(l, sig ? "SIG%s" : "%s", sig ? sig : "?");
		}
		put(l, "%s", q);
		return;
	case A_PROT:
		put(l, "%s", q);
		put_flags(l, v, protflags, "PROT_NONE");
		put(l, "%s", q);
		return;
	case A_MMAP:
		put(l, "%s", q);
		put_flags(l, v, mmapflags, "0");
		put(l, "%s", q);
		return;
	}
}

static uint64_t t_start;

static double since_start(void)
{
	return (double)(now_ns() - t_start) / 1e9;
}

/* "[pid] name(args" and, for JSON, the object up to its argument list. */
static void put_call(struct line *l, const struct task *tk, long nr, const unsigned long *arg)
{
	const struct sysent *e = sysent_of(nr);
	int nargs = e ? e->nargs : 6;

	if (out_json && e)
		put(l, "{\"t\":%.6f,\"pid\":%d,\"tid\":%d,\"nr\":%ld,\"syscall\":\"%s\",\"args\":[", since_start(),
		    tk->proc ? tk->proc->vpid : 0, tk->vtid, nr, e->name);
	else if (out_json)
		put(l, "{\"t\":%.6f,\"pid\":%d,\"tid\":%d,\"nr\":%ld,\"syscall\":\"syscall_%#lx\",\"args\":[",
		    since_start(), tk->proc ? tk->proc->vpid : 0, tk->vtid, nr, (unsigned long)nr);
	else if (e)
		put(l, "[%d] %s(", tk->vtid, e->name);
	else
		put(l, "[%d] syscall_%#lx(", tk->vtid, (unsigned long)nr);
	for (int i = 0; i < nargs; i++) {
		if (i)
			put(l, ", ");
		put_arg(l, tk->tid, e ? (enum argk)e->args[i] : A_HEX, arg[i]);
	}
}

/* Syscalls whose result is an address. */
static bool returns_address(long nr)
{
	return nr == SYS_mmap || nr == SYS_mremap || nr == SYS_brk || nr == SYS_shmat;
}

static void put_result(struct line *l, long nr, long ret, enum disp d)
{
	bool err = ret < 0 && ret > -4096;

	if (out_json && err)
		put(l, "],\"ret\":%ld,\"errno\":\"%s\",\"disp\":\"%s\"}", ret, errno_name((int)-ret), disp_names[d]);
	else if (out_json)
		put(l, "],\"ret\":%ld,\"errno\":null,\"disp\":\"%s\"}", ret, disp_names[d]);
	else if (err)
		put(l, ") = -1 %s (%s) <%s>", errno_name((int)-ret), strerror((int)-ret), disp_names[d]);
	else if (returns_address(nr))
		put(l, ") = %#lx <%s>", (unsigned long)ret, disp_names[d]);
	else
		put(l, ") = %ld <%s>", ret, disp_names[d]);
}

size_t trace_call_format(char *buf, size_t size, const struct task *tk, long nr, const unsigned long *arg)
{
	struct line l = { .n = 0 };
	bool json = out_json;

	out_json = false;	/* always the plain form: it goes to a person */
	put_call(&l, tk, nr, arg);
	out_json = json;
	l.buf[l.n] = 0;
	/* put_call leaves out its own "[tid] " and the closing parenthesis. */
	snprintf(buf, size, "%s)", strchr(l.buf, ']') ? strchr(l.buf, ']') + 2 : l.buf);
	return strlen(buf);
}

size_t trace_format(char *buf, size_t size, const struct task *tk, long nr, const unsigned long *arg,
		    long ret, enum disp d)
{
	struct line l = { .n = 0 };

	put_call(&l, tk, nr, arg);
	put_result(&l, nr, ret, d);
	snprintf(buf, size, "%s", l.buf);
	return l.n;
}

void trace_syscall(const struct task *tk, long nr, const unsigned long *arg, long ret, enum disp d)
{
	struct line l = { .n = 0 };

	if (tk->sys.entry_traced) {	/* its arguments went out at entry */
		if (out_json)
			put(&l, "{\"t\":%.6f,\"pid\":%d,\"tid\":%d,\"nr\":%ld,\"resumed\":true,\"args\":[",
			    since_start(), tk->proc ? tk->proc->vpid : 0, tk->vtid, nr);
		else
			put(&l, "[%d] <... %s resumed", tk->vtid, sysent_of(nr) ? sysent_of(nr)->name : "?");
	} else {
		put_call(&l, tk, nr, arg);
	}
	put_result(&l, nr, ret, d);
	fprintf(trace_fp, "%s\n", l.buf);
}

void trace_entry(const struct task *tk, long nr, const unsigned long *arg)
{
	struct line l = { .n = 0 };

	put_call(&l, tk, nr, arg);
	fprintf(trace_fp, out_json ? "%s],\"unfinished\":true}\n" : "%s) ...\n", l.buf);
}

enum who { BY_TASK, BY_KERNEL, BY_HARDWARE };

static void vevent(const struct task *tk, enum who who, const char *fmt, va_list ap)
{
	char msg[512];

	/* The interrupts logged so far come first: they happened before. */
	if (who != BY_HARDWARE)
		trace_interrupts();
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (out_json)	/* messages are hostk's own words and paths: escape quotes */
		for (char *c = msg; *c; c++)
			if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
				*c = '\'';
	if (out_json && tk)
		fprintf(trace_fp, "{\"t\":%.6f,\"pid\":%d,\"tid\":%d,\"event\":\"%s\"}\n", since_start(),
			tk->proc ? tk->proc->vpid : 0, tk->vtid, msg);
	else if (out_json)
		fprintf(trace_fp, "{\"t\":%.6f,\"%s\":true,\"event\":\"%s\"}\n", since_start(),
			who == BY_KERNEL ? "kernel" : "hardware", msg);
	else if (tk)
		fprintf(trace_fp, "[%d] --- %s ---\n", tk->vtid, msg);
	else
		fprintf(trace_fp, "[%s] --- %s ---\n", who == BY_KERNEL ? "k" : "hw", msg);
}

void trace_event(const struct task *tk, const char *fmt, ...)
{
	va_list ap;

	if (!trace_fp)
		return;
	va_start(ap, fmt);
	vevent(tk, tk ? BY_TASK : BY_KERNEL, fmt, ap);
	va_end(ap);
}

void trace_kernel(const char *fmt, ...)
{
	va_list ap;

	if (!trace_fp)
		return;
	va_start(ap, fmt);
	vevent(NULL, BY_KERNEL, fmt, ap);
	va_end(ap);
}

void trace_hardware(const char *fmt, ...)
{
	va_list ap;

	if (!trace_fp)
		return;
	va_start(ap, fmt);
	vevent(NULL, BY_HARDWARE, fmt, ap);
	va_end(ap);
}

void trace_interrupts(void)
{
	struct irq_event ev;

	while (irq_next_event(&ev)) {
		if (out_json)
			fprintf(trace_fp, "{\"t\":%.6f,\"irq\":%d,\"name\":\"%s\",\"half\":\"%s\",\"depth\":%d,"
				"\"pending\":\"%#lx\",\"masked\":\"%#lx\"}\n", (double)(ev.t - t_start) / 1e9, ev.line,
				irq_name(ev.line), ev.kind == IRQ_EV_TOP ? "top" : "bottom", ev.depth,
				(unsigned long)ev.pending, (unsigned long)ev.masked);
		else
			fprintf(trace_fp, "[k] --- irq %d (%s) %s half, depth %d, pending %#lx, masked %#lx ---\n",
				ev.line, irq_name(ev.line), ev.kind == IRQ_EV_TOP ? "top" : "bottom", ev.depth,
				(unsigned long)ev.pending, (unsigned long)ev.masked);
	}
}

/* Statistics. */

/* A row's name; a number the table does not name is shown as one. */
static const char *stat_name(long i)
{
	static char buf[NR_SYSCALLS + 1][16];

	if (i < NR_SYSCALLS && systab[i].name)
		return systab[i].name;
	if (i == NR_SYSCALLS)
		return "unknown";
	snprintf(buf[i], sizeof buf[i], "syscall_%ld", i);
	return buf[i];
}
static struct {
	uint64_t calls, errors, ns;
} st[NR_SYSCALLS + 1];		/* the last row: numbers outside the table */
static uint64_t exceptions[NR_EXC];

void stats_start(void)
{
	t_start = now_ns();
}

void stats_trap(long nr, uint64_t ns, long ret)
{
	long i = nr >= 0 && nr < NR_SYSCALLS ? nr : NR_SYSCALLS;

	st[i].calls++;
	st[i].ns += ns;
	if (ret < 0 && ret > -4096)
		st[i].errors++;
}

void stats_exception(int kind)
{
	exceptions[kind]++;
}

/* One interrupt line's row of the statistics. */
static void report_line(FILE *fp, int l)
{
	struct irq_counts c;
	struct irq_latency top, bh;

	irq_counts(l, &c);
	irq_latency(l, IRQ_LAT_TOP, &top);
	irq_latency(l, IRQ_LAT_TO_BH, &bh);
	if (out_json)
		fprintf(fp, "%s{\"line\":%d,\"name\":\"%s\",\"priority\":%d,\"raised\":%lu,\"delivered\":%lu,"
			"\"coalesced\":%lu,\"late\":%lu,\"spurious\":%lu,\"nested\":%lu,"
			"\"top_ns\":{\"min\":%lu,\"p50\":%lu,\"p99\":%lu,\"max\":%lu},"
			"\"raise_to_bh_ns\":{\"min\":%lu,\"p50\":%lu,\"p99\":%lu,\"max\":%lu}}",
			l ? "," : "", l, irq_name(l), irq_priority(l), c.raised, c.delivered, c.coalesced, c.late,
			c.spurious, c.nested, top.min, top.p50, top.p99, top.max, bh.min, bh.p50, bh.p99, bh.max);
	else
		fprintf(fp, "  %-8s %3d %9lu %9lu %9lu %6lu %8lu %6lu  %6lu/%lu/%lu     %.1f/%.1f/%.1f\n", irq_name(l),
			irq_priority(l), c.raised, c.delivered, c.coalesced, c.late, c.spurious, c.nested, top.p50,
			top.p99, top.max, (double)bh.p50 / 1e3, (double)bh.p99 / 1e3, (double)bh.max / 1e3);
}

/* Interrupts, bottom halves, the timer and the scheduler. */
static void report_machine(FILE *fp)
{
	struct sched_stats ss;
	struct timer_stats ts;
	double bh_us = 0;

	sched_get_stats(&ss);
	timer_get_stats(&ts);
	if (ts.bh_runs)
		bh_us = (double)ts.bh_ns / 1e3 / (double)ts.bh_runs;
	if (out_json) {
		fprintf(fp, "\"interrupts\":[");
		for (int l = 0; l < nr_irqs(); l++)
			report_line(fp, l);
		fprintf(fp, "],\"softirqs\":{");
		for (int s = 0; s < NR_SOFTIRQS; s++)
			fprintf(fp, "%s\"%s\":%lu", s ? "," : "", softirq_names[s], softirq_count(s));
		fprintf(fp, ",\"deferred\":%lu},\"max_nesting\":%d,", softirq_deferred(), irq_max_nesting());
		fprintf(fp, "\"sched\":{\"cpus\":%d,\"quantum_ms\":%d,\"context_switches\":%lu,\"preemptions\":%lu,"
			"\"yields\":%lu,\"blocks\":%lu,\"sleeps\":%lu,\"idle_s\":%.6f},", ss.ncpus, ss.quantum_ms,
			ss.switches, ss.preemptions, ss.yields, ss.blocks, ss.sleeps, (double)ss.idle_ns / 1e9);
		fprintf(fp, "\"timer\":{\"hz\":%d,\"interrupts\":%lu,\"ticks\":%lu,\"programs\":%lu,\"stops\":%lu,"
			"\"bh_us\":%.2f},\"devices\":[", timer_hz, ts.bh_runs, ts.ticks, ts.programs, ts.stops, bh_us);
		devices_report(fp, true);
		fprintf(fp, "]");
		return;
	}
	fprintf(fp, "interrupts (max nesting %d):\n", irq_max_nesting());
	fprintf(fp, "  %-8s %3s %9s %9s %9s %6s %8s %6s  %-22s %s\n", "line", "ipl", "raised", "delivered",
		"coalesced", "late", "spurious", "nested", "top half ns p50/p99/max", "raise->bottom us p50/p99/max");
	for (int l = 0; l < nr_irqs(); l++)
		report_line(fp, l);
	fprintf(fp, "softirqs:");
	for (int s = 0; s < NR_SOFTIRQS; s++)
		fprintf(fp, " %s %lu,", softirq_names[s], softirq_count(s));
	fprintf(fp, " passes deferred %lu\n", softirq_deferred());
	fprintf(fp, "scheduler: %d cpu(s), quantum %d ms; %lu context switches, %lu preemptions, %lu yields, "
		"%lu blocks, %lu sleeps; idle %.3f s\n", ss.ncpus, ss.quantum_ms, ss.switches, ss.preemptions, ss.yields,
		ss.blocks, ss.sleeps,
		(double)ss.idle_ns / 1e9);
	fprintf(fp, "timer: %d Hz; %lu interrupts (%.1f us each in the bottom half), %lu ticks, %lu programmings, "
		"%lu stops (tickless idle)\n", timer_hz, ts.bh_runs, bh_us, ts.ticks, ts.programs, ts.stops);
	if (devices_count()) {
		fprintf(fp, "devices:\n  %-8s %-5s %10s %9s %11s %8s %9s %11s %7s\n", "name", "kind", "interrupts", "rx",
			"rx bytes", "dropped", "tx", "tx bytes", "errors");
		devices_report(fp, false);
	}
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void stats_report(void)
{
	struct rusage self, kids;
	uint64_t traps = 0, ns = 0;
	double wall = since_start();
	bool first = true;

	if (!stats_fp)
		return;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	for (long i = 0; i <= NR_SYSCALLS; i++) {
		traps += st[i].calls;
		ns += st[i].ns;
	}
	double hk = tv_s(self.ru_utime) + tv_s(self.ru_stime);
	double guest = tv_s(kids.ru_utime) + tv_s(kids.ru_stime);

	if (out_json) {
		fprintf(stats_fp, "{\"wall_s\":%.6f,\"hostk_cpu_s\":%.6f,\"guest_cpu_s\":%.6f,\"traps\":%lu,"
			"\"trap_ns\":%lu,\"syscalls\":[", wall, hk, guest, traps, ns);
		for (long i = 0; i <= NR_SYSCALLS; i++) {
			if (!st[i].calls)
				continue;
			fprintf(stats_fp, "%s{\"syscall\":\"%s\",\"disp\":\"%s\",\"traps\":%lu,\"errors\":%lu,\"ns\":%lu}",
				first ? "" : ",", stat_name(i),
				disp_names[sys_disp(i)], st[i].calls, st[i].errors, st[i].ns);
			first = false;
		}
		fprintf(stats_fp, "],\"exceptions\":{");
		first = true;
		for (int k = 0; k < NR_EXC; k++)
			if (exceptions[k]) {
				fprintf(stats_fp, "%s\"%s\":%lu", first ? "" : ",", exc_names[k], exceptions[k]);
				first = false;
			}
		fprintf(stats_fp, "},");
		report_machine(stats_fp);
		fprintf(stats_fp, "}\n");
		fflush(stats_fp);
		return;
	}
	fprintf(stats_fp, "hostk: %lu traps in %.3f s; cpu: guests %.3f s, hostk %.3f s\n", traps, wall, guest, hk);
	fprintf(stats_fp, "%10s %8s %12s %10s  %-10s %s\n", "traps", "errors", "total usecs", "usecs/trap", "disp", "syscall");
	for (long i = 0; i <= NR_SYSCALLS; i++) {
		if (!st[i].calls)
			continue;
		fprintf(stats_fp, "%10lu %8lu %12.1f %10.2f  %-10s %s\n", st[i].calls, st[i].errors, (double)st[i].ns / 1e3,
			(double)st[i].ns / 1e3 / (double)st[i].calls, disp_names[sys_disp(i)],
			stat_name(i));
	}
	fprintf(stats_fp, "%10lu %8s %12.1f %10s  total\n", traps, "", (double)ns / 1e3, "");
	for (int k = 0; k < NR_EXC; k++)
		if (exceptions[k])
			fprintf(stats_fp, "exceptions: %s %lu\n", exc_names[k], exceptions[k]);
	report_machine(stats_fp);
	fflush(stats_fp);
}
