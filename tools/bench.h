/* `hostk bench`: the trap-overhead bench (bench.c) and its tracers
 * (mech-ptrace.c, mech-unotif.c), the workloads (workloads.c), the peers
 * (peers.c), what they share (benchutil.c: running a child, statistics,
 * JSON strings), the SVG chart (svg.c) and `hostk bench irq` (irqbench.c). */
#ifndef HOSTK_TOOLS_BENCH_H
#define HOSTK_TOOLS_BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

int cmd_bench(int argc, char **argv);
/* `hostk bench irq`: the interrupt path, in-process (irqbench.c). */
int bench_irq(int argc, char **argv, const char *self, const char *loop);
/* `hostk bench workloads`: real programs natively and under hostk. */
int bench_workloads(int argc, char **argv, const char *self, const char *loop);

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

#endif
