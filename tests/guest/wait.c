/* wait.c - process lifecycle across fork: signals between parent and child, waitpid/waitid
 * results, SIGCHLD siginfo, process groups and sessions. `wait [CHECK...]`, default all. */
#include "guest.h"

#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t hits, got_signo, got_code, got_pid, got_status;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	hits++;
	got_signo = si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_status = si->si_status;
}

static void on_plain(int sig)
{
	(void)sig;
	hits++;
}

static void handle(int sig, int info)
{
	struct sigaction sa = { .sa_flags = info ? SA_SIGINFO : 0 };

	if (info)
		sa.sa_sigaction = on_info;
	else
		sa.sa_handler = on_plain;
	sigaction(sig, &sa, NULL);
	hits = 0;
}

static void mask(int how, int sig, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(how, &set, old);
}

static void t_kill(void)
{
	sigset_t old;
	pid_t pid;

	handle(SIGUSR2, 1);
	mask(SIG_BLOCK, SIGUSR2, &old);
	if ((pid = child()) == 0)
		_exit(kill(getppid(), SIGUSR2) == 0 ? 0 : 1);
	while (!hits)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (CHECK(got_code == SI_USER && got_pid == pid, "kill(getppid()): si_code %d si_pid %d, child %d",
		  got_code, got_pid, pid))
		say("kill(getppid()): parent got SIGUSR2 with si_pid = child");
	reap(pid, 0, "kill(getppid())");
}

static void t_exit(void)
{
	pid_t pid;

	if ((pid = child()) == 0)
		_exit(5);
	if (reap(pid, 5 << 8, "exit 5"))
		say("waitpid: returns the forked pid, WEXITSTATUS 5");
}

static void t_term(void)
{
	pid_t pid;

	if ((pid = child()) == 0)
		for (;;)
			pause();
	kill(pid, SIGTERM);
	if (reap(pid, SIGTERM, "SIGTERM"))
		say("waitpid: WIFSIGNALED, WTERMSIG 15");
}

static void t_waitid(void)
{
	siginfo_t si = { 0 };
	sigset_t old;
	pid_t pid;

	handle(SIGCHLD, 1);
	mask(SIG_BLOCK, SIGCHLD, &old);
	if ((pid = child()) == 0)
		_exit(7);
	if (CHECK(waitid(P_PID, pid, &si, WEXITED) == 0, "waitid: %s", ename(errno)) &&
	    CHECK(si.si_pid == pid && si.si_code == CLD_EXITED && si.si_status == 7,
		  "waitid: si_pid %d (child %d) si_code %d si_status %d", si.si_pid, pid, si.si_code, si.si_status))
		say("waitid: si_pid = child, CLD_EXITED, status 7");
	while (!hits)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (CHECK(got_signo == SIGCHLD && got_code == CLD_EXITED && got_pid == pid && got_status == 7,
		  "SIGCHLD: si_code %d si_pid %d (child %d) si_status %d", got_code, got_pid, pid, got_status))
		say("SIGCHLD: si_pid = child, CLD_EXITED, status 7");
	signal(SIGCHLD, SIG_DFL);
}

/* Child makes a new group with a grandchild in it; kill(-pgrp) must reach both. */
static void t_pgrp(void)
{
	int p[2];
	char buf[2] = "FF";
	pid_t pid, g;

	if (pipe(p) != 0)
		exit(1);
	if ((pid = child()) == 0) {
		int st = 0, ok = setpgid(0, 0) == 0 && getpgid(0) == getpid();

		handle(SIGUSR1, 0);
		if ((g = fork()) == 0) {
			signal(SIGUSR1, SIG_DFL);   /* the group signal kills the grandchild */
			if (write(p[1], ok ? "g" : "F", 1) == 1)
				pause();
			_exit(1);
		}
		if (write(p[1], ok && getpgid(g) == getpid() ? "c" : "F", 1) != 1)
			_exit(1);
		while (waitpid(g, &st, 0) < 0 && errno == EINTR)
			;
		for (int i = 0; i < 200 && !hits; i++)
			usleep(10000);
		_exit(hits && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1 ? 0 : 3);
	}
	setpgid(pid, pid);   /* the usual race-free idiom; may fail harmlessly */
	for (size_t got = 0; got < 2;) {
		ssize_t r = read(p[0], buf + got, 2 - got);

		if (r <= 0)
			break;
		got += r;
	}
	if (CHECK(buf[0] != 'F' && buf[1] != 'F', "pgrp: setpgid(0,0) in child failed"))
		CHECK(getpgid(pid) == pid && getpgid(0) != pid, "pgrp: parent sees getpgid(child) %d, child %d",
		      getpgid(pid), pid);
	kill(-pid, SIGUSR1);
	close(p[0]);
	close(p[1]);
	if (reap(pid, 0, "kill(-pgrp)"))
		say("pgrp: setpgid(0,0) in child, kill(-pgrp) reached child and grandchild");
}

static void t_setsid(void)
{
	pid_t pid;

	if ((pid = child()) == 0) {
		pid_t s = setsid(), me = getpid();

		_exit(s == me && getsid(0) == me && getpgid(0) == me ? 0 : 1);
	}
	CHECK(getsid(0) != pid, "setsid: parent's session changed");
	if (reap(pid, 0, "setsid"))
		say("setsid: child leads new session and group");
}

static const struct check checks[] = {
	{ "kill", t_kill }, { "exit", t_exit }, { "term", t_term },
	{ "waitid", t_waitid }, { "pgrp", t_pgrp }, { "setsid", t_setsid },
};

int main(int argc, char **argv)
{
	return run_checks(argc, argv, checks, sizeof(checks) / sizeof(checks[0]));
}
