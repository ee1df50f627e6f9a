/* handoff.c - two guest processes that hand work to each other through calls that wait in the
 * host: one must give up its virtual CPU while it waits, or the other runs only when the tick
 * preempts it (once per quantum: transfers crawl).  For tests/sched/run-sched, under --cpus 1:
 *   handoff sendfile MB   sendfile from a file into a socket another process drains
 *   handoff splice MB     splice from a file into a pipe another process drains
 *   handoff yield N       two processes take turns N times, each sched_yield()ing until its turn
 *   handoff fifo N        two processes bounce a byte N times through two named FIFOs
 *   handoff wake N        two processes bounce a byte N times through pipes beside a spinner
 * Prints the rounds and the preemptions the kernel region counted meanwhile (a yield that hands
 * the CPU over is a yield, not a preemption). */
#include "guest.h"

#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <hostk/libhk.h>

#define CHUNK (64 * 1024)

static long preemptions(void)
{
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_kregion snap;

	return kr && hk_kregion_read(kr, &snap) == 0 ? (long)snap.preemptions : -1;
}

/* A file of CHUNK bytes to send from (a memfd: no directory needed). */
static int source_file(void)
{
	static char buf[CHUNK];
	int fd = memfd_create("handoff", 0);

	if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
		fail("source file: %s", ename(errno));
		exit(1);
	}
	return fd;
}

/* The other process: reads total bytes from fd, then exits. */
static pid_t drain(int fd, uint64_t total)
{
	pid_t pid = child();

	if (pid == 0) {
		static char buf[CHUNK];
		uint64_t got = 0;

		while (got < total) {
			ssize_t n = read(fd, buf, sizeof buf);

			if (n <= 0)
				_exit(1);
			got += (uint64_t)n;
		}
		_exit(0);
	}
	return pid;
}

static int transfer(const char *mode, long mb)
{
	uint64_t total = (uint64_t)mb << 20;
	int src = source_file(), sv[2];
	long p0 = preemptions();
	uint64_t sent = 0;
	pid_t pid;

	if ((!strcmp(mode, "sendfile") ? socketpair(AF_UNIX, SOCK_STREAM, 0, sv) : pipe(sv)) < 0)
		return CHECK(0, "%s: %s", mode, ename(errno)), finish();
	pid = drain(sv[0], total);
	close(sv[0]);
	while (sent < total) {
		off_t off = 0;
		loff_t loff = 0;
		ssize_t n = !strcmp(mode, "sendfile") ? sendfile(sv[1], src, &off, CHUNK)
						      : splice(src, &loff, sv[1], NULL, CHUNK, 0);

		if (n <= 0)
			return CHECK(0, "%s: %zd (%s)", mode, n, ename(errno)), finish();
		sent += (uint64_t)n;
	}
	close(sv[1]);
	reap(pid, 0, "drain");
	say("handoff %s: %ld MiB in %llu rounds, %ld preemptions", mode, mb, (unsigned long long)(total / CHUNK),
	    p0 < 0 ? -1 : preemptions() - p0);
	return finish();
}

static int take_turns(long n)
{
	volatile int *turn = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long p0 = preemptions();
	pid_t pid;

	if (turn == MAP_FAILED)
		return CHECK(0, "mmap: %s", ename(errno)), finish();
	*turn = 0;
	if ((pid = child()) == 0) {
		for (long i = 0; i < n; i++) {
			while (*turn != 1)
				sched_yield();
			*turn = 0;
		}
		_exit(0);
	}
	for (long i = 0; i < n; i++) {
		while (*turn != 0)
			sched_yield();
		*turn = 1;
	}
	reap(pid, 0, "the other");
	say("handoff yield: %ld rounds, %ld preemptions", n, p0 < 0 ? -1 : preemptions() - p0);
	return finish();
}

/* A FIFO's descriptor is named by its path, like a file's, yet its reads
 * wait like a pipe's. */
static int ping_pong(long n)
{
	char dir[] = "/tmp/handoff.XXXXXX", ping[64], pong[64], c = 'x';
	long p0 = preemptions();
	int to, from, ok = 1;
	pid_t pid;

	if (!mkdtemp(dir))
		return CHECK(0, "mkdtemp: %s", ename(errno)), finish();
	snprintf(ping, sizeof ping, "%s/ping", dir);
	snprintf(pong, sizeof pong, "%s/pong", dir);
	if (mkfifo(ping, 0600) < 0 || mkfifo(pong, 0600) < 0)
		return CHECK(0, "mkfifo: %s", ename(errno)), finish();
	if ((pid = child()) == 0) {
		int in = open(ping, O_RDONLY), out = open(pong, O_WRONLY);

		while (in >= 0 && out >= 0 && read(in, &c, 1) == 1)
			if (write(out, &c, 1) != 1)
				_exit(1);
		_exit(in >= 0 && out >= 0 ? 0 : 1);
	}
	to = open(ping, O_WRONLY);
	from = open(pong, O_RDONLY);
	for (long i = 0; i < n && ok; i++)
		ok = CHECK(write(to, &c, 1) == 1 && read(from, &c, 1) == 1, "round %ld: %s", i, ename(errno));
	close(to);
	close(from);
	reap(pid, 0, "the other");
	unlink(ping);
	unlink(pong);
	rmdir(dir);
	say("handoff fifo: %ld rounds, %ld preemptions", n, p0 < 0 ? -1 : preemptions() - p0);
	return finish();
}

/* Each round wakes a process while a spinner has the CPU: the woken one
 * should have it at once, not after the spinner's slice (run-sched counts
 * the slices that ran out in the trace). */
static int wake_beside_spinner(long n)
{
	int ping[2], pong[2], ok = 1;
	pid_t spinner, echo;
	char c = 'x';

	if ((spinner = child()) == 0)
		for (;;)
			;
	if (pipe(ping) < 0 || pipe(pong) < 0)
		return CHECK(0, "pipe: %s", ename(errno)), finish();
	if ((echo = child()) == 0) {
		close(ping[1]);
		close(pong[0]);
		while (read(ping[0], &c, 1) == 1)
			if (write(pong[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	for (long i = 0; i < n && ok; i++)
		ok = CHECK(write(ping[1], &c, 1) == 1 && read(pong[0], &c, 1) == 1, "round %ld: %s", i, ename(errno));
	close(ping[1]);
	reap(echo, 0, "the other");
	kill(spinner, SIGKILL);
	reap(spinner, SIGKILL, "the spinner");
	say("handoff wake: %ld rounds beside a spinner", n);
	return finish();
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

	if (argc == 3 && n > 0 && (!strcmp(argv[1], "sendfile") || !strcmp(argv[1], "splice")))
		return transfer(argv[1], n);
	if (argc == 3 && n > 0 && !strcmp(argv[1], "yield"))
		return take_turns(n);
	if (argc == 3 && n > 0 && !strcmp(argv[1], "fifo"))
		return ping_pong(n);
	if (argc == 3 && n > 0 && !strcmp(argv[1], "wake"))
		return wake_beside_spinner(n);
	fprintf(stderr, "usage: handoff sendfile|splice MB | handoff yield N | handoff fifo|wake N\n");
	return 2;
}
