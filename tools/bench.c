/* `hostk bench`: times the guest tools/hk-loop natively, under hostk (an
 * emulated syscall, a fast-path one and read) and under strace, and prints the
 * ratios the project has targets for.  The seccomp floor, getuid natively
 * under a one-instruction allow-all filter, splits the fast path's overhead
 * into the host kernel's seccomp entry and hostk's own share.  Called from
 * main.c; `hostk bench irq` is tools/irqbench.c.  CI runs `hostk bench
 * --smoke` and `hostk bench irq --smoke`, which never fail on targets. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <sys/syscall.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../hostk/systab.h"

#define MAX_REPS 5


enum who { NATIVE, FLOOR, HOSTK, STRACE, STRACE_PIN };
enum nsel { N_EMU, N_STRACE, N_FAST };

/* The runs, in the order they are made and printed; base is the native run
 * of the same operation (the ratio column), nr the syscall the op makes (a
 * hostk run's label says how hostk takes it: fast path, emulated, ...). */
enum { R_NAT_PPID, R_HK_PPID, R_ST_PPID, R_STP_PPID, R_NAT_UID, R_FLOOR_UID, R_HK_UID, R_NAT_READ, R_HK_READ,
       NRUNS };
static const struct run {
	const char *label, *key, *op;
	enum who who;
	enum nsel nsel;
	int base;
	long nr;
} runs[NRUNS] = {
	[R_NAT_PPID] = { "native getppid", "native_getppid", "getppid", NATIVE, N_EMU, R_NAT_PPID, SYS_getppid },
	[R_HK_PPID] = { "hostk getppid", "hostk_getppid", "getppid", HOSTK, N_EMU, R_NAT_PPID, SYS_getppid },
	[R_ST_PPID] = { "strace getppid", "strace_getppid", "getppid", STRACE, N_STRACE, R_NAT_PPID, SYS_getppid },
	[R_STP_PPID] = { "strace getppid (pinned)", "strace_pinned_getppid", "getppid", STRACE_PIN, N_STRACE,
			 R_NAT_PPID, SYS_getppid },
	[R_NAT_UID] = { "native getuid", "native_getuid", "getuid", NATIVE, N_FAST, R_NAT_UID, SYS_getuid },
	[R_FLOOR_UID] = { "native getuid under an allow-all filter", "floor_getuid", "getuid", FLOOR, N_FAST,
			  R_NAT_UID, SYS_getuid },
	[R_HK_UID] = { "hostk getuid", "hostk_getuid", "getuid", HOSTK, N_FAST, R_NAT_UID, SYS_getuid },
	[R_NAT_READ] = { "native read0", "native_read0", "read0", NATIVE, N_FAST, R_NAT_READ, SYS_read },
	[R_HK_READ] = { "hostk read0", "hostk_read0", "read0", HOSTK, N_FAST, R_NAT_READ, SYS_read },
};

/* The ratios the project watches; max <= 0 means no target.  A fast-path
 * target (fast set) applies only while num's syscall is on the fast path. */
static const struct ratio {
	const char *label, *key;
	int num, den;
	double max;
	bool fast;
	const char *note;
} ratios[] = {
	{ "emulated trap / strace", "emulated_vs_strace", R_HK_PPID, R_ST_PPID, 0.5, false, NULL },
	{ "emulated trap / strace pinned", "emulated_vs_strace_pinned", R_HK_PPID, R_STP_PPID, 0, false, NULL },
	{ "fast path / native (getuid)", "fast_vs_native_getuid", R_HK_UID, R_NAT_UID, 1.05, true, NULL },
	{ "fast path / seccomp floor (getuid)", "fast_vs_floor_getuid", R_HK_UID, R_FLOOR_UID, 0, false,
	  "hostk's own share (~1.0 expected)" },
	{ "seccomp floor / native (getuid)", "floor_vs_native_getuid", R_FLOOR_UID, R_NAT_UID, 0, false,
	  "the host kernel's seccomp entry" },
	{ "fast path / native (read0)", "fast_vs_native_read0", R_HK_READ, R_NAT_READ, 1.05, true, NULL },
	{ "emulated / native (getppid)", "emulated_vs_native", R_HK_PPID, R_NAT_PPID, 0, false, NULL },
};
#define NRATIOS ((int)(sizeof ratios / sizeof ratios[0]))

