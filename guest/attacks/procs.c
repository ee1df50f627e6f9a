/* procs.c - attacks on processes that are not guests (hostk, the host's):
 * signals, ptrace, their memory, pidfds, kcmp, scheduling, /proc, and the
 * doors a shared host leaves: its unix sockets (SO_PEERPIDFD, abstract
 * names), its files, cgroups and sysctls (written with the values they
 * have, so that a failed defence changes nothing).  Every number below
 * SCAN that is not a guest's pid is tried, and the host's pids given as
 * arguments (the runner's), whatever their size. */
#include "attack.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#define PIDFD_GET_NS(n) _IO(0xff, n)	/* 1 cgroup .. 10 uts (linux/pidfd.h, 6.11) */

#define SCAN 65536
static bool guest[SCAN + 1];	/* pids /proc lists: the guests' */
static pid_t extra[16];		/* host pids given as arguments */
static int nextra;

/* The guests, from their own procfs, and the host pids to try besides. */
static void find_guests(int argc, char **argv)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && atoi(e->d_name) <= SCAN)
			guest[atoi(e->d_name)] = true;
	if (d)
		closedir(d);
	for (int i = 0; i < argc && nextra < (int)NELEM(extra); i++)
		if (atoi(argv[i]) > 0)
			extra[nextra++] = atoi(argv[i]);
}

/* Tries probe(p) for every pid outside; returns how many got an answer
 * other than want (ESRCH), noting the first few. */
static int outside(long (*probe)(pid_t), int want, const char *label)
{
	int reached = 0;

	for (int i = 1; i <= SCAN + nextra; i++) {
		pid_t p = i <= SCAN ? i : extra[i - SCAN - 1];
		long r;

		if (p <= SCAN && guest[p])
			continue;
		errno = 0;
		r = probe(p);
		if ((r != -1 || errno != want) && reached++ < 3)
			note("%s(%d): %ld %s", label, p, r, ename(errno));
	}
	return reached;
}

static long p_kill(pid_t p) { return kill(p, 0); }
static long p_tgkill(pid_t p) { return syscall(SYS_tgkill, p, p, 0); }
static long p_pgrp(pid_t p) { return kill(-p, 0); }

static long p_sigqueue(pid_t p)
{
	siginfo_t si = { .si_signo = SIGCONT, .si_code = SI_QUEUE };

	return syscall(SYS_rt_sigqueueinfo, p, SIGCONT, &si);
}

static int sigio_fd = -1;

static long p_setown(pid_t p)
{
	return fcntl(sigio_fd, F_SETOWN, p) < 0 ? -1 : 0;
}

static void t_signal(int argc, char **argv)
{
	int n;

	find_guests(argc, argv);
	sigio_fd = open("/dev/null", O_RDONLY);
	n = outside(p_kill, ESRCH, "kill") + outside(p_tgkill, ESRCH, "tgkill") + outside(p_pgrp, ESRCH, "kill(-pgrp)") +
	    outside(p_sigqueue, ESRCH, "rt_sigqueueinfo") + outside(p_setown, ESRCH, "F_SETOWN");
	report(what, "kill, tgkill, kill(-pgrp), rt_sigqueueinfo, F_SETOWN at every other pid: %s",
	       n ? "SOME REACHED A PROCESS" : "all ESRCH");
}

static long p_seize(pid_t p) { return ptrace(PTRACE_SEIZE, p, 0, 0); }
static long p_attach(pid_t p) { return ptrace(PTRACE_ATTACH, p, 0, 0); }

static void attach_parent(void *arg)
{
	(void)arg;
	_exit(ptrace(PTRACE_ATTACH, getppid(), 0, 0) < 0 ? errno : 0);
}

