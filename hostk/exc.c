/* Exceptions.  A divide by zero, a bad access, an illegal, privileged or
 * breakpoint instruction reaches hostk as a signal-delivery stop before the
 * guest sees the signal.  hostk names the exception from the signal, its
 * si_code and the faulting instruction (its bytes, read from the guest):
 * which privileged instruction raised a #GP, whether a page fault read,
 * wrote or fetched, on nothing mapped or against a protection, on the kernel
 * region or past the stack.  It counts each kind (the kernel region shows
 * them, --stats prints them), traces it with the instruction pointer and
 * bytes, and then the signal goes on as Linux would deliver it, unless
 * --on-exception says otherwise (stop.c acts on that). */
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>

#include "exc.h"
#include "kregion.h"
#include "task.h"
#include "trace.h"
#include "uaccess.h"
#include "util.h"

const char *const exc_names[NR_EXC] = {
	[EXC_DIVIDE] = "divide error",
	[EXC_FLOAT] = "floating point",
	[EXC_OPCODE] = "invalid opcode",
	[EXC_PRIVILEGED] = "privileged insn",
	[EXC_GP] = "gp fault",
	[EXC_BREAKPOINT] = "breakpoint",
	[EXC_STEP] = "single step",
	[EXC_UNMAPPED] = "page not mapped",
	[EXC_PROTECTION] = "page protection",
	[EXC_KREGION] = "kernel region",
	[EXC_STACK] = "stack overflow",
	[EXC_BUS] = "bus error",
	[EXC_ALIGN] = "alignment",
};
_Static_assert(NELEM(exc_names) == NR_EXC, "a name for every exception");

const char *const exc_action_names[NR_EXC_ACTIONS] = {
	[EXC_DELIVER] = "deliver", [EXC_KILL] = "kill", [EXC_STOP] = "stop",
};
enum exc_action exc_action = EXC_DELIVER;

#define INSN_MAX 15	/* the longest x86 instruction */

/* The instruction at ip, as much of it as is mapped. */
static int read_insn(pid_t tid, unsigned long ip, unsigned char *b)
{
	int n = INSN_MAX;

	while (n > 0 && copy_from_guest(tid, b, ip, (size_t)n) < 0)
		n--;
	return n;
}

/* Past the legacy prefixes and REX: the opcode's first byte. */
static int opcode_at(const unsigned char *b, int n)
{
	int i = 0;

	while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 ||
			 b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 ||
			 b[i] == 0x65 || (b[i] >= 0x40 && b[i] <= 0x4f)))
		i++;
	return i < n ? i : -1;
}

/* A #GP: which privileged instruction, or an SSE access that must be
 * aligned, or NULL (something else: a non-canonical address...). */
static const char *gp_cause(const unsigned char *b, int n, enum exc_kind *kind)
{
	int i = opcode_at(b, n);
	unsigned op, op2, reg;

	if (i < 0)
		return NULL;
	op = b[i];
	op2 = i + 1 < n ? b[i + 1] : 0x100;
	reg = i + 2 < n ? (b[i + 2] >> 3) & 7 : 8;
	*kind = EXC_PRIVILEGED;
	switch (op) {
	case 0xf4: return "hlt";
	case 0xfa: return "cli";
	case 0xfb: return "sti";
	case 0xe4: case 0xe5: case 0xec: case 0xed: case 0x6c: case 0x6d: return "in";
	case 0xe6: case 0xe7: case 0xee: case 0xef: case 0x6e: case 0x6f: return "out";
	case 0xcd: return "int n";
	case 0xcf: return "iret";
	case 0x0f:
		switch (op2) {
		case 0x30: return "wrmsr";
		case 0x32: return "rdmsr";
		case 0x33: return "rdpmc";
		case 0x20: return "mov from a control register";
		case 0x22: return "mov to a control register";
		case 0x21: case 0x23: return "mov to or from a debug register";
		case 0x06: return "clts";
		case 0x08: return "invd";
		case 0x09: return "wbinvd";
		case 0x07: return "sysret";
		case 0x00: return reg == 2 ? "lldt" : reg == 3 ? "ltr" : NULL;
		case 0x01: return reg == 2 ? "lgdt" : reg == 3 ? "lidt" : reg == 6 ? "lmsw" : reg == 7 ? "invlpg" : NULL;
		case 0x28: case 0x29: case 0x2b: case 0x6f: case 0x7f: case 0xe7:
			*kind = EXC_ALIGN;
			return "an SSE access that must be aligned";
		}
	}
	*kind = EXC_GP;
	return NULL;
}

/* Does the instruction write memory?  (A page fault's error code says,
 * but only the guest's signal frame gets it; the opcode tells most.) */
