/* devices.c - the guest's side of the device tests (tests/devices/devtest.c
 * runs it under hostk with the devices each check needs, and plays the
 * network on the host side).  `guest-devices CHECK [ARGS]`:
 *   files            /dev/hostk lists the devices; stat and fstat show device files; ENOENT
 *   descriptors      dup, dup3, F_DUPFD_CLOEXEC, close_range, close-on-exec over exec
 *   nic-sleep N      echo N frames while a CPU-bound child runs: the reader sleeps, the child runs
 *   nic-mask N       a masked line keeps N frames in the RX ring; all N come after unmask, in order
 *   nic-overflow N R N frames at a ring of R: N-R dropped and counted, the first R delivered
 *   nic-poll         poll, select and epoll wake on a frame
 *   nic-fork         a forked child and a dup'd descriptor read the same device
 *   nic-mtu M        a frame over the MTU M is EMSGSIZE, one of M bytes goes out; O_NONBLOCK: EAGAIN
 *   disk-ro          EROFS, reads, the end of the disk, BLKGETSIZE64, lseek, fsync
 *   disk-signal      requests a timer's signals keep interrupting complete, none lost
 *   disk-eio         a backing file that shrinks under the disk: EIO, and hostk goes on
 *   disk-queue       200 threads' requests at once: past the queue's depth they wait, all complete
 *   rng              random bytes, in buffers, one interrupt each
 * The network checks talk to the host over the card itself: "ready" goes
 * out when the guest is set, and the host's frames are "frame N". */
#include "guest.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>

#include <hostk/devices.h>

#define WAIT_S 10	/* the longest any one wait below may take */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_dev(const char *name, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof path, "/dev/hostk/%s", name);
	if ((fd = open(path, flags)) < 0) {
		fail("open %s: %s", path, ename(errno));
		exit(1);
	}
	return fd;
}

static void stats(int fd, struct hk_dev_stats *st)
{
	if (ioctl(fd, HK_IOC_STATS, st) < 0) {
		fail("HK_IOC_STATS: %s", ename(errno));
		exit(1);
	}
}

static void ready(int fd)
{
	if (write(fd, "ready", 5) != 5) {
		fail("write ready: %s", ename(errno));
		exit(1);
	}
}

/* Reads frame i ("frame I ...") from fd; 1 if it is that one. */
static int read_frame(int fd, int i, const char *who)
{
	char buf[2048], want[32];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	int wl = snprintf(want, sizeof want, "frame %d ", i);

	if (n < 0)
		return CHECK(0, "%s: read of frame %d: %s", who, i, ename(errno));
	buf[n] = 0;
	return CHECK(n >= wl && !memcmp(buf, want, (size_t)wl), "%s: read '%.20s', want '%s...'", who, buf, want);
}

/* Waits (bounded) until the card's counters satisfy cond; the reason is
 * printed if they never do. */
static int wait_stats(int fd, int (*cond)(const struct hk_dev_stats *, long, long), long a, long b,
		      const char *what)
{
	uint64_t end = now_ns() + WAIT_S * 1000000000ull;
	struct hk_dev_stats st;

	do {
		struct timespec nap = { 0, 1000000 };

		stats(fd, &st);
		if (cond(&st, a, b))
			return 1;
		nanosleep(&nap, NULL);
	} while (now_ns() < end);
	return CHECK(0, "after %d s still not %s: rx_ring %llu, rx %llu, dropped %llu, interrupts %llu", WAIT_S,
		     what, (unsigned long long)st.rx_ring, (unsigned long long)st.rx,
		     (unsigned long long)st.rx_dropped, (unsigned long long)st.interrupts);
}

static int ring_holds(const struct hk_dev_stats *st, long n, long dropped)
{
	return (long)st->rx_ring == n && (long)st->rx_dropped == dropped;
}

static int eagain_now(int fd)
{
	char c;
	int fl = fcntl(fd, F_GETFL);
	ssize_t n;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	n = read(fd, &c, 1);
	fcntl(fd, F_SETFL, fl);
	return n < 0 && errno == EAGAIN;
}

