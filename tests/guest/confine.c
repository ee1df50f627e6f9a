/* confine.c - the boundary from inside: a guest sees only guests, cannot name
 * hostk or any host process, holds no capability over the host, and the side
 * doors the namespaces leave are shut.  Run only under hostk (it looks for
 * the kernel region first); `confine --child` also runs the checks from a
 * second guest and sends pid 1 a signal it has no handler for. */
#include "guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <hostk/libhk.h>

/* Checks that a call failed with one of two errnos, printing a line. */
static int expect_fail(long r, int e1, int e2, const char *what)
{
	int e = errno;

	if (!CHECK(r == -1, "%s succeeded (returned %ld)", what, r))
		return 0;
	if (!CHECK(e == e1 || (e2 && e == e2), "%s failed with %s, want %s%s%s", what, ename(e), ename(e1),
		   e2 ? " or " : "", e2 ? ename(e2) : ""))
		return 0;
	say("%s: fails", what);
	return 1;
}

/* The value of a /proc/self/status field, or -1. */
static long status_field(const char *name)
{
	char line[256];
	long v = -1;
	FILE *fp = fopen("/proc/self/status", "re");
	size_t n = strlen(name);

	while (fp && fgets(line, sizeof line, fp))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (fp)
		fclose(fp);
	return v;
}

/* Every process /proc shows; returns how many, and whether all are in set. */
static int proc_pids(pid_t *max)
{
	struct dirent *e;
	DIR *d = opendir("/proc");
	int n = 0;

	*max = 0;
	while (d && (e = readdir(d))) {
		pid_t p = (pid_t)atoi(e->d_name);

		if (p > 0) {
			n++;
			if (p > *max)
				*max = p;
		}
	}
	if (d)
		closedir(d);
	return n;
}

static void t_view(int nguests)
{
	pid_t max, reached = 0;
	int n = proc_pids(&max);

	if (CHECK(status_field("TracerPid") == 0, "TracerPid %ld", status_field("TracerPid")))
		say("view: TracerPid is 0 (hostk is not in this pid namespace)");
	if (CHECK(n == nguests && max <= nguests + 1, "/proc shows %d processes (highest %d)", n, max))
		say("view: /proc shows only the %d guest(s)", nguests);
	/* No pid but the guests' answers a signal probe. */
	for (pid_t p = 1; p < 65536; p++)
		if (p > nguests + 1 && kill(p, 0) == 0)
			reached = p;
	if (CHECK(!reached, "kill(%d, 0) reached a process", reached))
		say("view: kill(pid, 0) reaches no pid but the guests'");
	expect_fail(syscall(SYS_pidfd_open, 4242, 0), ESRCH, 0, "pidfd_open of a pid outside");
	expect_fail(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM, 0, "ptrace(PTRACE_TRACEME)");
}

/* A cgroup file a root guest would write to escape (v1's release_agent),
 * or to move a process (v2), whichever this host has. */
static const char *cgroup_file(void)
{
	static const char *const files[] = { "/sys/fs/cgroup/memory/release_agent",
					     "/sys/fs/cgroup/unified/cgroup.procs", "/sys/fs/cgroup/cgroup.procs" };

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (access(files[i], F_OK) == 0)
			return files[i];
	return files[2];
}

static void t_host(void)
{
	struct sock_filter ret_allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &ret_allow };
	struct perf_event_attr pa = { .type = PERF_TYPE_SOFTWARE, .size = sizeof pa,
				      .config = PERF_COUNT_SW_CPU_CLOCK };

	expect_fail(mount("none", "/mnt", "tmpfs", 0, NULL), EPERM, 0, "mount");
	expect_fail(syscall(SYS_unshare, CLONE_NEWUSER), EPERM, 0, "unshare(CLONE_NEWUSER)");
	expect_fail(syscall(SYS_setns, 0, 0), EPERM, 0, "setns");
	expect_fail(open("/etc/passwd", O_WRONLY | O_APPEND), EACCES, 0, "open of a host file for writing");
	expect_fail(open(cgroup_file(), O_WRONLY), EROFS, EACCES, "open of a cgroup file for writing");
	expect_fail(syscall(SYS_io_uring_setup, 8, &(char[120]){ 0 }), EPERM, 0, "io_uring_setup");
	expect_fail(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4, 0), EPERM, 0, "keyctl");
	expect_fail(syscall(SYS_open_by_handle_at, AT_FDCWD, &(char[64]){ 8 }, O_RDONLY), EPERM, 0,
		    "open_by_handle_at");
	expect_fail(ioctl(0, TIOCSTI, "x"), EPERM, 0, "ioctl(TIOCSTI)");
	expect_fail(syscall(SYS_perf_event_open, &pa, -1, 0, -1, 0), EACCES, 0, "perf_event_open of a whole CPU");
	expect_fail(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog), EBUSY, 0,
		    "seccomp filter with a listener");
	if (CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs is off"))
		say("host: no_new_privs is set (hostk set it)");
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

int main(int argc, char **argv)
{
	int child_mode = argc > 1 && strcmp(argv[1], "--child") == 0;
	pid_t pid;

	/* Natively this would probe real processes: refuse unless under hostk. */
	if (!hk_kregion() || getpid() != 1 || getppid() != 0) {
		fail("not the first guest of hostk (no kernel region, or getpid %d, getppid %d): refusing",
		     getpid(), getppid());
		return 1;
	}
	say("identity: getpid() 1, getppid() 0, the kernel region is mapped");
	if (!child_mode) {
		t_view(1);
		t_host();
		return finish();
	}
	/* pid 1 catches SIGUSR1 and has no handler for SIGHUP and SIGTERM: a
	 * guest can reach the first and not the others, as with any init. */
	signal(SIGUSR1, on_usr1);
	if ((pid = child()) == 0) {
		if (CHECK(getppid() == 1 && getpid() == 2, "child: getpid %d getppid %d", getpid(), getppid()))
			say("child identity: pid 2, parent 1");
		t_view(2);
		t_host();
		CHECK(kill(1, SIGHUP) == 0 && kill(1, SIGTERM) == 0 && kill(1, SIGUSR1) == 0, "child: kill(1): %s",
		      ename(errno));
		exit(finish());
	}
	if (reap(pid, 0, "child"))
		say("child: all checks passed");
	if (CHECK(got_usr1, "pid 1 did not get the SIGUSR1 it catches"))
		say("init: SIGHUP and SIGTERM from a guest were dropped, SIGUSR1 was caught");
	return finish();
}
