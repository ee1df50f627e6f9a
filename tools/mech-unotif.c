/* The bench's minimal seccomp user-notification supervisor.  Its guest, before
 * exec, installs a filter that returns SECCOMP_RET_USER_NOTIF for one syscall
 * (nr) and hands the listener to its parent over a socket; the parent waits
 * in poll() on the listener, takes each notification (NOTIF_RECV) and
 * answers it (NOTIF_SEND: getppid's value; the host runs nothing).  poll()
 * rather than a bare blocking RECV because only poll sees the guest go (the
 * listener hangs up): a real supervisor does the same.  Where the kernel has
 * it (Linux >= 6.6) the listener asks for synchronous wake-ups, the hand-off
 * that keeps supervisor and guest on one CPU.  bench.c forks the supervisor
 * (pinned) and calls trace_unotif. */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "filter1.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

const char *unotif_missing(void)
{
	unsigned action = SECCOMP_RET_USER_NOTIF;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		return "the kernel has no seccomp user notification (Linux >= 5.0)";
	return NULL;
}

static int send_fd(int sock, int fd)
{
	char data = 0, ctl[CMSG_SPACE(sizeof fd)] = { 0 };
	struct iovec iov = { &data, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fd);
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &data, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1 || !(c = CMSG_FIRSTHDR(&m)) || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

static _Noreturn void guest(int sock, long nr, char *const argv[])
{
	int fd = (int)filter1_install(nr, SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);

	if (fd < 0 || send_fd(sock, fd) < 0) {
		fprintf(stderr, "hostk: bench: user-notification filter: %s\n", strerror(errno));
		_exit(127);
	}
	close(fd);
	close(sock);
	execv(argv[0], argv);
	fprintf(stderr, "hostk: bench: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int serve(int fd, pid_t pid)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!(p.revents & POLLIN))
			return 0;	/* hung up: the guest is gone */
		memset(&req, 0, sizeof req);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;	/* ENOENT: the guest died meanwhile */
			return -1;
		}
		resp = (struct seccomp_notif_resp){ .id = req.id, .val = pid };
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			return -1;
	}
}

int trace_unotif(long nr, char *const argv[])
{
	int sv[2], fd, status, rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(sv[0]);
		guest(sv[1], nr, argv);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	close(sv[0]);
	if (fd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return status;
	}
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);	/* EINVAL before 6.6 */
	rc = serve(fd, getpid());
	if (rc < 0) {
		fprintf(stderr, "hostk: bench: user notification: %s\n", strerror(errno));
		kill(pid, SIGKILL);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return rc < 0 ? -1 : status;
}
