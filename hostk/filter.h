/* The seccomp filter, generated from the trap table and the policy. */
#ifndef HOSTK_FILTER_H
#define HOSTK_FILTER_H

#include <stdio.h>

/* Builds the filters (libseccomp contexts) once, at boot.  0 or -errno. */
int filter_build(void);
/* Loads them into the calling thread (the guest, before its exec). */
int filter_load(void);
/* The filters in libseccomp's pseudo code, for `hostk syscalls --filter`. */
void filter_dump(FILE *fp);

#endif
