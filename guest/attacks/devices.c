/* devices.c - hostk's devices under attack: every pointer, length, offset
 * and iovec a guest hands a driver, ioctls and stats aimed at memory it
 * may not write, descriptors closed, replaced and forked while a request
 * is in flight, opens by the thousand and descriptors sent over the
 * device's own socket (hostk's descriptor table), signals by the thousand
 * into device waits, frames of every size, floods of requests, and the
 * hostk call with every op and garbage.  hostk must answer as a kernel
 * would, never write where the guest may not, and go on serving.
 *
 * The runner gives each case the devices its table line asks for: always
 * /dev/hostk/test, and as named there a disk (of DISK_SIZE bytes of
 * zeroes) and a nic (its port is the case's argument). */
#include "attack.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>

#include <hostk/devices.h>
#include <hostk/hkcall.h>

#define DISK_SIZE (1u << 20)
#define MTU 1500

static char line[4096];	/* the result line */
static size_t used;
static unsigned char *ro;	/* a read-only page of 0x5a */
static void *const unmapped = (void *)0x1000;
#define KERN ((void *)0xffff888000000000ul)

/* Through syscall(): the compiler does not second-guess bad arguments. */
#define sys_read(fd, b, n) syscall(SYS_read, fd, b, (long)(n))
#define sys_write(fd, b, n) syscall(SYS_write, fd, b, (long)(n))
#define sys_pread(fd, b, n, off) syscall(SYS_pread64, fd, b, (long)(n), (long)(off))
#define sys_pwrite(fd, b, n, off) syscall(SYS_pwrite64, fd, b, (long)(n), (long)(off))
#define sys_readv(fd, v, n) syscall(SYS_readv, fd, v, (long)(n))
#define sys_writev(fd, v, n) syscall(SYS_writev, fd, v, (long)(n))

/* One answer: "LABEL ERRNO" or "LABEL N" (what the call returned). */
static void add(const char *label, long r)
{
	int e = errno;

	if (r == -1)
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%s %s", used ? ", " : "", label, ename(e));
	else
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%s %ld", used ? ", " : "", label, r);
	if (used >= sizeof line)
		used = sizeof line - 1;
}

#define T(label, ...) (errno = 0, add(label, (long)(__VA_ARGS__)))

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	used += (size_t)snprintf(line + used, sizeof line - used, "%s", used ? ", " : "");
	va_start(ap, fmt);
	used += (size_t)vsnprintf(line + used, sizeof line - used, fmt, ap);
	va_end(ap);
	if (used >= sizeof line)
		used = sizeof line - 1;
}

static void setup(void)
{
	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(ro, 0x5a, PAGE);
	mprotect(ro, PAGE, PROT_READ);
}

/* n bytes that end where an unwritable page begins: a transfer longer
 * than the buffer stops there, as it would natively. */
