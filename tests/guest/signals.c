/* signals.c - in-process signal delivery: handlers, masks, siginfo si_code/si_pid, sigtimedwait,
 * alarm, SA_RESTART. `signals [CHECK...]` runs the named checks (default: all). */
#include "guest.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits, got_signo, got_code, got_pid, got_uid, got_val;
static int wakeup_fd = -1;   /* the SIGALRM handler writes a byte here if >= 0 */

static void on_plain(int sig)
{
	(void)sig;
	hits++;
	if (wakeup_fd >= 0 && write(wakeup_fd, "x", 1) != 1)
		_exit(99);
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	hits++;
	got_signo = si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
	got_val = si->si_value.sival_int;
}

static void handle(int sig, int info, int flags)
{
	struct sigaction sa = { .sa_flags = flags | (info ? SA_SIGINFO : 0) };

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

static void t_raise(void)
{
	handle(SIGUSR1, 0, 0);
	raise(SIGUSR1);
	if (CHECK(hits == 1, "raise: handler ran %d times", hits))
		say("raise: handler ran");
	hits = 0;
	kill(getpid(), SIGUSR1);
	if (CHECK(hits == 1, "kill(getpid()): handler ran %d times before kill returned", hits))
		say("kill(getpid()): handler ran before kill returned");
}

static void t_mask(void)
{
	sigset_t pend;

	handle(SIGUSR1, 0, 0);
	mask(SIG_BLOCK, SIGUSR1, NULL);
	raise(SIGUSR1);
	CHECK(hits == 0, "mask: blocked signal was delivered");
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR1), "mask: sigpending lacks SIGUSR1");
	mask(SIG_UNBLOCK, SIGUSR1, NULL);
	sigpending(&pend);
	if (CHECK(hits == 1 && !sigismember(&pend, SIGUSR1), "mask: not delivered on unblock"))
		say("mask: pending while blocked, delivered on unblock");
}

static void expect_info(const char *what, int code, int pid)
{
	if (CHECK(hits == 1 && got_signo == SIGUSR2, "%s: handler hits %d signo %d", what, hits, got_signo) &&
	    CHECK(got_code == code, "%s: si_code %d, want %d", what, got_code, code) &&
	    CHECK(got_pid == pid, "%s: si_pid %d, want %d", what, got_pid, pid))
		say("siginfo %s: si_code %s, si_pid matches", what,
		    code == SI_USER ? "SI_USER" : code == SI_TKILL ? "SI_TKILL" : "SI_QUEUE");
	hits = 0;
}

static void t_siginfo(void)
{
	handle(SIGUSR2, 1, 0);
	kill(getpid(), SIGUSR2);
	CHECK(got_uid == (int)getuid(), "kill: si_uid %d", got_uid);
	expect_info("kill", SI_USER, getpid());
	raise(SIGUSR2);
	expect_info("raise", SI_TKILL, getpid());
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	expect_info("tgkill", SI_TKILL, getpid());
	sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 42 });
	CHECK(got_val == 42, "sigqueue: si_value %d", got_val);
	expect_info("sigqueue", SI_QUEUE, getpid());
}

static void t_sigwait(void)
{
	struct timespec ts = { 2, 0 }, short_ts = { 0, 20000000 };
	siginfo_t si;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	r = sigtimedwait(&set, &si, &ts);
	if (CHECK(r == SIGUSR1, "sigtimedwait returned %d (%s)", r, ename(errno)))
		CHECK(si.si_code == SI_USER && si.si_pid == getpid(), "sigtimedwait: si_code %d si_pid %d",
		      si.si_code, si.si_pid);
	r = sigtimedwait(&set, &si, &short_ts);
	CHECK(r == -1 && errno == EAGAIN, "empty sigtimedwait: %d (%s)", r, ename(errno));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	say("sigtimedwait: took SIGUSR1 from self, then timed out");
}

static void t_alarm(void)
{
	int r;

	handle(SIGALRM, 0, 0);
	alarm(1);
	r = pause();
	if (CHECK(r == -1 && errno == EINTR && hits == 1, "alarm: pause %d (%s), hits %d", r,
		  ename(errno), hits))
		say("alarm: pause interrupted by SIGALRM");
}

/* Reads from an empty pipe until SIGALRM fires; the handler writes a byte to it. Returns the
 * read result; errno is kept. */
static ssize_t read_until_alarm(int restart, long usec)
{
	struct itimerval it = { .it_value = { usec / 1000000, usec % 1000000 } };
	int p[2], e;
	ssize_t r;
	char c;

	if (pipe(p) != 0)
		exit(1);
	handle(SIGALRM, 0, restart ? SA_RESTART : 0);
	wakeup_fd = p[1];
	setitimer(ITIMER_REAL, &it, NULL);
	r = read(p[0], &c, 1);
	e = errno;
	wakeup_fd = -1;
	close(p[0]);
	close(p[1]);
	signal(SIGALRM, SIG_DFL);
	errno = e;
	return r;
}

static void t_restart(void)
{
	ssize_t r = read_until_alarm(1, 100000);

	if (CHECK(r == 1 && hits == 1, "SA_RESTART: read %zd (%s), hits %d", r, ename(errno), hits))
		say("restart: read resumed after SA_RESTART handler");
	/* Data instead of EINTR means the timer beat read() into the kernel: retry slower. */
	for (long usec = 100000; usec <= 1600000; usec *= 4)
		if ((r = read_until_alarm(0, usec)) != 1)
			break;
	if (CHECK(r == -1 && errno == EINTR && hits == 1, "no SA_RESTART: read %zd (%s), hits %d", r,
		  ename(errno), hits))
		say("restart: read failed EINTR without SA_RESTART");
}

static const struct check checks[] = {
	{ "raise", t_raise }, { "mask", t_mask }, { "siginfo", t_siginfo },
	{ "sigwait", t_sigwait }, { "alarm", t_alarm }, { "restart", t_restart },
};

int main(int argc, char **argv)
{
	return run_checks(argc, argv, checks, sizeof(checks) / sizeof(checks[0]));
}
