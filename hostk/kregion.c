/* The kernel region.  A memfd made at boot, filled with what a guest may
 * know of hostk (names, boot time, the trap table's dispositions) and what
 * changes (ticks, the PSW, counters), then sealed: no shrinking, no growing,
 * no writable mapping ever again.  hostk keeps the one writable mapping.
 *
 * Every exec gets it mapped read-only at HK_KREGION_ADDR, the top of the user
 * address space, by syscalls injected into the guest at the execve's exit
 * stop.  The descriptor comes in through the notification gate (filter.h):
 * hostk answers an injected marker syscall by installing its memfd in the
 * guest, with no process of hostk's the guest could open it from; then
 * mmap, close.  If the initial stack sits at the very top (address
 * randomization off), it is moved down first and the pointers in argv,
 * envp and auxv are fixed; any other mapping in the region's place (an ELF
 * or interpreter linked there) makes the exec fail.  Fork inherits the
 * mapping. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exc.h"
#include "inject.h"
#include "irq.h"
#include "kregion.h"
#include "policy.h"
#include "softirq.h"
#include "systab.h"
#include "task.h"
#include "trace.h"
#include "uaccess.h"
#include "util.h"

#define PAGE 4096ul
#ifndef SYS_mseal
#define SYS_mseal 462	/* x86-64; newer than the headers Debian 12 ships */
#endif
#define STACK_GAP 0x10000ul	/* between a moved stack and the region */

struct hk_kregion *kr;
static int kr_fd = -1;
static int kr_ro_fd = -1;		/* read-only: what guests get */
static bool have_mseal;			/* the host can seal mappings */
static unsigned long vdso_syscall_off;	/* a syscall instruction in the vDSO */

/* The vDSO is the same image in every 64-bit process of this host; find a
 * `syscall` instruction in hostk's own copy. */
static int find_vdso_syscall(void)
{
	const unsigned char *v = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)v;
	size_t size = 0;

	if (!v)
		return -ENOENT;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(v + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD)
			size = ph->p_memsz;
	}
	for (size_t i = 0; i + 1 < size; i++)
		if (v[i] == 0x0f && v[i + 1] == 0x05) {
			vdso_syscall_off = i;
			return 0;
		}
	return -ENOENT;
}

static void fill(void)
{
	unsigned char *disp = (unsigned char *)kr + sizeof *kr;
	struct timespec now;

	kr->magic = HK_KREGION_MAGIC;
	kr->version = HK_KREGION_VERSION;
	kr->size = HK_KREGION_SIZE;
	kr->hdr_size = sizeof *kr;
	kr->off_disp = sizeof *kr;
	kr->nr_syscalls = NR_SYSCALLS;
	snprintf(kr->kernel_name, sizeof kr->kernel_name, "hostk");
	snprintf(kr->kernel_version, sizeof kr->kernel_version, "%s", HOSTK_VERSION);
	clock_gettime(CLOCK_REALTIME, &now);
	kr->boot_time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	_Static_assert(NR_DISP <= NELEM(kr->disp_names), "the region names every disposition");
	for (int i = 0; i < NR_DISP; i++)
		snprintf(kr->disp_names[i], HK_NAME_LEN, "%s", disp_names[i]);
	for (long nr = 0; nr < NR_SYSCALLS; nr++)
		disp[nr] = (unsigned char)sys_disp(nr);
	kr->nr_softirqs = NR_SOFTIRQS;	/* the lines come as drivers request them */
	for (int s = 0; s < NR_SOFTIRQS; s++)
		snprintf(kr->softirq_names[s], HK_NAME_LEN, "%s", softirq_names[s]);
	kr->psw.intr_enabled = 1;
	kr->nr_exc = NR_EXC;
	for (int e = 0; e < NR_EXC; e++)
		snprintf(kr->exc_names[e], HK_NAME_LEN, "%s", exc_names[e]);
	kr->off_scratch = HK_KREGION_HEAD;
	kr->scratch_slots = HK_SCRATCH_SLOTS;
	kr->scratch_slot_size = HK_SCRATCH_SLOT;
}

