/* exceptions.c - every kind of CPU exception, each in a child of its own:
 * privileged instructions (hlt, cli, sti, in, out, rdmsr, wrmsr, mov to
 * cr0), a non-canonical address, ud2, int3, a single step, integer and SSE
 * divides, page faults (nothing mapped; a protection; read, write, fetch),
 * a store into the kernel region (under hostk), a stack overflow, a bus
 * error, an alignment check and a misaligned SSE access.  The parent prints
 * what each child died of, so that a native run and a hostk run must agree;
 * hostk's names for them are checked from its --stats (tests/cli).
 * `exceptions [KIND...]`. */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <xmmintrin.h>

#include <hostk/libhk.h>

static void *page(int prot)
{
	void *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(3);
	return p;
}

static void x_hlt(void) { __asm__ volatile("hlt"); }
static void x_cli(void) { __asm__ volatile("cli"); }
static void x_sti(void) { __asm__ volatile("sti"); }
static void x_in(void) { __asm__ volatile("inb $0x60, %%al" ::: "eax"); }
static void x_out(void) { __asm__ volatile("outb %%al, $0x80" ::"a"(0)); }
static void x_rdmsr(void) { __asm__ volatile("rdmsr" ::"c"(0x10) : "eax", "edx"); }
static void x_wrmsr(void) { __asm__ volatile("wrmsr" ::"c"(0x10), "a"(0), "d"(0)); }
static void x_movcr(void) { __asm__ volatile("mov %0, %%cr0" ::"r"(0ul)); }
static void x_noncanon(void) { *(volatile long *)0x8000000000000000ul = 1; }
static void x_ud2(void) { __asm__ volatile("ud2"); }
static void x_int3(void) { __asm__ volatile("int3"); }
static void x_step(void) { __asm__ volatile("pushf; orl $0x100, (%%rsp); popf; nop" ::: "memory", "cc"); }

static void x_divide(void)
{
	volatile int a = 1, b = 0;

	a = a / b;
}

static void x_sse_divide(void)
{
	volatile float a = 1, b = 0;

	_mm_setcsr(_mm_getcsr() & ~(unsigned)_MM_MASK_DIV_ZERO);
	a = a / b;
}

static volatile int *volatile low = (int *)16;	/* nothing is mapped there */

static void x_unmapped_read(void) { (void)*low; }
static void x_unmapped_write(void) { *low = 1; }
static void x_unmapped_exec(void) { ((void (*)(void))(uintptr_t)low)(); }
static void x_prot_read(void) { (void)*(volatile int *)page(PROT_NONE); }
static void x_prot_write(void) { *(volatile int *)page(PROT_READ) = 1; }

static void x_prot_exec(void)
{
	unsigned char *p = page(PROT_READ | PROT_WRITE);

	p[0] = 0xc3;	/* ret, on a page that may not run */
	((void (*)(void))p)();
}

static void x_kregion(void)
{
	/* Natively nothing is there (unmapped); under hostk the region is. */
	*(volatile int *)(HK_KREGION_ADDR + 64) = 1;
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"	/* the point: it never ends */
static int deep(int n)
{
	volatile char pad[4096];

	pad[0] = (char)n;
	return deep(n + 1) + pad[0];
}

static void x_stack(void) { deep(0); }

static void x_bus(void)
{
	char path[] = "/tmp/hostk-exc-XXXXXX";
	int fd = mkstemp(path);
	volatile char *p;

	unlink(path);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		exit(3);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ftruncate(fd, 0) < 0)
		exit(3);
	p[0] = 1;	/* the page is past the file's end now */
}

static void x_align(void)
{
	static char buf[16];

	__asm__ volatile("pushf; orl $0x40000, (%%rsp); popf" ::: "memory", "cc");	/* EFLAGS.AC */
	*(volatile int *)(buf + 1) = 1;
}

static void x_sse_align(void)
{
	static float buf[8] __attribute__((aligned(16)));

	__asm__ volatile("movaps (%0), %%xmm0" ::"r"((char *)buf + 4) : "xmm0");
}

static const struct { const char *name; void (*fn)(void); } kinds[] = {
	{ "hlt", x_hlt }, { "cli", x_cli }, { "sti", x_sti }, { "in", x_in }, { "out", x_out },
	{ "rdmsr", x_rdmsr }, { "wrmsr", x_wrmsr }, { "mov_cr0", x_movcr }, { "noncanonical", x_noncanon },
	{ "ud2", x_ud2 }, { "int3", x_int3 }, { "step", x_step }, { "divide", x_divide },
	{ "sse_divide", x_sse_divide }, { "unmapped_read", x_unmapped_read },
	{ "unmapped_write", x_unmapped_write }, { "unmapped_exec", x_unmapped_exec },
	{ "prot_read", x_prot_read }, { "prot_write", x_prot_write }, { "prot_exec", x_prot_exec },
	{ "kregion_write", x_kregion }, { "stack", x_stack }, { "bus", x_bus }, { "align", x_align },
	{ "sse_align", x_sse_align },
};

static void run(size_t i)
{
	char how[32];
	pid_t pid = child();
	int st;

	if (pid == 0) {
		kinds[i].fn();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	say("%s: %s", kinds[i].name, WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : wstr(st, how, sizeof how));
}

int main(int argc, char **argv)
{
	size_t n = sizeof kinds / sizeof kinds[0];

	for (size_t i = 0; i < n; i++) {
		bool want = argc == 1;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], kinds[i].name);
		if (want)
			run(i);
	}
	return finish();
}
