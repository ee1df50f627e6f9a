/* region.c - attacks on the kernel region: writing it, re-protecting,
 * unmapping, moving, replacing, advising it away, reaching its memfd, and
 * making the host write syscall results into it.  Each case ends by saying
 * whether the region is still intact (here and in a forked child). */
#include "attack.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <linux/sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <time.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define SYS_mseal_ 462
#define UFFD_USER_MODE_ONLY_ 1

static long ptrace_traceme(void)
{
	return ptrace(PTRACE_TRACEME, 0, 0, 0);
}

/* One refused-or-not answer and the region's state. */
static void plain(long r, int e)
{
	report(what, "%s, %s", answer(r, e), region_state());
}

static void *anon(size_t len, int c)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		report(what, "mmap: %s", ename(errno));
		exit(3);
	}
	memset(p, c, len);
	return p;
}

static void store(void *arg)
{
	(void)arg;
	*(volatile uint64_t *)((char *)REGION + 8) = 0;
}

static void t_write(int argc, char **argv)
{
	(void)argc, (void)argv;
	report(what, "a store %s, %s", how(in_child(store, NULL)), region_state());
}

static void t_mprotect(int argc, char **argv)
{
	long r = mprotect(REGION, HK_KREGION_SIZE, PROT_READ | PROT_WRITE);

	(void)argc, (void)argv;
	plain(r, errno);
}

static void t_pkey(int argc, char **argv)
{
	long r = syscall(SYS_pkey_mprotect, REGION, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, -1);

	(void)argc, (void)argv;
	plain(r, errno);
}

/* A page of it made inaccessible: hostk would read a guard. */
static void t_mprotect_none(int argc, char **argv)
{
	long r = mprotect((char *)REGION + HK_KREGION_SIZE - PAGE, PAGE, PROT_NONE);

	(void)argc, (void)argv;
	plain(r, errno);
}

static void t_munmap(int argc, char **argv)
{
	long r = munmap(REGION, HK_KREGION_SIZE);

	(void)argc, (void)argv;
	plain(r, errno);
}

static void t_munmap_page(int argc, char **argv)
{
	long r = munmap((char *)REGION + PAGE, PAGE);

	(void)argc, (void)argv;
	plain(r, errno);
}

/* Moved to a place that is the guest's to replace: only the fence refuses. */
static void t_mremap_away(int argc, char **argv)
{
	void *away = anon(HK_KREGION_SIZE, 0);
	long r = (long)mremap(REGION, HK_KREGION_SIZE, HK_KREGION_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, away);

	(void)argc, (void)argv;
	plain(r == (long)MAP_FAILED ? -1 : r, errno);
}

/* A copy elsewhere that keeps the original (MREMAP_DONTUNMAP). */
static void t_mremap_dontunmap(int argc, char **argv)
{
	long r = (long)mremap(REGION, HK_KREGION_SIZE, HK_KREGION_SIZE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);

	(void)argc, (void)argv;
	plain(r == (long)MAP_FAILED ? -1 : r, errno);
}

static void t_mremap_onto(int argc, char **argv)
{
	unsigned char *other = anon(HK_KREGION_SIZE, 0x5a);
	long r = (long)mremap(other, HK_KREGION_SIZE, HK_KREGION_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, REGION);

	(void)argc, (void)argv;
	plain(r == (long)MAP_FAILED ? -1 : r, errno);
}

