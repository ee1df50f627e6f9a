/* The kernel region.  A memfd made at boot, filled with what a guest may
 * know of hostk (names, boot time, the trap table's dispositions) and what
 * changes (ticks, the PSW, counters), then sealed: no shrinking, no growing,
 * no writable mapping ever again.  hostk keeps the one writable mapping.
 *
 * Every exec gets it mapped read-only at HK_KREGION_ADDR, the top of the user
 * address space, by syscalls injected into the guest at the execve's exit
 * stop: open it, mmap it, close it.  The guest opens it through
 * /proc/HOLDER/fd/N, where the holder is a tiny dumpable child of hostk that
 * only keeps the descriptor: hostk itself stays undumpable, so nothing of a
 * guest's reaches into hostk.  If the initial stack sits at the very top
 * (address randomization off), it is moved down first and the pointers in
 * argv, envp and auxv are fixed.  Fork inherits the mapping. */
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
#define STACK_GAP 0x10000ul	/* between a moved stack and the region */

struct hk_kregion *kr;
static int kr_fd = -1;
static pid_t holder;
static char holder_path[64];
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
	static const char *const dnames[] = { "none", "fast", "emulate", "check", "deny", "kill" };
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
	_Static_assert(NR_DISP <= NELEM(dnames), "a name for every disposition");
	for (size_t i = 0; i < NELEM(dnames); i++)
		snprintf(kr->disp_names[i], HK_NAME_LEN, "%s", dnames[i]);
	for (long nr = 0; nr < NR_SYSCALLS; nr++)
		disp[nr] = (unsigned char)sys_disp(nr);
	kr->nr_irqs = NR_IRQS;
	kr->nr_softirqs = NR_SOFTIRQS;
	for (int l = 0; l < NR_IRQS; l++)
		snprintf(kr->irq_names[l], HK_NAME_LEN, "%s", irq_names[l]);
	for (int s = 0; s < NR_SOFTIRQS; s++)
		snprintf(kr->softirq_names[s], HK_NAME_LEN, "%s", softirq_names[s]);
	kr->psw.intr_enabled = 1;
}

/* The holder: keeps the region's descriptor open where a guest may open it,
 * and dies with hostk. */
static _Noreturn void hold(pid_t parent, int ready)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[2] = { { 0 } };
	sigset_t all;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "hostk-kregion", 0, 0, 0);
	/* Openable by guests: dumpable, and no capability a guest lacks (the
	 * host lets a process into another's fds only if it holds all of the
	 * other's capabilities). */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	syscall(SYS_capset, &hdr, none);
	if (write(ready, "r", 1) != 1)	/* now guests may open it */
		_exit(1);
	syscall(SYS_close_range, 0, kr_fd - 1, 0);
	syscall(SYS_close_range, kr_fd + 1, ~0u, 0);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;)
		pause();
}

int kregion_boot(void)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
	pid_t self = getpid();
	int ready[2];
	bool ok;
	void *p;
	char c;

	if (find_vdso_syscall() < 0)
		return -ENOEXEC;
	kr_fd = memfd_create("hostk-kregion", MFD_ALLOW_SEALING);
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
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	holder = fork();
	if (holder < 0)
		return -errno;
	if (holder == 0)
		hold(self, ready[1]);
	close(ready[1]);
	/* Not before the holder is openable: a guest exec'd earlier would be
	 * refused its region. */
	ok = read(ready[0], &c, 1) == 1;
	close(ready[0]);
	if (!ok)
		return -ECHILD;
	snprintf(holder_path, sizeof holder_path, "/proc/%d/fd/%d", holder, kr_fd);
	return 0;
}

void fence_report(const struct task *tk, const char *fmt, ...)
{
	static int reported;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int krs = kr_begin();
	kr->fence_refusals++;
	kr_end(krs);
	trace_event(tk, "fence: %s", msg);
	if (reported++ < 16)
		warn("pid %d: %s", tk->proc ? tk->proc->vpid : 0, msg);
}

