/* compat.c - the i386 syscall ABI (int 0x80) from a 64-bit guest.  hostk's
 * filter lets the host run none of its syscalls, but the caller is not
 * killed for trying: the call fails with ENOSYS and the program goes on, as
 * fuzzers and runtimes that probe the ABI expect (trinity's children once
 * died of SIGSYS here, and trinity waited for them forever).  Under hostk
 * only: natively the calls run. */
#include "guest.h"

#include <sys/syscall.h>

#define I386_EXIT 1
#define I386_GETPID 20

static long int80(long nr, long a0)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "0"(nr), "b"(a0) : "memory", "r8", "r9", "r10", "r11");
	return r;
}

/* An i386 exit(42) that ran would end the child with 42. */
static void c_enosys(void)
{
	pid_t pid = child();

	if (pid == 0) {
		long r = int80(I386_EXIT, 42);

		_exit(r == -ENOSYS ? 0 : 1);
	}
	if (reap(pid, 0, "int 0x80 exit(42)"))
		say("enosys: int 0x80 exit(42) failed with ENOSYS and did not run");
}

/* Children that call into the i386 ABI again and again, and their parent
 * that waits for them, as a fuzzer's do. */
static void c_children(void)
{
	int ok = 0;

	for (int i = 0; i < 8; i++) {
		pid_t pid = child();

		if (pid == 0) {
			for (int j = 0; j < 100; j++)
				if (int80(I386_GETPID, 0) != -ENOSYS)
					_exit(1);
			_exit(0);
		}
		ok += reap(pid, 0, "child making i386 calls");
	}
	if (ok == 8)
		say("children: 8 children made 100 i386 calls each and exited normally");
}

int main(int argc, char **argv)
{
	static const struct check checks[] = {
		{ "enosys", c_enosys },
		{ "children", c_children },
	};

	return run_checks(argc, argv, checks, sizeof checks / sizeof checks[0]);
}
