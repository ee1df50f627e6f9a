/* badptr.c - bad pointers and huge lengths to every syscall hostk emulates
 * or checks (the emulate and check rows of the trap table): NULL, -1, a
 * kernel address, an unmapped page, a read-only page for results, strings
 * that run into unmapped memory, SIZE_MAX lengths.  hostk must answer as
 * the host does (the runner compares with a native run where hostk is not
 * meant to differ), never crash or hang, and warn a bounded number of
 * times.  One case per syscall family; `fence` and `hostk` hold the answers
 * that are hostk's own (the region's fence, its refusals, its device). */
#include "attack.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>

static char line[4096];	/* the result line */
static char scratch[8192];	/* where good buffers point */
static size_t used;

#define NUL ((void *)0)
#define NEG ((void *)-1L)
#define KERN ((void *)0xffff888000000000ul)
/* Below mmap_min_addr: never mapped.  edge: 16 bytes of 'a' and then a page
 * that cannot be read, for strings and structs that run off their end. */
static void *const unmapped = (void *)0x1000;
static void *ro, *edge;

static void setup(void)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(p, 'a', PAGE);
	mprotect(p + PAGE, PAGE, PROT_NONE);
	edge = p + PAGE - 16;
	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Natively too: a filter of one's own needs it without privilege. */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* One answer: "LABEL ERRNO" or "LABEL ok". */
static void add(const char *label, long r)
{
	int e = errno;

	used += (size_t)snprintf(line + used, sizeof line - used, "%s%s %s", used ? ", " : "", label,
				 r == -1 ? ename(e) : "ok");
	if (used >= sizeof line)
		used = sizeof line - 1;
}

#define T(label, ...) (errno = 0, add(label, (long)(__VA_ARGS__)))
/* The four bad addresses in one argument. */
#define BAD4(expr_of) \
	do { \
		T("NULL", expr_of(NUL)); \
		T("-1", expr_of(NEG)); \
		T("kernel", expr_of(KERN)); \
		T("unmapped", expr_of(unmapped)); \
	} while (0)

static void done(void)
{
	report(what, "%s", line);
}

