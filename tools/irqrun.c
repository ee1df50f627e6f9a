/* `hostk bench irq` from outside: real `hostk run`s, and the bench's own
 * floor programs, started with their output on a pipe and waited for within
 * a bound (no signal: in this process SIGALRM is the timer interrupt's).
 *
 *   idle  `hostk run --stats -- hk-loop sleep MS`: hostk's CPU time (its
 *         threads' schedstat) over the middle of the sleep, and the timer
 *         interrupts it took (from --stats);
 *   wake  `hostk run --device test=test -- hk-loop devwake N`: the test
 *         device's whole path as a guest lives it, from the guest's request
 *         to raise to its sleeping thread running again, the bottom half
 *         having woken it (hk-loop.c says how it makes sure the thread is
 *         asleep first).  In-process the bench sees the top and bottom
 *         halves but cannot see this last stage: the wake-up is a ptrace
 *         stop of a real guest and hostk's resume of it.
 * Called from irqbench.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "irqbench.h"
#include "../hostk/util.h"

void irqb_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hostk bench irq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Starts argv with its stdout on a pipe; *fd reads it. */
static pid_t spawn(char *const argv[], int *fd)
{
	int fds[2];
	pid_t pid;

	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		irqb_fail("cannot start a run: %s", strerror(errno));
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(fds[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	*fd = fds[0];
	return pid;
}

/* Reads the run's output into buf (what does not fit is read and dropped)
 * and reaps it; a run that fails, or is not done within timeout_s, ends the
 * bench. */
static void finish(pid_t pid, int fd, char *buf, size_t size, struct rusage *ru, unsigned timeout_s,
		   const char *what)
{
	uint64_t end = now_ns() + timeout_s * NSEC_PER_SEC, now;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char spill[512];
	size_t got = 0;
	ssize_t k;
	int status;

	for (;;) {
		if ((now = now_ns()) >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			irqb_fail("'%s' did not finish within %u s: killed", what, timeout_s);
		}
		if (poll(&p, 1, (int)((end - now) / 1000000 + 1)) <= 0)
			continue;
		if (got + 1 < size)
			k = read(fd, buf + got, size - 1 - got);
		else
			k = read(fd, spill, sizeof spill);
		if (k == 0 || (k < 0 && errno != EINTR))
			break;
		if (k > 0 && got + 1 < size)
			got += (size_t)k;
	}
	buf[got] = '\0';
	close(fd);
	while (wait4(pid, &status, 0, ru) < 0)
		if (errno != EINTR)
			irqb_fail("wait4: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		irqb_fail("'%s' failed", what);
}

double irqb_run_number(char *const argv[], unsigned timeout_s, const char *what)
{
	char buf[256];
	struct rusage ru;
	int fd;
	pid_t pid = spawn(argv, &fd);

	finish(pid, fd, buf, sizeof buf, &ru, timeout_s, what);
	return strtod(buf, NULL);
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = ns_to_ts(t);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* CPU time of all of pid's threads: schedstat (ns), else stat (clock ticks). */
static int64_t proc_cpu_ns(pid_t pid, bool *precise)
{
	char path[96], buf[1024], *p;
	unsigned long long ns, ut, st;
	int64_t sum = 0;
	bool any = false;
	struct dirent *e;
	DIR *d;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/task", pid);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", pid, e->d_name);
			if ((fp = fopen(path, "re"))) {
				if (fscanf(fp, "%llu", &ns) == 1) {
					sum += (int64_t)ns;
					any = true;
				}
				fclose(fp);
			}
		}
		closedir(d);
	}
	if ((*precise = any))
		return sum;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (!(fp = fopen(path, "re")))
		return -1;
	buf[fread(buf, 1, sizeof buf - 1, fp)] = '\0';
	fclose(fp);
	if (!(p = strrchr(buf, ')')) || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
					  &st) != 2)
		return -1;
	return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

void measure_idle(const char *self, const char *loop, int ms, struct idle *out)
{
	char stats[] = "/tmp/hostk-bench-idle.XXXXXX", msbuf[16], statsopt[64], buf[4096], *p;
	char *argv[] = { (char *)self, "run", statsopt, "--json", "--", (char *)loop, "sleep", msbuf, NULL };
	uint64_t settle = (uint64_t)(ms > 1000 ? ms / 10 : 100) * 1000000u, t0, ta, tb, t1;
	struct rusage ru;
	int64_t ca, cb;
	ssize_t got;
	int fd;
	pid_t pid;

	memset(out, 0, sizeof *out);
	out->interrupts = out->ticks = -1;
	if ((fd = mkstemp(stats)) < 0)
		irqb_fail("cannot make a temporary file: %s", strerror(errno));
	close(fd);
	snprintf(msbuf, sizeof msbuf, "%d", ms);
	snprintf(statsopt, sizeof statsopt, "--stats=%s", stats);
	pid = spawn(argv, &fd);
	t0 = now_ns();
	sleep_until(t0 + settle);
	ta = now_ns();
	ca = proc_cpu_ns(pid, &out->schedstat);
	sleep_until(t0 + (uint64_t)ms * 1000000u - settle);
	tb = now_ns();
	cb = proc_cpu_ns(pid, &out->schedstat);
	/* A minute past the sleep: hostk's start and exit take milliseconds. */
	finish(pid, fd, buf, sizeof buf, &ru, (unsigned)ms / 1000 + 60, "hostk run -- hk-loop sleep");
	out->slept_s = strtod(buf, NULL) / 1e9;
	t1 = now_ns();
	if (ca < 0 || cb < 0) {
		unlink(stats);
		irqb_fail("%s", "cannot read hostk's CPU time in /proc");
	}
	out->seconds = ms / 1e3;
	out->window_s = (double)(tb - ta) / 1e9;
	out->window_cpu_s = (double)(cb - ca) / 1e9;
	out->whole_s = (double)(t1 - t0) / 1e9;
	out->whole_cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	/* The timer in hostk's --stats: "timer":{"hz":H,"interrupts":N,"ticks":M,... */
	if ((fd = open(stats, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, buf, sizeof buf - 1);
		buf[got > 0 ? got : 0] = '\0';
		close(fd);
		if ((p = strstr(buf, "\"timer\":{")))
			sscanf(p, "\"timer\":{\"hz\":%*d,\"interrupts\":%ld,\"ticks\":%ld", &out->interrupts, &out->ticks);
	}
	unlink(stats);
}

void measure_wake(const char *self, const char *loop, int n, struct hist *out, char *cmd, size_t size)
{
	char nbuf[16], *argv[] = { (char *)self, "run", "--device", "test=test", "--", (char *)loop, "devwake", nbuf,
				   NULL };
	size_t cap = (size_t)n * 24 + 256, got = 0;
	char *buf = malloc(cap), *p, *end;
	uint64_t *v = calloc((size_t)n, sizeof *v);
	struct rusage ru;
	pid_t pid;
	int fd;

	if (!buf || !v)
		die_oom();
	snprintf(nbuf, sizeof nbuf, "%d", n);
	snprintf(cmd, size, "hostk run --device test=test -- hk-loop devwake %d", n);
	/* 500 us a raise, and ten times that for a slow machine, and a minute. */
	pid = spawn(argv, &fd);
	finish(pid, fd, buf, cap, &ru, (unsigned)(n / 200) + 60, cmd);
	for (p = buf; got < (size_t)n; p = end) {
		double x = strtod(p, &end);

		if (end == p)
			break;
		v[got++] = x > 0 ? (uint64_t)x : 0;
	}
	if (got != (size_t)n)
		irqb_fail("'%s' printed %zu figures, not %d", cmd, got, n);
	hist_fill(out, v, got);
	free(v);
	free(buf);
}
