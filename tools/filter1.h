/* The benches' one-syscall seccomp filter: action for syscall nr, allow for
 * the rest (allow for all when nr < 0).  A header, not a file of its own,
 * because the static guest hk-loop and hostk's tracers both install it. */
#ifndef HOSTK_TOOLS_FILTER1_H
#define HOSTK_TOOLS_FILTER1_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* seccomp()'s result (a listener with SECCOMP_FILTER_FLAG_NEW_LISTENER), or
 * -1 with errno.  no_new_privs first: an unprivileged process needs it. */
static inline long filter1_install(long nr, unsigned action, unsigned flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };

	if (nr < 0) {
		prog.len = 1;
		prog.filter = &f[3];
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

#endif