static void t_ptrace(int argc, char **argv)
{
	int n, st;
	long me;

	find_guests(argc, argv);
	n = outside(p_seize, ESRCH, "PTRACE_SEIZE") + outside(p_attach, ESRCH, "PTRACE_ATTACH");
	me = ptrace(PTRACE_TRACEME, 0, 0, 0);
	int e = errno;
	st = in_child(attach_parent, NULL);
	report(what, "every other pid %s; PTRACE_TRACEME %s; a guest attaching to another %s",
	       n ? "REACHED" : "ESRCH", answer(me, e), WIFEXITED(st) ? ename(WEXITSTATUS(st)) : how(st));
}

static long p_readv(pid_t p)
{
	char buf[8];
	struct iovec l = { buf, sizeof buf }, r = { (void *)0x400000, sizeof buf };

	return syscall(SYS_process_vm_readv, p, &l, 1, &r, 1, 0);
}

static long p_writev(pid_t p)
{
	char buf[8] = { 0 };
	struct iovec l = { buf, sizeof buf }, r = { (void *)0x400000, sizeof buf };

	return syscall(SYS_process_vm_writev, p, &l, 1, &r, 1, 0);
}

static void t_vm(int argc, char **argv)
{
	int n;

	find_guests(argc, argv);
	n = outside(p_readv, ESRCH, "process_vm_readv") + outside(p_writev, ESRCH, "process_vm_writev");
	report(what, "process_vm_readv and process_vm_writev at every other pid: %s",
	       n ? "SOME REACHED" : "all ESRCH");
}

static long p_pidfd(pid_t p) { return syscall(SYS_pidfd_open, p, 0); }
static long p_kcmp(pid_t p) { return syscall(SYS_kcmp, p, getpid(), KCMP_VM, 0, 0); }

static void t_pidfd(int argc, char **argv)
{
	int n, k;

	find_guests(argc, argv);
	n = outside(p_pidfd, ESRCH, "pidfd_open");
	k = outside(p_kcmp, ESRCH, "kcmp");
	report(what, "pidfd_open %s, kcmp %s, at every other pid", n ? "REACHED" : "ESRCH",
	       k ? "REACHED" : "ESRCH");
}

static long p_affinity(pid_t p)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(0, &s);
	return sched_setaffinity(p, sizeof s, &s);
}

static long p_sched(pid_t p)
{
	struct sched_param sp = { 0 };

	return sched_setscheduler(p, SCHED_IDLE, &sp);
}

static long p_prio(pid_t p) { return setpriority(PRIO_PROCESS, (id_t)p, 19); }
static long p_prlimit(pid_t p) { return syscall(SYS_prlimit64, p, RLIMIT_NOFILE, NULL, &(struct rlimit){ 0 }); }
static long p_ioprio(pid_t p)
{
	return syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, p, 3 << 13 /* IOPRIO_CLASS_IDLE */);
}

static void t_sched(int argc, char **argv)
{
	int n;

	find_guests(argc, argv);
	n = outside(p_affinity, ESRCH, "sched_setaffinity") + outside(p_sched, ESRCH, "sched_setscheduler") +
	    outside(p_prio, ESRCH, "setpriority") + outside(p_prlimit, ESRCH, "prlimit64") +
	    outside(p_ioprio, ESRCH, "ioprio_set");
	report(what, "sched_setaffinity, sched_setscheduler, setpriority, prlimit64, ioprio_set at every other pid: %s",
	       n ? "SOME REACHED" : "all ESRCH");
}

/* /proc: only the guests, and none of the host's pids given as arguments
 * (hostk's, the runner's) has an entry to open. */
static void t_proc(int argc, char **argv)
{
	int entries = 0, opened = 0;
	struct stat st;

	find_guests(argc, argv);
	for (int i = 1; i <= SCAN + nextra; i++) {
		pid_t p = i <= SCAN ? i : extra[i - SCAN - 1];
		char path[32];

		if (p <= SCAN && guest[p])
			continue;
		snprintf(path, sizeof path, "/proc/%d", p);
		entries += stat(path, &st) == 0;
	}
	for (int i = 0; i < argc; i++) {
		static const char *const files[] = { "mem", "environ", "root/", "fd/", "status" };

		for (size_t f = 0; f < NELEM(files); f++) {
			char path[64];
			int fd;

			snprintf(path, sizeof path, "/proc/%s/%s", argv[i], files[f]);
			if ((fd = open(path, O_RDONLY)) >= 0) {
				note("opened %s", path);
				opened++;
				close(fd);
			}
		}
	}
	report(what, "no /proc/PID of another pid: %s; host processes' mem, environ, root, fd, status: %s",
	       entries ? "SOME EXIST" : "none exists", opened ? "SOME OPENED" : "none opened");
}