static long arg_num(char **argv, int i, long dflt)
{
	return argv[i] ? strtol(argv[i], NULL, 10) : dflt;
}

/* files */

static void check_files(void)
{
	struct stat a, b;
	struct dirent *de;
	int fd, names = 0;
	DIR *d = opendir("/dev/hostk");

	if (!CHECK(d, "opendir /dev/hostk: %s", ename(errno)))
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			names += !strcmp(de->d_name, "nic0") || !strcmp(de->d_name, "disk0") ? 1 : 100;
	closedir(d);
	CHECK(names == 2, "/dev/hostk does not list exactly nic0 and disk0");
	fd = open_dev("nic0", O_RDWR);
	CHECK(stat("/dev/hostk/nic0", &a) == 0 && S_ISCHR(a.st_mode) && major(a.st_rdev) == HK_DEV_MAJOR,
	      "stat /dev/hostk/nic0: mode %o rdev %u:%u, want a character device %d:N", a.st_mode,
	      major(a.st_rdev), minor(a.st_rdev), HK_DEV_MAJOR);
	CHECK(fstat(fd, &b) == 0 && b.st_mode == a.st_mode && b.st_rdev == a.st_rdev && b.st_ino == a.st_ino &&
	      b.st_dev == a.st_dev, "fstat of the descriptor differs from stat of the file");
	CHECK(stat("/dev/hostk/disk0", &b) == 0 && S_ISBLK(b.st_mode) && b.st_rdev != a.st_rdev,
	      "stat /dev/hostk/disk0: mode %o, want a block device of its own minor", b.st_mode);
	CHECK(open("/dev/hostk/nosuch", O_RDWR) < 0 && errno == ENOENT, "open of an unknown device: %s, want ENOENT",
	      ename(errno));
	CHECK(ioctl(fd, HK_IOC_DISK_SIZE, &(uint64_t){ 0 }) < 0 && errno == ENOTTY,
	      "a disk's ioctl on the nic: %s, want ENOTTY", ename(errno));
	CHECK(lseek(fd, 0, SEEK_SET) < 0 && errno == ESPIPE, "lseek on the nic: %s, want ESPIPE", ename(errno));
	close(fd);
	say("files: /dev/hostk lists nic0 and disk0, stat and fstat agree on a device file, ENOENT");
}

/* descriptors */

static void check_descriptors(void)
{
	int fd = open_dev("nic0", O_RDWR), d1, d2, d3;
	struct stat st;
	pid_t pid;

	d1 = dup(fd);
	d2 = dup3(fd, 20, O_CLOEXEC);
	d3 = fcntl(fd, F_DUPFD_CLOEXEC, 30);
	CHECK(d1 >= 0 && d2 == 20 && d3 >= 30, "dup %d, dup3 %d, F_DUPFD_CLOEXEC %d", d1, d2, d3);
	CHECK(fstat(d2, &st) == 0 && S_ISCHR(st.st_mode), "fstat of the dup3 copy: not a device file");
	CHECK(fcntl(d2, F_GETFD) == FD_CLOEXEC && fcntl(d1, F_GETFD) == 0, "close-on-exec flags wrong");
	CHECK(syscall(SYS_close_range, 30, 40, 0) == 0 && fcntl(d3, F_GETFD) < 0 && errno == EBADF,
	      "close_range left descriptor %d open", d3);
	if ((pid = child()) == 0) {
		char n1[16], n2[16];

		snprintf(n1, sizeof n1, "%d", d1);
		snprintf(n2, sizeof n2, "%d", d2);
		execl("/proc/self/exe", "guest-devices", "exec-check", n1, n2, (char *)NULL);
		_exit(127);
	}
	reap(pid, 0, "exec-check");
	say("descriptors: dup, dup3, F_DUPFD_CLOEXEC, close_range, close-on-exec over exec");
}

