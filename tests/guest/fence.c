/* fence.c - hostile-guest checks on the kernel region: writing it, re-protecting, unmapping,
 * moving, replacing or dropping it, and having syscalls write into it must all fail, leaving the
 * region where it was with its fixed bytes (magic..hdr_size, disp[]) unchanged.
 * RUN ONLY UNDER HOSTK: natively there is no region and it stops at the first check. */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <hostk/libhk.h>

#define PAGE 4096ul
#define REGION ((void *)HK_KREGION_ADDR)
#define FIXED_LEN offsetof(struct hk_kregion, seq)	/* magic .. disp_names */

static const volatile struct hk_kregion *kr;
static struct hk_kregion snap0;		/* at the start: the fixed part and the counters */
static unsigned char disp0[HK_KREGION_SIZE];	/* the disp[] table at the start */
static size_t disp_off, disp_len;

/* Is all of [HK_KREGION_ADDR, HK_KREGION_TOP) mapped?  mincore() never faults. */
static int mapped(void)
{
	unsigned char vec[HK_KREGION_SIZE / PAGE];

	return mincore(REGION, HK_KREGION_SIZE, vec) == 0;
}

/* Still mapped, same fixed bytes, same disp[]: 1 if so.  Exits if it is gone. */
static int intact(const char *what)
{
	struct hk_kregion now;

	if (!CHECK(mapped(), "%s: the region is no longer mapped", what))
		exit(finish());
	if (!CHECK(hk_kregion_read(kr, &now) == 0, "%s: hk_kregion_read: %s", what, ename(errno)))
		return 0;
	return CHECK(memcmp(&now, &snap0, FIXED_LEN) == 0, "%s: the region's fixed fields changed", what) &&
	       CHECK(memcmp((const unsigned char *)REGION + disp_off, disp0, disp_len) == 0,
		     "%s: the region's disp[] table changed", what);
}

/* r is the result of an attack (-1 or MAP_FAILED for a failure), e its errno; e1/e2 the errnos
 * wanted (e1 0: any).  Prints one line if it failed as wanted and the region is intact. */
static void refused(const char *what, long r, int e1, int e2)
{
	int e = errno;

	if (CHECK(r == -1, "%s succeeded (returned %#lx)", what, r) &&
	    CHECK(e1 == 0 || e == e1 || e == e2, "%s failed with %s, want %s%s%s", what, ename(e), ename(e1),
		  e2 ? " or " : "", e2 ? ename(e2) : "") &&
	    intact(what))
		say("%s: fails, region intact", what);
}

/* A fresh anonymous mapping of len bytes at a free address, filled with c. */
static unsigned char *anon(size_t len, int c)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fail("mmap(%zu): %s", len, ename(errno));
		exit(finish());
	}
	memset(p, c, len);
	return p;
}

static void t_write(void)
{
	pid_t pid = child();
	char buf[32];
	int st;

	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		*(volatile uint64_t *)REGION = 0;
		_exit(0);
	}
	if (CHECK(waitpid(pid, &st, 0) == pid, "write: waitpid: %s", ename(errno)) &&
	    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "write: the child %s, want killed by SIGSEGV",
		  wstr(st, buf, sizeof(buf))) &&
	    intact("write"))
		say("write: a child storing into the region dies of SIGSEGV, region intact");
}

static void t_remap(void)
{
	unsigned char *away = anon(HK_KREGION_SIZE, 0), *other = anon(HK_KREGION_SIZE, 0x5a);
	long r;

	/* Moving it to a free place: `away` is ours to replace, so only the fence can refuse. */
	r = (long)mremap(REGION, HK_KREGION_SIZE, HK_KREGION_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, away);
	refused("mremap(MREMAP_MAYMOVE|MREMAP_FIXED) moving it away", r, 0, 0);
	refused("mremap growing it (MREMAP_MAYMOVE)",
		(long)mremap(REGION, HK_KREGION_SIZE, 2 * HK_KREGION_SIZE, MREMAP_MAYMOVE), 0, 0);
	refused("mremap shrinking it in place", (long)mremap(REGION, HK_KREGION_SIZE, PAGE, 0), 0, 0);
	r = (long)mremap(other, HK_KREGION_SIZE, HK_KREGION_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, REGION);
	refused("mremap(MREMAP_FIXED) of another mapping onto it", r, 0, 0);
	CHECK(other[0] == 0x5a && other[HK_KREGION_SIZE - 1] == 0x5a, "mremap onto it: the other mapping changed");
	munmap(away, HK_KREGION_SIZE);
	munmap(other, HK_KREGION_SIZE);
}

