/* attack.h - what the attack programs share.  Each run makes one attack and
 * prints one line, "attack NAME: OUTCOME", saying what the system answered;
 * the expectation table (expect) holds the line a confined guest prints.
 * Never run them natively: they go for the host.  A program is a table of
 * named cases (attack_main); the dangerous part of a case often runs in a
 * child, so that a kill is reported rather than suffered. */
#ifndef HOSTK_ATTACK_H
#define HOSTK_ATTACK_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hostk/libhk.h>

#define PAGE 4096ul
#define REGION ((void *)HK_KREGION_ADDR)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Errno's name ("EPERM"), or "0". */
static inline const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

/* The one result line. */
__attribute__((format(printf, 2, 3)))
static inline void report(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("attack %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Details for a human (stderr), never part of the expected line. */
__attribute__((format(printf, 1, 2)))
static inline void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* What a call answered: its errno's name if it failed (r == -1), else
 * "SUCCEEDED".  e is errno as it was right after the call. */
static inline const char *answer(long r, int e)
{
	return r == -1 ? ename(e) : "SUCCEEDED";
}

/* How a wait status ended, as a phrase: "exited 3", "killed by SIGSYS". */
static inline const char *how(int st)
{
	static char buf[4][48];
	static int k;
	char *b = buf[k++ % 4];

	if (WIFEXITED(st))
		snprintf(b, sizeof buf[0], "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, sizeof buf[0], "killed by SIG%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
	else
		snprintf(b, sizeof buf[0], "status %#x", st);
	return b;
}

/* Runs fn(arg) in a child with no core dumps and returns its wait status. */
static inline int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		note("fork: %s", ename(errno));
		exit(3);
	}
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		fn(arg);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* A child that has ended but not been waited for. */
static inline pid_t zombie(void)
{
	siginfo_t si;
	pid_t pid = fork();

	if (pid == 0)
		_exit(7);
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	return pid;
}

/* The kernel region as the program found it, to tell whether an attack
 * changed it: its fixed part and its disp[] table. */
static struct hk_kregion region_at_start;
static unsigned char region_disp[HK_MAX_SYSCALLS];

/* Is every page of the region mapped?  mincore() never faults. */
static inline bool region_mapped(void)
{
	unsigned char vec[HK_KREGION_SIZE / PAGE];

	return mincore(REGION, HK_KREGION_SIZE, vec) == 0;
}

static inline void region_save(void)
{
	const volatile struct hk_kregion *kr = hk_kregion();

	if (!kr || hk_kregion_read(kr, &region_at_start) < 0 || region_at_start.nr_syscalls > HK_MAX_SYSCALLS) {
		report("setup", "no kernel region (not under hostk?): refusing to attack");
		exit(3);
	}
	memcpy(region_disp, (const char *)REGION + region_at_start.off_disp, region_at_start.nr_syscalls);
}

/* NULL if the region is mapped where it was, read-only and shared, with its
 * fixed bytes unchanged; else what is wrong. */
static inline const char *region_damage(void)
{
	struct hk_kregion now;
	char line[512];
	int seen = 0, right = 0;
	FILE *fp;

	if (!region_mapped())
		return "region GONE";
	if (hk_kregion_read(hk_kregion(), &now) < 0 ||
	    memcmp(&now, &region_at_start, offsetof(struct hk_kregion, seq)) != 0 ||
	    memcmp((const char *)REGION + now.off_disp, region_disp, now.nr_syscalls) != 0)
		return "region CHANGED";
	if (!(fp = fopen("/proc/self/maps", "re")))
		return "no /proc/self/maps";
	while (fgets(line, sizeof line, fp)) {
		unsigned long s, e;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 && e > HK_KREGION_ADDR && s < HK_KREGION_TOP) {
			seen++;
			right += s == HK_KREGION_ADDR && e == HK_KREGION_TOP && !strcmp(perms, "r--s");
		}
	}
	fclose(fp);
	return seen == 1 && right == 1 ? NULL : "region REMAPPED";
}

static void child_checks_region(void *arg)
{
	(void)arg;
	_exit(region_damage() ? 1 : 0);
}

/* "region intact", or what happened to it, here or in a forked child. */
static inline const char *region_state(void)
{
	const char *d = region_damage();

	if (d)
		return d;
	return in_child(child_checks_region, NULL) == 0 ? "region intact" : "region MISSING in a forked child";
}

/* Installs a seccomp filter of the guest's own: syscall nr gets action,
 * everything else is allowed.  0 or -1 with errno. */
static inline int own_filter(int nr, uint32_t action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { NELEM(f), f };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Re-executes this program as `PROG CASE stage2`: the second half of an
 * attack that prepares something the next image inherits.  Only returns if
 * the exec failed. */
static const char *attack_case;	/* the case attack_main runs */
static char what[64];		/* its name in the result line: "PREFIX-CASE" */

static inline void exec_stage2(void)
{
	char *argv[] = { "/proc/self/exe", (char *)attack_case, "stage2", NULL };

	fflush(NULL);
	execv(argv[0], argv);
	report(what, "cannot re-execute itself: %s", ename(errno));
	exit(3);
}

/* A program's cases.  fn gets the arguments after the case's name. */
struct attack {
	const char *name;
	void (*fn)(int argc, char **argv);
	bool needs_region;	/* save the region first (most do) */
};

/* Runs the case argv[1] of cases, named PREFIX-CASE. */
static inline int attack_main(int argc, char **argv, const char *prefix, const struct attack *cases, size_t n)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < n; i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		attack_case = cases[i].name;
		snprintf(what, sizeof what, "%s-%s", prefix, attack_case);
		if (cases[i].needs_region)
			region_save();
		cases[i].fn(argc - 2, argv + 2);
		return 0;
	}
	fprintf(stderr, "usage: %s CASE [ARGS...]; cases:", argv[0]);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %s", cases[i].name);
	fputc('\n', stderr);
	return 2;
}

#endif
