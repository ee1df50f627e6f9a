/* devtest: hostk's devices from both sides.  It runs guests under hostk with
 * --device and plays what is outside the machine: the network a card is
 * bridged to (UDP on loopback), the file a disk is backed by.  Output is TAP.
 *   devtest HOSTK GUEST_DIR SAMPLE_DIR
 * GUEST_DIR holds guest-devices (tests/guest/devices.c), SAMPLE_DIR the
 * sample guests nicecho and diskcheck (guest/src).  Every wait is bounded
 * and says what it waited for when it gives up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000	/* the longest any one wait may take */

static const char *hostk, *guest_dir, *sample_dir;
static char work[] = "/tmp/hostk-devtest.XXXXXX";
static int ntest, nfail;

/* One case's verdict, with what went wrong as TAP comments. */
static char why[4096];

__attribute__((format(printf, 1, 2))) static bool fail(const char *fmt, ...)
{
	size_t l = strlen(why);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why + l, sizeof why - l, fmt, ap);
	va_end(ap);
	l = strlen(why);
	snprintf(why + l, sizeof why - l, "\n");
	return false;
}

static void report(bool ok, const char *what)
{
	ntest++;
	nfail += !ok;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ntest, what);
	for (char *l = strtok(why, "\n"); !ok && l; l = strtok(NULL, "\n"))
		printf("#   %s\n", l);
	why[0] = 0;
	fflush(stdout);
}

/* The network: a UDP socket on loopback for the card's peer, and a free
 * port for the card. */

static int udp_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(s, (struct sockaddr *)&a, &l) < 0) {
		perror("devtest: udp socket");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return s;
}

static uint16_t free_port(void)
{
	uint16_t port;
	int s = udp_socket(&port);

	close(s);
	return port;
}

static bool send_to(int s, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return sendto(s, buf, len, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)len ||
	       fail("sendto port %u: %s", port, strerror(errno));
}

/* A datagram within WAIT_MS, or -1. */
static ssize_t recv_wait(int s, void *buf, size_t len, const char *what)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	if (poll(&p, 1, WAIT_MS) != 1) {
		fail("no datagram from the card within %d ms (waiting for %s)", WAIT_MS, what);
		return -1;
	}
	return recv(s, buf, len, 0);
}

static bool wait_ready(int s)
{
	char buf[64];
	ssize_t n = recv_wait(s, buf, sizeof buf, "the guest's ready");

	return n == 5 && !memcmp(buf, "ready", 5) ? true : n < 0 ? false : fail("got %zd bytes, not 'ready'", n);
}

/* Frame i: "frame I " and then bytes of its own, len in all. */
static size_t make_frame(unsigned char *buf, int i, size_t len)
{
	size_t n = (size_t)snprintf((char *)buf, 32, "frame %d ", i);

	for (; n < len; n++)
		buf[n] = (unsigned char)(i * 31 + n * 7);
	return n;
}

/* hostk runs. */

struct run {
	pid_t pid;
	int pidfd, out;		/* its exit, its stdout */
	char output[65536];
	size_t olen;
	char err[4096];
	int status;
};

static void start(struct run *r, char *const argv[])
{
	char errpath[512];
	int p[2];

	memset(r, 0, sizeof *r);
	snprintf(errpath, sizeof errpath, "%s/stderr", work);
	if (pipe2(p, O_CLOEXEC) < 0)
		exit(1);
	if ((r->pid = fork()) == 0) {
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(p[1], 1);
		dup2(e, 2);
		if (chdir(work) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	r->out = p[0];
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
}

/* Reads what the run printed until want appears (NULL: until it closes
 * stdout), within WAIT_MS. */
static bool read_until(struct run *r, const char *want)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = r->out, .events = POLLIN };
		long left;
		ssize_t n;

		r->output[r->olen] = 0;
		if (want && strstr(r->output, want))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = WAIT_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return fail("hostk printed no '%s' within %d ms", want ? want : "end", WAIT_MS);
		n = read(r->out, r->output + r->olen, sizeof r->output - 1 - r->olen);
		if (n <= 0)
			return want ? fail("hostk's output ended without '%s'", want) : true;
		r->olen += (size_t)n;
	}
}

/* Waits for the run to end (killing it past WAIT_MS: a hang is a failure
 * and leaves nothing behind); its stderr in r->err. */
