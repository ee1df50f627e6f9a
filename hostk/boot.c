/* Start-up.  Probes what hostk needs from the host (ptrace, seccomp's trace
 * action), vets the program, pins hostk to its CPU, and starts the first
 * guest: a child cloned into the guests' namespaces (ns.c) that waits until
 * hostk has seized it and written its id maps, takes its identity and
 * mounts, sets no_new_privs, loads the filter, hands hostk the filter's
 * listener and execs the program, so the namespaces, the filter and the
 * tracer are in place before the program's first instruction. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../drivers/devices.h"
#include "boot.h"
#include "ns.h"
#include "filter.h"
#include "inject.h"
#include "irq.h"
#include "kregion.h"
#include "sched.h"
#include "stop.h"
#include "policy.h"
#include "trace.h"
#include "timer.h"
#include "task.h"
#include "util.h"
#include "watchdog.h"

extern char **environ;

static int exec_err_fd = -1;	/* the first exec's errno, if it failed */
static const char *prog_path;
static bool gave_tty;

/* Why an ELF file cannot run, or NULL.  The host would say only ENOEXEC. */
static const char *elf_problem(int fd, off_t size)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool entry_loaded = false;

	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
		return "truncated ELF header";
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return "not an x86-64 program";
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return "not an executable ELF file";
	if (eh.e_phentsize != sizeof ph || eh.e_phnum == 0 ||
	    eh.e_phoff + (uint64_t)eh.e_phnum * sizeof ph > (uint64_t)size)
		return "corrupt ELF program headers";
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph)
			return "truncated ELF program headers";
		if ((ph.p_type == PT_LOAD || ph.p_type == PT_INTERP) &&
		    (ph.p_offset + ph.p_filesz < ph.p_offset || ph.p_offset + ph.p_filesz > (uint64_t)size))
			return "truncated ELF file";
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && eh.e_entry >= ph.p_vaddr &&
		    eh.e_entry - ph.p_vaddr < ph.p_memsz)
			entry_loaded = true;
		if (ph.p_type == PT_INTERP) {
			char interp[256] = "";

			if (ph.p_filesz >= sizeof interp ||
			    pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
			    access(interp, X_OK) < 0)
				return "its program interpreter is missing";
		}
	}
	return entry_loaded ? NULL : "corrupt ELF file (its entry point is in no executable segment)";
}

static _Noreturn void not_runnable(const char *prog, const char *why)
{
	die_status(EXIT_NOEXEC, "%s: %s", prog, why);
}

static void vet(const char *prog, const char *path)
{
	struct stat st;
	char magic[4] = "";
	const char *why;
	int fd;

	if (stat(path, &st) < 0)
		die_status(EXIT_NOTFOUND, "%s: not found", prog);
	if (S_ISDIR(st.st_mode))
		not_runnable(prog, "is a directory");
	if (!S_ISREG(st.st_mode))
		not_runnable(prog, "not a regular file");
	if (access(path, X_OK) < 0)
		not_runnable(prog, "permission denied");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		not_runnable(prog, strerror(errno));
	if (pread(fd, magic, sizeof magic, 0) < 2)
		not_runnable(prog, "not an executable (empty or too short)");
	if (magic[0] == '#' && magic[1] == '!') {
		close(fd);
		return;		/* a script: the host runs its interpreter */
	}
	if (memcmp(magic, ELFMAG, SELFMAG) != 0)
		not_runnable(prog, "not an ELF executable");
	why = elf_problem(fd, st.st_size);
	close(fd);
	if (why)
		not_runnable(prog, why);
}

char *boot_resolve(const char *prog)
{
	const char *path = getenv("PATH");
	char *found = NULL;

	if (!*prog)
		die_status(EXIT_NOTFOUND, "'': not found");
	if (strchr(prog, '/')) {
		vet(prog, prog);
		return strdup(prog);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	/* Like env: the first executable match wins; a match that cannot be
	 * executed is reported only if nothing better turns up. */
	for (const char *p = path; ; p = strchr(p, ':') + 1) {
		size_t len = strcspn(p, ":");
		char *cand;
		struct stat st;

		if (asprintf(&cand, "%.*s%s%s", (int)len, len ? p : ".", "/", prog) < 0)
			die("out of memory");
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			free(found);
			vet(prog, cand);
			return cand;
		}
		if (!found && stat(cand, &st) == 0)
			found = cand;
		else
			free(cand);
		if (!p[len])
			break;
	}
	if (found)
		vet(prog, found);	/* dies with the reason */
	die_status(EXIT_NOTFOUND, "%s: not found", prog);
}