/* After exec: arg 1 kept (a device file still), arg 2 gone (close-on-exec). */
static int exec_check(char **argv)
{
	struct stat st;
	int kept = atoi(argv[2]), gone = atoi(argv[3]);

	CHECK(fstat(kept, &st) == 0 && S_ISCHR(st.st_mode), "after exec, descriptor %d: not the device", kept);
	CHECK(fcntl(gone, F_GETFD) < 0 && errno == EBADF, "after exec, close-on-exec descriptor %d is open", gone);
	return finish();
}

/* nic-sleep N: echo N frames with a CPU-bound child beside the reader. */

static void check_nic_sleep_n(long n)
{
	int fd = open_dev("nic0", O_RDWR);
	uint64_t t0, wall, child_ns = 0;
	struct timespec cpu;
	static char buf[65536];
	long done = 0;
	pid_t pid;

	if ((pid = child()) == 0) {	/* the spinner */
		for (;;) {
			for (unsigned i = 0; i < 4096; i++)
				__asm__ volatile("" ::: "memory");
		}
	}
	t0 = now_ns();
	ready(fd);
	for (; done < n; done++) {
		ssize_t r = read(fd, buf, sizeof buf);

		if (r < 0 || write(fd, buf, (size_t)r) != r) {
			fail("echo %ld: %s", done, ename(errno));
			break;
		}
	}
	wall = now_ns() - t0;
	/* The child's CPU time, from the outside, before it stops. */
	{
		clockid_t c;

		if (clock_getcpuclockid(pid, &c) == 0 && clock_gettime(c, &cpu) == 0)
			child_ns = (uint64_t)cpu.tv_sec * 1000000000ull + (uint64_t)cpu.tv_nsec;
	}
	kill(pid, SIGKILL);
	reap(pid, SIGKILL, "spinner");
	/* One vCPU: had the reader not slept in read(), the spinner would
	 * have had little of it. */
	CHECK(child_ns * 10 >= wall * 3, "the spinner ran %.3f s of the %.3f s the echo took: the reader did "
	      "not give up its CPU", child_ns / 1e9, wall / 1e9);
	say("nic-sleep: %ld frames echoed; beside the sleeping reader a spinner ran %s30%% of the time", done,
	    child_ns * 10 >= wall * 3 ? ">= " : "< ");
}

/* nic-mask N */

static void check_nic_mask_n(long n)
{
	int fd = open_dev("nic0", O_RDWR), held, again;
	struct hk_dev_stats st;

	CHECK(ioctl(fd, HK_IOC_MASK) == 0, "HK_IOC_MASK: %s", ename(errno));
	ready(fd);
	held = wait_stats(fd, ring_holds, n, 0, "holding the frames in the ring");
	again = CHECK(eagain_now(fd), "a read while masked did not find the queue empty");
	CHECK(ioctl(fd, HK_IOC_UNMASK) == 0, "HK_IOC_UNMASK: %s", ename(errno));
	for (int i = 0; i < n; i++)
		if (!read_frame(fd, i, "after unmask"))
			break;
	stats(fd, &st);
	CHECK(st.rx_dropped == 0 && st.rx_ring == 0, "dropped %llu, still in the ring %llu",
	      (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring);
	say("nic-mask: %ld frames %s while masked, %s, all read in order after unmask", n,
	    held ? "held in the ring" : "NOT held", again ? "none readable" : "some readable");
}

/* nic-overflow N R */

static void check_nic_overflow_nr(long n, long r)
{
	int fd = open_dev("nic0", O_RDWR);

	CHECK(ioctl(fd, HK_IOC_MASK) == 0, "HK_IOC_MASK: %s", ename(errno));
	ready(fd);
	wait_stats(fd, ring_holds, r, n - r, "a full ring with the rest dropped");
	CHECK(ioctl(fd, HK_IOC_UNMASK) == 0, "HK_IOC_UNMASK: %s", ename(errno));
	for (int i = 0; i < r; i++)
		if (!read_frame(fd, i, "after overflow"))
			break;
	/* Nothing after the first r: wait for the bottom half to be done. */
	wait_stats(fd, ring_holds, 0, n - r, "an empty ring");
	CHECK(eagain_now(fd), "more frames than the ring held");
	say("nic-overflow: %ld frames at a ring of %ld: %ld dropped and counted, the first %ld delivered", n, r, n - r, r);
}

/* nic-poll */

static void check_nic_poll(void)
{
	int fd = open_dev("nic0", O_RDWR), ep = epoll_create1(EPOLL_CLOEXEC), n;
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timeval tv = { WAIT_S, 0 };
	fd_set rd;

	ev.data.fd = fd;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "EPOLL_CTL_ADD: %s", ename(errno));
	CHECK(epoll_wait(ep, &out, 1, 0) == 0, "epoll_wait saw a frame before any came");
	CHECK(poll(&pfd, 1, 0) == 0, "poll saw a frame before any came");
	ready(fd);
	n = epoll_wait(ep, &out, 1, WAIT_S * 1000);
	CHECK(n == 1 && (out.events & EPOLLIN) && out.data.fd == fd, "epoll_wait returned %d (%s)", n, ename(errno));
	read_frame(fd, 0, "epoll");
	ready(fd);
	n = poll(&pfd, 1, WAIT_S * 1000);
	CHECK(n == 1 && (pfd.revents & POLLIN), "poll returned %d, revents %#x", n, pfd.revents);
	read_frame(fd, 1, "poll");
	ready(fd);
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	n = select(fd + 1, &rd, NULL, NULL, &tv);
	CHECK(n == 1 && FD_ISSET(fd, &rd), "select returned %d", n);
	read_frame(fd, 2, "select");
	say("nic-poll: epoll, poll and select each woke on a frame");
}

