/* limits.c - wearing hostk down: floods of syscalls it does not know and of
 * refusals it reports (its warnings must stay bounded: the runner counts
 * them), execs left no room for the kernel region or refused by the
 * hundred, and a device asked for more events than it can ever give. */
#include "attack.h"

#include <sys/resource.h>
#include <time.h>

/* Numbers the trap table has no row for (its gaps from 337, the numbers
 * above it), many times over.  (335 and 336, uretprobe and uprobe, pass
 * every seccomp filter by the host's design: abi.c tries them.) */
static void t_unknown(int argc, char **argv)
{
	int n = 0, enosys = 0;

	(void)argc, (void)argv;
	for (int round = 0; round < 20; round++)
		for (long nr = 337; nr < 1400; nr++) {
			long r;

			if (nr >= 424 && nr < 451)
				continue;	/* the real ones of this range */
			r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
			n++;
			enosys += r == -1 && errno == ENOSYS;
		}
	report(what, "%s unknown syscalls, %s ENOSYS", n == enosys ? "all" : "NOT all", n == enosys ? "each" : "not");
}

/* Refusals hostk reports (the fence's), many times over. */
static void t_fence(int argc, char **argv)
{
	int refused = 0;

	(void)argc, (void)argv;
	for (int i = 0; i < 20000; i++)
		refused += munmap(REGION, PAGE) < 0 && errno == EPERM;
	report(what, "20000 munmaps of the region: %d refused (EPERM), %s", refused, region_state());
}

/* An exec with no descriptor free: the gate cannot hand the region in. */
static void exec_no_fd(void *arg)
{
	(void)arg;
	setrlimit(RLIMIT_NOFILE, &(struct rlimit){ 3, 3 });
	exec_stage2();
}

static void t_exec_nofile(int argc, char **argv)
{
	(void)argv;
	if (argc > 0) {
		report(what, "the new image RAN (%s)", hk_kregion() ? "with a region" : "WITHOUT a region");
		_exit(0);
	}
	report(what, "the exec'ing child %s, %s", how(in_child(exec_no_fd, NULL)), region_state());
}

/* Execs that hostk refuses (a program at the region's address, argv[0]),
 * many times over: each is worth a line of hostk's at most a bounded
 * number of times. */
static void run_path(void *arg)
{
	execl(arg, arg, (char *)NULL);
	_exit(126);
}

static void t_exec_flood(int argc, char **argv)
{
	int killed = 0;

	if (argc < 1) {
		report(what, "usage: exec-flood PATH");
		return;
	}
	for (int i = 0; i < 200; i++) {
		int st = in_child(run_path, argv[0]);

		killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	}
	report(what, "200 execs of a program at the region's address: %d killed", killed);
}

/* The test device asked for 2^64-1 events on a line and a storm on the
 * other: hostk must still give the guest its CPU and end when it ends. */
static void t_device(int argc, char **argv)
{
	struct timespec t0, t1;
	long raise, storm;

	(void)argc, (void)argv;
	raise = syscall(0x4b48, 1 /* HK_DEV_RAISE */, 1, -1L) == 0;
	storm = syscall(0x4b48, 2 /* HK_DEV_STORM */, 0, 1) == 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 20; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(what, "raise %s, storm %s; 20 sleeps of 10 ms took %s", raise ? "accepted" : "refused",
	       storm ? "accepted" : "refused",
	       t1.tv_sec - t0.tv_sec < 2 ? "less than 2 s" : "MORE than 2 s");
}

static const struct attack cases[] = {
	{ "unknown", t_unknown, false },
	{ "fence", t_fence, true },
	{ "exec-nofile", t_exec_nofile, true },
	{ "exec-flood", t_exec_flood, false },
	{ "device", t_device, false },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "limits", cases, NELEM(cases));
}
