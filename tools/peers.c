/* The peers `hostk bench --peers` runs the same programs under: other ways of
 * intercepting a program's syscalls, where they are installed.  Nothing is
 * ever downloaded: a peer that is missing is reported as "not installed".
 * Called from bench.c (the null-syscall loop) and workloads.c. */
#include <string.h>

#include "bench.h"

const char *const peer_keys[NR_PEERS] = {
	[PEER_STRACE] = "strace", [PEER_PROOT] = "proot", [PEER_RUNSC] = "runsc", [PEER_UML] = "uml",
};
const char *const peer_labels[NR_PEERS] = {
	[PEER_STRACE] = "strace -f", [PEER_PROOT] = "proot", [PEER_RUNSC] = "runsc --platform=ptrace",
	[PEER_UML] = "User-Mode Linux",
};

/* The program each is, and how to say it is missing. */
static const struct {
	const char *bin, *alt, *missing;
} peer_bins[NR_PEERS] = {
	[PEER_STRACE] = { "strace", NULL, "not installed (Debian package strace)" },
	[PEER_PROOT] = { "proot", NULL, "not installed (Debian package proot)" },
	[PEER_RUNSC] = { "runsc", NULL, "not installed (gVisor is not packaged by Debian)" },
	[PEER_UML] = { "linux.uml", "linux", "not installed (Debian package user-mode-linux)" },
};

void peers_find(struct peer_found found[NR_PEERS])
{
	for (int p = 0; p < NR_PEERS; p++) {
		struct peer_found *f = &found[p];

		f->missing = NULL;
		if (!find_in_path(peer_bins[p].bin, f->path, sizeof f->path) &&
		    !(peer_bins[p].alt && find_in_path(peer_bins[p].alt, f->path, sizeof f->path)))
			f->missing = peer_bins[p].missing;
	}
}

/* User-Mode Linux boots with the host's / as its root (hostfs) and prog as
 * its init, on its console (our stdout); hk-loop powers it off at the end
 * (told so by a variable, which the kernel puts in init's environment).
 * UML's command line is its arguments joined by spaces: init's arguments
 * follow "--", each in double quotes (which the kernel takes off), and root=
 * and console= are given so that UML appends nothing after them.  A second
 * host CPU means nothing to a guest that UML itself schedules. */
static char **uml_argv(const char *uml, char *const prog[], bool cross, char **out, size_t max, char *buf,
		       size_t bufsize, const char **why)
{
	static const char *const fixed[] = { "mem=512M", "root=/dev/root", "rootfstype=hostfs", "rootflags=/", "rw",
					     "quiet", "con=null", "con0=fd:0,fd:1", "console=tty0",
					     "HK_LOOP_POWEROFF=1", NULL };
	size_t n = 0, used = 0;

	if (cross) {
		*why = "not applicable: UML schedules its guest's processes itself, on the CPU UML runs on";
		return NULL;
	}
	out[n++] = (char *)uml;
	for (int i = 0; fixed[i]; i++)
		out[n++] = (char *)fixed[i];
	for (int i = 0; prog[i]; i++) {
		char *arg = buf + used;
		int len = snprintf(arg, bufsize - used, i ? "\"%s\"" : "init=%s", prog[i]);

		if (len < 0 || (size_t)len >= bufsize - used || strchr(prog[i], '"') || (!i && strchr(prog[i], ' ')) ||
		    n + 3 > max) {
			*why = "the program does not fit UML's command line";
			return NULL;
		}
		used += (size_t)len + 1;
		out[n++] = arg;
		if (i == 0)
			out[n++] = "--";
	}
	out[n] = NULL;
	return out;
}

char **peer_argv(enum peer p, const struct peer_found *f, char *const prog[], bool cross, char **out, size_t max,
		 char *buf, size_t bufsize, const char **why)
{
	static const char *const prefix[NR_PEERS][8] = {
		[PEER_STRACE] = { "-f", "-qq", "-o", "/dev/null", NULL },
		[PEER_PROOT] = { NULL },
		[PEER_RUNSC] = { "--platform=ptrace", "--network=none", "do", NULL },
	};
	size_t n = 0;

	if (f->missing) {
		*why = f->missing;
		return NULL;
	}
	if (p == PEER_UML)
		return uml_argv(f->path, prog, cross, out, max, buf, bufsize, why);
	out[n++] = (char *)f->path;
	for (int i = 0; prefix[p][i]; i++)
		out[n++] = (char *)prefix[p][i];
	for (int i = 0; prog[i] && n + 1 < max; i++)
		out[n++] = prog[i];
	out[n] = NULL;
	return out;
}
