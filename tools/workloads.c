/* `hostk bench workloads`: real programs, natively and under hostk (with
 * --peers under the peers too), and their wall time, median of N runs.  The
 * inputs are made here, the same every time (a fixed PRNG seed), in a scratch
 * directory that is removed at the end.  Every run is pinned to one CPU,
 * natively too: hostk's guests share one CPU by default, and a pipeline
 * spread over two CPUs natively would be another comparison.  The runs go
 * round-robin over workloads and runners, after one native warm-up run of
 * each (the page cache).  Called from bench.c. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "../hostk/util.h"

/* A workload: argv with %D for the scratch directory and %N for its size
 * (full or smoke); stdin from a file of the scratch directory or /dev/null;
 * a file removed before each run, so that each starts alike. */
static const struct workload {
	const char *key, *label;
	const char *argv[8];
	const char *full, *smoke;
	const char *in, *fresh;
} workloads[] = {
	{ "find", "find over /usr/include", { "/usr/bin/find", "%N", "-name", "*.h", NULL },
	  "/usr/include", "/usr/include/linux", NULL, NULL },
	{ "pipelines", "200 fork pipelines in a shell",
	  { "/bin/sh", "-c", "i=0; while [ $i -lt %N ]; do echo x | cat >/dev/null; i=$((i+1)); done", NULL },
	  "200", "5", NULL, NULL },
	{ "gzip", "gzip of a 20 MB file", { "/usr/bin/gzip", "-c", "%D/input.txt", NULL }, "", "", NULL, NULL },
	{ "dd", "dd, 512-byte blocks through a pipe",
	  { "/bin/sh", "-c", "dd if=/dev/zero bs=512 count=%N status=none | dd of=/dev/null bs=512 status=none",
	    NULL }, "20000", "200", NULL, NULL },
	{ "python3", "python3 start-up", { "/usr/bin/python3", "-c", "pass", NULL }, "", "", NULL, NULL },
	{ "gcc", "gcc -O2 -c of a 400-function file", { "/usr/bin/gcc", "-O2", "-c", "%D/prog.c", "-o", "%D/prog.o",
	  NULL }, "", "", NULL, "prog.o" },
	{ "sqlite3", "sqlite3: 5000 inserts, one transaction", { "/usr/bin/sqlite3", "%D/bench.db", NULL },
	  "", "", "inserts.sql", "bench.db" },
};
#define NR_WORKLOADS ((int)(sizeof workloads / sizeof workloads[0]))

/* The inputs' sizes, full and smoke. */
static const struct { long text_bytes, functions, inserts; } sizes[2] = {
	{ 20L << 20, 400, 5000 },
	{ 256L << 10, 5, 20 },
};

/* Who runs them: native, hostk, then the peers. */
enum { R_NATIVE, R_HOSTK, R_PEER0, NR_RUNNERS = R_PEER0 + NR_PEERS };

struct result {
	struct samples s;
	struct stat3 st;
	const char *why;
	char whybuf[128];
};

static char scratch[64];
static struct result results[NR_WORKLOADS][NR_RUNNERS];

static void remove_scratch(void)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX];

	if (!scratch[0] || !(d = opendir(scratch)))
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(scratch);
	scratch[0] = '\0';
}

/* xorshift64*: the same bytes on every machine. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

static FILE *create(const char *name)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", scratch, name);
	if (!(fp = fopen(path, "we")) || fchmod(fileno(fp), 0644) < 0)
		die_errno("bench workloads: %s", path);
	return fp;
}

static void finish(FILE *fp, const char *name)
{
	if (ferror(fp) | fclose(fp))
		die("bench workloads: cannot write %s/%s", scratch, name);
}

/* Text from a small vocabulary: gzip's ordinary kind of input. */
static void make_text(long bytes)
{
	static const char *const words[] = { "kernel", "trap", "the", "guest", "of", "a", "syscall", "interrupt",
					     "and", "scheduler", "page", "to", "ptrace", "seccomp", "is", "host" };
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	FILE *fp = create("input.txt");
	long n = 0;

	while (n < bytes) {
		uint64_t r = rnd(&x);
		int w = fprintf(fp, "%s%s", words[r % 16], (r >> 8) % 11 ? " " : "\n");

		n += w;
		if (!(r >> 20 & 255))
			n += fprintf(fp, "%llu\n", (unsigned long long)(r >> 32));
	}
	finish(fp, "input.txt");
}

