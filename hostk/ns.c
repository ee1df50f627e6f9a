/* The guests' namespaces.  The first guest is cloned into new user, pid,
 * mount, IPC, UTS and cgroup namespaces; every later guest is its
 * descendant and stays in them.  hostk itself stays outside, in the parent
 * namespaces, and traces the guests from there (the owner of a user
 * namespace may trace into it).  What that gives, by the host kernel's own
 * rules rather than hostk's checks:
 *   - pid namespace: guests see and can name only guests; the first guest
 *     is its init (the kernel gives it init's signal rules and kills the
 *     namespace when it dies); /proc, ps, SO_PEERCRED, signalfd and PI
 *     futexes speak guest pids without translation;
 *   - user namespace: no guest holds a capability over anything of the
 *     host's; a root user's guest root is an unprivileged host uid
 *     (ROOT_GUEST_BASE), so it cannot write root's files;
 *   - mount namespace: a procfs of the guests' pid namespace on /proc, and
 *     /sys (with the cgroup file systems under it) read-only;
 *   - IPC, UTS, cgroup namespaces: SysV IPC, the host name and the cgroup
 *     view are the guests' own;
 *   - a Landlock domain scoping abstract unix sockets and signals: the
 *     guests share the host's network namespace, where an abstract socket
 *     has no owner and no permissions (a root daemon's would be anyone's),
 *     so they may connect only to those of guests, and signal only guests
 *     (which the pid namespace says already).
 * hostk writes the id maps from outside (ns_write_maps); the child, once
 * they are written, takes its identity and mounts (ns_enter). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ns.h"
#include "util.h"

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static struct idmap uid_map, gid_map;
static bool deny_setgroups;	/* an ordinary user may map its gid only so */
static bool can_scope;		/* the host has Landlock's scopes */

/* Landlock's ruleset as of its ABI 6 (Linux 6.12), newer than the headers
 * hostk builds with; it handles no access, it only scopes. */
struct scope_attr {
	uint64_t handled_access_fs, handled_access_net, scoped;
};
#define SCOPE_ABI 6
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0)
#define SCOPE_SIGNAL (1ull << 1)
#define RULESET_VERSION (1u << 0)

int ns_parse_idmap(const char *spec, struct idmap *out)
{
	unsigned long v[3] = { 0, 0, 1 };
	int n = 0;
	const char *p = spec;
	char *end;

	for (; n < 3; n++) {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v[n] = strtoul(p, &end, 10);
		if (errno || v[n] > 0xfffffffful)
			return -1;
		p = end;
		if (!*p)
			break;
		if (*p++ != ':')
			return -1;
	}
	if (n < 1 || *p || !v[2] || v[0] + v[2] - 1 > 0xfffffffeul || v[1] + v[2] - 1 > 0xfffffffeul)
		return -1;
	out->inside = v[0];
	out->outside = v[1];
	out->count = v[2];
	return 0;
}

const char *ns_configure(const struct ns_opts *o)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (o->host_root && uid != 0)
		return "--host-root: only root has a host root to give";
	if (o->host_root && (o->uid_map || o->gid_map))
		return "--host-root and --uid-map/--gid-map exclude each other";
	if (o->host_root) {
		uid_map = gid_map = (struct idmap){ 0, 0, 0xffffffff };
	} else if (uid == 0) {
		uid_map = gid_map = (struct idmap){ 0, ROOT_GUEST_BASE, ROOT_GUEST_COUNT };
	} else {
		/* An ordinary user: its guests are itself, the only id it may map. */
		uid_map = (struct idmap){ uid, uid, 1 };
		gid_map = (struct idmap){ gid, gid, 1 };
		deny_setgroups = true;
	}
	if (o->uid_map && ns_parse_idmap(o->uid_map, &uid_map) < 0)
		return "--uid-map wants INSIDE:OUTSIDE[:COUNT], e.g. 0:1000000000:65536";
	if (o->gid_map && ns_parse_idmap(o->gid_map, &gid_map) < 0)
		return "--gid-map wants INSIDE:OUTSIDE[:COUNT], e.g. 0:1000000000:65536";
	if (o->uid_map && !o->gid_map)
		gid_map = uid_map;
	can_scope = syscall(SYS_landlock_create_ruleset, NULL, 0, RULESET_VERSION) >= SCOPE_ABI;
	if (!can_scope)
		warn("this kernel cannot scope abstract unix sockets (Landlock ABI 6, Linux 6.12): guests can "
		     "connect to the host's");
	return NULL;
}