/* A writable private mapping in its place, and one reaching up into it. */
static void t_mmap_fixed(int argc, char **argv)
{
	long r = (long)mmap(REGION, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int e = errno;
	long r2 = (long)mmap((char *)REGION - 16 * PAGE, 17 * PAGE, PROT_READ | PROT_WRITE,
			     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int e2 = errno;

	(void)argc, (void)argv;
	report(what, "over it %s, from below into it %s, %s", answer(r == (long)MAP_FAILED ? -1 : r, e),
	       answer(r2 == (long)MAP_FAILED ? -1 : r2, e2), region_state());
}

static void t_shmat(int argc, char **argv)
{
	int id = shmget(IPC_PRIVATE, HK_KREGION_SIZE, IPC_CREAT | 0600);
	long r = id < 0 ? 0 : (long)shmat(id, REGION, SHM_REMAP);
	int e = errno;

	(void)argc, (void)argv;
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	plain(r, e);
}

/* Every advice value, through madvise (pidfd < 0) or process_madvise: the
 * host answers the hints, hostk refuses the rest; after each the region
 * must still be there, here and in a child. */
static void advise_all(int pidfd)
{
	int refused = 0, answered = 0;

	for (int a = 0; a <= 120; a++) {
		struct iovec iov = { REGION, HK_KREGION_SIZE };
		long r = pidfd < 0 ? madvise(REGION, HK_KREGION_SIZE, a) :
				     syscall(SYS_process_madvise, pidfd, &iov, 1, a, 0);
		const char *d;

		if (r == -1 && errno == EPERM)
			refused++;
		else
			answered++;
		if (strcmp(d = region_state(), "region intact")) {
			report(what, "after advice %d (%s): %s", a, answer(r, errno), d);
			return;
		}
	}
	report(what, "advice 0..120: %d answered by the host, %d refused (EPERM); region intact and in a forked "
	       "child after each", answered, refused);
}

static void t_madvise_all(int argc, char **argv)
{
	(void)argc, (void)argv;
	advise_all(-1);
}

static void t_process_madvise(int argc, char **argv)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	(void)argc, (void)argv;
	if (pidfd < 0) {
		report(what, "pidfd_open: %s", ename(errno));
		return;
	}
	advise_all(pidfd);
}

/* /proc/PID/mem ignores page protections on private mappings (FOLL_FORCE):
 * this process's own, and its parent's from a child. */
static int mem_write(pid_t pid)
{
	char path[64];
	uint64_t zero = 0;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/mem", pid);
	if ((fd = open(path, O_RDWR)) < 0)
		return errno;
	if (pwrite(fd, &zero, sizeof zero, (off_t)HK_KREGION_ADDR + 8) == (ssize_t)sizeof zero)
		return 0;
	int e = errno;
	close(fd);
	return e;
}

static void parent_mem(void *arg)
{
	(void)arg;
	_exit(mem_write(getppid()));
}

static void t_procmem(int argc, char **argv)
{
	int self = mem_write(getpid()), st = in_child(parent_mem, NULL);

	(void)argc, (void)argv;
	report(what, "own %s, the parent's from a child %s, %s", self ? ename(self) : "SUCCEEDED",
	       WIFEXITED(st) ? (WEXITSTATUS(st) ? ename(WEXITSTATUS(st)) : "SUCCEEDED") : how(st), region_state());
}

static int vm_write(pid_t pid)
{
	uint64_t zero = 0;
	struct iovec l = { &zero, sizeof zero }, r = { (char *)REGION + 8, sizeof zero };

	return syscall(SYS_process_vm_writev, pid, &l, 1, &r, 1, 0) == (long)sizeof zero ? 0 : errno;
}

static void parent_vm(void *arg)
{
	(void)arg;
	_exit(vm_write(getppid()));
}

static void t_vm_writev(int argc, char **argv)
{
	int self = vm_write(getpid()), st = in_child(parent_vm, NULL);

	(void)argc, (void)argv;
	report(what, "own %s, the parent's from a child %s, %s", self ? ename(self) : "SUCCEEDED",
	       WIFEXITED(st) ? (WEXITSTATUS(st) ? ename(WEXITSTATUS(st)) : "SUCCEEDED") : how(st), region_state());
}

/* The memfd behind the mapping, reopened through map_files. */
static void t_map_files(int argc, char **argv)
{
	char path[64];
	int ro, rw, ero, erw;

	(void)argc, (void)argv;
	snprintf(path, sizeof path, "/proc/self/map_files/%lx-%lx", HK_KREGION_ADDR, HK_KREGION_TOP);
	ro = open(path, O_RDONLY);
	ero = errno;
	rw = open(path, O_RDWR);
	erw = errno;
	report(what, "read-only %s, read-write %s, %s", answer(ro < 0 ? -1 : 0, ero), answer(rw < 0 ? -1 : 0, erw),
	       region_state());
}

/* userfaultfd fills the holes of a shared file mapping with pages of the
 * caller's choosing, in the file itself: for every process that maps it. */
static void t_uffd(int argc, char **argv)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY_);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { HK_KREGION_ADDR, HK_KREGION_SIZE }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	long r;

	(void)argc, (void)argv;
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0) {
		report(what, "no userfaultfd here (%s)", ename(errno));
		return;
	}
	r = ioctl(fd, UFFDIO_REGISTER, &reg);
	int e = errno;
	reg.mode = UFFDIO_REGISTER_MODE_MINOR;
	long r2 = ioctl(fd, UFFDIO_REGISTER, &reg);
	report(what, "register for missing pages %s, for minor faults %s, %s", answer(r, e), answer(r2, errno),
	       region_state());
}