static void t_mmap(void)
{
	long r;

	r = (long)mmap(REGION, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	refused("mmap(MAP_FIXED) over it", r, 0, 0);
	r = (long)mmap((char *)REGION - PAGE, 2 * PAGE, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	refused("mmap(MAP_FIXED) over its first page and the one below", r, 0, 0);
}

static void t_shmat(void)
{
	int id = shmget(IPC_PRIVATE, HK_KREGION_SIZE, IPC_CREAT | 0600);

	if (!CHECK(id >= 0, "shmget: %s", ename(errno)))
		return;
	refused("shmat(SHM_REMAP) over it", (long)shmat(id, REGION, SHM_REMAP), 0, 0);
	shmctl(id, IPC_RMID, NULL);
}

static void t_procmem(void)
{
	uint64_t zero = 0;
	int fd = open("/proc/self/mem", O_RDWR);
	long r = -1;

	if (fd >= 0) {
		r = pwrite(fd, &zero, sizeof(zero), (off_t)HK_KREGION_ADDR);
		r = r > 0 ? r : -1;
		close(fd);
	}
	refused("pwrite to /proc/self/mem at the region", r, 0, 0);
}

/* The region's memfd itself, reopened through /proc/self/map_files (root may; others get EPERM):
 * its seals must refuse writing, resizing, punching holes and writable mappings.  One line
 * either way, so that the output does not depend on privilege. */
static void t_memfd(void)
{
	const char *what = "its memfd via /proc/self/map_files";
	char path[64], z[8] = { 0 };
	int fd, ok = 1;
	void *p;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", HK_KREGION_ADDR, HK_KREGION_TOP);
	if ((fd = open(path, O_RDWR)) >= 0) {
		ok &= CHECK(pwrite(fd, z, sizeof(z), 0) < 0, "%s: pwrite succeeded", what);
		ok &= CHECK(ftruncate(fd, 0) < 0, "%s: ftruncate succeeded", what);
		ok &= CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, HK_KREGION_SIZE) < 0,
			    "%s: fallocate(PUNCH_HOLE) succeeded", what);
		p = mmap(NULL, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ok &= CHECK(p == MAP_FAILED, "%s: a writable shared mapping succeeded", what);
		if (p != MAP_FAILED)
			munmap(p, HK_KREGION_SIZE);
		close(fd);
	}
	if (ok && intact(what))
		say("%s: no write, resize, hole or writable mapping, region intact", what);
}

static void t_vm_writev(void)
{
	uint64_t zero = 0;
	struct iovec l = { &zero, sizeof(zero) }, rem = { REGION, sizeof(zero) };

	refused("process_vm_writev to itself at the region", syscall(SYS_process_vm_writev, getpid(), &l, 1, &rem, 1, 0),
		EFAULT, 0);
}

/* Syscalls told to write their results into the region. */
static void t_results(void)
{
	struct hk_kregion *k = REGION;
	siginfo_t si;
	int fd = open("/dev/zero", O_RDONLY);
	pid_t pid;

	refused("read from /dev/zero into the region", fd >= 0 ? read(fd, &k->jiffies, 8) : 0, EFAULT, 0);
	close(fd);

	if ((pid = child()) == 0)
		_exit(3);
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);	/* it is a zombie now */
	refused("waitid(P_ALL) with its siginfo in the region", waitid(P_ALL, 0, (siginfo_t *)REGION, WEXITED),
		EFAULT, 0);
	waitpid(pid, NULL, WNOHANG);	/* whether or not the failed call reaped it */

	if ((pid = child()) == 0)
		_exit(4);
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	refused("wait4 with its status in the region", wait4(-1, (int *)&k->seq, 0, NULL), EFAULT, 0);
	waitpid(pid, NULL, WNOHANG);
}