/* kill(-1) from a guest that is not init: every process it may signal. */
static void sleeper(void *arg)
{
	(void)arg;
	pause();
}

static void t_kill_all(int argc, char **argv)
{
	pid_t s, k;
	int st, kst;

	(void)argc, (void)argv;
	fflush(NULL);
	if ((s = fork()) == 0) {
		sleeper(NULL);
		_exit(0);
	}
	usleep(100000);
	if ((k = fork()) == 0)
		_exit(kill(-1, SIGKILL) == 0 ? 0 : 1);
	waitpid(k, &kst, 0);
	waitpid(s, &st, 0);
	report(what, "kill(-1, SIGKILL) from a guest %s: its sibling %s, the sender %s, pid 1 alive",
	       WIFEXITED(kst) && !WEXITSTATUS(kst) ? "succeeded" : "failed", how(st), how(kst));
}

static int unix_connect(const char *path, bool abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path + abstract, sizeof a.sun_path - 1, "%s", path);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(path));
	if (connect(s, (struct sockaddr *)&a, len) < 0) {
		int e = errno;

		close(s);
		errno = e;
		return -1;
	}
	return s;
}

/* A host process listening on a unix socket the guest can reach (argv[0])
 * hands out a pidfd of itself to whoever connects (SO_PEERPIDFD): what can
 * a guest do with it? */
static void t_peer_pidfd(int argc, char **argv)
{
	int s, pidfd = -1, getfd, nsok = 0, nsfd = -1;
	socklen_t len = sizeof pidfd;
	long sig, set;

	if (argc < 1 || (s = unix_connect(argv[0], false)) < 0) {
		report(what, "cannot reach the host's socket %s: %s", argc ? argv[0] : "(none given)", ename(errno));
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		report(what, "no pidfd of the peer: %s", ename(errno));
		return;
	}
	sig = syscall(SYS_pidfd_send_signal, pidfd, SIGCONT, NULL, 0);
	int esig = errno;
	getfd = (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	int egetfd = errno;
	for (int n = 1; n <= 10; n++) {
		int fd = ioctl(pidfd, PIDFD_GET_NS(n), 0);

		if (fd >= 0) {
			nsok++;
			nsfd = fd;
		}
	}
	set = setns(nsfd >= 0 ? nsfd : pidfd, 0);
	int eset = errno;
	report(what, "a pidfd of the host process came; signal %s, getfd %s, its namespaces %s, setns %s",
	       answer(sig, esig), answer(getfd < 0 ? -1 : 0, egetfd), nsok ? "OPENED" : "refused", answer(set, eset));
}

/* Abstract unix sockets have no owner and no permissions: a root daemon's
 * is anyone's who shares its network namespace, as guests do. */
static void t_abstract(int argc, char **argv)
{
	struct sockaddr_un own = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), s, mine;
	char name[64];

	if (argc < 1) {
		report(what, "usage: abstract NAME");
		return;
	}
	/* A guest's own abstract socket, for the comparison. */
	snprintf(name, sizeof name, "guest-%d", getpid());
	snprintf(own.sun_path + 1, sizeof own.sun_path - 1, "%s", name);
	bind(l, (struct sockaddr *)&own, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name)));
	listen(l, 1);
	mine = unix_connect(name, true);
	int em = errno;
	s = unix_connect(argv[0], true);
	int e = errno;
	if (s >= 0) {
		char buf[64] = "";
		ssize_t n = read(s, buf, sizeof buf - 1);

		note("the host's socket said: %.*s", (int)(n > 0 ? n : 0), buf);
	}
	report(what, "connect to a guest's own abstract socket %s, to the host's %s", mine < 0 ? ename(em) : "done",
	       answer(s < 0 ? -1 : 0, e));
}