/* The region's descriptor, when hostk's injected close() is made to fail by
 * a filter of the guest's own: its seals must hold whatever is asked. */
static int find_region_fd(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		char path[64], name[256];
		ssize_t n;

		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if ((n = readlink(path, name, sizeof name - 1)) > 0) {
			name[n] = 0;
			if (strstr(name, "hostk-kregion"))
				return fd;
		}
	}
	return -1;
}

static void t_fd_leak(int argc, char **argv __attribute__((unused)))
{
	char path[64], z[8] = { 0 };
	int fd, rw, bad = 0;
	void *p;

	if (argc < 1) {
		if (own_filter(SYS_close, SECCOMP_RET_ERRNO | EPERM) < 0) {
			report(what, "cannot install a filter: %s", ename(errno));
			return;
		}
		exec_stage2();
	}
	if ((fd = find_region_fd()) < 0) {
		report(what, "no descriptor of the region leaked, %s", region_state());
		return;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if ((rw = open(path, O_RDWR)) < 0) {
		report(what, "its descriptor leaked; reopening it read-write: %s, %s", ename(errno), region_state());
		return;
	}
	bad += pwrite(rw, z, sizeof z, 8) >= 0;
	bad += ftruncate(rw, 0) == 0;
	bad += fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, HK_KREGION_SIZE) == 0;
	p = mmap(NULL, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	bad += p != MAP_FAILED;
	p = mmap(NULL, HK_KREGION_SIZE, PROT_READ, MAP_SHARED, rw, 0);
	if (p != MAP_FAILED) {
		int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY_);
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg = { .range = { (unsigned long)p, HK_KREGION_SIZE },
					       .mode = UFFDIO_REGISTER_MODE_MISSING };

		bad += mprotect(p, HK_KREGION_SIZE, PROT_READ | PROT_WRITE) == 0;
		bad += u >= 0 && ioctl(u, UFFDIO_API, &api) == 0 && ioctl(u, UFFDIO_REGISTER, &reg) == 0;
	}
	bad += fcntl(rw, F_ADD_SEALS, F_SEAL_WRITE) == 0;
	if (bad)
		report(what, "its descriptor leaked and %d of write, truncate, hole punch, writable mapping, "
		       "mprotect, userfaultfd and new seals SUCCEEDED, %s", bad, region_state());
	else
		report(what, "its descriptor leaked; reopened read-write, yet write, truncate, hole punch, writable "
		       "mapping, mprotect, userfaultfd and new seals all refused, %s", region_state());
}

/* Is the region's mapping sealed (mseal: "sl" in its VmFlags)? */
static bool region_sealed(void)
{
	char line[512];
	bool in = false, sealed = false;
	FILE *fp = fopen("/proc/self/smaps", "re");
	unsigned long s, e;

	while (fp && fgets(line, sizeof line, fp)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = s == HK_KREGION_ADDR;
		else if (in && !strncmp(line, "VmFlags:", 8))
			sealed = strstr(line, " sl") != NULL;
	}
	if (fp)
		fclose(fp);
	return sealed;
}

/* A filter of the guest's own fakes mseal()'s success at the next exec:
 * the mapping stays unsealed, and hostk's fence is all that is left. */