void ns_describe(char *buf, size_t len)
{
	snprintf(buf, len, "guest uid %lu is host uid %lu (%lu ids), guest gid %lu is host gid %lu (%lu ids)",
		 uid_map.inside, uid_map.outside, uid_map.count, gid_map.inside, gid_map.outside, gid_map.count);
}

pid_t ns_clone(void)
{
	struct clone_args ca = { .flags = NS_FLAGS, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &ca, sizeof ca);

	return pid < 0 ? -errno : (pid_t)pid;
}

/* A sysctl's value, or -1. */
static long sysctl_value(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

const char *ns_clone_failure(int err)
{
	static char msg[256];
	const char *why = NULL;

	if (sysctl_value("/proc/sys/user/max_user_namespaces") == 0)
		why = "user namespaces are disabled: sysctl user.max_user_namespaces is 0";
	else if (geteuid() != 0 && sysctl_value("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		why = "unprivileged user namespaces are disabled: sysctl kernel.unprivileged_userns_clone is 0";
	else if (geteuid() != 0 && sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
		why = "AppArmor restricts unprivileged user namespaces: sysctl "
		      "kernel.apparmor_restrict_unprivileged_userns is 1";
	else if (err == ENOSPC)
		why = "the limit on namespaces is reached: see /proc/sys/user/max_*_namespaces";
	else if (err == EINVAL)
		why = "this kernel lacks a namespace hostk needs (user, pid, mount, IPC, UTS, cgroup)";
	snprintf(msg, sizeof msg, "cannot create the guests' namespaces: %s%s%s", strerror(err),
		 why ? " (" : "", why ? why : "");
	if (why)
		strcat(msg, ")");
	return msg;
}

static int write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd, rc = 0;

	snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		rc = -errno;
	close(fd);
	return rc;
}

static int write_map(pid_t pid, const char *name, const struct idmap *m)
{
	char line[80];

	snprintf(line, sizeof line, "%lu %lu %lu\n", m->inside, m->outside, m->count);
	return write_file(pid, name, line);
}

int ns_write_maps(pid_t pid)
{
	int rc;

	if (deny_setgroups && (rc = write_file(pid, "setgroups", "deny")) < 0)
		return rc;
	if ((rc = write_map(pid, "uid_map", &uid_map)) < 0)
		return rc;
	return write_map(pid, "gid_map", &gid_map);
}

void ns_init(void)
{
	sigset_t all, old;
	pid_t prog;
	int status;

	/* Signals wait for sigwaitinfo below, not for a handler. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	prog = fork();
	if (prog == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	if (prog < 0)
		_exit(127);
	for (;;) {
		struct timespec poll_ = { 0, 100000000 };
		siginfo_t si;
		pid_t r;

		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			if (r == prog)
				_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		if (r < 0 && errno == ECHILD)
			_exit(127);
		/* SIGCHLD wakes it for a reap; anything sent to it goes on to
		 * PROG, but for what the terminal sent the whole foreground
		 * group (PROG has it already). */
		if (sigtimedwait(&all, &si, &poll_) > 0 && si.si_signo != SIGCHLD && si.si_code != SI_KERNEL)
			kill(prog, si.si_signo);
	}
}

/* The calling process and all it will make: a Landlock domain in which
 * abstract unix sockets and signals reach only the domain.  hostk, outside,
 * still traces and signals in. */
static int scope(void)
{
	struct scope_attr attr = { .scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL };
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0), rc = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int ns_enter(const char **what)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC };
	uid_t uid = (uid_t)uid_map.inside;
	gid_t gid = (gid_t)gid_map.inside;
	int rc;

	/* Nothing mounted here reaches the host; the host's mounts still reach
	 * the guests. */
	*what = "making the guests' mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	*what = "mounting a procfs of the guests' pid namespace on /proc (is something mounted over part of /proc?)";
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	*what = "making /sys read-only";
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/sys", AT_RECURSIVE, &ro, sizeof ro) < 0)
		return -errno;
	/* With the namespace's capabilities, before no_new_privs is set. */
	*what = "scoping abstract unix sockets and signals to the guests (Landlock)";
	if (can_scope && (rc = scope()) < 0)
		return rc;
	/* Last, the namespace's own ids: the capabilities the namespace came
	 * with are needed above, and go with a non-root identity. */
	*what = "taking the guest's identity";
	if (setresgid(gid, gid, gid) < 0 || (!deny_setgroups && setgroups(0, NULL) < 0) ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}
