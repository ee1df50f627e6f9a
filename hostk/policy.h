/* Policy: overrides of the trap table's dispositions from the command line. */
#ifndef HOSTK_POLICY_H
#define HOSTK_POLICY_H

#include "systab.h"

/* "NAME" or "NAME=ERRNO" (errno by number or name, e.g. EACCES).  Returns 0,
 * or -1 when the syscall or errno is not known. */
int policy_set(const char *spec, enum disp d);
int policy_errno(long nr);
long sys_lookup(const char *name);
int errno_lookup(const char *name);
const char *errno_name(int err);

#endif
