/* Start-up: probe the host, find and vet the program, start the first guest. */
#ifndef HOSTK_BOOT_H
#define HOSTK_BOOT_H

#include <stdbool.h>

#include "ns.h"

struct boot_opts {
	int cpus;		/* virtual CPUs, and host CPUs to share with the guests */
	bool pin;		/* pin hostk and guests to them */
	int hz;			/* timer interrupts per second */
	int quantum_ms;		/* time slice */
	struct ns_opts ns;	/* the guests' identity */
	int watchdog;		/* --watchdog SECONDS, 0: off */
	bool untraced;		/* --untraced: the namespaces and nothing of hostk's kernel */
};

/* Looks PROG up in PATH like env(1) does and checks it can be executed; on
 * failure prints one line and exits 127 (not found) or 126 (not runnable). */
char *boot_resolve(const char *prog);
/* Probes, pins, installs hostk's own signal handling and starts path as the
 * guest's pid 1, seized and filtered before its first instruction. */
void boot(const struct boot_opts *o, const char *path, char *const argv[]);
/* --untraced: path in the guests' namespaces (ids, mounts, path rules,
 * limits, no_new_privs), neither traced nor filtered, and waits for it.
 * The baseline that tells the sandbox's cost from the traps'.  Returns the
 * status hostk exits with. */
int boot_untraced(const struct boot_opts *o, const char *path, char *const argv[]);
/* After the last guest: restore the terminal, report a failed first exec.
 * Returns the status hostk exits with. */
int boot_finish(int status);

#endif
