/* `hostk trace-host`'s report: folds the BPF program's trap records into
 * per-phase distributions and prints the breakdown table, the log2
 * histogram of trap times, or one JSON object.  Called by trace-host.c. */
#include <inttypes.h>
#include <string.h>

#include "trace-host.h"
#include "../guest/include/hostk/hkcall.h"
#include "../hostk/util.h"

static const char *const phase_names[NR_PHASES] = {
	[PH_KERNEL] = "guest in the host kernel",
	[PH_WAKE] = "stop to tracer wake-up",
	[PH_HANDLE] = "hostk handling",
	[PH_RESUME] = "resume to guest wake-up",
};
static const char *const phase_keys[NR_PHASES] = {
	[PH_KERNEL] = "guest_kernel", [PH_WAKE] = "stop_to_tracer",
	[PH_HANDLE] = "hostk_handling", [PH_RESUME] = "resume_to_guest",
};
_Static_assert(NELEM(phase_names) == NR_PHASES && NELEM(phase_keys) == NR_PHASES, "a name for every phase");

/* The counters as JSON keys. */
static const char *const counter_keys[] = {
	[C_TRAPS] = "traps",
	[C_LOST] = "lost",
	[C_UNFINISHED] = "unfinished",
	[C_UNMATCHED] = "unmatched",
	[C_UNSEEN] = "unseen_switch_in",
	[C_FAST] = "fast",
	[C_FAST_NS] = "fast_ns",
	[C_OTHER_STOPS] = "other_stops",
	[C_OTHER_STOP_NS] = "other_stop_ns",
	[C_SWITCH_GUEST] = "switch_guest",
	[C_SWITCH_HOSTK] = "switch_hostk",
	[C_MIGRATE_GUEST] = "migrate_guest",
	[C_MIGRATE_HOSTK] = "migrate_hostk",
	[C_WAKE_GUEST] = "wake_guest",
	[C_WAKE_HOSTK] = "wake_hostk",
	[C_SIG_GUEST] = "signal_guest",
	[C_SIG_HOSTK] = "signal_hostk",
	[C_DELIVER_GUEST] = "deliver_guest",
	[C_DELIVER_HOSTK] = "deliver_hostk",
	[C_TASKS] = "tasks",
};
_Static_assert(NELEM(counter_keys) == NR_COUNTERS, "a key for every counter");

static const char *const flag_keys[] = {
	"host_ran", "cross_cpu", "exit_stop", "unmatched", "no_entry", "entry_stop",
};
_Static_assert(NELEM(flag_keys) == TF_NFLAGS && TF_ENTRY_STOP == 1 << (TF_NFLAGS - 1), "a key for every flag");

static unsigned bucket_of(uint64_t v)
{
	int e;

	if (v < TH_SUB)
		return (unsigned)v;
	e = 63 - __builtin_clzll(v);		/* 7 and up */
	return TH_SUB * (unsigned)(e - 6) + (unsigned)((v >> (e - 7)) - TH_SUB);
}

/* A bucket's value: exact below TH_SUB, else the middle of its range. */
static uint64_t bucket_value(unsigned i)
{
	unsigned e;

	if (i < TH_SUB)
		return i;
	e = i / TH_SUB + 6;
	return ((uint64_t)(TH_SUB + i % TH_SUB) << (e - 7)) + ((1ull << (e - 7)) >> 1);
}

static void dist_add(struct th_dist *d, uint64_t v)
{
	d->n++;
	d->sum += v;
	if (v > d->max)
		d->max = v;
	d->bucket[bucket_of(v)]++;
}

static uint64_t dist_mean(const struct th_dist *d)
{
	return d->n ? (d->sum + d->n / 2) / d->n : 0;
}

/* The q-quantile by rank (the smallest value with at least q*n at or
 * below it); the maximum is exact, so never report past it. */
static uint64_t dist_quantile(const struct th_dist *d, double q)
{
	uint64_t rank = (uint64_t)(q * (double)d->n + 0.999999), seen = 0;

	if (!d->n)
		return 0;
	for (unsigned i = 0; i < TH_BUCKETS; i++)
		if ((seen += d->bucket[i]) >= rank) {
			uint64_t v = bucket_value(i);

			return v < d->max ? v : d->max;
		}
	return d->max;
}

void th_report_trap(struct th_report *r, const struct th_trap *t)
{
	unsigned slot = t->nr >= 0 && t->nr < NR_SYSCALLS ? (unsigned)t->nr :
			t->nr == HK_CALL_NR ? TH_SLOT_HKCALL : TH_SLOT_OTHER;

	for (int p = 0; p < NR_PHASES; p++)
		dist_add(&r->phase[p], t->phase_ns[p]);
	dist_add(&r->total, t->total_ns);
	dist_add(&r->to_stop, t->to_stop_ns);
	dist_add(&r->from_resume, t->phase_ns[PH_KERNEL] - t->to_stop_ns);
	r->log2[t->total_ns ? 63 - __builtin_clzll(t->total_ns) : 0]++;
	r->stops += t->stops;
	r->switches += t->switches;
	r->migrations += t->migrations;
	r->hostk_syscalls += t->hostk_syscalls;
	for (unsigned b = 0; b < NELEM(r->flagged); b++)
		if (t->flags & (1u << b))
			r->flagged[b]++;
	r->slot_n[slot]++;
	r->slot_ns[slot] += t->total_ns;
}