/* nic-fork */

static void check_nic_fork(void)
{
	int fd = open_dev("nic0", O_RDWR), d = dup(fd), st;
	char buf[64] = "", mine[64] = "";
	ssize_t n;
	pid_t pid;
	int p[2];

	if (pipe(p) < 0)
		exit(1);
	if ((pid = child()) == 0) {	/* reads one frame from the inherited dup */
		n = read(d, buf, sizeof buf - 1);
		if (n > 0 && write(p[1], buf, (size_t)n) == n)
			_exit(0);
		_exit(1);
	}
	close(p[1]);
	ready(fd);
	n = read(fd, mine, sizeof mine - 1);
	CHECK(n > 0, "the parent's read: %s", ename(errno));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's read failed");
	n = read(p[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strncmp(buf, "frame ", 6) == 0 && strncmp(mine, "frame ", 6) == 0 && strcmp(buf, mine) != 0,
	      "parent read '%s', child '%s': want frame 0 and frame 1, one each", mine, buf);
	say("nic-fork: the parent and its child, through a dup, each read one of the two frames");
}

/* nic-mtu M */

static void check_nic_mtu_m(long mtu)
{
	static char big[65536];
	int fd = open_dev("nic0", O_RDWR), nb = open_dev("nic0", O_RDWR | O_NONBLOCK);
	char c;

	memset(big, 'm', sizeof big);
	CHECK(write(fd, big, (size_t)mtu + 1) < 0 && errno == EMSGSIZE, "a frame of MTU+1 bytes: %s, want EMSGSIZE",
	      ename(errno));
	CHECK(write(fd, big, (size_t)mtu) == mtu, "a frame of MTU bytes: %s", ename(errno));
	CHECK(read(nb, &c, 1) < 0 && errno == EAGAIN, "O_NONBLOCK read with no frame: %s, want EAGAIN", ename(errno));
	say("nic-mtu: EMSGSIZE over %ld bytes, %ld bytes sent, EAGAIN with O_NONBLOCK", mtu, mtu);
}

/* disk-ro */

static void check_disk_ro(void)
{
	/* Opened for writing: the disk, not the descriptor, refuses them
	 * (a descriptor opened read-only refuses them first, with EBADF). */
	int fd = open_dev("disk0", O_RDWR);
	uint64_t size = 0, size2 = 0;
	char buf[4096];

	CHECK(ioctl(fd, BLKGETSIZE64, &size) == 0 && ioctl(fd, HK_IOC_DISK_SIZE, &size2) == 0 && size == size2 &&
	      size > 4096, "BLKGETSIZE64 %llu, HK_IOC_DISK_SIZE %llu", (unsigned long long)size,
	      (unsigned long long)size2);
	CHECK(write(fd, "x", 1) < 0 && errno == EROFS, "write to a read-only disk: %s, want EROFS", ename(errno));
	CHECK(pwrite(fd, "x", 1, 0) < 0 && errno == EROFS, "pwrite to a read-only disk: %s, want EROFS", ename(errno));
	CHECK(read(fd, buf, sizeof buf) == sizeof buf && buf[0] == 'D' && buf[4095] == 'D',
	      "the first block: want 4096 bytes of 'D'");
	CHECK(lseek(fd, 0, SEEK_CUR) == 4096, "the position after a read of 4096 bytes");
	CHECK(pread(fd, buf, 10, (off_t)size - 4) == 4, "a pread across the end: want the 4 bytes there");
	CHECK(pread(fd, buf, 10, (off_t)size) == 0, "a pread at the end: want 0");
	CHECK(lseek(fd, 0, SEEK_END) == (off_t)size && read(fd, buf, 10) == 0, "a read at the end: want 0");
	CHECK(lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL, "lseek to -1: %s, want EINVAL", ename(errno));
	CHECK(lseek(fd, 1, SEEK_END) < 0 && errno == EINVAL, "lseek past the end: %s, want EINVAL", ename(errno));
	CHECK(lseek(fd, INT64_MIN, SEEK_CUR) < 0 && errno == EINVAL, "lseek by INT64_MIN: %s, want EINVAL",
	      ename(errno));
	CHECK(fsync(fd) == 0, "fsync: %s", ename(errno));
	{	/* a disk is always ready, as a block device is */
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

		CHECK(poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLOUT)) == (POLLIN | POLLOUT),
		      "poll on the disk: revents %#x, want POLLIN|POLLOUT at once", p.revents);
	}
	say("disk-ro: EROFS, reads and the end of the disk, BLKGETSIZE64, lseek, fsync, poll");
}