struct setup {
	char self[PATH_MAX], loop[PATH_MAX], strace[PATH_MAX], taskset[PATH_MAX];
	bool have_strace, have_taskset;
	long n[3];		/* indexed by enum nsel */
	int reps, cpu;
};

static _Noreturn void fail(const char *fmt, const char *arg)
{
	fputs("hostk bench: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* Finds NAME in PATH like execvp would; false if it isn't there. */
static bool find_in_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH"), *colon;

	for (const char *p = path ? path : "/usr/bin:/bin";; p = colon + 1) {
		colon = strchrnul(p, ':');
		if ((size_t)snprintf(out, size, "%.*s/%s", (int)(colon - p), colon > p ? p : ".", name) < size &&
		    access(out, X_OK) == 0)
			return true;
		if (!*colon)
			return false;
	}
}

static void find_programs(struct setup *s)
{
	const char *env = getenv("HOSTK_LOOP");
	ssize_t len = readlink("/proc/self/exe", s->self, sizeof s->self - 1);
	char *slash;

	if (len < 0)
		fail("cannot read /proc/self/exe: %s", strerror(errno));
	s->self[len] = '\0';
	if (env && *env) {
		snprintf(s->loop, sizeof s->loop, "%s", env);
	} else {
		slash = strrchr(s->self, '/');
		snprintf(s->loop, sizeof s->loop, "%.*s/tools/hk-loop", (int)(slash - s->self), s->self);
	}
	if (access(s->loop, X_OK) < 0)
		fail("cannot run the measured guest %s (build it with meson compile, or set HOSTK_LOOP)", s->loop);
	s->have_strace = find_in_path("strace", s->strace, sizeof s->strace);
	s->have_taskset = find_in_path("taskset", s->taskset, sizeof s->taskset);
}

static bool skipped(const struct setup *s, int r)
{
	return (runs[r].who == STRACE && !s->have_strace) ||
	       (runs[r].who == STRACE_PIN && !(s->have_strace && s->have_taskset));
}

/* A fast-path op whose syscall now traps (read, since the scheduler) gets
 * the emulated N, natively too: N_FAST traps would take minutes. */
static long iterations(const struct setup *s, int r)
{
	if (runs[r].nsel == N_FAST && sys_disp(runs[r].nr) != D_FAST)
		return s->n[N_EMU];
	return s->n[runs[r].nsel];
}

/* Runs one measurement and returns hk-loop's ns per iteration; any failure ends the bench. */
static double measure(const struct setup *s, int r)
{
	const struct run *run = &runs[r];
	char nbuf[32], cpubuf[16], out[256], buf[256], *argv[16], *end;
	int argc = 0, fds[2], status;
	size_t got = 0;
	ssize_t k;
	double ns;
	pid_t pid;

	snprintf(nbuf, sizeof nbuf, "%ld", iterations(s, r));
	snprintf(cpubuf, sizeof cpubuf, "%d", s->cpu);
	if (run->who == STRACE_PIN) {
		argv[argc++] = (char *)s->taskset;
		argv[argc++] = "-c";
		argv[argc++] = cpubuf;
	}
	if (run->who == STRACE || run->who == STRACE_PIN) {
		argv[argc++] = (char *)s->strace;
		argv[argc++] = "-f";
		argv[argc++] = "-qq";
		argv[argc++] = "-o";
		argv[argc++] = "/dev/null";
	} else if (run->who == HOSTK) {
		argv[argc++] = (char *)s->self;
		argv[argc++] = "run";
		argv[argc++] = "--";
	}
	argv[argc++] = (char *)s->loop;
	if (run->who == FLOOR)
		argv[argc++] = "--floor";
	argv[argc++] = (char *)run->op;
	argv[argc++] = nbuf;
	argv[argc] = NULL;

	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		fail("cannot start a run: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "hostk bench: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while ((k = read(fds[0], buf, sizeof buf)) != 0) {	/* all of it, keeping the start */
		if (k < 0 && errno != EINTR)
			break;
		for (ssize_t i = 0; i < k && got < sizeof out - 1; i++)
			out[got++] = buf[i];
	}
	out[got] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "hostk bench: run '%s' was killed by signal %d\n", run->label, WTERMSIG(status));
		exit(1);
	}
	if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "hostk bench: run '%s' failed with exit status %d\n", run->label,
			WEXITSTATUS(status));
		exit(1);
	}
	ns = strtod(out, &end);
	if (end == out || strspn(end, " \n") != strlen(end) || !isfinite(ns) || ns < 0)
		fail("run '%s' did not print a number of nanoseconds", run->label);
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* How hostk takes run r's syscall, for its label. */
static const char *how(int r)
{
	enum disp d = sys_disp(runs[r].nr);

	return d == D_FAST ? "fast path" : d == D_EMULATE ? "emulated" : d == D_CHECK ? "checked trap" : disp_names[d];
}

