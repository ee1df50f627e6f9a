/* confine.c - hostile-guest checks: the guest must not signal, trace, read or pidfd its supervisor.
 * RUN ONLY UNDER HOSTK: it refuses unless it is virtual pid 1 with a different host pid. */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static pid_t super;        /* host pid of the supervisor (hostk) */
static pid_t host_self;    /* our own host pid, from /proc/self/stat */
static pid_t host_pgrp;    /* our host process group */

/* Reads pid (field 1), ppid (4) and pgrp (5) from /proc/self/stat: /proc shows host pids. */
static int read_stat(pid_t *pid, pid_t *ppid, pid_t *pgrp)
{
	char buf[1024], *p;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return sscanf(buf, "%d", pid) == 1 && p && sscanf(p + 1, " %*c %d %d", ppid, pgrp) == 2;
}

/* Checks that a call failed with one of two errnos (0: any errno), printing a line. */
static int expect_fail(long r, int e1, int e2, const char *what)
{
	int e = errno;

	if (!CHECK(r == -1, "%s succeeded (returned %ld)", what, r))
		return 0;
	if (!CHECK(e1 == 0 || e == e1 || e == e2, "%s failed with %s, want %s%s%s", what, ename(e),
		   ename(e1), e2 ? " or " : "", e2 ? ename(e2) : ""))
		return 0;
	say("%s: fails", what);
	return 1;
}

static void kill_checks(int alone)
{
	siginfo_t si = { .si_signo = 0, .si_code = SI_QUEUE };
	int probe;
	long r;

	probe = expect_fail(kill(super, 0), ESRCH, 0, "kill(super, 0)");
	expect_fail(syscall(SYS_tkill, super, 0), ESRCH, 0, "tkill(super, 0)");
	expect_fail(syscall(SYS_tgkill, super, super, 0), ESRCH, 0, "tgkill(super, super, 0)");
	expect_fail(syscall(SYS_rt_sigqueueinfo, super, 0, &si), ESRCH, EPERM, "rt_sigqueueinfo(super, 0)");
	expect_fail(kill(-host_pgrp, 0), ESRCH, 0, "kill(-host pgrp, 0)");
	/* Only send a real signal once signal 0 showed the pid is not reachable. */
	if (CHECK(probe, "kill(super, SIGKILL): not tried, kill(super, 0) reached it"))
		expect_fail(kill(super, SIGKILL), ESRCH, 0, "kill(super, SIGKILL)");

	signal(SIGUSR1, SIG_IGN);
	if (alone) {
		/* kill(-1) with no other guest: nothing is reachable, so ESRCH as in a pid namespace. */
		if (!expect_fail(kill(-1, 0), ESRCH, 0, "kill(-1, 0)")) {
			fail("kill(-1, SIGUSR1): not tried, kill(-1, 0) reached some process");
			return;
		}
		r = kill(-1, SIGUSR1);
		if (CHECK(r == 0 || errno == ESRCH, "kill(-1, SIGUSR1): %s", ename(errno)))
			say("kill(-1, SIGUSR1): 0 or ESRCH, supervisor unharmed");
	} else {
		/* May reach the parent guest (which ignores SIGUSR1); ESRCH if, as in a pid
		 * namespace, pid 1 is exempt from kill(-1). Either way nothing outside. */
		r = kill(-1, SIGUSR1);
		if (CHECK(r == 0 || errno == ESRCH, "kill(-1, SIGUSR1) from child: %s", ename(errno)))
			say("kill(-1, SIGUSR1): 0 or ESRCH, supervisor unharmed");
	}
}

static void access_checks(void)
{
	char buf[64], path[64];
	struct iovec local = { buf, sizeof(buf) }, remote = { buf, sizeof(buf) };
	long r;

	r = ptrace(PTRACE_ATTACH, super, NULL, NULL);
	if (!expect_fail(r, ESRCH, EPERM, "ptrace(PTRACE_ATTACH, super)") && r == 0)
		ptrace(PTRACE_DETACH, super, NULL, NULL);
	expect_fail(process_vm_readv(super, &local, 1, &remote, 1, 0), ESRCH, EPERM,
		    "process_vm_readv(super)");
	snprintf(path, sizeof(path), "/proc/%d/mem", super);
	if (!expect_fail(r = open(path, O_RDONLY), 0, 0, "open(/proc/super/mem)") && r >= 0)
		close(r);
	snprintf(path, sizeof(path), "/proc/%d/environ", super);
	if (!expect_fail(r = open(path, O_RDONLY), 0, 0, "open(/proc/super/environ)") && r >= 0)
		close(r);
	if (!expect_fail(r = syscall(SYS_pidfd_open, super, 0), ESRCH, 0, "pidfd_open(super)") && r >= 0)
		close(r);
}

int main(int argc, char **argv)
{
	int child_mode = argc > 1 && strcmp(argv[1], "--child") == 0;
	pid_t pid;

	/* Natively this would signal and trace real processes: refuse unless under hostk. */
	if (!read_stat(&host_self, &super, &host_pgrp) || getpid() != 1 || getppid() != 0 ||
	    host_self == 1 || super <= 1) {
		fail("not the first guest of hostk (getpid %d, getppid %d): refusing to run", getpid(),
		     getppid());
		return 1;
	}
	say("identity: getpid() 1, getppid() 0, supervisor found in /proc/self/stat");

	if (!child_mode) {
		kill_checks(1);
		access_checks();
		return finish();
	}

	/* --child: prove kill(-1) is confined first, then let a second guest try. */
	signal(SIGUSR1, SIG_IGN);
	if (!expect_fail(kill(-1, 0), ESRCH, 0, "parent: kill(-1, 0)"))
		return finish();
	if ((pid = child()) == 0) {
		if (CHECK(getppid() == 1 && getpid() > 1, "child: getpid %d getppid %d", getpid(), getppid()))
			say("child identity: getppid() 1");
		CHECK(kill(getppid(), 0) == 0, "child: kill(getppid(), 0): %s", ename(errno));
		/* Our host parent is the first guest: its host pid must not be addressable either. */
		expect_fail(kill(host_self, 0), ESRCH, 0, "child: kill(parent's host pid, 0)");
		kill_checks(0);
		access_checks();
		exit(finish());
	}
	if (reap(pid, 0, "child"))
		say("child: all checks passed");
	return finish();
}
