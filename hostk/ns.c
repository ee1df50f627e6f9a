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
 *   - the policy's path rules, as mounts (a new root of the allowed paths,
 *     read-only binds, empty mounts over hidden ones), and its limits as
 *     hard rlimits: nothing to check per syscall, nothing to race;
 *   - capabilities: guest root keeps a container's set (Docker's default)
 *     over its namespaces, CAP_SYS_ADMIN not among them, so the host too
 *     refuses the mounts and namespace changes the filter refuses;
 *   - a Landlock domain scoping abstract unix sockets and signals: the
 *     guests share the host's network namespace, where an abstract socket
 *     has no owner and no permissions (a root daemon's would be anyone's),
 *     so they may connect only to those of guests, and signal only guests
 *     (which the pid namespace says already).
 * hostk writes the id maps from outside (ns_write_maps); the child, once
 * they are written, takes its identity and mounts (ns_enter). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../drivers/devices.h"
#include "ns.h"
#include "policy.h"
#include "util.h"

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static struct idmap uid_map, gid_map;
static bool deny_setgroups;	/* an ordinary user may map its gid only so */
static bool can_scope;		/* the host has Landlock's scopes */
static bool host_root;		/* --host-root: guest root keeps every capability */

/* Landlock's ruleset as of its ABI 6 (Linux 6.12), newer than the headers
 * hostk builds with; it handles no access, it only scopes. */
struct scope_attr {
	uint64_t handled_access_fs, handled_access_net, scoped;
};
#define SCOPE_ABI 6
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0)
#define SCOPE_SIGNAL (1ull << 1)
#define RULESET_VERSION (1u << 0)

static unsigned long id_inside(const struct idmap *m, unsigned long host)
{
	return host >= m->outside && host - m->outside < m->count ? m->inside + (host - m->outside) : 65534;
}

uid_t ns_uid_inside(uid_t host)
{
	return (uid_t)id_inside(&uid_map, host);
}

gid_t ns_gid_inside(gid_t host)
{
	return (gid_t)id_inside(&gid_map, host);
}

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
	host_root = o->host_root;
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