/* After all of it: where it was, readable, inherited by fork, and the refusals counted. */
static void t_after(void)
{
	struct hk_kregion now;
	char line[512];
	int seen = 0;
	pid_t pid;
	FILE *fp = fopen("/proc/self/maps", "r");

	while (fp && fgets(line, sizeof(line), fp)) {
		unsigned long s, e;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 && e > HK_KREGION_ADDR && s < HK_KREGION_TOP)
			seen += CHECK(s == HK_KREGION_ADDR && e == HK_KREGION_TOP && strcmp(perms, "r--s") == 0,
				      "after: /proc/self/maps has %s", line) ? 1 : 2;
	}
	if (fp)
		fclose(fp);
	if (CHECK(seen == 1, "after: %d mappings overlap the region in /proc/self/maps", seen) && intact("after"))
		say("after: the region is still at %#lx-%#lx r--s, fixed part unchanged", HK_KREGION_ADDR,
		    HK_KREGION_TOP);
	if ((pid = child()) == 0)
		_exit(mapped() && kr->magic == HK_KREGION_MAGIC ? 0 : 1);
	if (reap(pid, 0, "after: fork"))
		say("after: a forked child still has it");
	if (CHECK(hk_kregion_read(kr, &now) == 0 && now.fence_refusals > snap0.fence_refusals,
		  "after: fence_refusals %llu, %llu at the start", (unsigned long long)now.fence_refusals,
		  (unsigned long long)snap0.fence_refusals))
		say("after: the region counted the refusals");
}

/* Memory syscalls away from the region still work. */
static void t_sanity(void)
{
	unsigned char *p = anon(3 * PAGE, 1), *q;
	int ok = CHECK(mprotect(p + PAGE, PAGE, PROT_READ) == 0, "sanity: mprotect: %s", ename(errno)) &&
		 CHECK(madvise(p, PAGE, MADV_DONTNEED) == 0 && p[0] == 0, "sanity: madvise: %s", ename(errno));

	ok = ok && CHECK(mprotect(p, 3 * PAGE, PROT_READ | PROT_WRITE) == 0, "sanity: mprotect: %s", ename(errno));
	q = mremap(p, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	ok = ok && CHECK(q != MAP_FAILED && q[PAGE] == 1, "sanity: mremap: %s", ename(errno));
	ok = ok && CHECK(munmap(q, 4 * PAGE) == 0, "sanity: munmap: %s", ename(errno));
	if (ok)
		say("sanity: mmap, mprotect, madvise, mremap and munmap elsewhere work");
}

int main(void)
{
	kr = hk_kregion();
	if (!CHECK(kr != NULL, "no kernel region at %#lx (is this running under hostk?)", HK_KREGION_ADDR) ||
	    !CHECK(hk_kregion_read(kr, &snap0) == 0, "hk_kregion_read: %s", ename(errno)))
		return finish();
	disp_off = snap0.off_disp;
	disp_len = snap0.nr_syscalls;
	if (!CHECK(disp_off >= FIXED_LEN && disp_off + disp_len <= HK_KREGION_SIZE, "disp[] at %zu, %zu entries",
		   disp_off, disp_len))
		return finish();
	memcpy(disp0, (const unsigned char *)REGION + disp_off, disp_len);

	t_write();
	refused("mprotect(PROT_READ|PROT_WRITE)", mprotect(REGION, HK_KREGION_SIZE, PROT_READ | PROT_WRITE), EPERM,
		EACCES);
	refused("pkey_mprotect(PROT_READ|PROT_WRITE)",
		syscall(SYS_pkey_mprotect, REGION, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, -1), EPERM, EACCES);
	refused("mprotect(PROT_NONE) of its last page", mprotect((char *)REGION + HK_KREGION_SIZE - PAGE, PAGE,
								 PROT_NONE), EPERM, EACCES);
	refused("munmap", munmap(REGION, HK_KREGION_SIZE), EPERM, 0);
	refused("munmap of one page in the middle", munmap((char *)REGION + PAGE, PAGE), EPERM, 0);
	t_remap();
	t_mmap();
	refused("madvise(MADV_DONTNEED)", madvise(REGION, HK_KREGION_SIZE, MADV_DONTNEED), 0, 0);
	refused("madvise(MADV_DONTFORK)", madvise(REGION, HK_KREGION_SIZE, MADV_DONTFORK), 0, 0);
	refused("madvise(MADV_REMOVE)", madvise(REGION, HK_KREGION_SIZE, MADV_REMOVE), 0, 0);
	t_shmat();
	t_procmem();
	t_memfd();
	t_vm_writev();
	t_results();
	t_after();
	t_sanity();
	return finish();
}