static long sc(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

#define L(...) ((long)(__VA_ARGS__))

static int pipe_with(const char *data)
{
	int p[2];

	if (pipe2(p, O_NONBLOCK) < 0)
		return -1;
	if (data && write(p[1], data, strlen(data)) < 0)
		return -1;
	return p[0];
}

static void t_open(int argc, char **argv)
{
	static char longname[5000];

	(void)argc, (void)argv;
	memset(longname, 'a', sizeof longname - 1);
#define OPEN(...) sc(SYS_open, L(__VA_ARGS__), O_RDONLY, 0, 0, 0, 0)
	BAD4(OPEN);
	T("unterminated", OPEN(edge));
	T("too long", OPEN(longname));
#define CREAT(...) sc(SYS_creat, L(__VA_ARGS__), 0600, 0, 0, 0, 0)
	BAD4(CREAT);
	done();
}

static void t_openat(int argc, char **argv)
{
	struct open_how how = { .flags = O_RDONLY };

	(void)argc, (void)argv;
#define OPENAT(...) sc(SYS_openat, AT_FDCWD, L(__VA_ARGS__), O_RDONLY, 0, 0, 0)
	BAD4(OPENAT);
	T("unterminated", OPENAT(edge));
	T("bad dirfd", sc(SYS_openat, -5, L("x"), O_RDONLY, 0, 0, 0));
	T("dirfd NULL path", sc(SYS_openat, 999, 0, O_RDONLY, 0, 0, 0));
#define OPENAT2(...) sc(SYS_openat2, AT_FDCWD, L("/"), L(__VA_ARGS__), sizeof how, 0, 0)
	BAD4(OPENAT2);
	T("openat2 size SIZE_MAX", sc(SYS_openat2, AT_FDCWD, L("/"), L(&how), -1L, 0, 0));
	T("openat2 size 0", sc(SYS_openat2, AT_FDCWD, L("/"), L(&how), 0, 0, 0));
	T("openat2 path", sc(SYS_openat2, AT_FDCWD, L(NEG), L(&how), sizeof how, 0, 0));
	done();
}

static void t_execve(int argc, char **argv)
{
	char *args[] = { "true", NULL };

	(void)argc, (void)argv;
#define EXECPATH(...) sc(SYS_execve, L(__VA_ARGS__), L(args), 0, 0, 0, 0)
	BAD4(EXECPATH);
#define EXECARGV(...) sc(SYS_execve, L("/bin/true"), L(__VA_ARGS__), 0, 0, 0, 0)
	T("argv -1", EXECARGV(NEG));
	T("argv kernel", EXECARGV(KERN));
	T("argv unmapped", EXECARGV(unmapped));
	T("envp -1", sc(SYS_execve, L("/bin/true"), L(args), L(NEG), 0, 0, 0));
	T("argv[0] -1", sc(SYS_execve, L("/bin/true"), L((char *[]){ NEG, NULL }), 0, 0, 0, 0));
	T("execveat path -1", sc(SYS_execveat, AT_FDCWD, L(NEG), L(args), 0, 0, 0));
	T("execveat bad dirfd", sc(SYS_execveat, -5, L(""), L(args), 0, AT_EMPTY_PATH, 0));
	done();
}

static void t_clone(int argc, char **argv)
{
	struct clone_args ca = { .exit_signal = SIGCHLD };

	(void)argc, (void)argv;
#define CLONE3(...) sc(SYS_clone3, L(__VA_ARGS__), sizeof ca, 0, 0, 0, 0)
	BAD4(CLONE3);
	T("size SIZE_MAX", sc(SYS_clone3, L(&ca), -1L, 0, 0, 0, 0));
	T("size 0", sc(SYS_clone3, L(&ca), 0, 0, 0, 0, 0));
	T("size 8", sc(SYS_clone3, L(&ca), 8, 0, 0, 0, 0));
	T("unterminated", sc(SYS_clone3, L(edge), sizeof ca, 0, 0, 0, 0));
	T("bad exit signal", sc(SYS_clone3, L(&(struct clone_args){ .exit_signal = 4242 }), sizeof ca, 0, 0, 0, 0));
	done();
}

static void t_sleep(int argc, char **argv)
{
	(void)argc, (void)argv;
#define NANOSLEEP(...) sc(SYS_nanosleep, L(__VA_ARGS__), 0, 0, 0, 0, 0)
	BAD4(NANOSLEEP);
	T("unterminated", NANOSLEEP((char *)edge + 8));
	T("negative", NANOSLEEP(&(struct timespec){ -1, 0 }));
	T("tv_nsec 1e9", NANOSLEEP(&(struct timespec){ 0, 1000000000 }));
	T("rem -1 not written", sc(SYS_nanosleep, L(&(struct timespec){ 0, 0 }), L(NEG), 0, 0, 0, 0));
#define CLOCKSLEEP(...) sc(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, L(__VA_ARGS__), 0, 0, 0)
	BAD4(CLOCKSLEEP);
	T("clock 99", sc(SYS_clock_nanosleep, 99, 0, L(&(struct timespec){ 0, 0 }), 0, 0, 0));
	T("cpu clock NULL", sc(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, 0, 0, 0, 0));
	T("abstime past", sc(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, L(&(struct timespec){ 1, 0 }), L(NEG), 0, 0));
	T("abstime huge flags", sc(SYS_clock_nanosleep, CLOCK_MONOTONIC, -1L, L(&(struct timespec){ 0, 1 }), 0, 0, 0));
	done();
}

static void t_itimer(int argc, char **argv)
{
	struct itimerval v = { 0 };

	(void)argc, (void)argv;
#define GETITIMER(...) sc(SYS_getitimer, ITIMER_REAL, L(__VA_ARGS__), 0, 0, 0, 0)
	BAD4(GETITIMER);
	T("read-only", GETITIMER(ro));
	T("which 99", sc(SYS_getitimer, 99, L(&v), 0, 0, 0, 0));
#define SETITIMER(...) sc(SYS_setitimer, ITIMER_REAL, L(__VA_ARGS__), 0, 0, 0, 0)
	T("new -1", SETITIMER(NEG));
	T("new kernel", SETITIMER(KERN));
	T("new unmapped", SETITIMER(unmapped));
	T("usec 2e6", SETITIMER(&(struct itimerval){ .it_value = { 0, 2000000 } }));
	T("negative", SETITIMER(&(struct itimerval){ .it_value = { -1, 0 } }));
	T("old -1", sc(SYS_setitimer, ITIMER_REAL, L(&v), L(NEG), 0, 0, 0));
	T("old read-only", sc(SYS_setitimer, ITIMER_REAL, L(&v), L(ro), 0, 0, 0));
	T("which 99", sc(SYS_setitimer, 99, L(&v), 0, 0, 0, 0));
	T("alarm 0", (sc(SYS_alarm, 0, 0, 0, 0, 0, 0), 0));
	done();
}

static void t_sigsuspend(int argc, char **argv)
{
	(void)argc, (void)argv;
#define SUSPEND(...) sc(SYS_rt_sigsuspend, L(__VA_ARGS__), 8, 0, 0, 0, 0)
	BAD4(SUSPEND);
	T("size 9", sc(SYS_rt_sigsuspend, L(&(sigset_t){ 0 }), 9, 0, 0, 0, 0));
	T("size SIZE_MAX", sc(SYS_rt_sigsuspend, L(&(sigset_t){ 0 }), -1L, 0, 0, 0, 0));
#define SIGWAIT(...) sc(SYS_rt_sigtimedwait, L(__VA_ARGS__), 0, L(&(struct timespec){ 0, 0 }), 8, 0, 0)
	BAD4(SIGWAIT);
	T("timeout -1", sc(SYS_rt_sigtimedwait, L(&(sigset_t){ 0 }), 0, L(NEG), 8, 0, 0));
	done();
}

/* A wait for a zombie, with errno as the wait left it; the zombie is gone
 * afterwards, whether or not the failed wait reaped it. */
static long wait_zombie(bool id, void *status, void *ru)
{
	pid_t z = zombie();
	long r = id ? sc(SYS_waitid, P_PID, z, L(status), WEXITED, L(ru), 0) : sc(SYS_wait4, z, L(status), 0, L(ru), 0, 0);
	int e = errno;

	waitpid(z, NULL, WNOHANG);
	errno = e;
	return r;
}

static void t_wait(int argc, char **argv)
{
	(void)argc, (void)argv;
	T("no child, status -1", sc(SYS_wait4, -1, L(NEG), WNOHANG, L(NEG), 0, 0));
#define WAIT4(...) wait_zombie(false, __VA_ARGS__, NULL)
	BAD4(WAIT4);
	T("status read-only", WAIT4(ro));
#define WAITID(...) wait_zombie(true, __VA_ARGS__, NULL)
	T("waitid -1", WAITID(NEG));
	T("waitid kernel", WAITID(KERN));
	T("waitid unmapped", WAITID(unmapped));
	T("waitid read-only", WAITID(ro));
	T("waitid idtype 99", sc(SYS_waitid, 99, 0, 0, WEXITED, 0, 0));
	T("waitid rusage -1", wait_zombie(true, NULL, NEG));
	done();
}

static void t_usage(int argc, char **argv)
{
	(void)argc, (void)argv;
#define RUSAGE(...) sc(SYS_getrusage, RUSAGE_SELF, L(__VA_ARGS__), 0, 0, 0, 0)
	BAD4(RUSAGE);
	T("read-only", RUSAGE(ro));
	T("children -1", sc(SYS_getrusage, RUSAGE_CHILDREN, L(NEG), 0, 0, 0, 0));
	T("who 99", sc(SYS_getrusage, 99, L(&(struct rusage){ 0 }), 0, 0, 0, 0));
#define TIMES(...) sc(SYS_times, L(__VA_ARGS__), 0, 0, 0, 0, 0)
	T("times -1", TIMES(NEG));
	T("times kernel", TIMES(KERN));
	T("times unmapped", TIMES(unmapped));
	T("times read-only", TIMES(ro));
	T("times NULL", TIMES(NUL) == -1 ? -1 : 0);
	done();
}

/* The descriptor rows: hostk looks only at what the descriptor is. */
static void t_rw(int argc, char **argv)
{
	int p = pipe_with("abcdefgh"), q[2];
	struct iovec bad = { NEG, 8 };

	(void)argc, (void)argv;
	pipe2(q, O_NONBLOCK);
#define READ(b) sc(SYS_read, p, L(b), 8, 0, 0, 0)
	BAD4(READ);
	T("read-only", READ(ro));
	T("read SIZE_MAX", sc(SYS_read, p, L(scratch + sizeof line - 64), -1L, 0, 0, 0));
	T("read bad fd", sc(SYS_read, -1, L(scratch), -1L, 0, 0, 0));
	T("read fd 1<<30", sc(SYS_read, 1 << 30, L(scratch), 1, 0, 0, 0));
#define WRITE(b) sc(SYS_write, q[1], L(b), 8, 0, 0, 0)
	BAD4(WRITE);
	T("write SIZE_MAX", sc(SYS_write, q[1], L("x"), -1L, 0, 0, 0));
	T("readv bad iov", sc(SYS_readv, p, L(NEG), 1, 0, 0, 0));
	T("readv bad base", sc(SYS_readv, p, L(&bad), 1, 0, 0, 0));
	T("readv iovcnt 1<<20", sc(SYS_readv, p, L(&bad), 1 << 20, 0, 0, 0));
	T("writev bad iov", sc(SYS_writev, q[1], L(KERN), 1, 0, 0, 0));
	T("writev bad base", sc(SYS_writev, q[1], L(&bad), 1, 0, 0, 0));
	done();
}

static void t_poll(int argc, char **argv)
{
	struct timespec zero = { 0, 0 };
	struct timeval tv0 = { 0, 0 };
	int ep = epoll_create1(0);

	(void)argc, (void)argv;
#define POLL(...) sc(SYS_poll, L(__VA_ARGS__), 1, 0, 0, 0, 0)
	BAD4(POLL);
	T("poll nfds huge", sc(SYS_poll, 0, 1L << 40, 0, 0, 0, 0));
	T("ppoll bad fds", sc(SYS_ppoll, L(NEG), 1, L(&zero), 0, 8, 0));
	T("ppoll bad timeout", sc(SYS_ppoll, 0, 0, L(NEG), 0, 8, 0));
	T("ppoll bad mask", sc(SYS_ppoll, 0, 0, L(&zero), L(KERN), 8, 0));
#define SELECT(...) sc(SYS_select, 1, L(__VA_ARGS__), 0, 0, L(&tv0), 0)
	T("select -1", SELECT(NEG));
	T("select kernel", SELECT(KERN));
	T("select unmapped", SELECT(unmapped));
	T("select bad timeout", sc(SYS_select, 0, 0, 0, 0, L(NEG), 0));
	T("select nfds -1", sc(SYS_select, -1, 0, 0, 0, L(&tv0), 0));
	T("pselect6 bad set", sc(SYS_pselect6, 1, L(NEG), 0, 0, L(&zero), 0));
	T("pselect6 bad timeout", sc(SYS_pselect6, 0, 0, 0, 0, L(KERN), 0));
	T("pselect6 bad sigmask", sc(SYS_pselect6, 0, 0, 0, 0, L(&zero), L(NEG)));
	T("epoll_wait -1", sc(SYS_epoll_wait, ep, L(NEG), 1, 0, 0, 0));
	T("epoll_wait maxevents huge", sc(SYS_epoll_wait, ep, L(scratch), 1 << 30, 0, 0, 0));
	T("epoll_pwait bad mask", sc(SYS_epoll_pwait, ep, L(scratch), 1, 0, L(NEG), 8));
	T("epoll_pwait2 bad timeout", sc(SYS_epoll_pwait2, ep, L(scratch), 1, L(NEG), 0, 8));
	done();
}

static void t_socket(int argc, char **argv)
{
	int sv[2], s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct msghdr bad = { .msg_iov = NEG, .msg_iovlen = 1 };

	(void)argc, (void)argv;
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	write(sv[1], "abcdefgh", 8);
#define CONNECT(...) sc(SYS_connect, s, L(__VA_ARGS__), 16, 0, 0, 0)
	BAD4(CONNECT);
	T("connect addrlen huge", sc(SYS_connect, s, L(scratch), 1L << 31, 0, 0, 0));
	T("accept bad addr", sc(SYS_accept, s, L(NEG), L(NEG), 0, 0, 0));
	T("accept4 bad flags", sc(SYS_accept4, s, 0, 0, -1, 0, 0));
	T("sendto bad buf", sc(SYS_sendto, sv[0], L(NEG), 8, 0, 0, 0));
	T("sendto len SIZE_MAX", sc(SYS_sendto, sv[0], L(scratch), -1L, 0, 0, 0));
	T("recvfrom bad buf", sc(SYS_recvfrom, sv[0], L(KERN), 8, 0, 0, 0));
	T("recvfrom bad addrlen", sc(SYS_recvfrom, sv[0], L(scratch), 1, 0, L(scratch), L(NEG)));
	T("sendmsg -1", sc(SYS_sendmsg, sv[0], L(NEG), 0, 0, 0, 0));
	T("sendmsg bad iov", sc(SYS_sendmsg, sv[0], L(&bad), 0, 0, 0, 0));
	T("recvmsg unmapped", sc(SYS_recvmsg, sv[0], L(unmapped), 0, 0, 0, 0));
	T("sendmmsg -1", sc(SYS_sendmmsg, sv[0], L(NEG), 1, 0, 0, 0));
	T("recvmmsg -1", sc(SYS_recvmmsg, sv[0], L(NEG), 1, 0, 0, 0));
	T("recvmmsg bad timeout", sc(SYS_recvmmsg, sv[0], L(scratch), 1, 0, L(NEG), 0));
	done();
}

static void t_ipc(int argc, char **argv)
{
	int sem = semget(IPC_PRIVATE, 1, 0600), msg = msgget(IPC_PRIVATE, 0600);

	(void)argc, (void)argv;
#define SEMOP(...) sc(SYS_semop, sem, L(__VA_ARGS__), 1, 0, 0, 0)
	BAD4(SEMOP);
	T("semop nsops huge", sc(SYS_semop, sem, L(scratch), 1 << 20, 0, 0, 0));
	T("semtimedop bad timeout", sc(SYS_semtimedop, sem, L(&(struct sembuf){ 0, -1, IPC_NOWAIT }), 1, L(NEG), 0, 0));
	T("msgsnd -1", sc(SYS_msgsnd, msg, L(NEG), 8, IPC_NOWAIT, 0, 0));
	T("msgsnd size SIZE_MAX", sc(SYS_msgsnd, msg, L(scratch), -1L, IPC_NOWAIT, 0, 0));
	T("msgrcv kernel", sc(SYS_msgrcv, msg, L(KERN), 8, 0, IPC_NOWAIT, 0));
	T("mq_timedsend bad fd", sc(SYS_mq_timedsend, -1, L(NEG), 8, 0, L(NEG), 0));
	T("mq_timedreceive bad fd", sc(SYS_mq_timedreceive, -1, L(NEG), 8, 0, L(NEG), 0));
	T("io_getevents bad ctx", sc(SYS_io_getevents, 0, 1, 1, L(NEG), L(NEG), 0));
	T("flock bad fd", sc(SYS_flock, -1, LOCK_EX, 0, 0, 0, 0));
	semctl(sem, 0, IPC_RMID);
	msgctl(msg, IPC_RMID, NULL);
	done();
}

static void t_futex(int argc, char **argv)
{
	(void)argc, (void)argv;
#define FUTEX(...) sc(SYS_futex, L(__VA_ARGS__), 0 /* FUTEX_WAIT */, 0, 0, 0, 0)
	BAD4(FUTEX);
	T("lock_pi -1", sc(SYS_futex, L(NEG), 6 /* FUTEX_LOCK_PI */, 0, 0, 0, 0));
	T("wait_bitset bad timeout", sc(SYS_futex, L(&(int){ 0 }), 9, 0, L(NEG), 0, -1));
	T("futex_waitv -1", sc(SYS_futex_waitv, L(NEG), 1, 0, 0, CLOCK_MONOTONIC, 0));
	T("futex_waitv nr huge", sc(SYS_futex_waitv, L(scratch), 1 << 20, 0, 0, CLOCK_MONOTONIC, 0));
	done();
}

/* The checks on registers, with bad pointers where the host reads. */
static void t_checks(int argc, char **argv)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), p = pipe_with(NULL);

	(void)argc, (void)argv;
	T("ioctl FIONREAD -1", sc(SYS_ioctl, p, FIONREAD, L(NEG), 0, 0, 0));
	T("ioctl TCGETS kernel", sc(SYS_ioctl, 0, TCGETS, L(KERN), 0, 0, 0));