static double per(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

static void slot_name(unsigned slot, char *buf, size_t size)
{
	const struct sysent *e = slot < NR_SYSCALLS ? sysent_of(slot) : NULL;

	if (e)
		snprintf(buf, size, "%s", e->name);
	else if (slot < NR_SYSCALLS)
		snprintf(buf, size, "syscall_%u", slot);
	else if (slot == TH_SLOT_HKCALL)
		snprintf(buf, size, "hostk_call");
	else
		snprintf(buf, size, "other");
}

/* The busiest syscalls first: at most max of them. */
static unsigned top_slots(const struct th_report *r, unsigned *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned s = 0; s < TH_NR_SLOTS; s++) {
		unsigned i;

		if (!r->slot_n[s] || (n == max && r->slot_n[s] <= r->slot_n[out[max - 1]]))
			continue;
		/* Insertion into the sorted list, dropping its last if full. */
		for (i = n < max ? n++ : max - 1; i > 0 && r->slot_n[out[i - 1]] < r->slot_n[s]; i--)
			out[i] = out[i - 1];
		out[i] = s;
	}
	return n;
}

static void text_row(FILE *fp, const char *name, const struct th_dist *d, uint64_t all)
{
	fprintf(fp, "%-26s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %6.1f%%\n", name, d->n,
		dist_mean(d), dist_quantile(d, 0.5), dist_quantile(d, 0.99), 100 * per(d->sum, all));
}

static void text_hist(const struct th_report *r, FILE *fp)
{
	uint64_t most = 0;
	int lo = 64, hi = -1;

	for (int e = 0; e < 64; e++)
		if (r->log2[e]) {
			lo = e < lo ? e : lo;
			hi = e;
			most = r->log2[e] > most ? r->log2[e] : most;
		}
	fprintf(fp, "\ntotal trap time, ns (log2)\n");
	for (int e = lo; e <= hi; e++) {
		int bar = (int)((r->log2[e] * 50 + most - 1) / most);

		fprintf(fp, "%12llu - %-12llu %9" PRIu64 " |%.*s\n", e ? 1ull << e : 0, (2ull << e) - 1,
			r->log2[e], bar, "##################################################");
	}
}

void th_report_text(const struct th_report *r, FILE *fp, bool hist)
{
	const uint64_t *c = r->counters;
	uint64_t n = r->total.n;
	unsigned top[6], ntop = top_slots(r, top, NELEM(top));

	fprintf(fp, "hostk trace-host: %" PRIu64 " traps in %.3f s (entry probe: %s)", c[C_TRAPS],
		(double)r->elapsed_ns / 1e9, r->entry_probe);
	if (c[C_LOST])
		fprintf(fp, "; %" PRIu64 " records LOST (ring buffer full): the table covers %" PRIu64,
			c[C_LOST], n);
	fprintf(fp, "\n%-26s %9s %9s %9s %9s %7s\n", "phase (ns)", "count", "mean", "p50", "p99", "share");
	for (int p = 0; p < NR_PHASES; p++) {
		text_row(fp, phase_names[p], &r->phase[p], r->total.sum);
		if (p == PH_KERNEL) {
			text_row(fp, "  up to a stop", &r->to_stop, r->total.sum);
			text_row(fp, "  after a resume", &r->from_resume, r->total.sum);
		}
	}
	text_row(fp, "total", &r->total, r->total.sum);
	fprintf(fp, "per trap: %.2f stops, %.2f guest context switches, %.3f migrations, %.2f hostk syscalls; "
		"%.1f%% handled on another CPU, %.1f%% run by the host after the stop\n",
		per(r->stops, n), per(r->switches, n), per(r->migrations, n), per(r->hostk_syscalls, n),
		100 * per(r->flagged[1], n), 100 * per(r->flagged[0], n));
	if (r->flagged[4])
		fprintf(fp, "note: %" PRIu64 " traps start at their first stop's notification: with no fentry or "
			"kprobe on this kernel, the syscall entry and the seccomp filters before it are not seen\n",
			r->flagged[4]);
	fprintf(fp, "fast path: %" PRIu64 " syscalls, mean %.0f ns; other stops (signals, group stops, "
		"preemption): %" PRIu64 ", mean %.0f ns\n", c[C_FAST], per(c[C_FAST_NS], c[C_FAST]),
		c[C_OTHER_STOPS], per(c[C_OTHER_STOP_NS], c[C_OTHER_STOPS]));
	fprintf(fp, "context switches: guests %" PRIu64 ", hostk %" PRIu64 "; CPU migrations: guests %" PRIu64
		", hostk %" PRIu64 "; wake-ups: guests %" PRIu64 ", hostk %" PRIu64 "\n", c[C_SWITCH_GUEST],
		c[C_SWITCH_HOSTK], c[C_MIGRATE_GUEST], c[C_MIGRATE_HOSTK], c[C_WAKE_GUEST], c[C_WAKE_HOSTK]);
	fprintf(fp, "signals generated: for guests %" PRIu64 ", for hostk %" PRIu64 "; delivered: in guests %"
		PRIu64 ", in hostk %" PRIu64 "\n", c[C_SIG_GUEST], c[C_SIG_HOSTK], c[C_DELIVER_GUEST],
		c[C_DELIVER_HOSTK]);
	fprintf(fp, "by syscall:");
	for (unsigned i = 0; i < ntop; i++) {
		char name[32];

		slot_name(top[i], name, sizeof name);
		fprintf(fp, "%s %s %" PRIu64 " (%.0f ns)", i ? "," : "", name, r->slot_n[top[i]],
			per(r->slot_ns[top[i]], r->slot_n[top[i]]));
	}
	fprintf(fp, "%s\n", ntop ? "" : " none");
	fprintf(fp, "tasks %" PRIu64 "; traps cut short by an exit %" PRIu64 "; ended at an exit stop %" PRIu64
		"; out-of-order events %" PRIu64 "; switch-ins the host did not report %" PRIu64 "\n", c[C_TASKS],
		c[C_UNFINISHED], r->flagged[2], c[C_UNMATCHED], c[C_UNSEEN]);
	if (r->probe_cost)
		fprintf(fp, "probe cost: %" PRIu64 " BPF program runs on the whole host, %.0f ns each; per trap "
			"%.1f runs, %.0f ns\n", r->probe_runs, per(r->probe_ns, r->probe_runs),
			per(r->probe_runs, n), per(r->probe_ns, n));
	if (hist && n)
		text_hist(r, fp);
}