static void make_c(long functions)
{
	uint64_t x = 42;
	FILE *fp = create("prog.c");

	for (long i = 0; i < functions; i++)
		fprintf(fp, "int f%ld(int n)\n{\n\tint s = %u;\n\tfor (int i = 0; i < n; i++)\n\t\tif ((i ^ s) & %u)\n"
			"\t\t\ts += i * %u + (s >> 3);\n\t\telse\n\t\t\ts ^= i << %u;\n\treturn s;\n}\n\n", i,
			(unsigned)(rnd(&x) % 1000), (unsigned)(rnd(&x) % 64 + 1), (unsigned)(rnd(&x) % 97),
			(unsigned)(rnd(&x) % 7));
	finish(fp, "prog.c");
}

static void make_sql(long inserts)
{
	uint64_t x = 7;
	FILE *fp = create("inserts.sql");

	fprintf(fp, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);\nBEGIN;\n");
	for (long i = 0; i < inserts; i++) {
		uint64_t r = rnd(&x);

		fprintf(fp, "INSERT INTO t(name, v) VALUES('name-%llx', %llu.%02llu);\n",
			(unsigned long long)(r >> 40), (unsigned long long)(r % 100000), (unsigned long long)(r % 100));
	}
	fprintf(fp, "COMMIT;\n");
	finish(fp, "inserts.sql");
}

/* A root user's guests are another host uid: the directory is open to all
 * (sticky, as /tmp is), the inputs are readable by all, and what a run
 * writes is removed before the next (another user's file could not be
 * overwritten). */
static void prepare(bool smoke)
{
	snprintf(scratch, sizeof scratch, "/tmp/hostk-workloads-XXXXXX");
	if (!mkdtemp(scratch)) {
		scratch[0] = '\0';
		die_errno("bench workloads: mkdtemp");
	}
	atexit(remove_scratch);
	if (chmod(scratch, 01777) < 0)
		die_errno("bench workloads: chmod %s", scratch);
	make_text(sizes[smoke].text_bytes);
	make_c(sizes[smoke].functions);
	make_sql(sizes[smoke].inserts);
}

