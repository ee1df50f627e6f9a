/* Policy: the command line may turn any syscall into deny (with an errno) or
 * kill.  sys_disp() is what the filter, the trap path and `hostk syscalls`
 * ask, so an override is honoured everywhere at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static uint8_t override_disp[NR_SYSCALLS];	/* D_NONE: no override */
static uint16_t override_err[NR_SYSCALLS];

enum disp sys_disp(long nr)
{
	if (nr < 0 || nr >= NR_SYSCALLS || !systab[nr].name)
		return D_NONE;
	return override_disp[nr] ? (enum disp)override_disp[nr] : (enum disp)systab[nr].disp;
}

int policy_errno(long nr)
{
	if (nr >= 0 && nr < NR_SYSCALLS && override_err[nr])
		return override_err[nr];
	return nr >= 0 && nr < NR_SYSCALLS && systab[nr].err ? systab[nr].err : EPERM;
}

long sys_lookup(const char *name)
{
	for (long nr = 0; nr < NR_SYSCALLS; nr++)
		if (systab[nr].name && !strcmp(systab[nr].name, name))
			return nr;
	return -1;
}

const char *errno_name(int err)
{
	/* The kernel's restart codes, which a trace sees at exit stops. */
	static const char *const restart[] = { "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND",
					       "ENOIOCTLCMD", "ERESTART_RESTARTBLOCK" };
	const char *s = err > 0 ? strerrorname_np(err) : NULL;

	if (err >= 512 && err < 512 + (int)(sizeof restart / sizeof restart[0]))
		return restart[err - 512];
	return s ? s : "E?";
}

int errno_lookup(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end)
		return v > 0 && v < 4096 ? (int)v : -1;
	for (int e = 1; e < 4096; e++) {
		const char *s = strerrorname_np(e);

		if (s && !strcmp(s, name))
			return e;
	}
	return -1;
}

int policy_set(const char *spec, enum disp d)
{
	char name[64];
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	long nr;
	int err = 0;

	if (len >= sizeof name)
		return -1;
	memcpy(name, spec, len);
	name[len] = 0;
	nr = sys_lookup(name);
	if (nr < 0)
		return -1;
	if (eq && (d != D_DENY || (err = errno_lookup(eq + 1)) < 0))
		return -1;
	override_disp[nr] = (uint8_t)d;
	override_err[nr] = (uint16_t)err;
	return 0;
}