int kregion_boot(void)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	char path[64];
	void *p;

	if (find_vdso_syscall() < 0)
		return -ENOEXEC;
	kr_fd = memfd_create("hostk-kregion", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (kr_fd < 0)
		return -errno;
	if (ftruncate(kr_fd, HK_KREGION_SIZE) < 0)
		return -errno;
	p = mmap(NULL, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, kr_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	kr = p;
	fill();
	if (fcntl(kr_fd, F_ADD_SEALS, seals) < 0)
		return -errno;
	/* A descriptor opened for reading only: a mapping made from it can
	 * never be given write permission, whatever a guest asks of it. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", kr_fd);
	if ((kr_ro_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	have_mseal = syscall(SYS_mseal, 0ul, 0ul, 0ul) == 0 || errno != ENOSYS;
	if (!have_mseal)
		warn("this kernel cannot seal mappings (mseal, Linux >= 6.10): the kernel region's fence "
		     "rests on hostk's checks alone");
	return 0;
}

/* The scratch slots: a stack of free ones; a task holds at most one, for
 * the syscall it is in (its exit stop or its end gives it back). */
static uint16_t free_slots[HK_SCRATCH_SLOTS];
static unsigned nfree = HK_SCRATCH_SLOTS;
static bool slots_ready;

void kregion_shutdown(void)
{
	if (kr)
		munmap(kr, HK_KREGION_SIZE);
	kr = NULL;
	if (kr_fd >= 0)
		close(kr_fd);
	if (kr_ro_fd >= 0)
		close(kr_ro_fd);
	kr_fd = kr_ro_fd = -1;
	nfree = HK_SCRATCH_SLOTS;
	slots_ready = false;
}

unsigned long kregion_scratch(struct task *tk, const void *data, size_t len)
{
	unsigned slot;

	if (!slots_ready) {
		for (unsigned i = 0; i < HK_SCRATCH_SLOTS; i++)
			free_slots[i] = (uint16_t)(HK_SCRATCH_SLOTS - 1 - i);
		slots_ready = true;
	}
	if (len > HK_SCRATCH_SLOT)
		return 0;
	if (!tk->scratch) {
		if (!nfree)
			return 0;
		tk->scratch = free_slots[--nfree] + 1;
	}
	slot = tk->scratch - 1;
	memcpy((char *)kr + HK_KREGION_HEAD + (size_t)slot * HK_SCRATCH_SLOT, data, len);
	return HK_KREGION_ADDR + HK_KREGION_HEAD + (unsigned long)slot * HK_SCRATCH_SLOT;
}

void kregion_scratch_put(struct task *tk)
{
	if (!tk->scratch)
		return;
	free_slots[nfree++] = (uint16_t)(tk->scratch - 1);
	tk->scratch = 0;
}

void fence_report(const struct task *tk, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int krs = kr_begin();
	kr->fence_refusals++;
	kr_end(krs);
	trace_event(tk, "fence: %s", msg);
	warn_often("pid %d: %s", tk->proc ? tk->proc->vpid : 0, msg);
}

/* Run a syscall in the freshly exec'd guest through its vDSO's syscall
 * instruction. */
static long inject(struct task *tk, const regs_t *regs, unsigned long vdso, long nr, const unsigned long a[6])
{
	return inject_syscall(tk, regs, vdso + vdso_syscall_off, nr, a);
}

/* Where the vDSO is in this guest: AT_SYSINFO_EHDR from its auxv. */
static unsigned long guest_vdso(pid_t tid)
{
	unsigned long av[2 * 64];
	ssize_t n = read_proc(tid, "auxv", av, sizeof av);

	for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof av[0]; i += 2)
		if (av[i] == AT_SYSINFO_EHDR)
			return av[i + 1];
	return 0;
}

/* A line of /proc/PID/maps. */
struct mapping {
	unsigned long start, end, off, ino;
	unsigned maj, min;
	char name[256];		/* "" for an anonymous mapping */
};

/* The first mapping of tid's that overlaps the region's addresses. */
static bool region_mapping(pid_t tid, struct mapping *m)
{
	char path[64], line[512];
	bool found = false;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/maps", tid);
	if (!(fp = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof line, fp)) {
		m->name[0] = 0;
		found = sscanf(line, "%lx-%lx %*s %lx %x:%x %lu %255[^\n]", &m->start, &m->end, &m->off, &m->maj,
			       &m->min, &m->ino, m->name) >= 6 &&
			kregion_overlaps(m->start, m->end - m->start);
	}
	fclose(fp);
	return found;
}

/* What occupies the region's place in the guest, if anything: the first
 * mapping there, its range, and whether it is the initial stack. */
static bool occupant(pid_t tid, unsigned long *start, unsigned long *end, bool *stack, char *what, size_t len)
{
	struct mapping m;

	if (!region_mapping(tid, &m))
		return false;
	*start = m.start;
	*end = m.end;
	*stack = !strcmp(m.name, "[stack]");
	snprintf(what, len, "%s", m.name[0] ? m.name : "an anonymous mapping");
	return true;
}

/* Is the region's place in the guest hostk's memfd, whole?  The gate that
 * brings the descriptor in is a syscall the guest makes: a seccomp filter
 * of the guest's own can answer it (SECCOMP_RET_ERRNO with 0 "returns"
 * descriptor 0) before hostk's listener hears of it, and hostk would map a
 * file of the guest's in the region's place, scratch slots and all. */
static bool region_is_hostks(pid_t tid)
{
	struct mapping m;
	struct stat st;

	return fstat(kr_ro_fd, &st) == 0 && region_mapping(tid, &m) && m.start == HK_KREGION_ADDR &&
	       m.end == HK_KREGION_TOP && m.off == 0 && m.ino == st.st_ino && makedev(m.maj, m.min) == st.st_dev;
}

/* Tell the host where argv and envp went, so /proc/PID/cmdline and environ
 * and the [stack] label follow the move.  Needs CAP_CHECKPOINT_RESTORE (root
 * guests); without it only those /proc views stay behind. */
static void tell_mm(struct task *tk, const regs_t *regs, unsigned long vdso, unsigned long start,
		    unsigned long end, unsigned long delta)
{
	unsigned long f[64] = { 0 }, a[6] = { PR_SET_MM, PR_SET_MM_MAP, 0, sizeof(struct prctl_mm_map), 0, 0 };
	struct prctl_mm_map map = { .exe_fd = (uint32_t)-1 };
	char buf[1024], *p;
	int n = 0;

	if (read_proc(tk->tid, "stat", buf, sizeof buf) <= 0 || !(p = strrchr(buf, ')')))
		return;
	/* After ") S ": f[k] is field k+4 of proc(5)'s list. */
	for (p += 4; n < 60 && *p; n++)
		f[n] = strtoul(p, &p, 10);
	if (n < 48)
		return;
#define MOVED(v) ((v) >= start && (v) <= end ? (v) - delta : (v))
	map.start_code = f[22];
	map.end_code = f[23];
	map.start_stack = MOVED(f[24]);
	map.start_data = f[41];
	map.end_data = f[42];
	map.start_brk = map.brk = f[43];
	map.arg_start = MOVED(f[44]);
	map.arg_end = MOVED(f[45]);
	map.env_start = MOVED(f[46]);
	map.env_end = MOVED(f[47]);
#undef MOVED
	a[2] = (regs->rsp - 2048) & ~15ul;
	if (copy_to_guest(tk->tid, a[2], &map, sizeof map) == 0)
		inject(tk, regs, vdso, SYS_prctl, a);
}

/* Move the initial stack down by delta and fix every pointer into it that
 * the program will find: rsp, argv[], envp[] and the auxv entries that point
 * at strings or random bytes on the stack. */
static long move_stack(struct task *tk, regs_t *regs, unsigned long vdso, unsigned long start, unsigned long end)
{
	unsigned long len = end - start, need = end - (HK_KREGION_ADDR - STACK_GAP);
	/* mremap will not move a range onto itself: go at least its length. */
	unsigned long delta = need > len ? need : len, sp = regs->rsp - delta;
	unsigned long a[6] = { start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, start - delta };
	unsigned long words[4096];
	size_t n = (end - regs->rsp) / sizeof words[0], i = 1, zeros = 0;
	long rc;

	if (n > NELEM(words))
		n = NELEM(words);
	if ((rc = inject(tk, regs, vdso, SYS_mremap, a)) != (long)(start - delta))
		return rc < 0 ? rc : -EFAULT;
	if (copy_from_guest(tk->tid, words, sp, n * sizeof words[0]) < 0)
		return -EFAULT;
	/* argc, argv..NULL, envp..NULL, then auxv (type, value) pairs. */
	for (; i < n && zeros < 2; i++) {
		if (!words[i])
			zeros++;
		else if (words[i] >= start && words[i] < end)
			words[i] -= delta;
	}
	for (; i + 1 < n && words[i] != AT_NULL; i += 2)
		if (words[i + 1] >= start && words[i + 1] < end)
			words[i + 1] -= delta;
	if (copy_to_guest(tk->tid, sp, words, i * sizeof words[0]) < 0)
		return -EFAULT;
	regs->rsp = sp;
	tell_mm(tk, regs, vdso, start, end, delta);
	return 0;
}

int kregion_map(struct task *tk, char *why, size_t len)
{
	unsigned long vdso = guest_vdso(tk->tid), a[6] = { 0 }, start, end;
	char what[256];
	regs_t regs, orig;
	long fd = -EINTR, rc;
	bool stack;

	snprintf(why, len, "no vDSO");
	if (!vdso || ptrace(PTRACE_GETREGS, tk->tid, 0, &regs) < 0)
		return -ENOEXEC;
	orig = regs;
	if (occupant(tk->tid, &start, &end, &stack, what, sizeof what)) {
		if (!stack) {
			snprintf(why, len, "%s occupies the kernel region's address %#lx-%#lx", what,
				 HK_KREGION_ADDR, HK_KREGION_TOP);
			return -EEXIST;
		}
		if ((rc = move_stack(tk, &regs, vdso, start, end)) < 0) {
			snprintf(why, len, "cannot move the stack out of the kernel region's way: %s",
				 strerror((int)-rc));
			goto restore;
		}
	}
	/* A signal can cut the gate's wait short: it is held back, so the
	 * next try goes through. */
	for (int tries = 0; tries < 3 && fd == -EINTR; tries++)
		fd = inject_fd(tk, &regs, vdso + vdso_syscall_off, kr_ro_fd, -1, true);
	if ((rc = fd) < 0) {
		snprintf(why, len, "its descriptor did not come through: %s", strerror((int)-fd));
		goto restore;
	}
	a[0] = HK_KREGION_ADDR;
	a[1] = HK_KREGION_SIZE;
	a[2] = PROT_READ;
	a[3] = MAP_SHARED | MAP_FIXED_NOREPLACE;
	a[4] = (unsigned long)fd;
	rc = inject(tk, &regs, vdso, SYS_mmap, a);
	a[0] = (unsigned long)fd;
	inject(tk, &regs, vdso, SYS_close, a);
	if (rc != (long)HK_KREGION_ADDR) {
		snprintf(why, len, "%s", rc < 0 ? strerror((int)-rc) : "mapped elsewhere");
		rc = rc < 0 ? rc : -EFAULT;
		goto restore;
	}
	if (!region_is_hostks(tk->tid)) {
		snprintf(why, len, "a file of its own was mapped in the region's place (does a seccomp filter of "
			 "its own answer hostk's gate?)");
		rc = -EPERM;
		goto restore;
	}
	/* Sealed (mseal, Linux 6.10): the host itself then refuses to unmap,
	 * move, re-protect, replace or drop the mapping, in this process and
	 * in every fork of it; hostk's own checks are the second layer. */
	rc = 0;
	if (have_mseal) {
		a[0] = HK_KREGION_ADDR;
		a[1] = HK_KREGION_SIZE;
		a[2] = 0;
		if ((rc = inject(tk, &regs, vdso, SYS_mseal, a)) < 0)
			snprintf(why, len, "cannot seal its mapping: %s", strerror((int)-rc));
	}
restore:
	orig.rsp = regs.rsp;
	ptrace(PTRACE_SETREGS, tk->tid, 0, &orig);
	return (int)rc;
}