static void label(int r, char *buf, size_t size)
{
	if (runs[r].who == HOSTK)
		snprintf(buf, size, "%s (%s)", runs[r].label, how(r));
	else
		snprintf(buf, size, "%s", runs[r].label);
}

/* A fast-path target whose syscall is no longer on the fast path is moot. */
static bool target_applies(const struct ratio *q)
{
	return q->max > 0 && (!q->fast || sys_disp(runs[q->num].nr) == D_FAST);
}

/* Filters the bench itself already runs under (a container's): then even
 * "native" pays the seccomp entry. */
static int own_seccomp_filters(void)
{
	char line[128];
	int n = 0;
	FILE *fp = fopen("/proc/self/status", "re");

	while (fp && fgets(line, sizeof line, fp))
		if (sscanf(line, "Seccomp_filters: %d", &n) == 1)
			break;
	if (fp)
		fclose(fp);
	return n;
}

static void print_table(const struct setup *s, const double *ns)
{
	char name[64];
	int filters = own_seccomp_filters();

	printf("hostk bench: median of %d run(s); N = %ld emulated, %ld strace, %ld fast path; strace pinned "
	       "to CPU %d\n\n", s->reps, s->n[N_EMU], s->n[N_STRACE], s->n[N_FAST], s->cpu);
	printf("%-40s %12s %10s\n", "run", "ns/syscall", "x native");
	for (int r = 0; r < NRUNS; r++) {
		label(r, name, sizeof name);
		if (skipped(s, r))
			printf("%-40s %12s %10s\n", name, "skipped", runs[r].who == STRACE_PIN &&
			       s->have_strace ? "(taskset)" : "(strace)");
		else
			printf("%-40s %12.1f %10.2f\n", name, ns[r], ns[r] / ns[runs[r].base]);
	}
	printf("\n%-40s %8s   %s\n", "ratio", "value", "target");
	for (int i = 0; i < NRATIOS; i++) {
		const struct ratio *q = &ratios[i];

		if (skipped(s, q->den)) {
			printf("%-40s %8s   %s\n", q->label, "-", "skipped");
			continue;
		}
		double v = ns[q->num] / ns[q->den];
		if (target_applies(q))
			printf("%-40s %8.3f   <= %.2f %s\n", q->label, v, q->max, v <= q->max ? "met" : "NOT MET");
		else if (q->max > 0)
			printf("%-40s %8.3f   n/a: %s is not on the fast path (%s)\n", q->label, v,
			       systab[runs[q->num].nr].name, disp_names[sys_disp(runs[q->num].nr)]);
		else
			printf("%-40s %8.3f   -%s%s\n", q->label, v, q->note ? "  " : "", q->note ? q->note : "");
	}
	if (filters)
		printf("\nnote: the bench itself runs under %d seccomp filter(s): 'native' already pays the host's "
		       "seccomp entry\n", filters);
}

