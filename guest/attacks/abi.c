/* abi.c - the other ways into the kernel, around a filter written for the
 * x86-64 syscall ABI: int 0x80 (the i386 ABI) from 64-bit code, from a
 * 32-bit code segment (the GDT's or one of the guest's own in the LDT), the
 * syscall and sysenter instructions from 32-bit and 64-bit code, x32
 * numbers, numbers with bits above 32, and a 32-bit program.  Every
 * attempted call is the i386 exit(42) (or its x86-64 equivalent): a child
 * that exits 42 got a syscall through. */
#include "attack.h"

#include <asm/ldt.h>
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

#define USER32_CS 0x23	/* Linux's 32-bit user code segment in the GDT */
#define X32_BIT 0x40000000ul

/* 32-bit code: esp = a stack below 4 GiB (filled in), eax = 1 (exit),
 * ebx = 42, then the entry instruction, then the tail. */
static const unsigned char code32_head[] = { 0xbc, 0, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0 };
/* If the call returns: int3 (SIGTRAP) if it failed with ENOSYS, else ud2
 * (SIGILL).  cmp eax, -38; jne +1; int3; ud2 */
static const unsigned char code32_tail[] = { 0x83, 0xf8, 0xda, 0x75, 0x01, 0xcc, 0x0f, 0x0b };

/* Copies the 32-bit stub ending in insn (2 bytes) below 4 GiB and jumps to
 * it through a far return to selector cs.  Never returns. */
static void far_to_32(unsigned cs, const unsigned char insn[2])
{
	unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
				-1, 0);

	if (p == MAP_FAILED)
		_exit(3);
	uint32_t sp = (uint32_t)(uintptr_t)p + PAGE - 64;

	memcpy(p, code32_head, sizeof code32_head);
	memcpy(p + 1, &sp, 4);
	memcpy(p + sizeof code32_head, insn, 2);
	memcpy(p + sizeof code32_head + 2, code32_tail, sizeof code32_tail);
	__asm__ volatile("pushq %0\n\tpushq %1\n\tlretq" : : "r"((uint64_t)cs), "r"((uint64_t)(uintptr_t)p) : "memory");
	_exit(4);
}

static const unsigned char INT80[2] = { 0xcd, 0x80 }, SYSCALL[2] = { 0x0f, 0x05 }, SYSENTER[2] = { 0x0f, 0x34 };

static void int80_64(void *arg)
{
	long r;

	(void)arg;
	__asm__ volatile("int $0x80" : "=a"(r) : "0"(1L), "b"(42L) : "memory");
	if (r == -ENOSYS)
		__asm__ volatile("int3");	/* as the 32-bit tail says it */
	_exit(5);
}

static void int80_32(void *arg)
{
	(void)arg;
	far_to_32(USER32_CS, INT80);
}

static void syscall_32(void *arg)
{
	(void)arg;
	far_to_32(USER32_CS, SYSCALL);
}

static void sysenter_32(void *arg)
{
	(void)arg;
	far_to_32(USER32_CS, SYSENTER);
}

static void sysenter_64(void *arg)
{
	long r;

	(void)arg;
	__asm__ volatile("sysenter" : "=a"(r) : "0"(60L), "D"(42L), "b"(42L) : "rcx", "r11", "memory");
	_exit(5);
}

/* A 32-bit code segment of the guest's own making, in its LDT. */
static void ldt_int80(void *arg)
{
	struct user_desc d = { .entry_number = 0, .base_addr = 0, .limit = 0xfffff, .seg_32bit = 1,
			       .contents = 2 /* code */, .limit_in_pages = 1, .useable = 1 };

	(void)arg;
	if (syscall(SYS_modify_ldt, 1, &d, sizeof d) < 0)
		_exit(6);
	far_to_32(0 << 3 | 4 | 3, INT80);	/* LDT entry 0, RPL 3 */
}

/* How a child that tried one of them ended, said the same way on every CPU:
 * how syscall and sysenter from the wrong mode end differs between vendors
 * (SIGILL on AMD, a filtered compat syscall on Intel), never whether a
 * syscall ran.  int 0x80 is the same everywhere: the filter fails it with
 * ENOSYS, and the child's int3 says so. */
static void entered(void (*fn)(void *), bool exact)
{
	int st = in_child(fn, NULL);

	note("%s: the child %s", what, how(st));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 42)
		report(what, "the syscall RAN (exit 42)");
	else if (exact && WIFSIGNALED(st) && WTERMSIG(st) == SIGTRAP)
		report(what, "the call failed with ENOSYS, no syscall ran");
	else if (exact)
		report(what, "%s, no syscall ran", how(st));
	else if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGSYS || WTERMSIG(st) == SIGILL || WTERMSIG(st) == SIGSEGV ||
				     WTERMSIG(st) == SIGTRAP))
		report(what, "killed, no syscall ran");
	else
		report(what, "%s", how(st));
}

/* A case that runs fn in a child and says how it ended. */
#define ENTERED(name, fn, exact) \
	static void name(int argc, char **argv) \
	{ \
		(void)argc, (void)argv; \
		entered(fn, exact); \
	}
ENTERED(t_int80, int80_64, true)
ENTERED(t_int80_32, int80_32, true)
ENTERED(t_ldt_int80, ldt_int80, true)
ENTERED(t_syscall_32, syscall_32, false)
ENTERED(t_sysenter_32, sysenter_32, false)
ENTERED(t_sysenter_64, sysenter_64, false)

