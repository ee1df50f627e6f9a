/* sidedoor.c - the side doors namespaces leave open, which hostk shuts:
 * io_uring (syscalls no filter sees), the kernel keyrings (not namespaced),
 * BPF, perf of what is not the caller's, typing into the host's terminal or
 * silencing it,
 * seccomp filters of the guest's own (a listener, user notification, a
 * forged trace), new namespaces, mounts, userfaultfd against hostk's own
 * reads, and whatever descriptors came along at start. */
#include "attack.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>

/* io_uring: if the ring came up, it would open argv[0] (a host process's
 * /proc entry) with no filter looking. */
static void t_io_uring(int argc, char **argv)
{
	struct io_uring_params p = { 0 };
	const char *path = argc ? argv[0] : "/proc/1/environ";
	int fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	unsigned char *sq, *cq;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	long r;

	if (fd < 0) {
		report(what, "io_uring_setup %s", ename(errno));
		return;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof *cqe, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  IORING_OFF_CQ_RING);
	sqe = mmap(NULL, p.sq_entries * sizeof *sqe, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqe == MAP_FAILED) {
		report(what, "io_uring_setup SUCCEEDED (rings: %s)", ename(errno));
		return;
	}
	memset(sqe, 0, sizeof *sqe);
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (uintptr_t)path;
	((unsigned *)(sq + p.sq_off.array))[0] = 0;
	__atomic_store_n((unsigned *)(sq + p.sq_off.tail), 1, __ATOMIC_RELEASE);
	r = syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	report(what, "io_uring_setup SUCCEEDED; its openat of %s: %s", path,
	       r < 0 ? ename(errno) : cqe->res >= 0 ? "OPENED" : ename(-cqe->res));
}

static void t_keyctl(int argc, char **argv)
{
	long g = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* the user's */, 0);
	int eg = errno;
	long a = syscall(SYS_add_key, "user", "hostk-attack", "x", 1, -3 /* the session's */);
	int ea = errno;
	long q = syscall(SYS_request_key, "user", "hostk-attack", NULL, 0);
	int eq = errno;

	(void)argc, (void)argv;
	report(what, "the user's keyring %s, add_key %s, request_key %s", answer(g < 0 ? -1 : 0, eg),
	       answer(a < 0 ? -1 : 0, ea), answer(q < 0 ? -1 : 0, eq));
}

static void t_bpf(int argc, char **argv)
{
	struct bpf_insn prog[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
				   { .code = BPF_JMP | BPF_EXIT } };
	union bpf_attr load = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER, .insn_cnt = 2,
				.insns = (uintptr_t)prog, .license = (uintptr_t)"GPL" };
	union bpf_attr map = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1 };
	long l = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
	int el = errno;
	long m = syscall(SYS_bpf, BPF_MAP_CREATE, &map, sizeof map);

	(void)argc, (void)argv;
	report(what, "BPF_PROG_LOAD %s, BPF_MAP_CREATE %s", answer(l < 0 ? -1 : 0, el), answer(m < 0 ? -1 : 0, errno));
}

static long perf_open(pid_t pid, int cpu, unsigned long flags, int group)
{
	struct perf_event_attr pa = { .type = PERF_TYPE_SOFTWARE, .size = sizeof pa,
				      .config = PERF_COUNT_SW_CPU_CLOCK, .exclude_kernel = 1, .exclude_hv = 1 };

	return syscall(SYS_perf_event_open, &pa, pid, cpu, group, flags);
}

/* Every CPU: what hostk and the host run there. */
static void t_perf_cpu(int argc, char **argv)
{
	long a = perf_open(-1, 0, 0, -1);
	int ea = errno;
	long b = perf_open(-1, 1, 0, -1);

	(void)argc, (void)argv;
	report(what, "CPU 0 %s, CPU 1 %s", answer(a < 0 ? -1 : 0, ea), answer(b < 0 ? -1 : 0, errno));
}

/* Another process (pid 1, from a child), and a cgroup (the root's). */
static void perf_parent(void *arg)
{
	(void)arg;
	_exit(perf_open(getppid(), -1, 0, -1) < 0 ? errno : 0);
}

static void t_perf_other(int argc, char **argv)
{
	int st = in_child(perf_parent, NULL);
	int cg = open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY);
	long c = perf_open(cg, 0, PERF_FLAG_PID_CGROUP, -1);

	(void)argc, (void)argv;
	report(what, "another guest %s, a cgroup %s", WIFEXITED(st) ? (WEXITSTATUS(st) ? ename(WEXITSTATUS(st)) :
	       "SUCCEEDED") : how(st), answer(c < 0 ? -1 : 0, errno));
}

/* Keystrokes pushed into the input of the terminal on descriptor 0 (and
 * /dev/tty): a command the host's shell reads after hostk exits. */
