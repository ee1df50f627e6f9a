/* The trap table's interface: what each syscall row says, and the kinds of
 * arguments the trace decoder knows.  The rows themselves are data, in systab.c. */
#ifndef HOSTK_SYSTAB_H
#define HOSTK_SYSTAB_H

#include <stdbool.h>
#include <stdint.h>

struct trap;

/* What hostk does when a guest makes the syscall. */
enum disp {
	D_NONE,		/* not known to hostk yet: ENOSYS and one warning */
	D_FAST,		/* allowed by the filter: never traps */
	D_EMULATE,	/* hostk computes the result; the host syscall is skipped */
	D_CHECK,	/* hostk validates or rewrites arguments, then the host runs it */
	D_DENY,		/* fails with the row's errno (EPERM unless the row says) */
	D_KILL,		/* the calling process is killed (SIGKILL) */
	D_TRAP,		/* a policy's: traps (to be traced), then the host runs it */
	NR_DISP
};

/* How the trace decoder prints an argument. */
enum argk {
	A_NONE,
	A_INT,		/* signed decimal */
	A_UINT,		/* unsigned decimal (sizes, counts) */
	A_HEX,		/* flags and masks with no decoder: 0x... */
	A_PTR,		/* address: 0x... or NULL */
	A_STR,		/* NUL-terminated string (path), read from the guest */
	A_FD,		/* file descriptor; AT_FDCWD by name */
	A_PID,		/* a guest pid */
	A_SIG,		/* signal number, by name */
	A_OFLAGS,	/* open(2) flags, by name */
	A_CLONE,	/* clone(2) flags, by name */
	A_PROT,		/* mmap/mprotect protection, by name */
	A_MMAP,		/* mmap flags, by name */
	A_OCT,		/* mode_t in octal */
	NR_ARGK
};

/* Entry handler's verdict: what the trap path does next. */
enum trap_action {
	TRAP_RETURN,	/* emulated: skip the host syscall, return t->ret */
	TRAP_RUN,	/* let the host run the (maybe rewritten) syscall */
	TRAP_RUN_EXIT,	/* let the host run it and call the row's exit handler after */
};

/* Row flags. */
#define SY_BLOCK 0x1	/* may block in the host: the task gives up its CPU meanwhile */

typedef enum trap_action sys_enter_fn(struct trap *t);
typedef void sys_exit_fn(struct trap *t);

struct sysent {
	const char *name;
	uint8_t nargs;
	uint8_t disp;		/* enum disp */
	uint8_t args[6];	/* enum argk, one per argument */
	uint8_t err;		/* errno for D_DENY; 0 means EPERM */
	uint8_t flags;		/* SY_* */
	sys_enter_fn *enter;	/* D_EMULATE and D_CHECK only */
	sys_exit_fn *exit;	/* called after the host ran it (TRAP_RUN_EXIT) */
	const char *note;	/* why this disposition, for `hostk syscalls` */
};

/* One more than the highest syscall number the host headers know. */
#define NR_SYSCALLS 451

extern const struct sysent systab[NR_SYSCALLS];
extern const char *const disp_names[NR_DISP];

/* The row for nr, or NULL for a number outside the table or without a row. */
static inline const struct sysent *sysent_of(long nr)
{
	if (nr < 0 || nr >= NR_SYSCALLS || !systab[nr].name)
		return 0;
	return &systab[nr];
}

/* Effective disposition of nr after policy overrides (policy.c). */
enum disp sys_disp(long nr);

#endif
