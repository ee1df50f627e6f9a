/* libhk: a guest's access to hostk's kernel region (hostk/kregion.h).
 * A tiny static library with no dependencies beyond libc, usable from C11.
 *
 * The region is a read-only shared mapping at HK_KREGION_ADDR, present in
 * every guest (after exec, across fork) and absent everywhere else.  Its
 * first part, magic .. disp_names, is fixed at boot; the rest, from seq on,
 * is live and protected by a sequence lock:
 *
 *   writer (hostk)                       reader (hk_kregion_read)
 *   seq += 1 (now odd), release          s1 = seq, acquire; odd: pause, retry
 *   write the live fields                copy the fields
 *   seq += 1 (even again), release       fence acquire; s2 = seq
 *                                        until s1 == s2
 *
 * The writer's first increment must also be ordered before its field stores
 * (on x86-64 a plain store is, as long as the compiler does not move the
 * field stores above it: an atomic increment, or a compiler barrier after
 * it); the second increment is a release store, after them.  So a reader
 * that sees the same even seq before and after its copy holds a copy no
 * store of the writer tore.  A writer that dies mid-update leaves seq odd;
 * readers give up after HK_READ_TRIES attempts.  The disp[] table and the
 * fixed fields are not written after boot and need no snapshot. */
#ifndef HOSTK_LIBHK_H
#define HOSTK_LIBHK_H

#include <hostk/kregion.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel region at HK_KREGION_ADDR if it is mapped there and its magic
 * and version are right, else NULL (say, not running under hostk).  Safe to
 * call anywhere: it probes the mapping with mincore() before touching it.
 * The answer is cached; thread-safe. */
const volatile struct hk_kregion *hk_kregion(void);

/* Takes a consistent snapshot of the region's fixed part into *snap (the
 * first min(sizeof *snap, kr->hdr_size) bytes; the rest of *snap is zeroed).
 * Returns 0, or -1 with errno EAGAIN if no consistent copy could be taken in
 * HK_READ_TRIES attempts (a writer died or stalls with seq odd), or EINVAL
 * for a NULL kr or snap.  snap->seq is the (even) sequence number read. */
int hk_kregion_read(const volatile struct hk_kregion *kr, struct hk_kregion *snap);
#define HK_READ_TRIES 1000000

/* Name of disposition value v (an entry of disp[]) from a snapshot's
 * disp_names: a NUL-terminated string inside *snap, or "?" if v is out of
 * range or its name is empty or fills all HK_NAME_LEN bytes unterminated. */
const char *hk_disp_name(const struct hk_kregion *snap, unsigned v);

/* printf format and arguments for a name field of HK_NAME_LEN bytes, which
 * need not be NUL-terminated: printf(HK_NAME_FMT, HK_NAME_ARG(kr.kernel_name)). */
#define HK_NAME_FMT "%.*s"
#define HK_NAME_ARG(s) (int)HK_NAME_LEN, (s)

/* Disposition of syscall nr: the byte disp[nr] at kr + off_disp, or -1 if
 * kr is NULL, nr >= nr_syscalls, or the table does not fit the region. */
int hk_syscall_disp(const volatile struct hk_kregion *kr, unsigned nr);

#ifdef __cplusplus
}
#endif

#endif