/* Make dir and its parents, in the new root being built. */
static int mkdirs(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* Bind path (as the old root has it) into the new root at NEWROOT: the new
 * root is built on /dev (the host's /dev comes back inside it), so that
 * /proc stays in view, which the host wants before it lets a user namespace
 * mount a procfs of its own. */
#define NEWROOT "/dev"

static int bind_into_new_root(const char *path)
{
	char to[PATH_MAX];
	struct stat st;
	int rc, fd;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;	/* nothing there to show */
	snprintf(to, sizeof to, NEWROOT "%s", path);
	if (S_ISDIR(st.st_mode)) {
		if ((rc = mkdirs(to)) < 0)
			return rc;
	} else {
		*strrchr(to, '/') = 0;
		if ((rc = mkdirs(to)) < 0)
			return rc;
		snprintf(to, sizeof to, NEWROOT "%s", path);
		if ((fd = open(to, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0)
			return -errno;
		close(fd);
	}
	return mount(path, to, NULL, MS_BIND | MS_REC, NULL) < 0 ? -errno : 0;
}

/* path allow: a new root with only the allowed paths in it, and /dev, /sys
 * and a procfs of the guests' pid namespace.  The working directory
 * follows if it is still there. */
static int new_root(void)
{
	char cwd[PATH_MAX];
	int dev, rc;

	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");
	if ((dev = (int)syscall(SYS_open_tree, AT_FDCWD, "/dev", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)) < 0)
		return -errno;
	if (mount("hostk-root", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return -errno;
	for (int i = 0; i < npath_rules; i++)
		if (path_rules[i].kind == PATH_ALLOW && (rc = bind_into_new_root(path_rules[i].path)) < 0)
			return rc;
	if ((rc = bind_into_new_root("/sys")) < 0 || (rc = mkdirs(NEWROOT "/proc")) < 0 ||
	    (rc = mkdirs(NEWROOT "/dev")) < 0)
		return rc;
	if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    syscall(SYS_move_mount, dev, "", AT_FDCWD, NEWROOT "/dev", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	close(dev);
	/* pivot_root(".", "."): the old root lands under the new one, and is
	 * let go of at once. */
	if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir(cwd) < 0 && chdir("/") < 0)
		return -errno;
	return 0;
}

/* With devices: a /dev of the guests' own, so that /dev/hostk can be in it:
 * a tmpfs with every entry of the host's /dev bound into it (the same
 * nodes, the same devpts, so terminals keep their names), and
 * /dev/hostk/NAME an empty file for each device (its open is the device's:
 * drivers/devices.c).  Built on /proc, then moved onto /dev: /dev stays
 * whole until the move, and /proc is the host's again after it, which the
 * host wants before it lets the guests mount a procfs of their own. */
#define STAGE "/proc"

static int make_dev(void)
{
	char from[PATH_MAX], to[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int rc = 0, fd;
	ssize_t n;

	if (mount("hostk-dev", STAGE, "tmpfs", MS_NOSUID, "mode=0755") < 0 || !(d = opendir("/dev")))
		return -errno;
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(from, sizeof from, "/dev/%s", e->d_name);
		snprintf(to, sizeof to, STAGE "/%s", e->d_name);
		if (lstat(from, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			if ((n = readlink(from, target, sizeof target - 1)) > 0 && (target[n] = 0, symlink(target, to) < 0))
				rc = -errno;
			continue;
		}
		if (S_ISDIR(st.st_mode) ? mkdir(to, st.st_mode & 07777) < 0 :
		    (fd = open(to, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) < 0 || close(fd) < 0)
			rc = -errno;
		else if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0)
			rc = -errno;
	}
	closedir(d);
	if (!rc && mkdir(STAGE "/hostk", 0755) < 0)
		rc = -errno;
	for (int i = 0; !rc && device_name(i); i++) {
		snprintf(to, sizeof to, STAGE "/hostk/%s", device_name(i));
		if ((fd = open(to, O_CREAT | O_WRONLY | O_CLOEXEC, 0666)) < 0 || fchmod(fd, 0666) < 0)
			rc = -errno;
		else
			close(fd);
	}
	if (!rc && mount(STAGE, "/dev", NULL, MS_MOVE, NULL) < 0)
		rc = -errno;
	return rc;
}

/* path readonly and hide, on whatever root the guests have. */
static int path_rule(const struct path_rule *r)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	struct stat st;

	if (stat(r->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;	/* nothing there to protect */
	if (r->kind == PATH_READONLY) {
		if (mount(r->path, r->path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    syscall(SYS_mount_setattr, AT_FDCWD, r->path, AT_RECURSIVE, &ro, sizeof ro) < 0)
			return -errno;
		return 0;
	}
	/* Hidden: an empty read-only directory over a directory, the empty
	 * /dev/null over anything else. */
	if (S_ISDIR(st.st_mode))
		return mount("hostk-hidden", r->path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "mode=0755,size=4k") < 0 ? -errno : 0;
	return mount("/dev/null", r->path, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

/* The limits the host enforces per process: hard limits no guest can raise
 * (that needs CAP_SYS_RESOURCE in the host's user namespace).  RLIMIT_NPROC
 * is counted per user in the guests' user namespace: the tree's tasks.  The
 * CPU limit is the tree's, hostk's to enforce (stop.c); a process's own
 * RLIMIT_CPU, a little later, stands behind it. */
int ns_set_limits(void)
{
	const struct { int res; unsigned long v; } l[] = {
		{ RLIMIT_NPROC, limits.tasks }, { RLIMIT_AS, limits.as }, { RLIMIT_NOFILE, limits.nofile },
		{ RLIMIT_FSIZE, limits.fsize }, { RLIMIT_CPU, limits.cpu_s ? limits.cpu_s + 2 : 0 },
	};

	for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
		struct rlimit rl = { l[i].v, l[i].v };

		if (l[i].v && setrlimit(l[i].res, &rl) < 0)
			return -errno;
	}
	return 0;
}

static int take_identity(uid_t uid, gid_t gid)
{
	if (setresgid(gid, gid, gid) < 0 || (!deny_setgroups && setgroups(0, NULL) < 0) ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

/* The capabilities guest root keeps over its own namespaces: a container's
 * (Docker's default set).  The rest leave the bounding, permitted,
 * effective, inheritable and ambient sets before the guest's first
 * instruction; CAP_SYS_ADMIN above all, so that mount, umount2, pivot_root
 * and the rest the filter refuses, the host kernel refuses too (a policy
 * that lets them through cannot undo the mounts hostk made). */
static const int kept_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
	CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP,
};

static int drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	uint64_t keep = 0;

	for (size_t i = 0; i < NELEM(kept_caps); i++)
		keep |= 1ull << kept_caps[i];
	/* EINVAL: past the last capability this kernel has. */
	for (int c = 0; c < 64; c++)
		if (!(keep & 1ull << c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 || syscall(SYS_capget, &h, d) < 0)
		return -errno;
	/* Inheritable too: exec gives root the bounding set and the
	 * inheritable one. */
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable &= k;
	}
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
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
	bool allow = false, early = uid == 0 || deny_setgroups;
	int rc;

	/* The namespace's own ids, first if they keep the capabilities the
	 * namespace came with (guest root; an ordinary user, who keeps its
	 * uid): the mounts below need them, and the files a new root is made
	 * of need an owner the namespace maps.  A map whose first uid is not
	 * root takes it last, once the mounts are made. */
	*what = "taking the guest's identity";
	if (early && (rc = take_identity(uid, gid)) < 0)
		return rc;
	/* Nothing mounted here reaches the host; the host's mounts still reach
	 * the guests. */
	*what = "making the guests' mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	for (int i = 0; i < npath_rules; i++)
		allow |= path_rules[i].kind == PATH_ALLOW;
	*what = "making a root of the policy's allowed paths";
	if (allow && (rc = new_root()) < 0)
		return rc;
	*what = "making the guests' /dev, with /dev/hostk";
	if (devices_count() && (rc = make_dev()) < 0)
		return rc;
	*what = "mounting a procfs of the guests' pid namespace on /proc (is something mounted over part of /proc?)";
	if (!allow && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	*what = "making /sys read-only";
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/sys", AT_RECURSIVE, &ro, sizeof ro) < 0)
		return -errno;
	*what = "applying the policy's path rules";
	for (int k = PATH_READONLY; k <= PATH_HIDE; k++)
		for (int i = 0; i < npath_rules; i++)
			if (path_rules[i].kind == (enum path_kind)k && (rc = path_rule(&path_rules[i])) < 0)
				return rc;
	/* With the namespace's capabilities, before no_new_privs is set. */
	*what = "scoping abstract unix sockets and signals to the guests (Landlock)";
	if (can_scope && (rc = scope()) < 0)
		return rc;
	*what = "dropping the capabilities a container does not have";
	if (!host_root && (rc = drop_caps()) < 0)
		return rc;
	*what = "taking the guest's identity";
	if (!early && (rc = take_identity(uid, gid)) < 0)
		return rc;
	return 0;
}