static void json_dist(FILE *fp, const char *key, const struct th_dist *d, uint64_t all)
{
	fprintf(fp, "\"%s\":{\"count\":%" PRIu64 ",\"mean_ns\":%" PRIu64 ",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%"
		PRIu64 ",\"max_ns\":%" PRIu64 ",\"sum_ns\":%" PRIu64 ",\"share\":%.4f}", key, d->n, dist_mean(d),
		dist_quantile(d, 0.5), dist_quantile(d, 0.99), d->max, d->sum, per(d->sum, all));
}

void th_report_json(const struct th_report *r, FILE *fp)
{
	const char *sep = "";

	fprintf(fp, "{\"attached\":%s,\"detached\":%s,\"status\":%d,\"entry_probe\":\"%s\",\"elapsed_ns\":%"
		PRIu64 ",\"traps\":%" PRIu64 ",\"phases\":{", r->attached ? "true" : "false",
		r->detached ? "true" : "false", r->status, r->entry_probe, r->elapsed_ns, r->total.n);
	for (int p = 0; p < NR_PHASES; p++) {
		json_dist(fp, phase_keys[p], &r->phase[p], r->total.sum);
		fputc(',', fp);
	}
	json_dist(fp, "guest_kernel_to_stop", &r->to_stop, r->total.sum);
	fputc(',', fp);
	json_dist(fp, "guest_kernel_from_resume", &r->from_resume, r->total.sum);
	fputs("},", fp);
	json_dist(fp, "total", &r->total, r->total.sum);
	fprintf(fp, ",\"trap_sums\":{\"stops\":%" PRIu64 ",\"switches\":%" PRIu64 ",\"migrations\":%" PRIu64
		",\"hostk_syscalls\":%" PRIu64 "},\"flagged\":{", r->stops, r->switches, r->migrations,
		r->hostk_syscalls);
	for (unsigned b = 0; b < NELEM(flag_keys); b++)
		fprintf(fp, "%s\"%s\":%" PRIu64, b ? "," : "", flag_keys[b], r->flagged[b]);
	fprintf(fp, "},\"counters\":{");
	for (int i = 0; i < NR_COUNTERS; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i ? "," : "", counter_keys[i], r->counters[i]);
	fprintf(fp, "},\"syscalls\":{");
	for (unsigned s = 0; s < TH_NR_SLOTS; s++) {
		char name[32];

		if (!r->slot_n[s])
			continue;
		slot_name(s, name, sizeof name);
		fprintf(fp, "%s\"%s\":{\"traps\":%" PRIu64 ",\"mean_ns\":%.0f}", sep, name, r->slot_n[s],
			per(r->slot_ns[s], r->slot_n[s]));
		sep = ",";
	}
	fprintf(fp, "},\"hist\":[");
	sep = "";
	for (int e = 0; e < 64; e++)
		if (r->log2[e]) {
			fprintf(fp, "%s{\"lo_ns\":%llu,\"hi_ns\":%llu,\"count\":%" PRIu64 "}", sep,
				e ? 1ull << e : 0, (2ull << e) - 1, r->log2[e]);
			sep = ",";
		}
	fprintf(fp, "]");
	if (r->probe_cost)
		fprintf(fp, ",\"probe\":{\"runs\":%" PRIu64 ",\"ns\":%" PRIu64 "}", r->probe_runs, r->probe_ns);
	fprintf(fp, "}\n");
}