static void t_tiocsti(int argc, char **argv)
{
	static const char cmd[] = "echo INJECTED\n";
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY), got = 0, e = 0;

	(void)argc, (void)argv;
	for (int fd = 0; fd < 3; fd++)
		for (const char *c = cmd; *c; c++)
			if (ioctl(fd, TIOCSTI, c) == 0)
				got++;
			else
				e = errno;
	for (const char *c = cmd; tty >= 0 && *c; c++)
		if (ioctl(tty, TIOCSTI, c) == 0)
			got++;
	report(what, "%s", got ? "keystrokes WENT IN" : ename(e));
}

/* The terminal's line discipline: N_NULL discards all its input and output,
 * and stays after hostk exits, leaving the host's shell a dead terminal. */
static void t_tiocsetd(int argc, char **argv)
{
	int null = 27 /* N_NULL */, tty = open("/dev/tty", O_RDWR | O_NOCTTY), set = 0, e = 0;

	(void)argc, (void)argv;
	for (int fd = 0; fd < 3; fd++)
		if (ioctl(fd, TIOCSETD, &null) == 0)
			set++;
		else
			e = errno;
	if (tty >= 0 && ioctl(tty, TIOCSETD, &null) == 0)
		set++;
	report(what, "%s", set ? "line discipline CHANGED" : ename(e));
}

static void t_tioclinux(int argc, char **argv)
{
	char sub = 3;	/* TIOCL_PASTESEL: paste the selection into the input */
	long r = ioctl(0, TIOCLINUX, &sub);

	(void)argc, (void)argv;
	report(what, "%s", answer(r, errno));
}

static long seccomp_allow_all(unsigned flags)
{
	struct sock_filter f = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* A listener would let the guest answer its own syscalls; the chain has
 * hostk's. */
static void t_listener(int argc, char **argv)
{
	long a = seccomp_allow_all(SECCOMP_FILTER_FLAG_NEW_LISTENER);
	int ea = errno;
	long b = seccomp_allow_all(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC);

	(void)argc, (void)argv;
	report(what, "NEW_LISTENER %s, with TSYNC %s", answer(a < 0 ? -1 : 0, ea), answer(b < 0 ? -1 : 0, errno));
}

static ino_t ns_ino(const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/self/ns/%s", name);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* USER_NOTIF outranks hostk's TRACE: with no listener for it, does the
 * syscall run, unseen by hostk?  unshare(CLONE_NEWUSER) would, natively. */
static void t_usernotif(int argc, char **argv)
{
	ino_t user = ns_ino("user"), mnt = ns_ino("mnt");
	long u, m;

	(void)argc, (void)argv;
	if (own_filter(SYS_unshare, SECCOMP_RET_USER_NOTIF) < 0 || own_filter(SYS_mount, SECCOMP_RET_USER_NOTIF) < 0) {
		report(what, "cannot install a filter: %s", ename(errno));
		return;
	}
	u = syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS);
	int eu = errno;
	m = mount("none", "/tmp", "tmpfs", 0, NULL);
	report(what, "unshare %s, mount %s; namespaces %s", answer(u, eu), answer(m, errno),
	       user == ns_ino("user") && mnt == ns_ino("mnt") ? "unchanged" : "CHANGED");
}

/* A filter of the guest's own returning SECCOMP_RET_TRACE: with hostk's own
 * data (0x4b48) and with another. */
static void t_trace(int argc, char **argv)
{
	ino_t user = ns_ino("user");
	long u, m;

	(void)argc, (void)argv;
	if (own_filter(SYS_unshare, SECCOMP_RET_TRACE | 0x4b48) < 0 || own_filter(SYS_mount, SECCOMP_RET_TRACE | 7) < 0) {
		report(what, "cannot install a filter: %s", ename(errno));
		return;
	}
	u = syscall(SYS_unshare, CLONE_NEWUSER);
	int eu = errno;
	m = mount("none", "/tmp", "tmpfs", 0, NULL);
	report(what, "unshare under hostk's own trace data %s, mount under another's %s; user namespace %s",
	       answer(u, eu), answer(m, errno), user == ns_ino("user") ? "unchanged" : "CHANGED");
}

/* New namespaces, where hostk's view of ids would not reach. */
static void t_unshare(int argc, char **argv)
{
	static const int flags[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
				     CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME };
	struct clone_args ca = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	int refused = 0;
	long c;

	(void)argc, (void)argv;
	for (size_t i = 0; i < NELEM(flags); i++)
		refused += syscall(SYS_unshare, flags[i]) < 0 && errno == EPERM;
	fflush(NULL);
	c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(0);
	refused += c < 0 && errno == EPERM;
	c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0)
		_exit(0);
	refused += c < 0 && errno == EPERM;
	while (wait(NULL) > 0)
		;
	report(what, "%d of 10 (unshare of each of 8 kinds, clone and clone3 with CLONE_NEWUSER) refused (EPERM)",
	       refused);
}