#define PRCTL_FILTER(...) sc(SYS_prctl, PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, L(__VA_ARGS__), 0, 0, 0)
	BAD4(PRCTL_FILTER);
	T("prctl name -1", sc(SYS_prctl, PR_SET_NAME, L(NEG), 0, 0, 0, 0));
#define SECCOMP(...) sc(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0, L(__VA_ARGS__), 0, 0, 0)
	BAD4(SECCOMP);
	T("seccomp op 99", sc(SYS_seccomp, 99, 0, 0, 0, 0, 0));
#define PERF(...) sc(SYS_perf_event_open, L(__VA_ARGS__), 0, -1, -1, 0, 0)
	BAD4(PERF);
	T("perf bad group fd", sc(SYS_perf_event_open, L(&(struct perf_event_attr){ .type = PERF_TYPE_SOFTWARE,
				  .size = sizeof(struct perf_event_attr), .exclude_kernel = 1, .exclude_hv = 1 }),
				  0, -1, 1 << 20, 0, 0));
#define PMADV(...) sc(SYS_process_madvise, pidfd, L(__VA_ARGS__), 1, MADV_COLD, 0, 0)
	BAD4(PMADV);
	T("process_madvise vlen huge", sc(SYS_process_madvise, pidfd, L(scratch), -1L, MADV_COLD, 0, 0));
	T("process_madvise bad pidfd", sc(SYS_process_madvise, -1, L(scratch), 1, MADV_COLD, 0, 0));
	T("shmat bad id", sc(SYS_shmat, -1, L(NEG), 0, 0, 0, 0));
	done();
}

