/* The guests' namespaces, identity and privileges: the outer layers of
 * confinement, enforced by the host kernel (ns.c). */
#ifndef HOSTK_NS_H
#define HOSTK_NS_H

#include <stdbool.h>
#include <sys/types.h>

/* One line of a user namespace's uid_map or gid_map. */
struct idmap {
	unsigned long inside, outside, count;
};

/* A root user's guests are root only inside their user namespace: guest
 * ids 0..65535 are host ids ROOT_GUEST_BASE.. (unprivileged, owning no
 * host file). */
#define ROOT_GUEST_BASE 1000000000ul
#define ROOT_GUEST_COUNT 65536ul

struct ns_opts {
	const char *uid_map, *gid_map;	/* --uid-map, --gid-map: "INSIDE:OUTSIDE[:COUNT]" */
	bool host_root;			/* --host-root */
	bool init;			/* --init: a minimal init is pid 1, PROG pid 2 */
};

/* "INSIDE:OUTSIDE[:COUNT]" (COUNT defaults to 1).  0 or -1. */
int ns_parse_idmap(const char *spec, struct idmap *out);
/* Settle the maps for the options and the invoking user; NULL, or why not
 * (for a one-line error). */
const char *ns_configure(const struct ns_opts *o);
/* A host uid or gid as the guests see it (65534, the overflow id, if the
 * namespace does not map it). */
uid_t ns_uid_inside(uid_t host);
gid_t ns_gid_inside(gid_t host);
/* How the guests' ids map, for --help-style reports: "uid 0 -> host 1000000000 (65536 ids)". */
void ns_describe(char *buf, size_t len);

/* Start the first guest in new user, pid, mount, IPC, UTS and cgroup
 * namespaces: it is pid 1 of its pid namespace.  Returns its pid (in
 * hostk's namespace) in the parent, 0 in the child, -errno on failure. */
pid_t ns_clone(void);
/* Why the namespaces could not be made, as one line with the setting to
 * change, for the errno ns_clone() returned. */
const char *ns_clone_failure(int err);
/* hostk's side: write the child's uid and gid maps.  0 or -errno. */
int ns_write_maps(pid_t pid);
/* The child's side, once its maps are written: take the first guest's
 * identity, mount what its namespaces need (a procfs of its pid namespace,
 * /sys read-only) and scope abstract unix sockets and signals to the guests
 * (Landlock, where the host has it).  0, or -errno with *what saying which
 * step. */
int ns_enter(const char **what);
/* The child's side, last before the exec: the policy's limits (hard, so
 * that no guest raises them).  0 or -errno. */
int ns_set_limits(void);
/* --init: pid 1 forks PROG's process (which returns 0 and goes on to exec
 * it) and stays as the namespace's init: it reaps every orphan, forwards
 * the signals sent to it to PROG, and exits with PROG's status (128+N for
 * a signal, as a shell reports it).  Returns only in the child. */
void ns_init(void);

#endif
