/* pids.c - pid/ppid relations across fork, vfork and orphan reparenting. `pids` checks relations
 * only (runs natively too); `pids hostk` also checks hostk's numbering: pid 1, ppid 0, children 2-4. */
#include "guest.h"

#include <time.h>
#include <unistd.h>

#define NCHILD 3

struct report {
	pid_t pid, ppid;
};

static int hostk;

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

static int readn(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r <= 0)
			return 0;
		got += r;
	}
	return 1;
}

static void t_children(pid_t me)
{
	struct report rep[NCHILD];
	pid_t forked[NCHILD], waited[NCHILD];
	int p[2], st, ok = 1;

	if (pipe(p) != 0)
		exit(1);
	/* Fork all before reaping any, so no pid can be reused in between. */
	for (int i = 0; i < NCHILD; i++) {
		if ((forked[i] = child()) == 0) {
			struct report r = { getpid(), getppid() };

			_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
		}
	}
	close(p[1]);
	if (!CHECK(readn(p[0], rep, sizeof(rep)), "children: short read of reports"))
		exit(1);
	close(p[0]);
	qsort(rep, NCHILD, sizeof(rep[0]), cmp_pid);
	qsort(forked, NCHILD, sizeof(forked[0]), cmp_pid);
	for (int i = 0; i < NCHILD; i++) {
		ok &= CHECK(rep[i].pid == forked[i], "child reports pid %d, fork returned %d", rep[i].pid,
			    forked[i]);
		ok &= CHECK(rep[i].ppid == me, "child %d reports ppid %d, want %d", rep[i].pid, rep[i].ppid, me);
		if (hostk)
			say("child pid %d ppid %d", rep[i].pid, rep[i].ppid);
	}
	if (ok)
		say("children: getpid() matches fork(), getppid() matches parent");

	ok = 1;
	for (int i = 0; i < NCHILD; i++) {
		waited[i] = waitpid(-1, &st, 0);
		ok &= CHECK(waited[i] > 0 && st == 0, "waitpid(-1): %d, status 0x%x", waited[i], st);
	}
	qsort(waited, NCHILD, sizeof(waited[0]), cmp_pid);
	for (int i = 0; i < NCHILD; i++)
		ok &= CHECK(waited[i] == forked[i], "waitpid returned %d, fork returned %d", waited[i], forked[i]);
	if (ok)
		say("waitpid(-1): returned the %d forked pids", NCHILD);
}

static void t_vfork(void)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = vfork()) == 0)
		_exit(7);
	if (CHECK(pid > 0, "vfork: %s", ename(errno)) && reap(pid, 7 << 8, "vfork"))
		say("vfork: child reaped, status 7");
}

/* The middle process exits at once; the grandchild polls getppid() for up to 2 s. */
static void t_orphan(void)
{
	struct timespec ts = { 0, 10000000 };
	struct report r = { 0, 0 };
	int p[2], st = 0;
	pid_t mid, pid = 0;

	if (pipe(p) != 0)
		exit(1);
	if ((mid = child()) == 0) {
		pid_t orig = getpid();

		if (fork() == 0) {
			for (int i = 0; i < 200; i++) {
				pid_t pp = getppid();

				if (hostk ? pp == 1 : pp != orig) {
					r.pid = getpid();
					r.ppid = pp;
					break;
				}
				nanosleep(&ts, NULL);
			}
			_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
		}
		_exit(0);
	}
	close(p[1]);
	reap(mid, 0, "orphan's parent");
	if (CHECK(readn(p[0], &r, sizeof(r)) && r.pid > 0, "orphan: getppid() never changed"))
		say("orphan reparented%s", hostk ? " to pid 1" : "");
	close(p[0]);
	if (!hostk || r.pid <= 0)
		return;
	/* Under hostk the first guest is the init of the guest: it can reap the orphan. */
	for (int i = 0; i < 200; i++) {
		if ((pid = waitpid(-1, &st, WNOHANG)) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (CHECK(pid == r.pid && st == 0, "orphan: waitpid(-1) returned %d (%s), orphan is %d", pid,
		  ename(pid < 0 ? errno : 0), r.pid))
		say("orphan reaped by pid 1");
}

int main(int argc, char **argv)
{
	pid_t me = getpid(), ppid = getppid();

	hostk = argc > 1 && strcmp(argv[1], "hostk") == 0;
	if (hostk) {
		CHECK(me == 1 && ppid == 0, "first guest: getpid() %d getppid() %d", me, ppid);
		say("pid %d ppid %d", me, ppid);
	} else {
		CHECK(me > 0 && ppid != me, "getpid() %d getppid() %d", me, ppid);
	}
	t_children(me);
	t_vfork();
	t_orphan();
	return finish();
}