/* The mount table: a guest's root owns its mount namespace, so only hostk
 * stands between it and unmounting the guests' /proc (the host's is
 * beneath) or making /sys writable. */
static void t_mount(int argc, char **argv)
{
	struct { uint64_t set, clr, prop, userns; } rw = { 0, MOUNT_ATTR_RDONLY, 0, 0 };
	long r[8];
	int n = 0, refused = 0;

#define TRY(call) (r[n++] = (call) < 0 ? -errno : 0)
	(void)argc, (void)argv;
	TRY(mount("none", "/tmp", "tmpfs", 0, NULL));
	TRY(umount2("/proc", MNT_DETACH));
	TRY(mount(NULL, "/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
	TRY(syscall(SYS_mount_setattr, AT_FDCWD, "/sys", AT_RECURSIVE, &rw, sizeof rw));
	TRY(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
	TRY(syscall(SYS_fsopen, "tmpfs", 0));
	TRY(syscall(SYS_pivot_root, "/tmp", "/tmp"));
	TRY(syscall(SYS_open_by_handle_at, AT_FDCWD, &(char[64]){ 8 }, O_RDONLY));
#undef TRY
	for (int i = 0; i < n; i++)
		refused += r[i] == -EPERM;
	report(what, "mount, umount of /proc, remount and mount_setattr of /sys, open_tree, fsopen, pivot_root, "
	       "open_by_handle_at: %d of %d refused (EPERM); /proc is %s", refused, n,
	       access("/proc/2", F_OK) < 0 && access("/proc/1", F_OK) == 0 ? "the guests'" : "ANOTHER");
}

/* userfaultfd stalls whoever touches a page until its handler answers:
 * hostk, reading the guest's arguments, would stall every guest.  A
 * nanosleep's timespec and clone3's arguments in such a page. */
static void t_uffd(int argc, char **argv)
{
	int full = (int)syscall(SYS_userfaultfd, O_CLOEXEC), e = errno;
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
	struct uffdio_api api = { .api = UFFD_API };
	void *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (uintptr_t)page, PAGE }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct timespec t0, t1;
	long s, c;

	(void)argc, (void)argv;
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0 || ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
		report(what, "userfaultfd: %s", ename(errno));
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = syscall(SYS_nanosleep, page, NULL);
	int es = errno;
	c = syscall(SYS_clone3, page, 64);
	int ec = errno;
	if (c == 0)
		_exit(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(what, "one that handles the kernel's faults %s; with a user-mode one, hostk's reads of "
	       "nanosleep's %s and clone3's %s, %s", answer(full < 0 ? -1 : 0, e), answer(s, es), answer(c, ec),
	       t1.tv_sec - t0.tv_sec < 2 ? "at once" : "STALLED");
}

/* What came with the guest from hostk: never a seccomp listener, the
 * region's memfd, a socket of hostk's or a directory of the host's /proc
 * (descriptors the invoker passed on are the guest's to have). */
static void t_fds(int argc, char **argv)
{
	int others = 0;

	(void)argc, (void)argv;
	for (int fd = 0; fd < 4096; fd++) {
		char path[64], name[256] = "";

		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (readlink(path, name, sizeof name - 1) <= 0)
			continue;
		if (strstr(name, "seccomp") || strstr(name, "memfd:") || !strncmp(name, "socket:", 7) ||
		    !strncmp(name, "/proc", 5)) {
			note("fd %d: %s", fd, name);
			others++;
		}
	}
	report(what, "%d listeners, memfds, sockets or /proc directories among its descriptors", others);
}

/* The gate's marker with a guessed cookie: hostk's notification path must
 * not answer it. */
static void t_gate(int argc, char **argv)
{
	long r = syscall(0x4b48, 0x4b47415445ul /* HK_OP_GATE */, 0x0123456789abcdeful);

	(void)argc, (void)argv;
	report(what, "the gate's marker with a guessed cookie: %s", answer(r < 0 ? -1 : r, errno));
}

static const struct attack cases[] = {
	{ "io-uring", t_io_uring, false },
	{ "keyctl", t_keyctl, false },
	{ "bpf", t_bpf, false },
	{ "perf-cpu", t_perf_cpu, false },
	{ "perf-other", t_perf_other, false },
	{ "tiocsti", t_tiocsti, false },
	{ "tiocsetd", t_tiocsetd, false },
	{ "tioclinux", t_tioclinux, false },
	{ "seccomp-listener", t_listener, false },
	{ "seccomp-usernotif", t_usernotif, false },
	{ "seccomp-trace", t_trace, false },
	{ "unshare", t_unshare, false },
	{ "mount", t_mount, false },
	{ "uffd", t_uffd, false },
	{ "fds", t_fds, false },
	{ "gate", t_gate, false },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "side", cases, NELEM(cases));
}