/* Every number of the x32 ABI (the x86-64 numbers with bit 30 set, and its
 * own 512..547), with arguments that make any that ran harmless. */
static void t_x32(int argc, char **argv)
{
	int enosys = 0, n = 0;

	(void)argc, (void)argv;
	for (unsigned long nr = 0; nr < 548; nr++, n++) {
		long r = syscall((long)(X32_BIT | nr), -1L, -1L, -1L, -1L, -1L, -1L);

		if (r == -1 && errno == ENOSYS)
			enosys++;
		else
			note("x32 %lu: %ld %s", nr, r, ename(errno));
	}
	report(what, "%d x32 numbers, %d answered ENOSYS", n, enosys);
}

/* The kernel takes the syscall number from eax; the filter sees the same
 * 32 bits; only a tracer reads all 64 of rax.  A number with bits above 32
 * must not make a checked syscall pass as something else.  A child that the
 * clone made exits at once. */
static long raw_nr(unsigned long nr, long a0, long a1, long a2, bool clone)
{
	register long r10 __asm__("r10") = 0, r9 __asm__("r9") = clone;
	long r;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "test %%r9, %%r9\n\t"	/* a clone's child: leave now */
			 "jz 1f\n\t"
			 "movl $60, %%eax\n\t"
			 "xorl %%edi, %%edi\n\t"
			 "syscall\n"
			 "1:"
			 : "=a"(r)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

static void t_high_nr(int argc, char **argv)
{
	const unsigned long high = 1ul << 32;
	long c, u, m;

	(void)argc, (void)argv;
	c = raw_nr(high | SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, true);
	u = raw_nr(high | SYS_unshare, CLONE_NEWUSER, 0, 0, false);
	m = raw_nr(high | SYS_mount, (long)"none", (long)"/tmp", (long)"tmpfs", false);
	if (c > 0)
		waitpid((pid_t)c, NULL, 0);
	report(what, "clone(CLONE_UNTRACED) %s, unshare(CLONE_NEWUSER) %s, mount %s",
	       c < 0 ? ename((int)-c) : "RAN", u < 0 ? ename((int)-u) : "RAN", m < 0 ? ename((int)-m) : "RAN");
}

/* uretprobe (335) and uprobe (336) are let through every seccomp filter
 * by the host (they serve uprobe trampolines): outside one they must do
 * nothing but fail. */
static void uretprobe(void *arg)
{
	(void)arg;
	syscall(335);
	_exit(5);
}

static void t_uprobe(int argc, char **argv)
{
	long r = syscall(336);
	int e = errno;

	(void)argc, (void)argv;
	report(what, "uretprobe: the caller %s; uprobe: %s", how(in_child(uretprobe, NULL)), answer(r, e));
}

/* A 32-bit program (i386 ELF, built here into a memfd) that writes a line
 * and exits 42 with int 0x80. */
static void run_i386(void *arg)
{
	struct {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;
		unsigned char code[64];
	} __attribute__((packed)) img = { 0 };
	const uint32_t base = 0x08048000, code_at = base + offsetof(__typeof__(img), code);
	static const char msg[] = "i386: ran\n";
	unsigned char c[] = {
		0xb8, 4, 0, 0, 0, 0xbb, 1, 0, 0, 0,		/* write(1, */
		0xb9, 0, 0, 0, 0, 0xba, sizeof msg - 1, 0, 0, 0, /* msg, len) */
		0xcd, 0x80,
		0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80, /* exit(42) */
	};
	uint32_t msg_at = code_at + sizeof c;
	char *argv[] = { "i386", NULL };
	int fd = memfd_create("i386", 0);

	(void)arg;
	memcpy(c + 11, &msg_at, 4);
	memcpy(img.code, c, sizeof c);
	memcpy(img.code + sizeof c, msg, sizeof msg);
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_386;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = code_at;
	img.eh.e_phoff = sizeof img.eh;
	img.eh.e_ehsize = sizeof img.eh;
	img.eh.e_phentsize = sizeof img.ph;
	img.eh.e_phnum = 1;
	img.ph.p_type = PT_LOAD;
	img.ph.p_vaddr = img.ph.p_paddr = base;
	img.ph.p_filesz = img.ph.p_memsz = sizeof img;
	img.ph.p_flags = PF_R | PF_X;
	img.ph.p_align = PAGE;
	if (fd < 0 || write(fd, &img, sizeof img) != (ssize_t)sizeof img)
		_exit(7);
	syscall(SYS_execveat, fd, "", argv, NULL, AT_EMPTY_PATH);
	_exit(8);
}

ENTERED(t_exec_i386, run_i386, true)

static const struct attack cases[] = {
	{ "int80", t_int80, false },
	{ "int80-compat", t_int80_32, false },
	{ "ldt-int80", t_ldt_int80, false },
	{ "syscall-compat", t_syscall_32, false },
	{ "sysenter-compat", t_sysenter_32, false },
	{ "sysenter", t_sysenter_64, false },
	{ "x32", t_x32, false },
	{ "high-nr", t_high_nr, false },
	{ "exec-i386", t_exec_i386, false },
	{ "uprobe", t_uprobe, false },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "abi", cases, NELEM(cases));
}
