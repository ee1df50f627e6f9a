/* Register access for x86-64 guests: where the syscall number, arguments,
 * result, instruction and stack pointers live in a ptrace register frame. */
#ifndef HOSTK_ARCH_X86_64_H
#define HOSTK_ARCH_X86_64_H

#include <sys/user.h>

typedef struct user_regs_struct regs_t;

#define SYSCALL_INSN_LEN 2	/* 0f 05 */

static inline long reg_nr(const regs_t *r) { return (long)r->orig_rax; }
static inline void reg_set_nr(regs_t *r, long nr) { r->orig_rax = (unsigned long long)nr; }
static inline long reg_ret(const regs_t *r) { return (long)r->rax; }
static inline void reg_set_ret(regs_t *r, long v) { r->rax = (unsigned long long)v; }
static inline unsigned long reg_ip(const regs_t *r) { return r->rip; }
static inline unsigned long reg_sp(const regs_t *r) { return r->rsp; }

static inline unsigned long reg_arg(const regs_t *r, int i)
{
	switch (i) {
	case 0: return r->rdi;
	case 1: return r->rsi;
	case 2: return r->rdx;
	case 3: return r->r10;
	case 4: return r->r8;
	default: return r->r9;
	}
}

static inline void reg_set_arg(regs_t *r, int i, unsigned long v)
{
	switch (i) {
	case 0: r->rdi = v; break;
	case 1: r->rsi = v; break;
	case 2: r->rdx = v; break;
	case 3: r->r10 = v; break;
	case 4: r->r8 = v; break;
	default: r->r9 = v; break;
	}
}

#endif