static void t_mseal_off(int argc, char **argv __attribute__((unused)))
{
	void *away;
	int refused = 0;

	if (argc < 1) {
		if (own_filter(SYS_mseal_, SECCOMP_RET_ERRNO | 0) < 0) {
			report(what, "cannot install a filter: %s", ename(errno));
			return;
		}
		exec_stage2();
	}
	away = anon(HK_KREGION_SIZE, 0);
	refused += munmap(REGION, HK_KREGION_SIZE) < 0 && errno == EPERM;
	refused += mprotect(REGION, PAGE, PROT_NONE) < 0 && errno == EPERM;
	refused += mremap(REGION, HK_KREGION_SIZE, HK_KREGION_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, away) == MAP_FAILED &&
		   errno == EPERM;
	refused += mmap(REGION, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
		   errno == EPERM;
	refused += madvise(REGION, HK_KREGION_SIZE, MADV_DONTFORK) < 0 && errno == EPERM;
	refused += madvise(REGION, HK_KREGION_SIZE, MADV_WIPEONFORK) < 0 && errno == EPERM;
	report(what, "mapping %s; %d of 6 (munmap, mprotect, mremap, mmap over it, DONTFORK, WIPEONFORK) refused "
	       "(EPERM), %s", region_sealed() ? "still sealed" : "left unsealed", refused, region_state());
}

/* Syscalls the host answers, told to put their results into it. */
static void t_results(int argc, char **argv)
{
	char *k = (char *)REGION + 64;
	int zero = open("/dev/zero", O_RDONLY), sv[2] = { -1, -1 }, n = 0, faulted = 0;
	struct iovec iov = { k, 8 };
	socklen_t len = 4;
	long r[16];

	(void)argc, (void)argv;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	r[n++] = read(zero, k, 8);
	r[n++] = pread(zero, k, 8, 0);
	r[n++] = readv(zero, &iov, 1);
	r[n++] = syscall(SYS_getrandom, k, 8, 0);
	r[n++] = syscall(SYS_pipe2, k, 0);
	r[n++] = syscall(SYS_uname, k);
	r[n++] = syscall(SYS_sysinfo, k);
	r[n++] = syscall(SYS_fstat, 0, k);
	r[n++] = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, k);
	r[n++] = syscall(SYS_getcwd, k, 64);
	r[n++] = syscall(SYS_readlink, "/proc/self/exe", k, 64);
	r[n++] = syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, k, &len);
	r[n++] = syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, k, 8);
	r[n++] = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, k);
	r[n++] = syscall(SYS_sched_getaffinity, 0, 128, k);
	for (int i = 0; i < n; i++)
		faulted += r[i] == -1;
	report(what, "%d of %d calls failed (read, pread, readv, getrandom, pipe2, uname, sysinfo, fstat, "
	       "clock_gettime, getcwd, readlink, getsockopt, rt_sigprocmask, prlimit64, sched_getaffinity), %s",
	       faulted, n, region_state());
}

/* The gate that brings the region's descriptor in is a syscall made in the
 * guest: a filter of the guest's own can answer it (SECCOMP_RET_ERRNO with
 * 0 returns 0) before hostk's listener hears of it, so that hostk would map
 * descriptor 0, a memfd of the guest's own, as the region.  hostk must
 * refuse that exec.  If it ran, clone3's flags would be read by the host
 * from hostk's copy in a scratch slot of the region: here, from the
 * guest's memfd, filled with CLONE_UNTRACED|CLONE_NEWUSER in every slot.  The child says whether it was traced (PTRACE_TRACEME
 * fails under hostk), in the guests' user namespace, and whether, traced by
 * its parent instead, it could make a syscall hostk denies. */
#define FAKE_FD 10

static ino_t user_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/user", &st) == 0 ? st.st_ino : 0;
}