static void print_json(const struct setup *s, const double *ns)
{
	printf("{\"reps\":%d,\"cpu\":%d,\"own_seccomp_filters\":%d,\"n\":{\"emulated\":%ld,\"strace\":%ld,"
	       "\"fast\":%ld},\"runs\":{", s->reps, s->cpu, own_seccomp_filters(), s->n[N_EMU], s->n[N_STRACE],
	       s->n[N_FAST]);
	for (int r = 0; r < NRUNS; r++) {
		printf("%s\"%s\":", r ? "," : "", runs[r].key);
		if (skipped(s, r))
			printf("null");
		else if (runs[r].who == HOSTK)
			printf("{\"ns\":%.3f,\"n\":%ld,\"disp\":\"%s\"}", ns[r], iterations(s, r),
			       disp_names[sys_disp(runs[r].nr)]);
		else
			printf("{\"ns\":%.3f,\"n\":%ld}", ns[r], iterations(s, r));
	}
	printf("},\"ratios\":{");
	for (int i = 0; i < NRATIOS; i++) {
		const struct ratio *q = &ratios[i];
		bool skip = skipped(s, q->den);
		double v = skip ? 0 : ns[q->num] / ns[q->den];

		printf("%s\"%s\":{\"value\":", i ? "," : "", q->key);
		if (skip)
			printf("null");
		else
			printf("%.4f", v);
		if (q->max > 0)
			printf(",\"max\":%.2f,\"applies\":%s,\"met\":%s", q->max, target_applies(q) ? "true" : "false",
			       skip || !target_applies(q) ? "null" : v <= q->max ? "true" : "false");
		printf("}");
	}
	printf("}}\n");
}

int cmd_bench(int argc, char **argv)
{
	struct setup s = { .reps = MAX_REPS, .n = { 200000, 0, 0 } };
	double samples[NRUNS][MAX_REPS], ns[NRUNS] = { 0 };
	bool json = false, smoke = false;
	long n = 0;
	char *end;

	for (int i = 1; i < argc; i++) {
		if (i == 1 && !strcmp(argv[i], "irq")) {
			find_programs(&s);
			return bench_irq(argc - 1, argv + 1, s.self, s.loop);
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = strtol(argv[++i], &end, 10);
			if (end == argv[i] || *end || n < 10 || n > 100000000) {
				fprintf(stderr, "hostk bench: -n wants a number from 10 to 100000000, not '%s'\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "hostk bench: unknown option '%s'\nUsage: hostk bench [--json] [--smoke] [-n N]\n"
				"       hostk bench irq [--json] [--smoke]\n", argv[i]);
			return 2;
		}
	}
	if (smoke) {
		s.reps = 1;
		s.n[N_EMU] = 2000;
	}
	if (n)
		s.n[N_EMU] = n;
	s.n[N_STRACE] = s.n[N_EMU] / 10;
	s.n[N_FAST] = smoke && !n ? 20000 : s.n[N_EMU] * 25;
	if ((s.cpu = sched_getcpu()) < 0)
		s.cpu = 0;
	find_programs(&s);

	/* Round-robin over the runs, so slow drifts of the machine hit all alike. */
	for (int rep = 0; rep < s.reps; rep++)
		for (int r = 0; r < NRUNS; r++)
			if (!skipped(&s, r))
				samples[r][rep] = measure(&s, r);
	for (int r = 0; r < NRUNS; r++)
		if (!skipped(&s, r))
			ns[r] = median(samples[r], s.reps);

	if (json)
		print_json(&s, ns);
	else
		print_table(&s, ns);
	return 0;
}