void kregion_shutdown(void)
{
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		holder = 0;
	}
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
	char path[64];
	unsigned long av[2 * 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/auxv", tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, av, sizeof av);
	close(fd);
	for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof av[0]; i += 2)
		if (av[i] == AT_SYSINFO_EHDR)
			return av[i + 1];
	return 0;
}

/* The guest's stack mapping, if it reaches into the region's place. */
static bool stack_in_the_way(pid_t tid, unsigned long *start, unsigned long *end)
{
	char path[64], line[512];
	bool found = false;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/maps", tid);
	if (!(fp = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof line, fp))
		if (sscanf(line, "%lx-%lx", start, end) == 2 && kregion_overlaps(*start, *end - *start)) {
			found = strstr(line, "[stack]") != NULL;
			break;
		}
	fclose(fp);
	return found;
}

/* Tell the host where argv and envp went, so /proc/PID/cmdline and environ
 * and the [stack] label follow the move.  Needs CAP_CHECKPOINT_RESTORE (root
 * guests); without it only those /proc views stay behind. */
static void tell_mm(struct task *tk, const regs_t *regs, unsigned long vdso, unsigned long start,
		    unsigned long end, unsigned long delta)
{
	unsigned long f[64] = { 0 }, a[6] = { PR_SET_MM, PR_SET_MM_MAP, 0, sizeof(struct prctl_mm_map), 0, 0 };
	struct prctl_mm_map map = { .exe_fd = (uint32_t)-1 };
	char path[64], buf[1024], *p;
	int fd, n = 0;
	ssize_t len;

	snprintf(path, sizeof path, "/proc/%d/stat", tk->tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0 || !(p = strrchr((buf[len] = 0, buf), ')')))
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

void kregion_map(struct task *tk)
{
	unsigned long vdso = guest_vdso(tk->tid), path, a[6] = { 0 }, start, end;
	const char *why = "no vDSO";
	regs_t regs, orig;
	long fd, rc = -1, move_rc;

	if (!vdso || ptrace(PTRACE_GETREGS, tk->tid, 0, &regs) < 0)
		goto fail;
	orig = regs;
	/* The path goes on the stack, well below the red zone. */
	path = (regs.rsp - 1024) & ~15ul;
	why = "no room on the stack";
	if (copy_to_guest(tk->tid, path, holder_path, strlen(holder_path) + 1) < 0)
		goto fail;
	a[0] = (unsigned long)AT_FDCWD;
	a[1] = path;
	a[2] = O_RDONLY | O_CLOEXEC;
	fd = inject(tk, &regs, vdso, SYS_openat, a);
	if (fd < 0) {
		why = strerror((int)-fd);
		goto restore;
	}
	if (stack_in_the_way(tk->tid, &start, &end) && (move_rc = move_stack(tk, &regs, vdso, start, end)) < 0)
		warn("pid %d: cannot move the stack out of the kernel region's way: %s", tk->proc->vpid, strerror((int)-move_rc));
	a[0] = HK_KREGION_ADDR;
	a[1] = HK_KREGION_SIZE;
	a[2] = PROT_READ;
	a[3] = MAP_SHARED | MAP_FIXED_NOREPLACE;
	a[4] = (unsigned long)fd;
	a[5] = 0;
	rc = inject(tk, &regs, vdso, SYS_mmap, a);
	a[0] = (unsigned long)fd;
	inject(tk, &regs, vdso, SYS_close, a);
	why = rc < 0 ? strerror((int)-rc) : "mapped elsewhere";
restore:
	orig.rsp = regs.rsp;
	ptrace(PTRACE_SETREGS, tk->tid, 0, &orig);
	if (rc == (long)HK_KREGION_ADDR)
		return;
fail:
	warn("pid %d: the kernel region could not be mapped: %s", tk->proc ? tk->proc->vpid : 0, why);
}
