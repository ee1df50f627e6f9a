/* Guest memory access through process_vm_readv/writev, never /proc/PID/mem or
 * POKEDATA: those ignore page protections and would let a guest aim hostk's
 * writes at its own read-only memory (the kernel region, text). */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "uaccess.h"

#define PAGE_SIZE 4096ul

int copy_from_guest(pid_t tid, void *dst, unsigned long src, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)src, n };

	if (n == 0)
		return 0;
	if (src + n < src)
		return -EFAULT;
	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

int copy_to_guest(pid_t tid, unsigned long dst, const void *src, size_t n)
{
	struct iovec local = { (void *)src, n }, remote = { (void *)dst, n };

	if (n == 0)
		return 0;
	if (dst + n < dst)
		return -EFAULT;
	return process_vm_writev(tid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

long strncpy_from_guest(pid_t tid, char *dst, unsigned long src, size_t max)
{
	size_t got = 0;

	/* Page by page: a string may end just before an unmapped page. */
	while (got < max) {
		size_t chunk = PAGE_SIZE - ((src + got) & (PAGE_SIZE - 1));
		char *nul;

		if (chunk > max - got)
			chunk = max - got;
		if (copy_from_guest(tid, dst + got, src + got, chunk) < 0)
			return -EFAULT;
		nul = memchr(dst + got, 0, chunk);
		if (nul)
			return nul - dst;
		got += chunk;
	}
	if (max)
		dst[max - 1] = 0;
	return -ENAMETOOLONG;
}
