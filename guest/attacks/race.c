/* race.c - races against hostk's checks: a sibling thread changing
 * clone3's arguments between hostk's look and the host's (run it with
 * --cpus 2, so that the two really overlap), and a descriptor swapped under
 * opens of other processes' /proc entries.  Counts go to stderr (the
 * security suite compares the children with hostk's trace). */
#include "attack.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sys/ptrace.h>
#include <sys/stat.h>

#define ROUNDS 400

static volatile int stop;

static struct clone_args shared_ca = { .exit_signal = SIGCHLD };

/* Mostly harmless, with spells of the bad flags short enough to land
 * between two reads of the arguments. */
static void *flip_flags(void *arg)
{
	(void)arg;
	while (!stop) {
		__atomic_store_n(&shared_ca.flags, CLONE_UNTRACED | CLONE_NEWUSER, __ATOMIC_RELAXED);
		for (int k = 0; k < 64; k++)
			__builtin_ia32_pause();
		__atomic_store_n(&shared_ca.flags, 0, __ATOMIC_RELAXED);
		for (int k = 0; k < 1024; k++)
			__builtin_ia32_pause();
	}
	return NULL;
}

static ino_t user_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/user", &st) == 0 ? st.st_ino : 0;
}

/* The child: 0 if it is traced (PTRACE_TRACEME fails) and in the user
 * namespace its parent is in. */
static int child_state(ino_t ns)
{
	return (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0 ? 1 : 0) | (user_ns() != ns ? 2 : 0);
}

static void t_clone3(int argc, char **argv)
{
	ino_t ns = user_ns();
	int made = 0, refused = 0, bad = 0, other = 0;
	pthread_t th;

	(void)argc, (void)argv;
	pthread_create(&th, NULL, flip_flags, NULL);
	fflush(NULL);
	for (int i = 0; i < ROUNDS; i++) {
		long c = syscall(SYS_clone3, &shared_ca, sizeof shared_ca);
		int st;

		if (c == 0)
			_exit(child_state(ns));
		if (c < 0) {
			if (errno == EPERM)
				refused++;
			else
				other++;
			continue;
		}
		made++;
		if (waitpid((pid_t)c, &st, __WALL) != c || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	stop = 1;
	pthread_join(th, NULL);
	note("%s: children %d, refused %d, other errors %d, untraced or in another user namespace %d", what, made,
	     refused, other, bad);
	if (bad || other)
		report(what, "%d of %d children UNTRACED or in a NEW user namespace, %d other errors", bad, made, other);
	else if (!made || !refused)
		report(what, "the race was not run (%d children, %d refused)", made, refused);
	else
		report(what, "%d calls while a thread flipped CLONE_UNTRACED and CLONE_NEWUSER in and out: each refused "
		       "(EPERM) or made a child traced and in the guests' user namespace", ROUNDS);
}

/* A directory descriptor that a sibling swaps between the guests' /proc
 * and / while opens relative to it go for the host pids given (hostk's,
 * the runner's): no such entry is there to reach, whichever it is. */
static int swap_fd, fd_proc, fd_root;

static void *swapper(void *arg)
{
	(void)arg;
	while (!stop) {
		dup2(fd_proc, swap_fd);
		dup2(fd_root, swap_fd);
	}
	return NULL;
}

static void t_dup2(int argc, char **argv)
{
	static const char *const how[] = { "%s/mem", "%s/environ", "proc/%s/mem", "proc/%s/root", "%s/fd" };
	int tries = 0, opened = 0;
	pthread_t th;

	fd_proc = open("/proc", O_RDONLY | O_DIRECTORY);
	fd_root = open("/", O_RDONLY | O_DIRECTORY);
	swap_fd = 100;
	dup2(fd_proc, swap_fd);
	pthread_create(&th, NULL, swapper, NULL);
	for (int round = 0; round < 200; round++)
		for (int a = 0; a < argc; a++)
			for (size_t h = 0; h < NELEM(how); h++) {
				char path[64];
				int fd;

				snprintf(path, sizeof path, how[h], argv[a]);
				tries++;
				if ((fd = openat(swap_fd, path, O_RDONLY)) >= 0) {
					note("opened %s", path);
					opened++;
					close(fd);
				}
			}
	stop = 1;
	pthread_join(th, NULL);
	report(what, "%d opens of host processes' /proc entries through a descriptor swapped under them: %s",
	       tries, opened ? "SOME OPENED" : "none opened");
}

static const struct attack cases[] = {
	{ "clone3", t_clone3, false },
	{ "dup2-proc", t_dup2, false },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "race", cases, NELEM(cases));
}