/* hostk's own answers, where it refuses before the host would look. */
static void t_fence(int argc, char **argv)
{
	(void)argc, (void)argv;
	T("mmap fixed -1", (long)mmap(NEG, PAGE, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1 ? -1 : 0);
	T("mmap SIZE_MAX", (long)mmap(NULL, -1ul, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1 ? -1 : 0);
	T("mmap fixed kernel", (long)mmap(KERN, PAGE, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1 ?
	  -1 : 0);
	T("munmap 0 SIZE_MAX", munmap(NULL, -1ul));
	T("munmap -1", munmap(NEG, PAGE));
	T("mprotect 4096 SIZE_MAX", mprotect((void *)PAGE, -1ul, PROT_READ));
	T("mprotect kernel", mprotect(KERN, PAGE, PROT_READ));
	T("pkey_mprotect -1", syscall(SYS_pkey_mprotect, NEG, PAGE, PROT_READ, -1));
	T("madvise 0 SIZE_MAX", madvise(NULL, -1ul, MADV_DONTNEED));
	T("madvise -1", madvise(NEG, PAGE, MADV_DONTFORK));
	T("mremap -1", (long)mremap(NEG, PAGE, PAGE, 0) == -1 ? -1 : 0);
	T("mremap to SIZE_MAX", (long)mremap(ro, PAGE, -1ul, MREMAP_MAYMOVE) == -1 ? -1 : 0);
	T("shmat remap -1", sc(SYS_shmat, -1, L(NEG), SHM_REMAP, 0, 0, 0));
	T("ioctl TIOCSTI -1", sc(SYS_ioctl, 0, TIOCSTI, L(NEG), 0, 0, 0));
	T("ioctl TIOCSTI high bits", sc(SYS_ioctl, 0, (1L << 32) | TIOCSTI, L("x"), 0, 0, 0));
	T("unshare -1", sc(SYS_unshare, -1L, 0, 0, 0, 0, 0));
	T("seccomp flags -1", sc(SYS_seccomp, 1, -1L, L(scratch), 0, 0, 0));
	T("clone flags -1", sc(SYS_clone, -1L, 0, 0, 0, 0, 0));
	done();
}

/* hostk's device: the hostk call, natively ENOSYS. */
static void t_hostk(int argc, char **argv)
{
	(void)argc, (void)argv;
#define COUNTS(...) sc(0x4b48, 3 /* HK_DEV_COUNTS */, 1, L(__VA_ARGS__), 0, 0, 0)
	BAD4(COUNTS);
	T("read-only", COUNTS(ro));
	T("line 99", sc(0x4b48, 3, 99, L(scratch), 0, 0, 0));
	T("line -1", sc(0x4b48, 1, -1L, 1, 0, 0, 0));
	T("op -1", sc(0x4b48, -1L, 1, 1, 0, 0, 0));
	T("wait line 99", sc(0x4b48, 4, 99, -1L, 0, 0, 0));
	done();
}

static const struct attack cases[] = {
	{ "open", t_open, false },
	{ "openat", t_openat, false },
	{ "execve", t_execve, false },
	{ "clone", t_clone, false },
	{ "sleep", t_sleep, false },
	{ "itimer", t_itimer, false },
	{ "sigsuspend", t_sigsuspend, false },
	{ "wait", t_wait, false },
	{ "usage", t_usage, false },
	{ "rw", t_rw, false },
	{ "poll", t_poll, false },
	{ "socket", t_socket, false },
	{ "ipc", t_ipc, false },
	{ "futex", t_futex, false },
	{ "checks", t_checks, false },
	{ "fence", t_fence, false },
	{ "hostk", t_hostk, false },
};

int main(int argc, char **argv)
{
	setup();
	return attack_main(argc, argv, "badptr", cases, NELEM(cases));
}
