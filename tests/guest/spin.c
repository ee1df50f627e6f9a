/* spin.c - CPU-bound guests for the scheduler tests (tests/sched/run-sched): loops that count
 * iterations against CLOCK_MONOTONIC.  `spin forever [MAX]`, `spin pair SECS`, `spin sleepcheck SECS`. */
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include <hostk/libhk.h>

#define CHUNK 4096u		/* iterations between two looks at the clock */
#define SOLO_S 0.5		/* seconds of the solo measurement in `pair` */
#define START_DELAY_NS 100000000ull	/* `pair`: both children count from the same moment */
#define FOREVER_MAX_S 120.0	/* `forever`: a safety net should nobody kill it */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void work(void)
{
	for (unsigned i = 0; i < CHUNK; i++)
		__asm__ volatile("" ::: "memory");
}

/* Spins until t0, then counts the iterations of the chunks that finish
 * before t1, publishing the running count in *progress if given. */
static uint64_t spin_window(uint64_t t0, uint64_t t1, volatile uint64_t *progress)
{
	uint64_t n = 0;

	while (now_ns() < t0)
		work();
	for (;;) {
		work();
		if (now_ns() >= t1)
			return n;
		n += CHUNK;
		if (progress)
			*progress = n;
	}
}

static double parse_secs(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0) || v > 3600) {
		fprintf(stderr, "spin: bad number of seconds: %s\n", s);
		exit(2);
	}
	return v;
}

/* CPU time of the calling thread, ns. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fail("mmap shared: %s", ename(errno));
		exit(1);
	}
	return p;
}

/* The scheduler counters from the kernel region; 0 natively. */
static int sched_counters(uint64_t *switches, uint64_t *preemptions)
{
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_kregion snap;

	if (!kr)
		return 0;
	if (!CHECK(hk_kregion_read(kr, &snap) == 0, "hk_kregion_read: %s", ename(errno)))
		return 0;
	*switches = snap.context_switches;
	*preemptions = snap.preemptions;
	return 1;
}

/* Two children spin over the same window of secs; for each: its share of
 * their combined iterations, its speed against one spinner alone (measured
 * first), and its CPU time per second of the window.  Under hostk, also the
 * preemptions and context switches the kernel region counted meanwhile. */
static void pair(double secs)
{
	volatile uint64_t *counts = shared(4 * sizeof *counts), *cpu = counts + 2;
	uint64_t solo, t0, t1, sw0 = 0, pre0 = 0, sw1 = 0, pre1 = 0;
	double solo_rate, total;
	pid_t pids[2];
	int hk;

	t0 = now_ns();
	solo = spin_window(t0, t0 + (uint64_t)(SOLO_S * 1e9), NULL);
	solo_rate = (double)solo / SOLO_S;
	say("solo: %.0f iterations/s", solo_rate);

	hk = sched_counters(&sw0, &pre0);
	t0 = now_ns() + START_DELAY_NS;
	t1 = t0 + (uint64_t)(secs * 1e9);
	for (int i = 0; i < 2; i++) {
		pids[i] = child();
		if (pids[i] == 0) {
			uint64_t c0;

			while (now_ns() < t0)
				work();
			c0 = cpu_ns();
			counts[i] = spin_window(t0, t1, NULL);
			cpu[i] = cpu_ns() - c0;
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++)
		reap(pids[i], 0, "spinner");
	total = (double)counts[0] + (double)counts[1];
	if (!CHECK(counts[0] && counts[1], "a spinner made no progress: %llu and %llu iterations",
		   (unsigned long long)counts[0], (unsigned long long)counts[1]))
		return;
	for (int i = 0; i < 2; i++)
		say("spinner %d: share %.3f speed %.3f cpu %.3f", i + 1, (double)counts[i] / total,
		    (double)counts[i] / secs / solo_rate, (double)cpu[i] / secs / 1e9);
	if (hk && sched_counters(&sw1, &pre1))
		say("preemptions %llu context_switches %llu", (unsigned long long)(pre1 - pre0),
		    (unsigned long long)(sw1 - sw0));
	else
		say("preemptions n/a (not under hostk)");
}

/* A spinner runs while we sleep: the sleep must take its time, not more,
 * and the spinner must have run meanwhile. */
static void sleepcheck(double secs)
{
	volatile uint64_t *progress = shared(sizeof *progress);
	struct timespec req = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
	uint64_t p0, p1, t0, t1;
	int fds[2], rc;
	pid_t pid;
	char c;

	if (pipe(fds) < 0) {
		fail("pipe: %s", ename(errno));
		return;
	}
	pid = child();
	if (pid == 0) {
		close(fds[0]);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		spin_window(0, UINT64_MAX, progress);
		_exit(0);
	}
	close(fds[1]);
	/* The spinner is in its loop once its byte is here. */
	while ((rc = (int)read(fds[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (!CHECK(rc == 1, "no word from the spinner: read returned %d (%s)", rc, ename(errno))) {
		kill(pid, SIGKILL);
		reap(pid, SIGKILL, "spinner");
		return;
	}
	p0 = *progress;
	t0 = now_ns();
	rc = nanosleep(&req, NULL);
	t1 = now_ns();
	p1 = *progress;
	CHECK(rc == 0, "nanosleep: %s", ename(errno));
	kill(pid, SIGKILL);
	reap(pid, SIGKILL, "spinner");
	say("slept %llu ms", (unsigned long long)((t1 - t0 + 500000) / 1000000));
	say("spinner ran during the sleep: %s", p1 > p0 ? "yes" : "no");
}

static void usage(void)
{
	fprintf(stderr, "usage: spin forever [MAXSECS] | pair SECS | sleepcheck SECS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t t0;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "forever") == 0 && argc <= 3) {
		t0 = now_ns();
		spin_window(t0, t0 + (uint64_t)((argc == 3 ? parse_secs(argv[2]) : FOREVER_MAX_S) * 1e9), NULL);
	} else if (strcmp(argv[1], "pair") == 0 && argc == 3) {
		pair(parse_secs(argv[2]));
	} else if (strcmp(argv[1], "sleepcheck") == 0 && argc == 3) {
		sleepcheck(parse_secs(argv[2]));
	} else {
		usage();
	}
	return finish();
}
