/* Policy (policy.c): what a policy file, a built-in policy or the command
 * line make of the trap table's dispositions, the guests' view of paths, and
 * their limits. */
#ifndef HOSTK_POLICY_H
#define HOSTK_POLICY_H

#include <stdbool.h>
#include <stdio.h>

#include "systab.h"

/* Path rules, applied by the guests' mount namespace (ns.c). */
enum path_kind {
	PATH_ALLOW,	/* if any: only these are visible (a new root), writable as on the host */
	PATH_READONLY,	/* visible, not writable */
	PATH_HIDE,	/* its contents invisible (an empty, read-only directory or file over it) */
	NR_PATH_KINDS
};

struct path_rule {
	enum path_kind kind;
	char path[256];
};

#define MAX_PATH_RULES 64

/* Limits for the whole guest tree; 0: none. */
struct limits {
	unsigned long tasks;		/* guest processes and threads (fork fails with EAGAIN) */
	unsigned long cpu_s;		/* CPU seconds of all guests together: then they are killed */
	unsigned long as;		/* bytes of address space, per process */
	unsigned long nofile;		/* open files, per process */
	unsigned long fsize;		/* bytes a file may grow to */
};

extern struct path_rule path_rules[MAX_PATH_RULES];
extern int npath_rules;
extern struct limits limits;

/* "NAME" or "NAME=ERRNO" (errno by number or name, e.g. EACCES), for
 * --deny and --kill.  Returns 0, or -1 when the syscall or errno is not
 * known. */
int policy_set(const char *spec, enum disp d);
/* A syscall that runs at full speed (D_FAST) traps after all (D_CHECK): a
 * feature needs to see it.  Any other disposition (a policy's deny, trap,
 * kill) stays.  -1 if the name is not a syscall's. */
int policy_need_trap(const char *name);
/* Load a policy: a built-in one by name (default, strict, trace-all,
 * permissive) or a file.  0, or -1 with err saying "FILE:LINE:COL:
 * message" (or why the file cannot be read). */
int policy_load(const char *name_or_file, char *err, size_t errlen);
/* Back to the trap table as it is, no path rules, no limits (tests). */
void policy_reset(void);
/* A built-in policy's text, or NULL. */
const char *policy_builtin(const char *name);
/* Every built-in policy's name, NULL-terminated. */
extern const char *const policy_names[];

int policy_errno(long nr);
long sys_lookup(const char *name);
int errno_lookup(const char *name);
const char *errno_name(int err);

#endif