static bool finish(struct run *r)
{
	struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
	char errpath[512];
	bool ok = read_until(r, NULL);
	int fd;
	ssize_t n;

	if (poll(&p, 1, WAIT_MS) != 1) {
		kill(r->pid, SIGKILL);
		ok = fail("hostk did not exit within %d ms: killed", WAIT_MS);
	}
	waitpid(r->pid, &r->status, 0);
	close(r->pidfd);
	close(r->out);
	snprintf(errpath, sizeof errpath, "%s/stderr", work);
	fd = open(errpath, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, r->err, sizeof r->err - 1) : 0;
	r->err[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool exited(struct run *r, int want)
{
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == want)
		return true;
	fail("hostk: %s %d, want exit %d", WIFEXITED(r->status) ? "exit" : "signal",
	     WIFEXITED(r->status) ? WEXITSTATUS(r->status) : WTERMSIG(r->status), want);
	for (char *l = strtok(r->err, "\n"); l; l = strtok(NULL, "\n"))
		fail("stderr: %s", l);
	return false;
}

static bool printed(struct run *r, const char *want)
{
	return strstr(r->output, want) ? true : fail("stdout lacks '%s'; it was: %.300s", want, r->output);
}

/* argv for `hostk run --cpus 1 --device SPEC... -- PROG ARGS...`, from a
 * NULL-terminated list after the devices. */
static char *const *hostk_argv(const char *dev1, const char *dev2, const char *prog, ...)
{
	static char *argv[32], progpath[512];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)hostk;
	argv[n++] = "run";
	argv[n++] = "--cpus";
	argv[n++] = "1";
	for (const char *d = dev1; d; d = d == dev1 ? dev2 : NULL) {
		argv[n++] = "--device";
		argv[n++] = (char *)d;
	}
	argv[n++] = "--";
	snprintf(progpath, sizeof progpath, "%s", prog);
	argv[n++] = progpath;
	va_start(ap, prog);
	for (char *a; (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return argv;
}

static const char *guest(const char *dir, const char *name)
{
	static char path[2][512];
	static int i;

	i ^= 1;
	snprintf(path[i], sizeof path[i], "%s/%s", dir, name);
	return path[i];
}

/* A card on a free port whose peer is s (port pp), with more options. */
static const char *nic_spec(uint16_t *port, uint16_t pp, const char *more)
{
	static char spec[256];

	*port = free_port();
	snprintf(spec, sizeof spec, "nic0=nic:127.0.0.1:%u,peer=127.0.0.1:%u%s%s", *port, pp, more ? "," : "",
		 more ? more : "");
	return spec;
}

/* The cases. */

/* Frames of many sizes, each echoed before the next goes: the guest's
 * reader sleeps in read() every time.  An echo equal to stale (a copy of an
 * earlier frame sent again: see case_nicecho) is let go. */
static bool echo_frames(int s, uint16_t port, int n, const unsigned char *stale, size_t stale_len)
{
	static unsigned char out[2048], in[4096];

	for (int i = 0; i < n; i++) {
		size_t len = make_frame(out, i, 16 + (size_t)(i * 37) % 1400);
		ssize_t got;

		if (!send_to(s, port, out, len))
			return fail("at frame %d of %d", i, n);
		do
			got = recv_wait(s, in, sizeof in, "an echo");
		while (got >= 0 && stale && (size_t)got == stale_len && !memcmp(in, stale, stale_len));
		if (got < 0)
			return fail("at frame %d of %d", i, n);
		if ((size_t)got != len || memcmp(in, out, len))
			return fail("frame %d came back as %zd different bytes (sent %zu)", i, got, len);
	}
	return true;
}

static void case_nicecho(void)
{
	uint16_t pp, port;
	int s = udp_socket(&pp);
	unsigned char first[64], in[64];
	size_t first_len = make_frame(first, -1, 40);
	struct run r;
	bool ok;

	/* Until an empty frame: copies of the first one must not count. */
	start(&r, hostk_argv(nic_spec(&port, pp, NULL), NULL, guest(sample_dir, "nicecho"), "nic0", "0", NULL));
	/* No "ready" from nicecho: a frame may come before its open, when
	 * nobody reads the card and it is dropped; so a first frame goes
	 * again until it comes back (a late copy's echo is let go later). */
	ok = false;
	for (int tries = 0; tries < 200 && !ok; tries++) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		send_to(s, port, first, first_len);
		ok = poll(&p, 1, 50) == 1 && recv(s, in, sizeof in, 0) == (ssize_t)first_len &&
		     !memcmp(in, first, first_len);
	}
	ok = (ok || fail("nicecho never echoed a first frame")) && echo_frames(s, port, 1000, first, first_len);
	ok &= send_to(s, port, "", 0);
	ok &= finish(&r) && exited(&r, 0);
	report(ok, "nicecho: 1000 frames sent from the host come back in order, byte-identical");
	close(s);
}

static void case_nic_sleep(void)
{
	uint16_t pp, port;
	int s = udp_socket(&pp);
	struct run r;
	bool ok;

	start(&r, hostk_argv(nic_spec(&port, pp, NULL), NULL, guest(guest_dir, "guest-devices"), "nic-sleep", "1000",
			     NULL));
	ok = wait_ready(s) && echo_frames(s, port, 1000, NULL, 0);
	ok &= finish(&r) && exited(&r, 0) && printed(&r, "spinner ran >= 30%");
	report(ok, "--cpus 1: a reader sleeps on nic0 while a CPU-bound guest runs; 1000 frames echoed");
	close(s);
}

/* Frames 0..n-1, once the guest is ready; then the run's verdict. */
static void send_n_case(const char *more, const char *check, int n, const char *arg2, const char *want,
			const char *what)
{
	uint16_t pp, port;
	int s = udp_socket(&pp);
	char num[16];
	struct run r;
	bool ok;

	snprintf(num, sizeof num, "%d", n);
	start(&r, hostk_argv(nic_spec(&port, pp, more), NULL, guest(guest_dir, "guest-devices"), check, num, arg2,
			     NULL));
	ok = wait_ready(s);
	for (int i = 0; ok && i < n; i++) {
		unsigned char f[256];

		ok = send_to(s, port, f, make_frame(f, i, 100));
	}
	ok &= finish(&r) && exited(&r, 0) && printed(&r, want);
	report(ok, what);
	close(s);
}

static void case_nic_poll(void)
{
	uint16_t pp, port;
	int s = udp_socket(&pp);
	struct run r;
	bool ok = true;

	start(&r, hostk_argv(nic_spec(&port, pp, NULL), NULL, guest(guest_dir, "guest-devices"), "nic-poll", NULL));
	for (int i = 0; ok && i < 3; i++) {
		unsigned char f[64];

		ok = wait_ready(s) && send_to(s, port, f, make_frame(f, i, 50));
	}
	ok &= finish(&r) && exited(&r, 0) && printed(&r, "each woke on a frame");
	report(ok, "epoll, poll and select on a device descriptor wake on a frame");
	close(s);
}

static void case_nic_mtu(void)
{
	uint16_t pp, port;
	int s = udp_socket(&pp);
	unsigned char in[4096];
	struct run r;
	ssize_t n;
	bool ok;

	start(&r, hostk_argv(nic_spec(&port, pp, "mtu=100"), NULL, guest(guest_dir, "guest-devices"), "nic-mtu", "100",
			     NULL));
	n = recv_wait(s, in, sizeof in, "the MTU-sized frame");
	ok = n == 100 || fail("the peer got %zd bytes, want the one frame of 100", n);
	ok &= finish(&r) && exited(&r, 0) && printed(&r, "EMSGSIZE over 100 bytes");
	{	/* and nothing more: not the rejected frame, nor any at the close */
		struct pollfd p = { .fd = s, .events = POLLIN };

		ok &= poll(&p, 1, 200) == 0 || fail("the peer got a frame more: %zd bytes", recv(s, in, sizeof in, 0));
	}
	report(ok, "EMSGSIZE over the MTU, a frame of the MTU goes out and nothing else, EAGAIN with O_NONBLOCK");
	close(s);
}

static void case_files(void)
{
	char disk[600], spec[700];
	uint16_t pp, port;
	int s = udp_socket(&pp), fd;
	struct run r;
	bool ok;

	snprintf(disk, sizeof disk, "%s/files.img", work);
	fd = open(disk, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 65536) < 0)
		exit(1);
	close(fd);
	snprintf(spec, sizeof spec, "disk0=disk:%s", disk);
	start(&r, hostk_argv(nic_spec(&port, pp, NULL), spec, guest(guest_dir, "guest-devices"), "files", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "stat and fstat agree");
	report(ok, "/dev/hostk lists the devices, stat and fstat show device files, unknown names are ENOENT");
	start(&r, hostk_argv(nic_spec(&port, pp, NULL), NULL, guest(guest_dir, "guest-devices"), "descriptors", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "close-on-exec over exec");
	report(ok, "dup, dup3, F_DUPFD_CLOEXEC, close_range and close-on-exec on a device descriptor");
	close(s);
}

/* The disk's pattern, as diskcheck writes it, checked from the host. */
/* A disk image of NBLOCKS 4 KiB blocks, each filled with FILL, or with its
 * own number when FILL is -1. */
static void write_image(const char *path, int nblocks, int fill)
{
	char blk[4096];
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0)
		exit(1);
	for (int b = 0; b < nblocks; b++) {
		memset(blk, fill < 0 ? b : fill, sizeof blk);
		if (write(fd, blk, sizeof blk) != sizeof blk)
			exit(1);
	}
	close(fd);
}

static bool disk_round_trip(void)
{
	char img[600], spec[700];
	struct run r;
	struct stat st;
	unsigned char blk[4096];
	bool ok, zero = true;
	int fd;

	snprintf(img, sizeof img, "%s/disk.img", work);
	if ((fd = open(img, O_CREAT | O_WRONLY | O_TRUNC, 0644)) < 0 || ftruncate(fd, 4 << 20) < 0)
		exit(1);
	close(fd);
	snprintf(spec, sizeof spec, "disk0=disk:%s,latency=20", img);
	start(&r, hostk_argv(spec, NULL, guest(sample_dir, "diskcheck"), "disk0", "7", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "1024 blocks written and read back, 0 bad");
	/* It is in the file: the host sees data, and a second machine reads
	 * the same back. */
	fd = open(img, O_RDONLY);
	ok &= fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 4 << 20 && pread(fd, blk, sizeof blk, 3 << 20) == 4096;
	for (size_t i = 0; i < sizeof blk; i++)
		zero &= blk[i] == 0;
	ok &= !zero || fail("the backing file has zeros where diskcheck wrote");
	close(fd);
	snprintf(spec, sizeof spec, "disk0=disk:%s,ro", img);
	start(&r, hostk_argv(spec, NULL, guest(sample_dir, "diskcheck"), "-r", "disk0", "7", NULL));
	ok &= finish(&r) && exited(&r, 0) && printed(&r, "1024 blocks read, 0 bad");
	return ok;
}

static void case_disk(void)
{
	char img[600], spec[700];
	struct run r;
	bool ok;
	int fd;

	report(disk_round_trip(), "a 4 MiB disk round trip verifies, in the file and from a second run (read-only)");

	snprintf(img, sizeof img, "%s/ro.img", work);
	write_image(img, 4, 'D');
	snprintf(spec, sizeof spec, "disk0=disk:%s,ro", img);
	start(&r, hostk_argv(spec, NULL, guest(guest_dir, "guest-devices"), "disk-ro", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "EROFS, reads and the end of the disk");
	report(ok, "a read-only disk: EROFS; reads, the end of the disk, BLKGETSIZE64, lseek, fsync");

	snprintf(img, sizeof img, "%s/signal.img", work);
	if ((fd = open(img, O_CREAT | O_WRONLY | O_TRUNC, 0644)) < 0 || ftruncate(fd, 64 * 4096) < 0)
		exit(1);
	close(fd);
	snprintf(spec, sizeof spec, "disk0=disk:%s,latency=500", img);
	start(&r, hostk_argv(spec, NULL, guest(guest_dir, "guest-devices"), "disk-signal", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "all came back right");
	report(ok, "disk requests that signals interrupt complete, none lost or doubled");

	snprintf(img, sizeof img, "%s/queue.img", work);
	write_image(img, 200, -1);
	snprintf(spec, sizeof spec, "disk0=disk:%s,latency=2000", img);
	start(&r, hostk_argv(spec, NULL, guest(guest_dir, "guest-devices"), "disk-queue", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "200 requests at once, all complete and right");
	report(ok, "200 disk requests at once: past the queue's depth they wait; all complete");

	snprintf(img, sizeof img, "%s/ro.img", work);
	snprintf(spec, sizeof spec, "disk0=disk:%s", img);
	start(&r, hostk_argv(spec, NULL, guest(guest_dir, "guest-devices"), "disk-eio", NULL));
	ok = read_until(&r, "disk-eio: ready") && truncate(img, 0) == 0;
	ok &= finish(&r) && exited(&r, 0) && printed(&r, "the lost block is EIO, and the disk still answers");
	report(ok, "a disk whose backing file shrinks fails the request with EIO; hostk goes on");
}

static void case_rng(void)
{
	struct run r;
	bool ok;

	start(&r, hostk_argv("rng0=rng", NULL, guest(guest_dir, "guest-devices"), "rng", NULL));
	ok = finish(&r) && exited(&r, 0) && printed(&r, "an interrupt per buffer");
	report(ok, "rng: random bytes, a buffer per interrupt");
}

/* Bad devices: one line on stderr, exit 2, and no guest ran. */
static void bad(const char *spec, const char *word, const char *what)
{
	char mark[600];
	struct run r;
	bool ok;

	snprintf(mark, sizeof mark, "%s/ran", work);
	unlink(mark);
	start(&r, hostk_argv(spec, NULL, "/bin/sh", "-c", ": > ran", NULL));
	ok = finish(&r) && exited(&r, 2);
	ok &= (strstr(r.err, word) && strchr(r.err, '\n') == r.err + strlen(r.err) - 1) ||
	      fail("stderr is not one line saying '%s': %s", word, r.err);
	ok &= access(mark, F_OK) < 0 || fail("a guest ran");
	report(ok, what);
}

static void case_bad_input(void)
{
	char spec[700];
	uint16_t port;
	int busy = udp_socket(&port);

	bad("x=bogus", "unknown kind", "--device with an unknown kind: one line, exit 2, no guest");
	bad("x=nic", "wants :ARG", "--device nic without its address");
	bad("x=nic:127.0.0.1:99999", "ADDR:PORT", "--device nic with a bad port");
	bad("x=nic:localhost.invalid:5000", "ADDR:PORT", "--device nic with a bad address");
	bad("x=rng,colour=blue", "no option 'colour'", "--device with an unknown option");
	bad("x=rng,buffer=lots", "wants a number", "--device with an option that is not a number");
	bad("x/y=rng", "NAME", "--device with a bad name");
	snprintf(spec, sizeof spec, "x=nic:127.0.0.1:%u", port);
	bad(spec, "in use", "--device nic on a port in use");
	snprintf(spec, sizeof spec, "x=disk:%s/nonexistent.img", work);
	bad(spec, "No such file", "--device disk with a missing file");
	bad("x=disk:/", "directory", "--device disk on a directory");
	close(busy);
}

static void cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
	if (system(cmd) != 0)
		fprintf(stderr, "devtest: could not remove %s\n", work);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: devtest HOSTK GUEST_DIR SAMPLE_DIR\n");
		return 2;
	}
	/* Absolute: hostk runs in the scratch directory. */
	hostk = realpath(argv[1], NULL), guest_dir = realpath(argv[2], NULL), sample_dir = realpath(argv[3], NULL);
	if (!hostk || !guest_dir || !sample_dir || access(hostk, X_OK) || access(guest(guest_dir, "guest-devices"), X_OK) ||
	    access(guest(sample_dir, "nicecho"), X_OK)) {
		printf("1..0 # SKIP hostk or a guest program is missing\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(work) || chmod(work, 0777) < 0) {	/* the guests' root is not the host's */
		perror("devtest: mkdtemp");
		return 1;
	}
	atexit(cleanup);
	case_nicecho();
	case_nic_sleep();
	send_n_case(NULL, "nic-mask", 50, NULL, "50 frames held in the ring while masked, none readable",
		    "masking the NIC line delays delivery; nothing is lost after unmask");
	send_n_case("rxring=8", "nic-overflow", 20, "8", "12 dropped and counted, the first 8 delivered",
		    "RX overflow: frames past the ring are dropped and counted, the rest delivered");
	case_nic_poll();
	send_n_case(NULL, "nic-fork", 2, NULL, "each read one of the two frames",
		    "a forked child (through a dup) and its parent read the same device");
	case_nic_mtu();
	case_files();
	case_disk();
	case_rng();
	case_bad_input();
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