static void t_fake(int argc, char **argv __attribute__((unused)))
{
	struct clone_args evil = { .flags = CLONE_UNTRACED | CLONE_NEWUSER, .exit_signal = SIGCHLD };
	struct clone_args ca = { .exit_signal = SIGCHLD };
	ino_t ns = user_ns();
	int st;
	long c;

	if (argc < 1) {
		int fd = memfd_create("fake-region", 0);

		region_save();
		if (fd < 0 || ftruncate(fd, HK_KREGION_SIZE) < 0) {
			report(what, "memfd: %s", ename(errno));
			return;
		}
		for (unsigned long off = HK_KREGION_HEAD; off < HK_KREGION_SIZE; off += HK_SCRATCH_SLOT)
			pwrite(fd, &evil, sizeof evil, (off_t)off);
		dup2(fd, 0);
		dup2(fd, FAKE_FD);
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			if (own_filter(0x4b48 /* HK_CALL_NR */, SECCOMP_RET_ERRNO | 0) < 0)
				_exit(3);
			exec_stage2();
		}
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			report(what, "the exec'ing child %s, %s", how(st), region_state());
		return;
	}
	fflush(NULL);
	c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0) {
		int bits = user_ns() != ns ? 2 : 0;

		/* Untraced, it asks its parent to be its tracer, which lets a
		 * syscall hostk denies (keyctl) run. */
		if (ptrace_traceme() == 0) {
			raise(SIGSTOP);
			bits |= 1 | (syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* user */, 0) >= 0 ? 4 : 0);
		}
		_exit(bits);
	}
	int e = errno;
	if (c < 0) {
		report(what, "the region is %s; clone3 %s", region_damage() ? "the guest's own" : "hostk's", ename(e));
		exit(0);
	}
	while (waitpid((pid_t)c, &st, 0) == c && WIFSTOPPED(st)) {
		ptrace(PTRACE_SETOPTIONS, (pid_t)c, 0, PTRACE_O_TRACESECCOMP);
		ptrace(PTRACE_CONT, (pid_t)c, 0, 0);
	}
	report(what, "the region is %s; clone3 made a child %s, %s%s", region_damage() ? "the guest's own" : "hostk's",
	       WIFEXITED(st) && WEXITSTATUS(st) & 1 ? "UNTRACED" : "traced",
	       WIFEXITED(st) && WEXITSTATUS(st) & 2 ? "in a NEW user namespace" : "in the guests' user namespace",
	       WIFEXITED(st) && WEXITSTATUS(st) & 4 ? ", which RAN keyctl under its parent's ptrace" : "");
	exit(0);
}

/* A later exec of a program linked at the region's address (argv[0]). */
static void run_prog(void *arg)
{
	char *argv[] = { arg, NULL };

	execv(argv[0], argv);
	_exit(126);
}

static void t_exec_elf(int argc, char **argv)
{
	if (argc < 1) {
		report(what, "usage: exec-elf PATH");
		return;
	}
	report(what, "the exec'ing child %s, %s", how(in_child(run_prog, argv[0])), region_state());
}

/* With address randomization off, the stack starts where the region goes. */
static void t_aslr_off(int argc, char **argv)
{
	if (argc < 1) {
		if (personality(ADDR_NO_RANDOMIZE) < 0) {
			report(what, "personality: %s", ename(errno));
			return;
		}
		exec_stage2();
	}
	char here;

	report(what, "stack below the region: %s; argv intact: %s; %s",
	       (uintptr_t)&here < HK_KREGION_ADDR ? "yes" : "NO", !strcmp(argv[0], "stage2") ? "yes" : "NO", region_state());
}

static const struct attack cases[] = {
	{ "write", t_write, true },
	{ "mprotect", t_mprotect, true },
	{ "pkey-mprotect", t_pkey, true },
	{ "mprotect-none", t_mprotect_none, true },
	{ "munmap", t_munmap, true },
	{ "munmap-page", t_munmap_page, true },
	{ "mremap-away", t_mremap_away, true },
	{ "mremap-dontunmap", t_mremap_dontunmap, true },
	{ "mremap-onto", t_mremap_onto, true },
	{ "mmap-fixed", t_mmap_fixed, true },
	{ "shmat", t_shmat, true },
	{ "madvise-all", t_madvise_all, true },
	{ "process-madvise", t_process_madvise, true },
	{ "procmem", t_procmem, true },
	{ "vm-writev", t_vm_writev, true },
	{ "map-files", t_map_files, true },
	{ "uffd", t_uffd, true },
	{ "fd-leak", t_fd_leak, true },
	{ "mseal-off", t_mseal_off, true },
	{ "results", t_results, true },
	{ "fake", t_fake, false },
	{ "exec-elf", t_exec_elf, true },
	{ "aslr-off", t_aslr_off, true },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "region", cases, NELEM(cases));
}