static char *guard_buf(size_t n)
{
	size_t len = (n + PAGE - 1) / PAGE * PAGE;
	char *p = mmap(NULL, len + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	mprotect(p + len, PAGE, PROT_NONE);
	return p + len - n;
}

/* What hostk may have written where the guest may not. */
static const char *damage(void)
{
	for (size_t i = 0; i < PAGE; i++)
		if (ro[i] != 0x5a)
			return "the read-only page CHANGED";
	return region_damage();
}

static void done(void)
{
	const char *d = damage();

	report(what, "%s; %s", line, d ? d : "nothing written where it may not be");
}

static int dev(const char *name, int flags)
{
	char path[64];

	snprintf(path, sizeof path, "/dev/hostk/%s", name);
	return open(path, flags);
}

static int dev_or_die(const char *name, int flags)
{
	int fd = dev(name, flags);

	if (fd < 0) {
		report(what, "cannot open /dev/hostk/%s: %s", name, ename(errno));
		exit(3);
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void msleep(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, ms % 1000 * 1000000 }, NULL);
}

/* Does a fresh image still get its kernel region (hostk still serves
 * execs)?  The probe case answers by its exit status. */
static bool exec_works(void)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		execv("/proc/self/exe", (char *[]){ "attack-devices", "probe", NULL });
		_exit(9);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void t_probe(int argc, char **argv)
{
	(void)argc, (void)argv;
	_exit(hk_kregion() && region_mapped() ? 0 : 1);
}

/* Bad buffers, lengths and offsets to the disk's reads and writes. */
static void t_badbuf(int argc, char **argv)
{
	int fd = dev_or_die("disk", O_RDWR);
	char *buf = guard_buf(8192);

	(void)argc, (void)argv;
	setup();
	T("read NULL", sys_read(fd, NULL, 512));
	T("read -1", sys_read(fd, (void *)-1L, 512));
	T("read kernel", sys_read(fd, KERN, 512));
	T("read unmapped", sys_read(fd, unmapped, 512));
	T("read read-only", sys_read(fd, ro, 512));
	T("read region", sys_read(fd, REGION, 512));
	T("read text", sys_read(fd, (void *)t_badbuf, 512));
	T("pos", lseek(fd, 0, SEEK_CUR));
	T("read SIZE_MAX", sys_read(fd, buf, SIZE_MAX));
	T("read 2^31", sys_read(fd, buf, 1ul << 31));
	T("pread -1", sys_pread(fd, buf, 512, -1));
	T("pread -4096", sys_pread(fd, buf, 512, -4096));
	T("pread INT64_MIN", sys_pread(fd, buf, 512, INT64_MIN));
	T("pread at the end", sys_pread(fd, buf, 512, DISK_SIZE));
	T("pread past it", sys_pread(fd, buf, 512, (off_t)DISK_SIZE * 4));
	T("pread across it", sys_pread(fd, buf, 8192, DISK_SIZE - 100));
	T("pread unaligned", sys_pread(fd, buf + 3, 1000, 7));
	T("write NULL", sys_write(fd, NULL, 512));
	T("write kernel", sys_write(fd, KERN, 512));
	T("write SIZE_MAX", sys_write(fd, buf, SIZE_MAX));
	T("pwrite -1", sys_pwrite(fd, buf, 512, -1));
	T("pwrite -4096", sys_pwrite(fd, buf, 512, -4096));
	T("pwrite at the end", sys_pwrite(fd, buf, 512, DISK_SIZE));
	T("pwrite across it", sys_pwrite(fd, buf, 8192, DISK_SIZE - 100));
	T("pwrite 0 bytes", sys_pwrite(fd, buf, 0, 0));
	T("pos", lseek(fd, 0, SEEK_CUR));
	done();
}

/* iovecs: counts the host refuses, bad arrays and bases, many of them. */
static void t_iov(int argc, char **argv)
{
	int fd = dev_or_die("disk", O_RDWR);
	char *buf = guard_buf(4096);
	static struct iovec many[1024];
	struct iovec one = { buf, 512 }, bad = { unmapped, 512 }, empty[4] = { { buf, 0 } };
	struct iovec huge[2] = { { buf, SIZE_MAX }, { buf, SIZE_MAX } };

	(void)argc, (void)argv;
	setup();
	for (int i = 0; i < 1024; i++)
		many[i] = (struct iovec){ buf + i, 1 };
	T("readv 0", sys_readv(fd, &one, 0));
	T("readv 1025", sys_readv(fd, many, 1025));
	T("readv -1", sys_readv(fd, &one, -1));
	T("readv iov NULL", sys_readv(fd, NULL, 1));
	T("readv iov unmapped", sys_readv(fd, unmapped, 1));
	T("readv iov kernel", sys_readv(fd, KERN, 1));
	T("readv bad base", sys_readv(fd, &bad, 1));
	T("readv empties", sys_readv(fd, empty, 4));
	T("readv 1024 of 1", sys_readv(fd, many, 1024));
	T("readv SIZE_MAX twice", sys_readv(fd, huge, 2));
	T("writev 1025", sys_writev(fd, many, 1025));
	T("writev bad base", sys_writev(fd, &bad, 1));
	T("preadv -1", preadv(fd, &one, 1, -1));
	T("preadv -4096", preadv(fd, &one, 1, -4096));
	T("pwritev -4096", pwritev(fd, &one, 1, -4096));
	T("preadv2 -1", preadv2(fd, &one, 1, -1, 0));
	T("preadv2 -2", preadv2(fd, &one, 1, -2, 0));
	T("preadv2 bad flags", preadv2(fd, &one, 1, 0, -1));
	T("pos", lseek(fd, 0, SEEK_CUR));
	done();
}

static void t_lseek(int argc, char **argv)
{
	int fd = dev_or_die("disk", O_RDWR);

	(void)argc, (void)argv;
	setup();
	T("SET -1", lseek(fd, -1, SEEK_SET));
	T("SET INT64_MIN", lseek(fd, INT64_MIN, SEEK_SET));
	T("SET INT64_MAX", lseek(fd, INT64_MAX, SEEK_SET));
	T("END 0", lseek(fd, 0, SEEK_END));
	T("END 1", lseek(fd, 1, SEEK_END));
	T("END -size", lseek(fd, -(off_t)DISK_SIZE, SEEK_END));
	T("END -size-1", lseek(fd, -(off_t)DISK_SIZE - 1, SEEK_END));
	T("CUR INT64_MAX", lseek(fd, INT64_MAX, SEEK_CUR));
	T("CUR INT64_MIN", lseek(fd, INT64_MIN, SEEK_CUR));
	T("whence 99", lseek(fd, 0, 99));
	T("whence -1", lseek(fd, 0, -1));
	T("pos", lseek(fd, 0, SEEK_CUR));
	done();
}

/* ioctls: unknown commands, results aimed where the guest may not write. */
static void t_ioctl(int argc, char **argv)
{
	int disk = dev_or_die("disk", O_RDWR), test = dev_or_die("test", O_RDWR);
	uint64_t size = 0;

	(void)argc, (void)argv;
	setup();
	T("unknown", ioctl(disk, _IO(HK_IOC_TYPE, 99)));
	T("type 0 nr 0", ioctl(disk, 0));
	T("-1", syscall(SYS_ioctl, disk, -1L, 0));
	T("stats NULL", ioctl(disk, HK_IOC_STATS, NULL));
	T("stats read-only", ioctl(disk, HK_IOC_STATS, ro));
	T("stats region", ioctl(disk, HK_IOC_STATS, REGION));
	T("stats text", ioctl(disk, HK_IOC_STATS, (void *)t_ioctl));
	T("stats kernel", ioctl(disk, HK_IOC_STATS, KERN));
	T("size read-only", ioctl(disk, BLKGETSIZE64, ro));
	T("size region", ioctl(disk, HK_IOC_DISK_SIZE, REGION));
	T("size -1", ioctl(disk, BLKGETSIZE64, (void *)-1L));
	T("size on the last byte", ioctl(disk, BLKGETSIZE64, ro + PAGE - 1));
	T("size high bits", syscall(SYS_ioctl, disk, (long)BLKGETSIZE64 | (1L << 32), &size));
	say("size %lu", (unsigned long)size);
	T("test stats region", ioctl(test, HK_IOC_STATS, REGION));
	T("test disk size", ioctl(test, HK_IOC_DISK_SIZE, &size));
	T("test unknown", ioctl(test, _IOR(HK_IOC_TYPE, 200, uint64_t), &size));
	T("closed", ioctl(1000, HK_IOC_STATS, &size));
	done();
}

/* stat and its kin of the device's file and descriptor, into bad buffers. */
static void t_stat(int argc, char **argv)
{
	int fd = dev_or_die("disk", O_RDWR), pfd = dev("disk", O_PATH);
	struct stat st = { 0 };
	struct statx sx = { 0 };

	(void)argc, (void)argv;
	setup();
	T("stat read-only", stat("/dev/hostk/disk", (struct stat *)ro));
	T("stat region", stat("/dev/hostk/disk", (struct stat *)REGION));
	T("fstat read-only", fstat(fd, (struct stat *)ro));
	T("fstat region", fstat(fd, (struct stat *)REGION));
	T("fstat NULL", syscall(SYS_fstat, fd, NULL));
	T("fstatat read-only", fstatat(fd, "", (struct stat *)ro, AT_EMPTY_PATH));
	T("statx region", statx(AT_FDCWD, "/dev/hostk/disk", 0, STATX_BASIC_STATS, (struct statx *)REGION));
	T("statx read-only", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, (struct statx *)ro));
	/* A buffer that ends on a page the guest may not write. */
	T("fstat short", fstat(fd, (struct stat *)(ro - sizeof st + 8)));
	T("fstat", fstat(fd, &st));
	say("%s %u", S_ISBLK(st.st_mode) ? "block" : "NOT block", major(st.st_rdev));
	T("fstat O_PATH", fstat(pfd, &st));
	say("%s %u", S_ISBLK(st.st_mode) ? "block" : "NOT block", major(st.st_rdev));
	T("statx", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	say("%s %u", S_ISBLK(sx.stx_mode) ? "block" : "NOT block", sx.stx_rdev_major);
	done();
}

/* The open's access mode and O_PATH: what the descriptor may do. */
static void t_mode(int argc, char **argv)
{
	char b[16] = "x";
	int rd = dev_or_die("disk", O_RDONLY), wr = dev_or_die("disk", O_WRONLY), path = dev("disk", O_PATH);
	int nic = dev_or_die("nic", O_RDONLY), test = dev_or_die("test", O_RDWR);
	struct open_how how = { .flags = O_RDONLY };
	int rd2 = (int)syscall(SYS_openat2, AT_FDCWD, "/dev/hostk/disk", &how, sizeof how);
	uint64_t size;

	(void)argc, (void)argv;
	setup();
	T("O_RDONLY write", sys_write(rd, b, 1));
	T("O_RDONLY pwrite", sys_pwrite(rd, b, 1, 0));
	T("openat2 O_RDONLY write", sys_write(rd2, b, 1));
	T("O_WRONLY read", sys_read(wr, b, 1));
	T("O_WRONLY pread", sys_pread(wr, b, 1, 0));
	T("O_PATH read", sys_read(path, b, 1));
	T("O_PATH ioctl", ioctl(path, BLKGETSIZE64, &size));
	T("O_PATH lseek", lseek(path, 0, SEEK_SET));
	T("O_PATH fsync", fsync(path));
	T("nic O_RDONLY write", sys_write(nic, b, 1));
	T("test write", sys_write(test, b, 1));
	done();
}

/* A request in flight (a disk of long latency) while another thread takes
 * its descriptor away: closes it, or puts another file in its place, then
 * opens the disk again (hostk finds the closed file there).  Natively the
 * read holds its file and completes. */
struct inflight {
	int fd;
	long r;
	int e;
	char buf[4096];
};

static void *inflight_read(void *arg)
{
	struct inflight *in = arg;

	errno = 0;
	in->r = pread(in->fd, in->buf, sizeof in->buf, 0);
	in->e = errno;
	return NULL;
}

static void inflight(const char *how_away)
{
	struct inflight in = { .fd = dev_or_die("disk", O_RDWR) };
	pthread_t th;
	int p[2], fd;

	pthread_create(&th, NULL, inflight_read, &in);
	msleep(50);
	if (!strcmp(how_away, "close")) {
		close(in.fd);
	} else {
		pipe(p);
		dup2(p[0], in.fd);
	}
	/* The reopen finds the closed file; churn the heap meanwhile. */
	for (int i = 0; i < 20; i++)
		if ((fd = dev("disk", O_RDWR)) >= 0)
			close(fd);
	for (int i = 0; i < 20; i++)
		if ((fd = dev("test", O_RDWR)) >= 0)
			close(fd);
	pthread_join(th, NULL);
	errno = in.e;
	T("the read", in.r);
	fd = dev("disk", O_RDWR);
	T("a new read", sys_pread(fd, in.buf, 512, 0));
	say("exec %s", exec_works() ? "works" : "FAILS");
	done();
}

static void t_close_inflight(int argc, char **argv)
{
	(void)argc, (void)argv;
	setup();
	inflight("close");
}

static void t_dup2_inflight(int argc, char **argv)
{
	(void)argc, (void)argv;
	setup();
	inflight("dup2");
}

/* fork while a thread has a request in flight: the child does its own. */
static void t_fork_inflight(int argc, char **argv)
{
	struct inflight in = { .fd = dev_or_die("disk", O_RDWR) };
	pthread_t th;
	pid_t pid;
	int st;

	(void)argc, (void)argv;
	setup();
	pthread_create(&th, NULL, inflight_read, &in);
	msleep(50);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char b[512];

		_exit(pread(in.fd, b, sizeof b, 0) == sizeof b ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	pthread_join(th, NULL);
	errno = in.e;
	T("the parent's read", in.r);
	say("the child %s", how(st));
	done();
}

/* Device descriptors across exec: with close-on-exec asked for (by open,
 * openat and openat2) they are gone, without it they stay and work. */
static void t_exec(int argc, char **argv)
{
	struct open_how how = { .flags = O_RDWR | O_CLOEXEC };
	struct open_how how2 = { .flags = O_RDWR };

	if (argc > 0 && !strcmp(argv[0], "stage2")) {
		char text[64] = "";
		struct stat st;

		setup();
		for (int fd = 3; fd <= 7; fd++) {
			bool dev_open = fcntl(fd, F_GETFD) >= 0 && fstat(fd, &st) == 0 && major(st.st_rdev) == HK_DEV_MAJOR;

			say("%d %s", fd, dev_open ? "open" : "closed");
		}
		say("reads %s", read(7, text, sizeof text - 1) > 0 && !strncmp(text, "test-lo", 7) ? "its counts" : "NOTHING");
		done();
		_exit(0);
	}
	close_range(3, ~0u, 0);
	dev_or_die("test", O_RDWR | O_CLOEXEC);					/* 3 */
	openat(AT_FDCWD, "/dev/hostk/test", O_RDWR | O_CLOEXEC);		/* 4 */
	syscall(SYS_openat2, AT_FDCWD, "/dev/hostk/test", &how, sizeof how);	/* 5 */
	dev_or_die("test", O_RDWR);						/* 6 */
	syscall(SYS_openat2, AT_FDCWD, "/dev/hostk/test", &how2, sizeof how2);	/* 7 */
	exec_stage2();
}

/* Signals by the thousand into a disk request: it completes once, its data
 * whole and the position moved once. */
static int signals;
static void on_usr1(int sig)
{
	(void)sig;
	signals++;
}

struct sigread {
	int fd;
	long r;
	int e;
	volatile bool done;
	unsigned char buf[65536];
};

static void *sig_reader(void *arg)
{
	struct sigread *s = arg;

	errno = 0;
	s->r = read(s->fd, s->buf, sizeof s->buf);
	s->e = errno;
	s->done = true;
	return NULL;
}

static void t_signals(int argc, char **argv)
{
	static struct sigread s;
	static unsigned char pattern[65536];
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	pthread_t th;
	int sent = 0;
	bool same;

	(void)argc, (void)argv;
	setup();
	s.fd = dev_or_die("disk", O_RDWR);
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(i * 7 + 1);
	T("write", sys_pwrite(s.fd, pattern, sizeof pattern, 0));
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&th, NULL, sig_reader, &s);
	while (!s.done && sent < 3000) {
		pthread_kill(th, SIGUSR1);
		sent++;
		if (sent % 16 == 0)
			sched_yield();
	}
	pthread_join(th, NULL);
	same = s.r == sizeof pattern && !memcmp(s.buf, pattern, sizeof pattern);
	errno = s.e;
	T("read", s.r);
	say("data %s", same ? "right" : "WRONG");
	T("pos", lseek(s.fd, 0, SEEK_CUR));
	say("%s", sent > 100 ? "many signals" : "FEW signals");
	done();
}

/* Opens until refused, in several processes at once: hostk's own table of
 * descriptors must not fill (it holds one per open), and while they hold
 * theirs, the others' execs and disk reads go on. */
static void t_opens(int argc, char **argv)
{
	enum { KIDS = 4 };
	int p[2], errs[KIDS] = { 0 }, fd;
	pid_t kids[KIDS];
	long opened = 0, r;
	char b[512];
	int disk = dev_or_die("disk", O_RDWR);

	(void)argc, (void)argv;
	setup();
	pipe(p);
	for (int k = 0; k < KIDS; k++) {
		fflush(NULL);
		if ((kids[k] = fork()) == 0) {
			struct rlimit rl;
			int r[2] = { 0, 0 };

			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			while (dev(k % 2 ? "test" : "disk", O_RDWR) >= 0)
				r[0]++;
			r[1] = errno;
			write(p[1], r, sizeof r);	/* at once: the children share the pipe */
			pause();
			_exit(0);
		}
	}
	for (int k = 0; k < KIDS; k++) {
		int r[2] = { 0, 0 };

		read(p[0], r, sizeof r);
		opened += r[0];
		errs[k] = r[1];
	}
	note("%ld opens in all", opened);
	for (int k = 0; k < KIDS; k++)
		note("child %d: %s (%d)", k, ename(errs[k]), errs[k]);
	for (int k = 1; k < KIDS; k++)
		if (errs[k] != errs[0])
			errs[0] = 0;
	say("opens refused with %s", errs[0] ? ename(errs[0]) : "MIXED errors");
	say("meanwhile exec %s", exec_works() ? "works" : "FAILS");
	fd = dev("disk", O_RDWR);
	say("an open %s", fd >= 0 ? "WORKS" : ename(errno));
	errno = 0;
	r = pread(disk, b, sizeof b, 0);
	say("a read of a disk open before %s", r == sizeof b ? "done" : ename(errno));
	for (int k = 0; k < KIDS; k++)
		kill(kids[k], SIGKILL);
	while (wait(NULL) > 0)
		;
	fd = dev("test", O_RDWR);
	say("after them an open %s", fd >= 0 ? "works" : ename(errno));
	done();
}

/* A device's descriptor sent over its own socket and closed: in flight in
 * the driver's end, it would keep the file open for ever (and one of
 * hostk's descriptors with it). */
static long send_fd(int over, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	return sendmsg(over, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void scm(const char *name, int rounds)
{
	int sent = 0, refused = 0, first_errno = 0;

	for (int i = 0; i < rounds; i++) {
		int fd = dev(name, O_RDWR);

		/* A nic's hardware side takes a moment to drop what came. */
		for (int wait = 0; fd < 0 && errno == EMFILE && wait < 1000; wait++) {
			msleep(1);
			fd = dev(name, O_RDWR);
		}
		if (fd < 0) {
			refused++;
			continue;
		}
		if (send_fd(fd, fd) == 1)
			sent++;
		else if (!first_errno)
			first_errno = errno;
		close(fd);
	}
	say("%s: %d sent, %d opens refused", name, sent, refused);
}

static void t_scm(int argc, char **argv)
{
	(void)argc, (void)argv;
	setup();
	scm("test", 25000);
	scm("disk", 2000);
	scm("nic", 2000);
	say("exec %s", exec_works() ? "works" : "FAILS");
	done();
}

/* The nic's own UDP port, to play the network from the guest. */
static struct sockaddr_in nic_addr(char **argv)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[0])),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

/* Frames of every size out, and what arrives at the peer (the guest's own
 * socket, the card's last sender). */
static void t_frames(int argc, char **argv)
{
	static char big[70000], got[70000];
	struct sockaddr_in a;
	int nic = dev_or_die("nic", O_RDWR), s = socket(AF_INET, SOCK_DGRAM, 0), arrived = 0;
	struct iovec two[2] = { { big, 1000 }, { big, 1000 } }, fit[2] = { { big, 700 }, { big, 800 } };
	char b[8];

	if (argc < 1)
		exit(2);
	setup();
	a = nic_addr(argv);
	sendto(s, "hi", 2, 0, (struct sockaddr *)&a, sizeof a);	/* the card learns its peer */
	read(nic, b, sizeof b);
	T("0", sys_write(nic, big, 0));
	T("MTU", sys_write(nic, big, MTU));
	T("MTU+1", sys_write(nic, big, MTU + 1));
	T("64 KiB", sys_write(nic, big, 65536));
	T("SIZE_MAX", sys_write(nic, big, SIZE_MAX));
	T("NULL", sys_write(nic, NULL, 100));
	T("region", sys_write(nic, REGION, 100));
	T("writev 1000+1000", sys_writev(nic, two, 2));
	T("writev 700+800", sys_writev(nic, fit, 2));
	T("pwrite", sys_pwrite(nic, big, 100, 0));
	sendto(s, "frame", 5, 0, (struct sockaddr *)&a, sizeof a);
	msleep(100);
	T("read into the region", sys_read(nic, REGION, 100));
	for (;;) {
		struct pollfd pf = { s, POLLIN, 0 };
		ssize_t n;

		if (poll(&pf, 1, 300) <= 0)
			break;
		n = recv(s, got, sizeof got, 0);
		say("arrived %zd", n);
		arrived++;
	}
	say("%d frames arrived", arrived);
	done();
}

/* Frames in, to two threads reading one descriptor and a thread reading a
 * second open of the card: none lost, none doubled. */
#define FRAMES 2000
static int nic_fds[2];
static volatile int seen[2][FRAMES], got_total[2];
static volatile bool frames_done;

static void *frame_reader(void *arg)
{
	int which = (int)(long)arg;
	int fd = nic_fds[which > 0];

	while (!frames_done) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint32_t seq;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		if (read(fd, &seq, sizeof seq) == sizeof seq && seq < FRAMES) {
			__atomic_add_fetch(&seen[which > 0][seq], 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&got_total[which > 0], 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void t_readers(int argc, char **argv)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_DGRAM, 0), once[2] = { 0 }, twice[2] = { 0 };
	pthread_t th[3];

	if (argc < 1)
		exit(2);
	setup();
	a = nic_addr(argv);
	nic_fds[0] = dev_or_die("nic", O_RDWR | O_NONBLOCK);
	nic_fds[1] = dev_or_die("nic", O_RDWR | O_NONBLOCK);
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, frame_reader, (void *)(i == 2 ? 1L : i == 1 ? 2L : 0L));
	for (uint32_t seq = 0; seq < FRAMES; seq++) {
		double t0 = now_s();

		sendto(s, &seq, sizeof seq, 0, (struct sockaddr *)&a, sizeof a);
		/* Lockstep in batches, so that no queue overflows. */
		if (seq % 8 == 7)
			while ((got_total[0] < (int)seq + 1 || got_total[1] < (int)seq + 1) && now_s() - t0 < 1)
				sched_yield();
	}
	msleep(300);
	frames_done = true;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (int w = 0; w < 2; w++)
		for (int i = 0; i < FRAMES; i++) {
			once[w] += seen[w][i] == 1;
			twice[w] += seen[w][i] > 1;
		}
	say("two readers of one descriptor: %d of %d once, %d doubled", once[0], FRAMES, twice[0]);
	say("a second open: %d once, %d doubled", once[1], twice[1]);
	done();
}

/* A storm of fsyncs and reads, more than the disk's queue holds, beside a
 * task that sleeps: every request done, the sleeper not starved. */
struct storm {
	int fd, id, ok;
};

static void *storm_worker(void *arg)
{
	struct storm *w = arg;
	unsigned char b[512];

	for (int i = 0; i < 40; i++) {
		if (w->id % 2)
			w->ok += fsync(w->fd) == 0;
		else
			w->ok += pread(w->fd, b, sizeof b, (off_t)((w->id * 40 + i) % 2048) * 512) == sizeof b;
	}
	return NULL;
}

static void t_storm(int argc, char **argv)
{
	enum { WORKERS = 100 };
	static struct storm w[WORKERS];
	pthread_t th[WORKERS];
	int fd = dev_or_die("disk", O_RDWR), ok = 0;
	double t0, slept;

	(void)argc, (void)argv;
	setup();
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct storm){ fd, i, 0 };
		pthread_create(&th[i], NULL, storm_worker, &w[i]);
	}
	t0 = now_s();
	for (int i = 0; i < 50; i++)
		msleep(2);
	slept = now_s() - t0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
	}
	say("%d of %d requests done", ok, WORKERS * 40);
	say("50 sleeps of 2 ms took %s", slept < 2 ? "less than 2 s" : "MORE than 2 s");
	done();
}

