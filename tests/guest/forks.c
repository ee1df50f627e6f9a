/* forks.c - many children, reaped every way there is: by wait, by the host
 * (SIGCHLD ignored, SA_NOCLDWAIT), by waitid with no siginfo, by a wait4
 * that faults on its status after reaping, as orphans that pid 1 reaps, and
 * children whose forking process dies as they are made.
 * However they go, hostk must forget them: the kernel region's count of
 * processes and tasks is back to one at the end.  `forks CHECK [N]` (N
 * children, default 2000). */
#include "guest.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hostk/libhk.h>

static long n = 2000;

static pid_t quick_child(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		fail("fork: %s", ename(errno));
		exit(1);
	}
	return pid;
}

/* Children the host reaps by itself, as it would natively: wait only until
 * it says there are none left. */
static void drain(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static void m_reap(void)
{
	for (long i = 0; i < n; i++)
		waitpid(quick_child(), NULL, 0);
}

static void m_sigign(void)
{
	signal(SIGCHLD, SIG_IGN);
	for (long i = 0; i < n; i++)
		quick_child();
	drain();
	CHECK(errno == ECHILD, "wait with SIGCHLD ignored: %s, want ECHILD", ename(errno));
	signal(SIGCHLD, SIG_DFL);
}

static void m_nocldwait(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT };

	sigaction(SIGCHLD, &sa, NULL);
	for (long i = 0; i < n; i++)
		quick_child();
	drain();
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);
}

static void m_waitid_null(void)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = quick_child();

		while (syscall(SYS_waitid, P_PID, pid, NULL, WEXITED, NULL) < 0 && errno == EINTR)
			;
	}
}

static void m_wait4_fault(void)
{
	int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (long i = 0; i < n; i++) {
		pid_t pid = quick_child();
		long r;

		/* The host reaps the child, then fails to write the status. */
		while ((r = syscall(SYS_wait4, pid, ro, 0, NULL)) < 0 && errno == EINTR)
			;
		if (!CHECK(r < 0 && errno == EFAULT, "wait4 into read-only memory: %ld %s", r, ename(errno)))
			break;
	}
	munmap(ro, 4096);
	drain();
}

/* Grandchildren whose parent is gone: pid 1 (this program) reaps them. */
static void m_orphans(void)
{
	for (long i = 0; i < n; i += 2) {
		pid_t pid = fork();

		if (pid == 0) {
			quick_child();
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	drain();
}

static void *fork_forever(void *arg)
{
	for (;;)
		quick_child();
	return arg;
}

/* A thread forks in a loop while its process dies under it (by exit, then
 * by SIGKILL from pid 1): children created in that instant must still be
 * seen, reparented to pid 1 and reaped by its wait, never left stopped. */
static void m_parent_dies(void)
{
	for (long i = 0; i < n / 200 + 1; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			pthread_t th;

			pthread_create(&th, NULL, fork_forever, NULL);
			if (i % 2)
				for (;;)
					sched_yield();	/* killed below */
			usleep(2000);
			_exit(0);
		}
		if (i % 2) {
			usleep(2000);
			kill(pid, SIGKILL);
		}
		waitpid(pid, NULL, 0);
	}
	drain();
}

static void run(const char *name, void (*fn)(void))
{
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_kregion k;

	fn();
	if (!CHECK(kr && hk_kregion_read(kr, &k) == 0, "no kernel region"))
		return;
	if (CHECK(k.nprocs == 1 && k.ntasks == 1, "%s: hostk still keeps %u processes and %u tasks", name,
		  k.nprocs, k.ntasks))
		say("%s: %ld children gone, hostk keeps 1 process and 1 task", name, n);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } modes[] = {
		{ "reap", m_reap }, { "sigign", m_sigign }, { "nocldwait", m_nocldwait },
		{ "waitid_null", m_waitid_null }, { "wait4_fault", m_wait4_fault }, { "orphans", m_orphans },
		{ "parent_dies", m_parent_dies },
	};

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s MODE [N]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		n = atol(argv[2]);
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(argv[1], modes[i].name) || !strcmp(argv[1], "all"))
			run(modes[i].name, modes[i].fn);
	return finish();
}
