/* exitcode.c - exit status propagation: `exitcode CODE` exits with CODE,
 * `exitcode CODE SIG` dies of signal SIG (hostk should then exit 128+SIG). */
#include "guest.h"

#include <signal.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t set;
	int code, sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s CODE [SIGNAL]\n", argv[0]);
		return 2;
	}
	code = atoi(argv[1]);
	if (argc == 2) {
		say("exitcode: exit %d", code);
		exit(code);
	}

	sig = atoi(argv[2]);
	say("exitcode: signal %d", sig);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	/* Only reached for signals whose default action is not to terminate. */
	sleep(1);
	fail("still alive after kill(getpid(), %d)", sig);
	return 1;
}