/* in with every %D and %N replaced, into out. */
static void expand(const char *in, const char *n, char *out, size_t size)
{
	size_t o = 0;

	for (; *in && o + 1 < size; in++) {
		const char *rep = in[0] == '%' && in[1] == 'D' ? scratch : in[0] == '%' && in[1] == 'N' ? n : NULL;

		if (rep) {
			o += (size_t)snprintf(out + o, size - o, "%s", rep);
			if (o >= size)
				o = size - 1;
			in++;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

struct setup {
	const char *self, *loop;
	struct peer_found peers[NR_PEERS];
	bool peers_on, smoke;
	int runs, cpu;
};

static const char *runner_key(int r)
{
	return r == R_NATIVE ? "native" : r == R_HOSTK ? "hostk" : peer_keys[r - R_PEER0];
}

static const char *runner_label(int r)
{
	return r == R_NATIVE ? "native" : r == R_HOSTK ? "hostk" : peer_labels[r - R_PEER0];
}

static bool shown(const struct setup *s, int r)
{
	return r < R_PEER0 || s->peers_on;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* prog under User-Mode Linux, whose boot is no part of the figure: its init
 * is `hk-loop run`, which times prog from inside. */
static char **uml_argv(const struct setup *s, char *const prog[], const char *in, char **out, size_t max,
		       char *buf, size_t bufsize, const char **why)
{
	char *init[16];
	int n = 0;

	init[n++] = (char *)s->loop;
	init[n++] = "run";
	if (in) {
		init[n++] = "--in";
		init[n++] = (char *)in;
	}
	for (int i = 0; prog[i] && n < 15; i++)
		init[n++] = prog[i];
	init[n] = NULL;
	return peer_argv(PEER_UML, &s->peers[PEER_UML], init, false, out, max, buf, bufsize, why);
}

/* One run of workload w by runner r, its wall time kept when timed: true,
 * or false with the reason in res->why for a peer (any other failure ends
 * the bench). */
static bool run_one(const struct setup *s, int w, int r, bool timed)
{
	const struct workload *wl = &workloads[w];
	struct result *res = &results[w][r];
	char args[8][512], in[PATH_MAX], fresh[PATH_MAX], peerbuf[3 * PATH_MAX], st[64], *prog[8], *argv[32];
	char *out = NULL;
	struct spawn sp = { .argv = prog, .cpu = s->cpu, .timeout_s = 600, .in = wl->in ? in : NULL };
	bool uml = r == R_PEER0 + PEER_UML;
	struct samples inside = { 0 };
	int a = 0, status;
	double t0, t;

	for (int i = 0; wl->argv[i]; i++) {
		expand(wl->argv[i], s->smoke ? wl->smoke : wl->full, args[i], sizeof args[i]);
		prog[i] = args[i];
		prog[i + 1] = NULL;
	}
	snprintf(in, sizeof in, "%s/%s", scratch, wl->in ? wl->in : "");
	if (r == R_HOSTK) {
		argv[a++] = (char *)s->self;
		argv[a++] = "run";
		argv[a++] = "--";
		for (int i = 0; prog[i]; i++)
			argv[a++] = prog[i];
		argv[a] = NULL;
		sp.argv = argv;
	} else if (uml) {
		sp.in = NULL;	/* UML's console; the program's stdin is hk-loop's --in */
		if (!(sp.argv = uml_argv(s, prog, wl->in ? in : NULL, argv, sizeof argv / sizeof argv[0], peerbuf,
					 sizeof peerbuf, &res->why)))
			return false;
	} else if (r >= R_PEER0 && !(sp.argv = peer_argv((enum peer)(r - R_PEER0), &s->peers[r - R_PEER0], prog,
							  false, argv, sizeof argv / sizeof argv[0], peerbuf,
							  sizeof peerbuf, &res->why))) {
		return false;
	}
	if (wl->fresh) {
		snprintf(fresh, sizeof fresh, "%s/%s", scratch, wl->fresh);
		unlink(fresh);
	}
	t0 = now_s();
	status = spawn_wait(&sp, uml ? &out : NULL);
	t = (now_s() - t0) * 1e9;
	if (uml && status == 0 && parse_figures(out, &inside) != 1)
		status = -2;	/* hk-loop said why on the console */
	free(out);
	if (status == 0) {
		if (timed)
			samples_add(&res->s, uml ? inside.v[0] : t);
		free(inside.v);
		return true;
	}
	free(inside.v);
	if (status == -2)
		snprintf(st, sizeof st, "the program failed inside UML");
	else
		status_text(status, st, sizeof st);
	if (r < R_PEER0)
		die("bench workloads: '%s' failed %s: %s", wl->label, r == R_NATIVE ? "natively" : "under hostk", st);
	snprintf(res->whybuf, sizeof res->whybuf, "its run failed: %s", st);
	res->why = res->whybuf;
	return false;
}

static double ratio(int w, int r)
{
	double base = results[w][R_NATIVE].st.median;

	return base > 0 ? results[w][r].st.median / base : 0;
}

static const char *xfmt(double x, char *buf, size_t size)
{
	snprintf(buf, size, "x%.1f", x);
	return buf;
}

static void print_table(const struct setup *s)
{
	char x[16];

	printf("hostk bench workloads: wall time in seconds, median of %d run(s), every run pinned to CPU %d%s\n\n",
	       s->runs, s->cpu, s->smoke ? " (smoke: tiny inputs)" : "");
	printf("%-40s", "workload");
	for (int r = 0; r < NR_RUNNERS; r++)
		if (shown(s, r))
			printf(" %17s", runner_key(r));
	printf("\n");
	for (int w = 0; w < NR_WORKLOADS; w++) {
		printf("%-40s", workloads[w].label);
		for (int r = 0; r < NR_RUNNERS; r++) {
			const struct result *res = &results[w][r];

			if (!shown(s, r))
				continue;
			if (res->why)
				printf(" %17s", "n/a");
			else if (r == R_NATIVE)
				printf(" %17.3f", res->st.median / 1e9);
			else
				printf(" %9.3f %7s", res->st.median / 1e9, xfmt(ratio(w, r), x, sizeof x));
		}
		printf("\n");
	}
	for (int r = R_PEER0; r < NR_RUNNERS; r++)
		for (int w = 0; w < NR_WORKLOADS && shown(s, r); w++)
			if (results[w][r].why) {
				printf("\n%s: n/a: %s", runner_label(r), results[w][r].why);
				break;
			}
	printf("\n");
}

static void print_json(const struct setup *s)
{
	printf("{\"bench\":\"workloads\",\"runs\":%d,\"smoke\":%s,\"cpu\":%d,\"peers\":%s,\"runners\":[", s->runs,
	       s->smoke ? "true" : "false", s->cpu, s->peers_on ? "true" : "false");
	for (int r = 0, n = 0; r < NR_RUNNERS; r++)
		if (shown(s, r))
			printf("%s\"%s\"", n++ ? "," : "", runner_key(r));
	printf("],\"workloads\":[");
	for (int w = 0; w < NR_WORKLOADS; w++) {
		printf("%s\n{\"key\":\"%s\",\"label\":", w ? "," : "", workloads[w].key);
		json_str(stdout, workloads[w].label);
		printf(",\"results\":{");
		for (int r = 0, n = 0; r < NR_RUNNERS; r++) {
			const struct result *res = &results[w][r];

			if (!shown(s, r))
				continue;
			printf("%s\"%s\":", n++ ? "," : "", runner_key(r));
			if (res->why) {
				printf("{\"unavailable\":");
				json_str(stdout, res->why);
				printf("}");
			} else {
				printf("{\"median_s\":%.4f,\"min_s\":%.4f,\"max_s\":%.4f,\"runs\":%zu,\"x_native\":%.3f}",
				       res->st.median / 1e9, res->st.min / 1e9, res->st.max / 1e9, res->st.n, ratio(w, r));
			}
		}
		printf("}}");
	}
	printf("\n]}\n");
}

static void write_svg(const struct setup *s, const char *path)
{
	static struct svg_row rows[NR_WORKLOADS];
	struct svg_chart ch = {
		.title = "Real programs natively and under hostk: wall time",
		.axis = "wall time per run, log scale (bar: median; whisker: min .. max)",
		.whisker = "min .. max", .nrows = NR_WORKLOADS, .rows = rows,
	};
	char sub[256];
	struct utsname u;
	int rc;

	uname(&u);
	snprintf(sub, sizeof sub, "median of %d run(s), each pinned to one CPU%s; Linux %s", s->runs,
		 s->smoke ? " (smoke: tiny inputs)" : "", u.release);
	ch.subtitle = sub;
	for (int r = 0; r < NR_RUNNERS; r++)
		if (shown(s, r)) {
			ch.series_key[ch.nseries] = runner_key(r);
			ch.series_label[ch.nseries++] = runner_label(r);
		}
	for (int w = 0; w < NR_WORKLOADS; w++) {
		rows[w].key = workloads[w].key;
		rows[w].label = workloads[w].label;
		for (int r = 0, i = 0; r < NR_RUNNERS; r++) {
			const struct result *res = &results[w][r];

			if (shown(s, r))
				rows[w].bar[i++] = (struct svg_bar){ !res->why, res->st.min, res->st.median, res->st.max,
								     r == R_NATIVE ? 0 : ratio(w, r), res->why };
		}
	}
	if ((rc = svg_write(path, &ch)) < 0)
		die("bench workloads: %s: %s", path, strerror(-rc));
}

int bench_workloads(int argc, char **argv, const char *self, const char *loop)
{
	struct setup s = { .self = self, .loop = loop, .runs = 5 };
	int cpus[2];
	const char *svg = NULL;
	bool json = false;
	long runs = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--smoke")) {
			s.smoke = true;
		} else if (!strcmp(argv[i], "--peers")) {
			s.peers_on = true;
		} else if (!strcmp(argv[i], "--svg") && i + 1 < argc) {
			svg = argv[++i];
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			runs = bench_number("bench workloads", "-n", argv[++i], 1, 100);
		} else {
			die_status(EXIT_USAGE, "bench workloads: unknown option '%s'\nUsage: hostk bench workloads "
				   "[--json] [--svg FILE] [--smoke] [--peers] [-n RUNS]", argv[i]);
		}
	}
	if (s.smoke)
		s.runs = 1;
	if (runs)
		s.runs = (int)runs;
	idlest_cpus(cpus);
	s.cpu = cpus[0];
	peers_find(s.peers);
	prepare(s.smoke);

	for (int w = 0; w < NR_WORKLOADS; w++)
		run_one(&s, w, R_NATIVE, false);
	for (int i = 0; i < s.runs; i++)
		for (int w = 0; w < NR_WORKLOADS; w++)
			for (int r = 0; r < NR_RUNNERS; r++)
				if (shown(&s, r) && !results[w][r].why)
					run_one(&s, w, r, true);
	for (int w = 0; w < NR_WORKLOADS; w++)
		for (int r = 0; r < NR_RUNNERS; r++)
			results[w][r].st = stat_of(&results[w][r].s);
	remove_scratch();

	if (json)
		print_json(&s);
	else
		print_table(&s);
	if (svg)
		write_svg(&s, svg);
	return 0;
}
