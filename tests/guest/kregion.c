/* kregion.c - the kernel region as a guest sees it: the top mapping, r--s, found by libhk, live,
 * inherited by fork and mapped again after exec, with argv, envp and auxv intact below it.
 * `kregion [exec]`; `exec` re-executes /proc/self/exe as `after-exec` and checks again there.
 * RUN ONLY UNDER HOSTK: natively there is no region and every check fails. */
#include "guest.h"

#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include <hostk/libhk.h>

#define BIG 20000		/* bytes of the big argument passed through exec */
#define PROBE "survived-exec"

extern char **environ;

static int in_region(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	return a >= HK_KREGION_ADDR && a < HK_KREGION_TOP;
}

static char big_char(size_t i)
{
	return (char)('a' + i % 26);
}

/* The highest mapping in /proc/self/maps but [vsyscall]: 1 if found. */
static int top_mapping(unsigned long *start, unsigned long *end, char perms[5])
{
	char line[512];
	unsigned long s, e;
	char p[5];
	int found = 0;
	FILE *fp = fopen("/proc/self/maps", "r");

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%lx-%lx %4s", &s, &e, p) != 3 || strstr(line, "[vsyscall]"))
			continue;
		if (!found || s > *start) {
			*start = s;
			*end = e;
			memcpy(perms, p, 5);
			found = 1;
		}
	}
	fclose(fp);
	return found;
}

/* Is the region the top mapping, exactly, read-only and shared?  Quiet. */
static int maps_ok(const char *who)
{
	unsigned long s = 0, e = 0;
	char perms[5] = "";

	if (!CHECK(top_mapping(&s, &e, perms), "%s: no mappings in /proc/self/maps", who))
		return 0;
	return CHECK(s == HK_KREGION_ADDR && e == HK_KREGION_TOP && strcmp(perms, "r--s") == 0,
		     "%s: highest mapping %lx-%lx %s, want %lx-%lx r--s", who, s, e, perms,
		     HK_KREGION_ADDR, HK_KREGION_TOP);
}

/* Magic and version read straight from the address (not libhk's cached answer). */
static int magic_ok(const char *who)
{
	const volatile struct hk_kregion *k = (const volatile struct hk_kregion *)HK_KREGION_ADDR;

	return CHECK(k->magic == HK_KREGION_MAGIC && k->version == HK_KREGION_VERSION,
		     "%s: magic %#llx version %u", who, (unsigned long long)k->magic, k->version);
}

/* The initial stack and everything the program found on it lies below the region. */
static void t_stack(char **argv)
{
	static const unsigned long ptrs[] = { AT_EXECFN, AT_RANDOM, AT_PLATFORM };
	int local = 0, ok = CHECK(!in_region(&local), "stack: a local at %p is in the region", (void *)&local);

	/* The first string in the way of each kind is enough. */
	for (int i = 0, k = 1; k && argv[i]; i++)
		ok &= k = CHECK(!in_region(argv[i]), "stack: argv[%d] at %p is in the region", i, (void *)argv[i]);
	for (int i = 0, k = 1; k && environ[i]; i++)
		ok &= k = CHECK(!in_region(environ[i]), "stack: envp[%d] at %p is in the region", i,
				(void *)environ[i]);
	for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
		unsigned long v = getauxval(ptrs[i]);

		ok &= CHECK(v && !in_region((void *)v), "stack: auxv entry %lu is %#lx", ptrs[i], v);
	}
	if (ok)
		say("stack: stack, argv, envp and auxv lie below the region");
}

static void t_maps(void)
{
	if (maps_ok("maps"))
		say("maps: the highest mapping is the region, %#lx-%#lx r--s", HK_KREGION_ADDR, HK_KREGION_TOP);
}

