/* hk-loop: the guest that `hostk bench` times.  `hk-loop OP N` runs N/10
 * warm-up iterations of OP, then N timed ones, and prints the nanoseconds per
 * iteration.  OP is getppid (emulated under hostk), getuid (fast path), read0
 * (a 1-byte read of /dev/zero: fast path, heavier) or none (calibration). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum op { OP_GETPPID, OP_GETUID, OP_READ0, OP_NONE };

static const char *const op_names[] = {
	[OP_GETPPID] = "getppid", [OP_GETUID] = "getuid", [OP_READ0] = "read0", [OP_NONE] = "none",
};

static _Noreturn void usage(void)
{
	fputs("usage: hk-loop getppid|getuid|read0|none N\n", stderr);
	exit(2);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Raw syscall() everywhere, so that no libc caching can skip the kernel. */
static void loop(enum op op, long n, int fd)
{
	char c;

	switch (op) {
	case OP_GETPPID:
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		break;
	case OP_GETUID:
		for (long i = 0; i < n; i++)
			syscall(SYS_getuid);
		break;
	case OP_READ0:
		for (long i = 0; i < n; i++)
			if (syscall(SYS_read, fd, &c, 1) != 1) {
				perror("hk-loop: read /dev/zero");
				exit(1);
			}
		break;
	case OP_NONE:
		for (long i = 0; i < n; i++)
			__asm__ volatile("" ::: "memory");
		break;
	}
}

int main(int argc, char **argv)
{
	enum op op = OP_NONE;
	int fd = -1, found = 0;
	double t0, t1;
	char *end;
	long n;

	if (argc != 3)
		usage();
	for (int i = 0; i < (int)(sizeof op_names / sizeof op_names[0]); i++)
		if (!strcmp(argv[1], op_names[i])) {
			op = (enum op)i;
			found = 1;
		}
	n = strtol(argv[2], &end, 10);
	if (!found || end == argv[2] || *end || n < 1)
		usage();
	if (op == OP_READ0 && (fd = open("/dev/zero", O_RDONLY | O_CLOEXEC)) < 0) {
		perror("hk-loop: /dev/zero");
		return 1;
	}

	loop(op, n / 10, fd);
	t0 = now_ns();
	loop(op, n, fd);
	t1 = now_ns();
	printf("%.3f\n", (t1 - t0) / (double)n);
	return 0;
}