static void probe(void)
{
	unsigned action = SECCOMP_RET_TRACE;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		die("this host has no seccomp filter with the trace action (%s); hostk needs Linux >= 4.14 "
		    "with CONFIG_SECCOMP_FILTER", strerror(errno));
}

static void pin(const struct boot_opts *o)
{
	cpu_set_t allowed, set;
	int n = 0, first = sched_getcpu();

	if (!o->pin || sched_getaffinity(0, sizeof allowed, &allowed) < 0)
		return;
	CPU_ZERO(&set);
	/* The CPU hostk is on now first, then the next allowed ones. */
	if (first >= 0 && CPU_ISSET(first, &allowed)) {
		CPU_SET(first, &set);
		n++;
	}
	for (int c = 0; c < CPU_SETSIZE && n < o->cpus; c++)
		if (CPU_ISSET(c, &allowed) && !CPU_ISSET(c, &set)) {
			CPU_SET(c, &set);
			n++;
		}
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		warn("cannot pin to %d CPU(s): %s", o->cpus, strerror(errno));
}

/* The non-maskable path: SIGINT, SIGTERM, SIGHUP end hostk within a bounded
 * time whatever the guests or the kernel loop do.  The handler kills pid 1,
 * which takes its whole pid namespace with it (the host does that), and the
 * loop then collects the ends and exits; in case it never comes round (a
 * bug, a livelock), it also wakes the shutdown thread, which exits for it
 * after SHUTDOWN_GRACE_MS.  Guests that are hostk's tracees die with it
 * (PTRACE_O_EXITKILL); a pid 1 not seized yet finds its socket closed. */
#define SHUTDOWN_GRACE_MS 2000
static int shutdown_fd = -1;

static void on_shutdown(int sig)
{
	uint64_t one = 1;

	shutdown_sig = sig;
	if (init_host_pid > 0)
		kill(init_host_pid, SIGKILL);
	if (write(shutdown_fd, &one, sizeof one) < 0)
		return;	/* nothing more an async-signal-safe handler can do */
}

static void *shutdown_thread(void *arg)
{
	uint64_t n;

	(void)arg;
	while (read(shutdown_fd, &n, sizeof n) != (ssize_t)sizeof n)
		;
	for (int waited = 0; waited < SHUTDOWN_GRACE_MS; waited += 50) {
		if (init_host_pid > 0)
			kill(init_host_pid, SIGKILL);	/* it may have started since */
		poll(NULL, 0, 50);
	}
	if (gave_tty)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	_exit(128 + shutdown_sig);
}

static const int hostk_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGTTOU, SIGTTIN, SIGPIPE };