static int t_libhk(void)
{
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_kregion k;

	if (!CHECK(kr == (const volatile struct hk_kregion *)HK_KREGION_ADDR, "libhk: hk_kregion() = %p",
		   (const void *)kr))
		return 0;
	if (!CHECK(hk_kregion_read(kr, &k) == 0, "libhk: hk_kregion_read: %s", ename(errno)))
		return 0;
	if (CHECK(k.magic == HK_KREGION_MAGIC && k.version == HK_KREGION_VERSION && k.size == HK_KREGION_SIZE &&
		  k.hdr_size >= sizeof(k) && strncmp(k.kernel_name, "hostk", HK_NAME_LEN) == 0 && k.seq % 2 == 0,
		  "libhk: magic %#llx version %u size %u hdr_size %u kernel %.16s seq %u",
		  (unsigned long long)k.magic, k.version, k.size, k.hdr_size, k.kernel_name, k.seq))
		say("libhk: hk_kregion() found it: magic ostkrrgn, version %u, kernel %s", k.version, k.kernel_name);
	return 1;
}

/* A zero-length nanosleep traps to hostk (its sleeps are hostk's), which
 * counts every trap in the region. */
static void t_live(void)
{
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_kregion a, b;

	if (!kr || hk_kregion_read(kr, &a) != 0)
		return;
	nanosleep(&(struct timespec){ 0, 0 }, NULL);
	if (!CHECK(hk_kregion_read(kr, &b) == 0, "live: hk_kregion_read: %s", ename(errno)))
		return;
	if (CHECK(b.traps > a.traps && b.seq > a.seq, "live: traps %llu -> %llu, seq %u -> %u across a trap",
		  (unsigned long long)a.traps, (unsigned long long)b.traps, a.seq, b.seq))
		say("live: traps went up across a trap");
}

static void t_fork(void)
{
	pid_t pid = child();

	if (pid == 0) {
		struct hk_kregion k;
		int ok = maps_ok("fork child") && magic_ok("fork child") &&
			 CHECK(hk_kregion_read(hk_kregion(), &k) == 0, "fork child: hk_kregion_read failed") &&
			 CHECK(k.nprocs >= 2, "fork child: nprocs %u with the parent waiting", k.nprocs);

		exit(ok ? 0 : 1);
	}
	if (reap(pid, 0, "fork"))
		say("fork: the child sees the same mapping at the same address, same magic");
}

static void checks(char **argv)
{
	t_stack(argv);
	t_maps();
	if (!t_libhk())
		return;
	t_live();
	t_fork();
}

static void after_exec(int argc, char **argv)
{
	const char *probe = getenv("HK_PROBE");
	size_t i, n = argc > 2 ? strlen(argv[2]) : 0;

	for (i = 0; i < n && argv[2][i] == big_char(i); i++)
		;
	if (CHECK(argc == 3 && n == BIG && i == n, "after-exec: argc %d, argv[2] %zu bytes, intact up to %zu",
		  argc, n, i))
		say("after-exec: argv[1] %s, argv[2] %d bytes intact", argv[1], BIG);
	if (CHECK(probe && strcmp(probe, PROBE) == 0, "after-exec: HK_PROBE %s", probe ? probe : "unset"))
		say("after-exec: HK_PROBE=%s", probe);
	checks(argv);
}

static void re_exec(char **argv)
{
	size_t n = 0;
	char **env, *big = malloc(BIG + 1);

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!big || !env)
		exit(1);
	for (size_t i = 0; i < BIG; i++)
		big[i] = big_char(i);
	big[BIG] = 0;
	env[0] = "HK_PROBE=" PROBE;
	for (size_t i = 0, j = 1; i < n; i++)
		if (strncmp(environ[i], "HK_PROBE=", 9) != 0)
			env[j++] = environ[i];
	say("exec: re-executing /proc/self/exe after-exec with HK_PROBE set");
	execve("/proc/self/exe", (char *[]){ argv[0], "after-exec", big, NULL }, env);
	fail("exec: execve(/proc/self/exe): %s", ename(errno));
}

int main(int argc, char **argv)
{
	const char *probe = getenv("HK_PROBE"), *base = strrchr(argv[0], '/');

	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		after_exec(argc, argv);
		return finish();
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "exec") != 0)) {
		fprintf(stderr, "usage: %s [exec]\n", argv[0]);
		return 2;
	}
	say("kregion: argv %s%s%s", base ? base + 1 : argv[0], argc == 2 ? " " : "", argc == 2 ? argv[1] : "");
	say("kregion: HK_PROBE %s", probe ? probe : "unset");
	checks(argv);
	if (argc == 2 && !guest_failures)
		re_exec(argv);
	return finish();
}