/* Escapes through cgroups: v1's release_agent (run by the host as root when
 * a cgroup empties), moving into another cgroup through cgroup.procs and
 * through clone3(CLONE_INTO_CGROUP), which does not look at the mount. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e;

	if (fd < 0)
		return errno;
	e = write(fd, text, strlen(text)) < 0 ? errno : 0;
	close(fd);
	return e;
}

static int rewrite(const char *path)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return errno;
	buf[n] = 0;
	return write_file(path, buf);
}

static void t_cgroup(int argc, char **argv)
{
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	int ra = rewrite("/sys/fs/cgroup/memory/release_agent"), procs, dir;
	char pid[16];
	long c;

	(void)argc, (void)argv;
	snprintf(pid, sizeof pid, "%d", getpid());
	procs = write_file("/sys/fs/cgroup/unified/cgroup.procs", pid);
	if (procs == ENOENT)
		procs = write_file("/sys/fs/cgroup/cgroup.procs", pid);
	dir = open(access("/sys/fs/cgroup/unified", F_OK) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup",
		   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ca.cgroup = (uint64_t)dir;
	c = syscall(SYS_clone3, &ca, sizeof ca);
	int ec = errno;
	if (c == 0)
		_exit(0);
	if (c > 0)
		waitpid((pid_t)c, NULL, 0);
	report(what, "release_agent %s, cgroup.procs of the root %s, clone3 into the root cgroup %s",
	       ra ? ename(ra) : "WRITTEN", procs ? ename(procs) : "WRITTEN", answer(c < 0 ? -1 : 0, ec));
}

/* The host's kernel settings: core_pattern and poweroff_cmd name programs
 * the host runs as root. */
static void t_sysctl(int argc, char **argv)
{
	int cp = rewrite("/proc/sys/kernel/core_pattern"), pc = rewrite("/proc/sys/kernel/poweroff_cmd");

	(void)argc, (void)argv;
	report(what, "core_pattern %s, poweroff_cmd %s", cp ? ename(cp) : "WRITTEN", pc ? ename(pc) : "WRITTEN");
}

/* A file of the host's root (argv[0], made by the runner): written,
 * truncated, re-moded, re-owned, removed? */
static void t_host_file(int argc, char **argv)
{
	int w, t, m, o, u;

	if (argc < 1) {
		report(what, "usage: host-file PATH");
		return;
	}
	w = write_file(argv[0], "pwned\n");
	t = truncate(argv[0], 0) < 0 ? errno : 0;
	m = chmod(argv[0], 0666) < 0 ? errno : 0;
	o = chown(argv[0], getuid(), getgid()) < 0 ? errno : 0;
	u = unlink(argv[0]) < 0 ? errno : 0;
	report(what, "write %s, truncate %s, chmod %s, chown %s, unlink %s", w ? ename(w) : "DONE", t ? ename(t) : "DONE",
	       m ? ename(m) : "DONE", o ? ename(o) : "DONE", u ? ename(u) : "DONE");
}

static const struct attack cases[] = {
	{ "signal-outside", t_signal, false },
	{ "ptrace-outside", t_ptrace, false },
	{ "vm-outside", t_vm, false },
	{ "pidfd-outside", t_pidfd, false },
	{ "sched-outside", t_sched, false },
	{ "proc-outside", t_proc, false },
	{ "kill-all", t_kill_all, false },
	{ "peer-pidfd", t_peer_pidfd, false },
	{ "abstract", t_abstract, false },
	{ "cgroup", t_cgroup, false },
	{ "sysctl", t_sysctl, false },
	{ "host-file", t_host_file, false },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "procs", cases, NELEM(cases));
}
