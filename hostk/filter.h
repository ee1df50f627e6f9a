/* The seccomp filter, generated from the trap table and the policy. */
#ifndef HOSTK_FILTER_H
#define HOSTK_FILTER_H

#include <stdio.h>

#include <stdint.h>

/* The marker syscall of the notification gate: the hostk call with this
 * operation and the boot's cookie is answered through hostk's seccomp
 * listener instead of a ptrace stop, which is how hostk puts one of its
 * descriptors into a guest (SECCOMP_IOCTL_NOTIF_ADDFD).  A guest cannot
 * make it: the cookie is random and never in guest memory. */
#define HK_OP_GATE 0x4b47415445ul	/* "KGATE" */
extern uint64_t filter_cookie;

/* Builds the filters (libseccomp contexts) once, at boot.  0 or -errno. */
int filter_build(void);
/* Loads them into the calling thread (the guest, before its exec).  Returns
 * the listener of the notification gate, or -errno.  The listener makes
 * hostk's filter the only one in the guests' chain that may have one: the
 * host refuses a guest's own (SECCOMP_FILTER_FLAG_NEW_LISTENER: EBUSY). */
int filter_load(void);
/* The filters in libseccomp's pseudo code, for `hostk syscalls --filter`. */
void filter_dump(FILE *fp);

#endif
