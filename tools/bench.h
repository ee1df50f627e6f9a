/* `hostk bench`: the trap-overhead bench (bench.c) and its tracers
 * (mech-ptrace.c, mech-unotif.c), the workloads (workloads.c), the peers
 * (peers.c), what they share (benchutil.c: running a child, statistics,
 * JSON strings, options), the SVG chart (svg.c), latency histograms
 * (hist.c), `hostk bench irq` (irqbench.c, irqrun.c) and `hostk bench nic`
 * (nicbench.c). */
#ifndef HOSTK_TOOLS_BENCH_H
#define HOSTK_TOOLS_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The bench commands' usage lines (hostk --help shows them too). */
extern const char bench_usage[];
int cmd_bench(int argc, char **argv);
/* `hostk bench irq`: the interrupt path, in-process (irqbench.c). */
int bench_irq(int argc, char **argv, const char *self, const char *loop);
/* `hostk bench workloads`: real programs natively and under hostk. */
int bench_workloads(int argc, char **argv, const char *self, const char *loop);
/* `hostk bench nic`: the network card's receive path under a real hostk. */
int bench_nic(int argc, char **argv, const char *self);

/* A program the bench runs: $env if set, else rel beside the hostk binary
 * self (the build tree's layout), into out; exits if it cannot be run. */
void bench_program(const char *self, const char *env, const char *rel, char *out, size_t size);
/* An option's number in [lo, hi], or a one-line usage error (exit 2). */
long bench_number(const char *cmd, const char *opt, const char *arg, long lo, long hi);

/* The minimal tracers.  Each runs in a process of its own (the bench forks
 * it, pinned), forks argv as its guest, serves it until it exits, and
 * returns the guest's wait status, or -1 with a message on stderr. */
enum ptrace_kind {
	TR_SYSCALL,	/* PTRACE_SYSCALL: a stop at entry and at exit */
	TR_SYSEMU,	/* PTRACE_SYSEMU: one stop, the tracer answers */
	TR_SECCOMP,	/* SECCOMP_RET_TRACE: one stop, the host runs it */
};
int trace_ptrace(enum ptrace_kind kind, long nr, char *const argv[]);
int trace_unotif(long nr, char *const argv[]);
/* NULL where user notification works here, else why not. */
const char *unotif_missing(void);

/* A child of the bench: pinned to cpu (-1: where it is), stdin from in
 * (NULL: /dev/null), stdout captured when out is set (else /dev/null).  It
 * runs fn(argv) and exits with its result when fn is set, else execs argv.
 * After timeout_s seconds (0: never) its process group is killed. */
struct spawn {
	char *const *argv;
	int cpu;
	unsigned timeout_s;
	const char *in;
	int (*fn)(char *const argv[], void *arg);
	void *arg;
};
/* Its wait status, or -1 when it could not start; *out gets what it printed
 * (malloc'd, NUL-terminated) when out is not NULL. */
int spawn_wait(const struct spawn *sp, char **out);
/* "exit status N" or "killed by signal N", for a wait status. */
const char *status_text(int status, char *buf, size_t size);

/* PATH lookup as execvp does it. */
bool find_in_path(const char *name, char *out, size_t size);
int pin_cpu(int cpu);
/* The two CPUs this process may use that were idlest over the next 200 ms
 * (/proc/stat), idlest first, so that a shared machine's busy CPU is not the
 * one measured on; cpu[1] is -1 where there is one only. */
void idlest_cpus(int cpu[2]);
/* This process's own seccomp filters (a container's): 0 on a bare host. */
int own_seccomp_filters(void);

/* A growing list of figures and its order statistics. */
struct samples {
	double *v;
	size_t n, cap;
};
struct stat3 {
	double min, median, p99, max;
	size_t n;
};
void samples_add(struct samples *s, double x);
struct stat3 stat_of(struct samples *s);	/* sorts s */
/* hk-loop's figures, one number a line, added to into; their count.  Other
 * lines (UML's console, the kernel's messages) are not hk-loop's. */