/* disk-signal */

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static void check_disk_signal(void)
{
	struct sigaction sa = { .sa_handler = on_tick, .sa_flags = SA_RESTART };
	struct itimerval it = { { 0, 300 }, { 0, 300 } };
	int fd = open_dev("disk0", O_RDWR);
	static unsigned char buf[4096];
	int bad = 0;

	sigaction(SIGALRM, &sa, NULL);
	for (int b = 0; b < 64; b++) {
		memset(buf, b, sizeof buf);
		if (pwrite(fd, buf, sizeof buf, (off_t)b * 4096) != sizeof buf)
			bad++;
	}
	setitimer(ITIMER_REAL, &it, NULL);
	for (int round = 0; round < 4; round++)
		for (int b = 0; b < 64; b++) {
			ssize_t n = pread(fd, buf, sizeof buf, (off_t)b * 4096);

			if (n != sizeof buf || buf[0] != b || buf[4095] != b)
				bad++;
		}
	it = (struct itimerval){ { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(bad == 0, "%d requests came back wrong with signals arriving", bad);
	CHECK(ticks > 10, "only %d signals arrived during the requests", (int)ticks);
	say("disk-signal: 256 reads interrupted by signals all came back right");
}

/* disk-eio: reads block 0, says so, and keeps reading until the host's
 * truncation of the backing file makes the disk fail the request. */

static void check_disk_eio(void)
{
	int fd = open_dev("disk0", O_RDONLY);
	uint64_t end = now_ns() + WAIT_S * 1000000000ull;
	char buf[4096];
	ssize_t n;

	CHECK(pread(fd, buf, sizeof buf, 4096) == sizeof buf, "a read before the failure: %s", ename(errno));
	say("disk-eio: ready");
	do {
		struct timespec nap = { 0, 1000000 };

		n = pread(fd, buf, sizeof buf, 4096);
		if (n < 0)
			break;
		nanosleep(&nap, NULL);
	} while (now_ns() < end);
	CHECK(n < 0 && errno == EIO, "a read of a block the backing file lost: %zd (%s), want EIO", n, ename(errno));
	CHECK(pread(fd, buf, 16, 0) >= 0 || errno == EIO, "the next request: %s", ename(errno));
	say("disk-eio: the lost block is EIO, and the disk still answers");
}

/* disk-queue: each thread reads its own block (block b holds bytes b). */
#define QUEUE_THREADS 200

static int queue_fd;
static int queue_bad;

static void *read_block(void *arg)
{
	long b = (long)arg;
	unsigned char buf[4096];

	if (pread(queue_fd, buf, sizeof buf, b * 4096) != sizeof buf || buf[0] != (unsigned char)b ||
	    buf[4095] != (unsigned char)b)
		__atomic_add_fetch(&queue_bad, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void check_disk_queue(void)
{
	pthread_t th[QUEUE_THREADS];
	int started = 0;

	queue_fd = open_dev("disk0", O_RDONLY);
	for (long b = 0; b < QUEUE_THREADS; b++)
		started += pthread_create(&th[b], NULL, read_block, (void *)b) == 0;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	CHECK(started == QUEUE_THREADS, "only %d threads started", started);
	CHECK(queue_bad == 0, "%d of %d reads came back wrong", queue_bad, started);
	say("disk-queue: %d requests at once, all complete and right", started);
}

/* rng */

static void check_rng(void)
{
	int fd = open_dev("rng0", O_RDONLY);
	static unsigned char a[65536], b[4096];
	size_t got = 0, seen = 0;
	char values[256] = { 0 };
	struct hk_dev_stats st;

	while (got < sizeof a) {
		ssize_t n = read(fd, a + got, sizeof a - got);

		if (!CHECK(n > 0, "read: %s", ename(errno)))
			return;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof a; i++)
		values[a[i]] = 1;
	for (int v = 0; v < 256; v++)
		seen += values[v];
	CHECK(seen == 256, "only %zu of the 256 byte values in 64 KiB", seen);
	CHECK(read(fd, b, sizeof b) > 0 && memcmp(a, b, sizeof b) != 0, "the next bytes repeat the first");
	stats(fd, &st);
	CHECK(st.interrupts >= 16 && st.rx >= 16, "%llu interrupts, %llu buffers for 68 KiB of 4 KiB buffers",
	      (unsigned long long)st.interrupts, (unsigned long long)st.rx);
	say("rng: 64 KiB with every byte value, buffers that differ, an interrupt per buffer");
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(c, "files"))
		check_files();
	else if (!strcmp(c, "descriptors"))
		check_descriptors();
	else if (!strcmp(c, "exec-check") && argc == 4)
		return exec_check(argv);
	else if (!strcmp(c, "nic-sleep"))
		check_nic_sleep_n(arg_num(argv, 2, 1000));
	else if (!strcmp(c, "nic-mask"))
		check_nic_mask_n(arg_num(argv, 2, 50));
	else if (!strcmp(c, "nic-overflow"))
		check_nic_overflow_nr(arg_num(argv, 2, 20), arg_num(argv, 3, 8));
	else if (!strcmp(c, "nic-poll"))
		check_nic_poll();
	else if (!strcmp(c, "nic-fork"))
		check_nic_fork();
	else if (!strcmp(c, "nic-mtu"))
		check_nic_mtu_m(arg_num(argv, 2, 100));
	else if (!strcmp(c, "disk-ro"))
		check_disk_ro();
	else if (!strcmp(c, "disk-signal"))
		check_disk_signal();
	else if (!strcmp(c, "disk-eio"))
		check_disk_eio();
	else if (!strcmp(c, "disk-queue"))
		check_disk_queue();
	else if (!strcmp(c, "rng"))
		check_rng();
	else {
		fprintf(stderr, "guest-devices: unknown check '%s'\n", c);
		return 2;
	}
	return finish();
}