static bool writes_memory(const unsigned char *b, int n)
{
	int i = opcode_at(b, n);
	unsigned op, op2, reg;

	if (i < 0)
		return false;
	op = b[i];
	op2 = i + 1 < n ? b[i + 1] : 0;
	reg = i + 1 < n ? (b[i + 1] >> 3) & 7 : 0;	/* the ModRM's reg field, one-byte opcodes */
	switch (op) {
	case 0x88: case 0x89: case 0xc6: case 0xc7: case 0x86: case 0x87: case 0x8f:
	case 0xaa: case 0xab: case 0xa4: case 0xa5:
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: case 0xc0: case 0xc1:
		return true;
	case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11: case 0x18: case 0x19:
	case 0x20: case 0x21: case 0x28: case 0x29: case 0x30: case 0x31:
		return true;	/* op r/m, reg: the destination is memory */
	case 0x80: case 0x81: case 0x83:
		return reg != 7;	/* all but cmp */
	case 0xf6: case 0xf7:
		return reg == 2 || reg == 3;	/* not, neg */
	case 0xfe: case 0xff:
		return reg <= 1 || reg == 6;	/* inc, dec, push */
	case 0x0f:
		return op2 == 0x11 || op2 == 0x29 || op2 == 0x2b || op2 == 0x7f || op2 == 0xe7 || op2 == 0xc3 ||
		       op2 == 0xb0 || op2 == 0xb1 || op2 == 0xc0 || op2 == 0xc1 || op2 == 0xab || op2 == 0xb3 ||
		       op2 == 0xbb || (op2 >= 0x90 && op2 <= 0x9f);
	default:
		return false;
	}
}

/* A page fault's address just below the stack pointer (a thread's stack or
 * the main one) is the stack growing past its end. */
static bool past_stack(unsigned long addr, unsigned long sp)
{
	return addr < sp + 256 && sp - addr < (64ul << 10);
}

struct exc {
	enum exc_kind kind;
	const char *detail;
};

static struct exc classify(const siginfo_t *si, const regs_t *r, const unsigned char *b, int n)
{
	unsigned long addr = (unsigned long)si->si_addr;
	struct exc e = { EXC_GP, NULL };

	switch (si->si_signo) {
	case SIGFPE:
		e.kind = si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF ? EXC_DIVIDE : EXC_FLOAT;
		return e;
	case SIGILL:
		e.kind = si->si_code == ILL_PRVOPC || si->si_code == ILL_PRVREG ? EXC_PRIVILEGED : EXC_OPCODE;
		return e;
	case SIGTRAP:
		e.kind = si->si_code == TRAP_TRACE ? EXC_STEP : EXC_BREAKPOINT;
		e.detail = si->si_code == TRAP_HWBKPT ? "hardware" : NULL;
		return e;
	case SIGBUS:
		e.kind = si->si_code == BUS_ADRALN ? EXC_ALIGN : EXC_BUS;
		e.detail = si->si_code == BUS_MCEERR_AR || si->si_code == BUS_MCEERR_AO ? "machine check" : NULL;
		return e;
	case SIGSEGV:
		break;
	default:
		return e;
	}
	if (si->si_code == SI_KERNEL) {	/* a #GP: si_addr says nothing */
		e.detail = gp_cause(b, n, &e.kind);
		return e;
	}
	if (kregion_overlaps(addr, 1))
		e.kind = EXC_KREGION;
	else if (si->si_code == SEGV_MAPERR && past_stack(addr, r->rsp))
		e.kind = EXC_STACK;
	else
		e.kind = si->si_code == SEGV_MAPERR ? EXC_UNMAPPED : EXC_PROTECTION;
	if (si->si_code == SEGV_PKUERR)
		e.detail = "protection key";
	else if (addr == r->rip)
		e.detail = "execute";
	else
		e.detail = writes_memory(b, n) ? "write" : "read";
	return e;
}

bool exc_seen(struct task *tk, const siginfo_t *si)
{
	unsigned char b[INSN_MAX];
	char bytes[3 * INSN_MAX + 1] = "", where[64] = "";
	struct exc e;
	regs_t r;
	int n = 0;

	/* si_code > 0: raised by the CPU, not sent by a process. */
	if (si->si_code <= 0 || (si->si_signo != SIGSEGV && si->si_signo != SIGBUS && si->si_signo != SIGFPE &&
				 si->si_signo != SIGILL && si->si_signo != SIGTRAP))
		return false;
	if (ptrace(PTRACE_GETREGS, tk->tid, 0, &r) < 0)
		return false;
	n = read_insn(tk->tid, r.rip, b);
	e = classify(si, &r, b, n);
	/* int3 traps after itself: show the instruction that raised it. */
	if (e.kind == EXC_BREAKPOINT && si->si_code == SI_KERNEL && read_insn(tk->tid, r.rip - 1, b) > 0 && b[0] == 0xcc)
		n = read_insn(tk->tid, --r.rip, b);
	stats_exception(e.kind);
	int krs = kr_begin();
	kr->exceptions++;
	kr->exc_count[e.kind]++;
	kr_end(krs);
	if (e.kind == EXC_KREGION)
		fence_report(tk, "protection fault in the kernel region at %p", si->si_addr);
	if (!trace_fp)
		return true;
	for (int i = 0; i < n && i < 8; i++)
		snprintf(bytes + 3 * i, sizeof bytes - 3 * (size_t)i, "%02x ", b[i]);
	bytes[n ? 3 * (n < 8 ? n : 8) - 1 : 0] = 0;
	/* A #GP and an alignment check carry no address. */
	if ((si->si_signo == SIGSEGV && si->si_code != SI_KERNEL) || (si->si_signo == SIGBUS && si->si_code != BUS_ADRALN))
		snprintf(where, sizeof where, " at %p", si->si_addr);
	trace_event(tk, "exception: %s%s%s%s%s (signal %d, code %d) ip %#llx [%s]", exc_names[e.kind],
		    e.detail ? " (" : "", e.detail ? e.detail : "", e.detail ? ")" : "", where, si->si_signo,
		    si->si_code, (unsigned long long)r.rip, bytes);
	return true;
}