static void signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_shutdown };

	/* The thread that reads it starts after the first guest's clone: a
	 * raw clone3 in a process with threads would copy their locks. */
	if ((shutdown_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		die_errno("eventfd");

	sigfillset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(hostk_signals[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;	/* the terminal and trace pipes are hostk's to manage */
	for (size_t i = 3; i < NELEM(hostk_signals); i++)
		sigaction(hostk_signals[i], &sa, NULL);
}

/* What pid 1 tells hostk while it sets itself up: 0 and the gate's listener
 * (SCM_RIGHTS), or the errno of the step that failed (then, later, only an
 * exec's errno: the socket closes on a successful exec). */
struct boot_msg {
	int err;
	char what[200];
};

static void report(int sock, int err, const char *what, int fd)
{
	struct boot_msg m = { .err = err };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &m, sizeof m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	snprintf(m.what, sizeof m.what, "%s", what ? what : "");
	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		_exit(127);
}

static _Noreturn void guest_child(int sock, const char *path, char *const argv[], bool init, bool traced)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	const char *what = "setting no_new_privs";
	sigset_t none;
	char c;
	int rc, listener = -1;

	for (size_t i = 0; i < NELEM(hostk_signals); i++)
		sigaction(hostk_signals[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (read(sock, &c, 1) != 1)	/* hostk wrote our id maps and seized us */
		_exit(127);
	rc = ns_enter(&what);
	if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	if (!rc && traced && (listener = filter_load()) < 0) {
		rc = listener;
		what = "loading the seccomp filter";
	}
	if (rc || traced)
		report(sock, rc, rc ? what : NULL, rc ? -1 : listener);
	if (rc)
		_exit(127);
	if (traced)
		close(listener);
	/* The policy's limits last: they are the guest program's, not those
	 * of hostk's code before the exec (an address-space limit refuses a
	 * sanitizer's allocations; a descriptor in flight counts against the
	 * sender's RLIMIT_NOFILE, which the report must not meet).  Past the
	 * report, a failure is a line on hostk's stderr and exit status 1. */
	if ((rc = ns_set_limits()) < 0) {
		dprintf(STDERR_FILENO, "hostk: cannot confine the guest: setting the policy's limits: %s\n",
			strerror(-rc));
		_exit(1);
	}
	if (init)
		ns_init();	/* returns in PROG's process */
	execve(path, argv, environ);
	report(sock, errno, "exec", -1);
	_exit(127);
}

/* The signals whose default action dumps core: a crash, or abort(). */
static bool dumps_core(int sig)
{
	static const int core[] = { SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU,
				    SIGXFSZ, SIGSYS };

	for (size_t i = 0; i < NELEM(core); i++)
		if (core[i] == sig)
			return true;
	return false;
}

/* pid 1's report, while serving its ptrace stops (a signal at boot must not
 * leave it stopped with hostk waiting here).  Returns the listener, or
 * dies with the reason. */
static int boot_handshake(int sock, pid_t pid)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct boot_msg m;
	struct iovec iov = { &m, sizeof m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1, status;

	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		pid_t r;

		if (poll(&pfd, 1, 20) > 0)
			break;
		r = waitpid(pid, &status, WNOHANG | __WALL);
		if (r == pid && WIFSTOPPED(status)) {
			int sig = status >> 16 ? 0 : WSTOPSIG(status);

			/* hostk's own code before the exec died of sig: pid 1
			 * is its namespace's init, which drops a fatal signal
			 * it has no handler for (and, traced, retries a fault
			 * for ever), so hostk ends it as the host ends an
			 * untraced init that faults. */
			if (sig && dumps_core(sig) && !sig_caught(pid, sig)) {
				kill(pid, SIGKILL);
				die("the first guest died of signal %d (%s) before its program started", sig,
				    strsignal(sig));
			}
			ptrace(PTRACE_CONT, pid, 0, sig);
		} else if (r == pid && shutdown_sig)
			exit(boot_finish(0));	/* killed because hostk was asked to stop */
		else if (r == pid)
			die("the first guest ended before its program started (%s %d)",
			    WIFEXITED(status) ? "exit status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof m && shutdown_sig)
		exit(boot_finish(0));
	if (n != (ssize_t)sizeof m)
		die("the first guest ended before its program started");
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof fd);
	if (m.err) {
		kill(pid, SIGKILL);
		die("cannot confine the guest: %s: %s", m.what, strerror(-m.err));
	}
	if (fd < 0) {
		kill(pid, SIGKILL);
		die("cannot confine the guest: no seccomp listener came back");
	}
	return fd;
}

/* Makes pid 1 (waiting for hostk's go on exec_err_fd), the shutdown thread
 * and the terminal's foreground group; returns pid 1's host pid. */
static pid_t start_first(const struct boot_opts *o, const char *path, char *const argv[], bool traced)
{
	int sp[2], rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		die_errno("socketpair");
	prog_path = path;
	if ((pid = ns_clone()) < 0)
		die("%s", ns_clone_failure((int)-pid));
	if (pid == 0) {
		close(sp[0]);
		guest_child(sp[1], path, argv, o->ns.init, traced);
	}
	init_host_pid = pid;
	if (shutdown_sig)	/* asked to stop while it was being made */
		kill(pid, SIGKILL);
	if ((rc = start_thread(shutdown_thread, NULL))) {
		kill(pid, SIGKILL);
		die("cannot start the shutdown thread: %s", strerror(rc));
	}
	close(sp[1]);
	exec_err_fd = sp[0];
	setpgid(pid, pid);
	/* Like a shell starting a foreground job: the guest's group gets the
	 * terminal, so Ctrl-C and Ctrl-Z reach the guest, not hostk. */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp())
		gave_tty = tcsetpgrp(STDIN_FILENO, pid) == 0;
	return pid;
}

void boot(const struct boot_opts *o, const char *path, char *const argv[])
{
	const long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			  PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
			  PTRACE_O_TRACEEXIT;
	static const char *const seek_family[] = { "lseek", "pread64", "pwrite64", "preadv", "pwritev", "fsync",
						   "fdatasync" };
	static const char *const stat_family[] = { "stat", "fstat", "lstat", "newfstatat", "statx" };
	const char *why;
	char err[256];
	int rc;
	pid_t pid;

	probe();
	if ((why = ns_configure(&o->ns)))
		die_status(EXIT_USAGE, "%s", why);
	/* Devices: a bad one is one line before any guest.  A device with
	 * positions makes the seek family trap (sys_fdio lets the rest go);
	 * any device, the stat family (a device file is not a socket). */
	if (devices_probe(err, sizeof err) < 0)
		die_status(EXIT_USAGE, "%s", err);
	if (devices_seekable())
		for (size_t i = 0; i < NELEM(seek_family); i++)
			policy_need_trap(seek_family[i]);
	if (devices_count())
		for (size_t i = 0; i < NELEM(stat_family); i++)
			policy_need_trap(stat_family[i]);
	if ((rc = filter_build()) < 0)
		die("cannot build the seccomp filter: %s", strerror(-rc));
	if ((rc = kregion_boot()) < 0)
		die("cannot create the kernel region: %s%s", strerror(-rc),
		    rc == -ENOEXEC ? " (this host gives processes no vDSO)" : "");
	pin(o);
	signals_setup();
	pid = start_first(o, path, argv, true);
	if (ptrace(PTRACE_SEIZE, pid, 0, opts) < 0) {
		int e = errno;

		kill(pid, SIGKILL);
		errno = e;
		die_errno("ptrace%s", e == EPERM ? " (hint: ptrace is restricted here: see "
			  "/proc/sys/kernel/yama/ptrace_scope, or run inside a container that allows it)" : "");
	}
	/* Nothing but hostk's tracer rights reaches into hostk.  Only now: a
	 * child forked undumpable could not be seized without privilege. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((rc = ns_write_maps(pid)) < 0) {
		kill(pid, SIGKILL);
		die("cannot write the guests' id maps: %s (see --uid-map in hostk --help)", strerror(-rc));
	}
	if (write(exec_err_fd, "g", 1) != 1)
		die_errno("starting the guest");
	inject_set_gate(boot_handshake(exec_err_fd, pid));
	if ((rc = devices_learn_files(pid)) < 0) {
		kill(pid, SIGKILL);
		die("cannot find the devices' files in the guests' /dev/hostk: %s", strerror(-rc));
	}
	sched_init(o->cpus, o->quantum_ms);
	sched_first(task_new(pid));
	/* The machine's other parts: the interrupt controller (and its thread),
	 * the timer, the test device.  Started after the clone, so the guest
	 * never inherits their threads' state. */
	if ((rc = irq_boot()) < 0 || (rc = timer_boot(o->hz)) < 0 || (rc = devices_start(o->pin && o->cpus == 1 ? sched_getcpu() : -1)) < 0) {
		kill(pid, SIGKILL);
		die("cannot start the interrupt controller and devices: %s", strerror(-rc));
	}
	kernel_loop_prepare();
	irq_tracing = trace_fp != NULL;
	if (o->watchdog)
		watchdog_start(o->watchdog, stderr);
	timer_reprogram();
}

int boot_untraced(const struct boot_opts *o, const char *path, char *const argv[])
{
	const char *why;
	char err[256];
	int rc, status;
	pid_t pid, r;

	if ((why = ns_configure(&o->ns)))
		die_status(EXIT_USAGE, "%s", why);
	if (devices_probe(err, sizeof err) < 0)
		die_status(EXIT_USAGE, "%s", err);
	signals_setup();
	pid = start_first(o, path, argv, false);
	if ((rc = ns_write_maps(pid)) < 0) {
		kill(pid, SIGKILL);
		die("cannot write the guests' id maps: %s (see --uid-map in hostk --help)", strerror(-rc));
	}
	if (write(exec_err_fd, "g", 1) != 1)
		die_errno("starting the guest");
	/* pid 1 is the namespace's init: when it ends, the host ends the rest. */
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r != pid)
		die_errno("waitpid");
	return boot_finish(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int boot_finish(int status)
{
	struct boot_msg m;

	if (gave_tty)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	if (shutdown_sig)
		return 128 + shutdown_sig;
	if (exec_refused[0])
		die_status(EXIT_NOEXEC, "%s: %s", prog_path, exec_refused);
	if (exec_err_fd >= 0 && recv(exec_err_fd, &m, sizeof m, MSG_DONTWAIT) == (ssize_t)sizeof m) {
		if (m.err < 0)	/* --untraced: a step before the exec (traced, the handshake says so) */
			die("cannot confine the guest: %s: %s", m.what, strerror(-m.err));
		if (m.err > 0)
			die_status(m.err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "%s: %s", prog_path,
				   strerror(m.err));
	}
	return status;
}