/* epoll on device descriptors across fork: each process's view its own. */
static void t_epoll(int argc, char **argv)
{
	int test = dev_or_die("test", O_RDWR), disk = dev_or_die("disk", O_RDWR), ep = epoll_create1(0), st;
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	pid_t pid;

	(void)argc, (void)argv;
	setup();
	ev.data.fd = test;
	epoll_ctl(ep, EPOLL_CTL_ADD, test, &ev);
	ev.data.fd = disk;
	epoll_ctl(ep, EPOLL_CTL_ADD, disk, &ev);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int n = epoll_wait(ep, out, 4, 1000);

		close(test);
		close(disk);
		_exit(n == 2 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	say("the child %s", how(st));
	T("the parent's wait", epoll_wait(ep, out, 4, 1000));
	close(test);
	T("after a close", epoll_wait(ep, out, 4, 0));
	close(disk);
	T("after both", epoll_wait(ep, out, 4, 0));
	T("a reopen", (test = dev("test", O_RDWR)) >= 0 ? 0 : -1);
	done();
}

/* The hostk call: every op, bad lines, bad pointers, waits cut short. */
static long hk(long op, long a, long b)
{
	return syscall(HK_CALL_NR, op, a, b, -1L, -1L, -1L);
}

static void *hk_waiter(void *arg)
{
	(void)arg;
	return (void *)hk(HK_DEV_WAIT, HK_TEST_LO, 1L << 60);
}

static void t_hkcall(int argc, char **argv)
{
	struct hk_dev_counts c;
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t th;
	void *r;

	(void)argc, (void)argv;
	setup();
	T("null", hk(HK_NULL, -1L, -1L));
	T("op 5", hk(5, 0, 0));
	T("op -1", hk(-1L, 0, 0));
	T("op 2^32", hk(1L << 32, 0, 0));
	T("op 2^32+3", hk((1L << 32) + HK_DEV_COUNTS, 0, (long)&c));
	T("the gate", hk(0x100, 0, 0));
	T("line 2", hk(HK_DEV_COUNTS, 2, (long)&c));
	T("line -1", hk(HK_DEV_COUNTS, -1L, (long)&c));
	T("line 2^32", hk(HK_DEV_COUNTS, 1L << 32, (long)&c));
	T("counts NULL", hk(HK_DEV_COUNTS, 0, 0));
	T("counts read-only", hk(HK_DEV_COUNTS, 0, (long)ro));
	T("counts region", hk(HK_DEV_COUNTS, 0, (long)REGION));
	T("counts text", hk(HK_DEV_COUNTS, 0, (long)t_hkcall));
	T("counts kernel", hk(HK_DEV_COUNTS, 0, (long)KERN));
	T("raise 0", hk(HK_DEV_RAISE, 0, 0));
	T("storm off", hk(HK_DEV_STORM, 1, 0));
	T("wait 0", hk(HK_DEV_WAIT, 0, 0) >= 0 ? 0 : -1);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&th, NULL, hk_waiter, NULL);
	msleep(50);
	T("a second waiter", hk(HK_DEV_WAIT, HK_TEST_LO, 1L << 60));
	for (int i = 0; i < 500; i++)
		pthread_kill(th, SIGUSR1);
	pthread_join(th, &r);
		say("the wait %s", (long)r == -1 ? "ended by a signal" : "RETURNED");
	T("a wait after", (pthread_create(&th, NULL, hk_waiter, NULL), msleep(20), pthread_kill(th, SIGUSR1),
			   pthread_join(th, &r), (long)r == -1 ? 0 : 1));
	done();
}

