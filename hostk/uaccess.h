/* Guest memory access.  Only process_vm_readv/writev: the host kernel applies
 * the guest's own page protections, so hostk can never be made to write where
 * the guest itself may not.  Every function returns 0 or a negative errno. */
#ifndef HOSTK_UACCESS_H
#define HOSTK_UACCESS_H

#include <stddef.h>
#include <sys/types.h>

int copy_from_guest(pid_t tid, void *dst, unsigned long src, size_t n);
int copy_to_guest(pid_t tid, unsigned long dst, const void *src, size_t n);
/* Copies a NUL-terminated string of at most max-1 bytes; returns its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL was found within max bytes. */
long strncpy_from_guest(pid_t tid, char *dst, unsigned long src, size_t max);

#endif
