/* Running a syscall inside a stopped guest, as if the guest had made it. */
#ifndef HOSTK_INJECT_H
#define HOSTK_INJECT_H

#include <stdbool.h>

#include "task.h"

/* tk is at a syscall-exit stop with registers regs; insn is the address of a
 * syscall instruction in its address space (reg_ip(regs) - 2 after an
 * ordinary syscall; one in the vDSO after an exec).  Runs nr(args) in the
 * guest and returns its result, or -ESRCH when the guest died meanwhile (its
 * exit report is left for the kernel loop).  The caller writes the registers
 * it wants the guest to resume with afterwards. */
long inject_syscall(struct task *tk, const regs_t *regs, unsigned long insn, long nr, const unsigned long args[6]);
/* The notification gate's listener (hostk's end, from the first guest). */
void inject_set_gate(int listener);
/* Put hostk's descriptor fd into the guest through the gate: the marker
 * syscall (filter.h) is injected and answered by installing fd, at number
 * target if it is >= 0 (replacing what is there, as dup2 does), else at
 * the lowest free one.  Returns the number in the guest, or -errno. */
long inject_fd(struct task *tk, const regs_t *regs, unsigned long insn, int fd, int target, bool cloexec);

#endif
