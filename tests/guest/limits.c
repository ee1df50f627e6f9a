/* limits.c - a guest that goes for its limits: a fork bomb, a memory bomb,
 * a descriptor bomb, a file that grows without end, and a spinner.  Each
 * prints where the host stopped it; the cli suite runs it under policies
 * with limits and checks that hostk stays responsive and reports.
 * `limits forkbomb|membomb|nofile|fsize|spin`. */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static void forkbomb(void)
{
	long n = 0;
	int e;

	/* Children wait on the pipe until the parent is done. */
	int p[2];

	if (pipe(p) < 0)
		exit(1);
	for (;; n++) {
		pid_t pid = fork();

		if (pid == 0) {
			char c;

			close(p[1]);
			while (read(p[0], &c, 1) < 0)
				;
			_exit(0);
		}
		if (pid < 0)
			break;
	}
	e = errno;
	close(p[1]);
	while (wait(NULL) > 0)
		;
	say("forkbomb: fork failed %s after %ld children", ename(e), n);
}

static void membomb(void)
{
	long mb = 0;

	while (mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != MAP_FAILED)
		mb++;
	say("membomb: mmap failed %s after %ld MiB", ename(errno), mb);
}

static void nofile(void)
{
	long n = 0;

	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	say("nofile: open failed %s after %ld more", ename(errno), n);
}

static void fsize(void)
{
	char name[] = "/tmp/hostk-limits-XXXXXX", buf[4096] = { 0 };
	int fd = mkstemp(name);
	long kb = 0;

	signal(SIGXFSZ, SIG_IGN);	/* see the error, not the signal */
	unlink(name);
	while (write(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
		kb += 4;
	say("fsize: write failed %s at %ld KiB", ename(errno), kb);
}

static void spin(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}

int main(int argc, char **argv)
{
	static const struct check checks[] = {
		{ "forkbomb", forkbomb }, { "membomb", membomb }, { "nofile", nofile }, { "fsize", fsize },
		{ "spin", spin },
	};

	if (argc != 2)
		return 2;
	return run_checks(argc, argv, checks, sizeof checks / sizeof checks[0]);
}