long parse_figures(const char *out, struct samples *into);

/* A JSON string, quoted and escaped. */
void json_str(FILE *fp, const char *s);

/* The peers: other interception tools that run the same program. */
enum peer { PEER_STRACE, PEER_PROOT, PEER_RUNSC, PEER_UML, NR_PEERS };
struct peer_found {
	char path[4096];
	const char *missing;	/* NULL when installed */
};
extern const char *const peer_keys[NR_PEERS], *const peer_labels[NR_PEERS];
void peers_find(struct peer_found found[NR_PEERS]);
/* argv for prog (NULL-terminated) under peer p, into out[max]; the strings
 * live in buf.  NULL with *why set when p cannot run it this way. */
char **peer_argv(enum peer p, const struct peer_found *f, char *const prog[], bool cross, char **out, size_t max,
		 char *buf, size_t bufsize, const char **why);

/* A horizontal bar chart on a log scale: one row per thing measured, one
 * bar per series in each row (median, with a whisker: min..p99, min..max). */
#define SVG_MAX_SERIES 8
struct svg_bar {
	bool have;
	double lo, mid, hi;	/* nanoseconds */
	double ratio;		/* to the baseline, written after the median; 0: none */
	const char *note;	/* why there is no bar */
};
struct svg_row {
	const char *key, *label;
	struct svg_bar bar[SVG_MAX_SERIES];
};
struct svg_chart {
	const char *title, *subtitle, *axis, *whisker;	/* whisker: what it spans, "min .. p99" */
	int nseries, nrows;
	const char *series_key[SVG_MAX_SERIES], *series_label[SVG_MAX_SERIES];
	const struct svg_row *rows;
};
int svg_write(const char *path, const struct svg_chart *c);	/* 0 or -errno */
/* svg.c's helpers, for other charts: a file begun with its style, title
 * and subtitle (NULL with errno), and ended (0 or -EIO); escaped text, a
 * time in its unit (three digits, or a whole power of ten), series colours. */
FILE *svg_open(const char *path, int width, int height, const char *style, const char *title, const char *subtitle);
int svg_close(FILE *fp);
void svg_text(FILE *fp, const char *s);
const char *svg_ns(double ns, char *buf, size_t size, bool whole);
const char *svg_colour(int series);

/* Latency figures (ns, one per event): order statistics and a log2
 * histogram of two buckets an octave, whose edges are 250 ns x 2^k and
 * 375 ns x 2^k (..., 1, 1.5, 2, 3, 4, 6, 8, 12 ... us): cyclictest's
 * histogram, on a log scale because the tails are three orders longer than
 * the typical figure. */
#define HIST_BUCKETS 48
struct hist {
	const char *key;	/* JSON and SVG: the series' name */
	const char *col;	/* the terminal histogram's column, <= 11 chars */
	const char *label;	/* a line of text: what was measured */
	uint64_t n, min, p50, p99, max;	/* nearest rank, as stat_of() */
	uint64_t count[HIST_BUCKETS];	/* [0]: under 250 ns; the last: 2.1 s and over */
};
/* h's figures from v[0..n), which it sorts; key, col and label stay. */
void hist_fill(struct hist *h, uint64_t *v, size_t n);
uint64_t hist_edge(int b);	/* bucket b's least value */
/* The histograms side by side, cyclictest's way: a row per bucket from the
 * first used to the last, a column each, then the summary rows. */
void hist_print(FILE *fp, const struct hist *h, int nh);
/* {"n":..,"min":..,"p50":..,"p99":..,"max":..,"hist":[{"lo_ns","hi_ns","count"}...]}
 * with the buckets that are not empty. */
void hist_json(FILE *fp, const struct hist *h);
/* Small multiples: one panel per histogram on shared axes (log time, log
 * count), p50 and p99 marked; each bucket a <rect class="bin"
 * data-series=KEY data-lo=NS data-count=N>.  0 or -errno. */
int hist_svg(const char *path, const char *title, const char *subtitle, const struct hist *h, int nh);

#endif
