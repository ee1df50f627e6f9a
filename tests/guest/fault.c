/* fault.c - hardware faults and abort: `fault KIND [handle|block]`, KIND one of
 * segv fpe ill trap bus abort. Unhandled/blocked: dies of the signal; handle: prints caught, exits 0. */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

static const struct kind {
	const char *name;
	int sig;
	int code;              /* expected si_code when handled */
	const char *code_name;
} kinds[] = {
	{ "segv", SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR" },
	{ "fpe", SIGFPE, FPE_INTDIV, "FPE_INTDIV" },
	{ "ill", SIGILL, ILL_ILLOPN, "ILL_ILLOPN" },
	{ "trap", SIGTRAP, SI_KERNEL, "SI_KERNEL" },
	{ "bus", SIGBUS, BUS_ADRERR, "BUS_ADRERR" },
	{ "abort", SIGABRT, SI_TKILL, "SI_TKILL" },
};

static const struct kind *cur;
static void *volatile want_addr;   /* expected si_addr for segv and bus */

static void put(const char *s)
{
	ssize_t r = write(1, s, strlen(s));

	(void)r;
}

/* Async-signal-safe: checks siginfo, prints one line, exits. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig != cur->sig || si->si_signo != sig) {
		put("caught wrong signal\n");
		_exit(1);
	}
	if (si->si_code != cur->code) {
		put("caught with wrong si_code\n");
		_exit(1);
	}
	if ((sig == SIGSEGV || sig == SIGBUS) && si->si_addr != want_addr) {
		put("caught with wrong si_addr\n");
		_exit(1);
	}
	put("caught ");
	put(sigabbrev_np(sig));
	put(" ");
	put(cur->code_name);
	put("\n");
	_exit(0);
}

static void do_bus(void)
{
	char path[] = "/tmp/hostk-fault-XXXXXX";
	long pg = sysconf(_SC_PAGESIZE);
	int fd = mkstemp(path);
	char *p;

	if (fd < 0 || unlink(path) != 0 || ftruncate(fd, pg) != 0) {
		fail("bus: temp file: %s", ename(errno));
		exit(1);
	}
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, 0) != 0) {
		fail("bus: mmap/ftruncate: %s", ename(errno));
		exit(1);
	}
	want_addr = p;
	*(volatile char *)p = 1;   /* page is now beyond EOF */
}

static void provoke(int sig)
{
	volatile int *volatile nullp = NULL;
	volatile int a = 1, b = 0;

	switch (sig) {
	case SIGSEGV:
		want_addr = NULL;
		*nullp = 1;
		break;
	case SIGFPE:
		a = a / b;
		break;
	case SIGILL:
		__asm__ volatile("ud2");
		break;
	case SIGTRAP:
		__asm__ volatile("int3");
		break;
	case SIGBUS:
		do_bus();
		break;
	case SIGABRT:
		abort();
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "";
	struct sigaction sa;
	sigset_t set;
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(argv[1], kinds[i].name) == 0)
			cur = &kinds[i];
	if (!cur || argc > 3 || (argc == 3 && strcmp(mode, "handle") && strcmp(mode, "block"))) {
		fprintf(stderr, "usage: %s segv|fpe|ill|trap|bus|abort [handle|block]\n", argv[0]);
		return 2;
	}

	if (strcmp(mode, "handle") == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_fault;
		sa.sa_flags = SA_SIGINFO;
		sigaction(cur->sig, &sa, NULL);
	} else if (strcmp(mode, "block") == 0) {
		/* A blocked synchronous fault still kills (abort unblocks itself). */
		sigemptyset(&set);
		sigaddset(&set, cur->sig);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	say("fault: %s%s%s", cur->name, *mode ? " " : "", mode);
	provoke(cur->sig);
	fail("%s: survived the fault", cur->name);
	return 1;
}