/* A line masked by a process that then exits: the others' requests must
 * not wait for ever. */
static void mask_and_go(void *arg)
{
	int fd = dev("disk", O_RDWR);

	(void)arg;
	_exit(ioctl(fd, HK_IOC_MASK) == 0 ? 0 : 1);
}

static void read_once(void *arg)
{
	char b[512];

	_exit(pread(*(int *)arg, b, sizeof b, 0) == sizeof b ? 0 : 1);
}

static void t_mask_exit(int argc, char **argv)
{
	int fd = dev_or_die("disk", O_RDWR), st = 0;
	double t0;
	pid_t pid;

	(void)argc, (void)argv;
	setup();
	say("the masker %s", how(in_child(mask_and_go, NULL)));
	fflush(NULL);
	if ((pid = fork()) == 0)
		read_once(&fd);
	for (t0 = now_s(); now_s() - t0 < 3 && waitpid(pid, &st, WNOHANG) == 0;)
		msleep(10);
	if (now_s() - t0 >= 3) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		say("then a read STILL WAITING after 3 s");
	} else {
		say("then a read %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "done" : "FAILED");
	}
	done();
}

static const struct attack cases[] = {
	{ "probe", t_probe, false },
	{ "badbuf", t_badbuf, true },
	{ "iov", t_iov, true },
	{ "lseek", t_lseek, true },
	{ "ioctl", t_ioctl, true },
	{ "stat", t_stat, true },
	{ "mode", t_mode, true },
	{ "close-inflight", t_close_inflight, true },
	{ "dup2-inflight", t_dup2_inflight, true },
	{ "fork-inflight", t_fork_inflight, true },
	{ "exec", t_exec, true },
	{ "signals", t_signals, true },
	{ "opens", t_opens, true },
	{ "scm", t_scm, true },
	{ "frames", t_frames, true },
	{ "readers", t_readers, true },
	{ "storm", t_storm, true },
	{ "epoll", t_epoll, true },
	{ "hkcall", t_hkcall, true },
	{ "mask-exit", t_mask_exit, true },
};

int main(int argc, char **argv)
{
	return attack_main(argc, argv, "devices", cases, NELEM(cases));
}
