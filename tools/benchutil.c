/* What the benches share: finding their programs, reading their options,
 * starting a pinned child and collecting what it printed, PATH lookup, order
 * statistics over the figures of many runs, and JSON strings.  Called from
 * bench.c, workloads.c, irqbench.c and nicbench.c. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../hostk/util.h"

void bench_program(const char *self, const char *env, const char *rel, char *out, size_t size)
{
	const char *set = getenv(env), *slash = strrchr(self, '/');

	if (set && *set)
		snprintf(out, size, "%s", set);
	else
		snprintf(out, size, "%.*s/%s", slash ? (int)(slash - self) : 1, slash ? self : ".", rel);
	if (access(out, X_OK) < 0)
		die("bench: cannot run %s (build it with meson compile, or set %s)", out, env);
}

long bench_number(const char *cmd, const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || v < lo || v > hi)
		die_status(EXIT_USAGE, "%s: %s wants a number from %ld to %ld, not '%s'", cmd, opt, lo, hi, arg);
	return v;
}

bool find_in_path(const char *name, char *out, size_t size)
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

int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

/* Idle ticks of each CPU so far (idle + iowait), from /proc/stat. */
static int idle_ticks(unsigned long long *idle, int n)
{
	char line[256];
	FILE *fp = fopen("/proc/stat", "re");
	int got = 0;

	while (fp && fgets(line, sizeof line, fp)) {
		unsigned long long v[5];
		int cpu;

		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4]) == 6 &&
		    cpu >= 0 && cpu < n) {
			idle[cpu] = v[3] + v[4];
			got++;
		}
	}
	if (fp)
		fclose(fp);
	return got;
}

void idlest_cpus(int cpu[2])
{
	static unsigned long long before[CPU_SETSIZE], after[CPU_SETSIZE];
	long long best[2] = { -1, -1 };
	cpu_set_t set;

	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof set, &set) < 0)
		return;
	if (idle_ticks(before, CPU_SETSIZE) && usleep(200000) == 0 && idle_ticks(after, CPU_SETSIZE)) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			after[c] -= before[c];
	} else {
		memset(after, 0, sizeof after);	/* no figures: the first allowed CPUs */
	}
	for (int c = 0; c < CPU_SETSIZE; c++) {
		long long idle = (long long)after[c];

		if (!CPU_ISSET(c, &set))
			continue;
		if (idle > best[0]) {
			best[1] = best[0];
			cpu[1] = cpu[0];
			best[0] = idle;
			cpu[0] = c;
		} else if (idle > best[1]) {
			best[1] = idle;
			cpu[1] = c;
		}
	}
}

int own_seccomp_filters(void)
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

/* In the child: its own process group (a run that overstays is killed
 * whole), its stdio, its CPU, then its work.  Never returns. */
static _Noreturn void child(const struct spawn *sp, int outfd)
{
	int in = open(sp->in ? sp->in : "/dev/null", O_RDONLY | O_CLOEXEC);
	int out = outfd >= 0 ? outfd : open("/dev/null", O_WRONLY | O_CLOEXEC);

	setpgid(0, 0);
	if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0) {
		fprintf(stderr, "hostk: bench: %s: %s\n", sp->in ? sp->in : "/dev/null", strerror(errno));
		_exit(127);
	}
	if (pin_cpu(sp->cpu) < 0) {
		fprintf(stderr, "hostk: bench: cannot pin to CPU %d: %s\n", sp->cpu, strerror(errno));
		_exit(127);
	}
	if (sp->fn) {
		fflush(stdout);
		int rc = sp->fn(sp->argv, sp->arg);
		fflush(NULL);
		_exit(rc);
	}
	execv(sp->argv[0], sp->argv);
	fprintf(stderr, "hostk: bench: cannot execute %s: %s\n", sp->argv[0], strerror(errno));
	_exit(127);
}

static volatile pid_t overstayer;

static void on_timeout(int sig)
{
	(void)sig;
	if (overstayer > 0)
		kill(-overstayer, SIGKILL);
}

int spawn_wait(const struct spawn *sp, char **out)
{
	struct sigaction sa = { .sa_handler = on_timeout };
	int fds[2] = { -1, -1 }, status;
	size_t got = 0, cap = 4096;
	char *buf = NULL;
	pid_t pid;
	ssize_t k;

	fflush(NULL);
	if (out && (pipe2(fds, O_CLOEXEC) < 0 || !(buf = malloc(cap))))
		return -1;
	if ((pid = fork()) < 0) {
		free(buf);
		return -1;
	}
	if (pid == 0)
		child(sp, fds[1]);
	setpgid(pid, pid);	/* as the child does: whichever comes first */
	if (sp->timeout_s) {
		overstayer = pid;
		sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: the read below ends */
		alarm(sp->timeout_s);
	}
	if (out) {
		close(fds[1]);
		for (;;) {
			if (got + 1 >= cap) {
				char *more = realloc(buf, cap *= 2);

				if (!more)
					break;
				buf = more;
			}
			if ((k = read(fds[0], buf + got, cap - got - 1)) == 0)
				break;
			if (k < 0 && errno != EINTR)
				break;
			if (k > 0)
				got += (size_t)k;
		}
		buf[got] = '\0';
		close(fds[0]);
		*out = buf;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	alarm(0);
	overstayer = 0;
	return status;
}

const char *status_text(int status, char *buf, size_t size)
{
	if (status < 0)
		snprintf(buf, size, "could not start: %s", strerror(errno));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	return buf;
}

void samples_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		double *v = realloc(s->v, cap * sizeof *v);

		if (!v)
			die("out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentiles: p99 is a figure that was measured, never an
 * interpolation between two. */
struct stat3 stat_of(struct samples *s)
{
	struct stat3 r = { .n = s->n };
	size_t n = s->n;

	if (!n)
		return r;
	qsort(s->v, n, sizeof *s->v, cmp_double);
	r.min = s->v[0];
	r.max = s->v[n - 1];
	r.median = n % 2 ? s->v[n / 2] : (s->v[n / 2 - 1] + s->v[n / 2]) / 2;
	r.p99 = s->v[(99 * n + 99) / 100 - 1];
	return r;
}

long parse_figures(const char *out, struct samples *into)
{
	long got = 0;

	for (const char *p = out; *p;) {
		size_t len = strcspn(p, "\n");
		char line[64], *end;
		double v;

		if (len < sizeof line) {
			memcpy(line, p, len);
			line[len] = '\0';
			line[strcspn(line, "\r")] = '\0';
			v = strtod(line, &end);
			if (end != line && !*end && isfinite(v) && v >= 0) {
				samples_add(into, v);
				got++;
			}
		}
		p += len + (p[len] == '\n');
	}
	return got;
}

void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", *s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}
