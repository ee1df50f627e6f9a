/* Start-up.  Probes what hostk needs from the host (ptrace, seccomp's trace
 * action), vets the program, pins hostk to its CPU, and starts the first
 * guest: a child that waits until hostk has seized it, drops what a confined
 * guest must not have, loads the filter and execs the program, so the filter
 * and the tracer are in place before the program's first instruction. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "boot.h"
#include "filter.h"
#include "irq.h"
#include "kregion.h"
#include "sched.h"
#include "stop.h"
#include "testdev.h"
#include "trace.h"
#include "timer.h"
#include "task.h"
#include "util.h"

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

static void on_shutdown(int sig)
{
	shutdown_sig = sig;
	if (init_host_pid > 0)
		kill(init_host_pid, SIGKILL);	/* the loop takes the rest down */
}

static const int hostk_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGTTOU, SIGTTIN, SIGPIPE };

static void signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_shutdown };

	sigfillset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(hostk_signals[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;	/* the terminal and trace pipes are hostk's to manage */
	for (size_t i = 3; i < NELEM(hostk_signals); i++)
		sigaction(hostk_signals[i], &sa, NULL);
}

/* A confined guest may not trace or read the memory of other processes:
 * without CAP_SYS_PTRACE, the host's own checks keep it out of hostk (which
 * is not dumpable) and out of other users' processes. */
static void drop_ptrace_cap(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
	if (syscall(SYS_capget, &hdr, data) == 0) {
		data[0].effective &= ~(1u << CAP_SYS_PTRACE);
		data[0].permitted &= ~(1u << CAP_SYS_PTRACE);
		data[0].inheritable &= ~(1u << CAP_SYS_PTRACE);
		syscall(SYS_capset, &hdr, data);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_PTRACE, 0, 0);
}

static _Noreturn void guest_child(int go_fd, int err_fd, const char *path, char *const argv[])
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	char c;
	int rc;

	for (size_t i = 0; i < NELEM(hostk_signals); i++)
		sigaction(hostk_signals[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (read(go_fd, &c, 1) != 1)	/* hostk died or could not seize us */
		_exit(127);
	close(go_fd);
	drop_ptrace_cap();
	/* pid 1 plays init: orphans are re-parented to it by the host itself,
	 * so its wait() reaps them as init's does. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : filter_load();
	if (rc < 0) {		/* negative: hostk's failure, not the program's */
		if (write(err_fd, &rc, sizeof rc) < 0)
			_exit(127);
		_exit(127);
	}
	execve(path, argv, environ);
	rc = errno;
	if (write(err_fd, &rc, sizeof rc) < 0)
		_exit(127);
	_exit(127);
}

void boot(const struct boot_opts *o, const char *path, char *const argv[])
{
	const long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			  PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
			  PTRACE_O_TRACEEXIT;
	int go[2], err[2], rc;
	pid_t pid;

	probe();
	if ((rc = filter_build()) < 0)
		die("cannot build the seccomp filter: %s", strerror(-rc));
	if ((rc = kregion_boot()) < 0)
		die("cannot create the kernel region: %s%s", strerror(-rc),
		    rc == -ENOEXEC ? " (this host gives processes no vDSO)" : "");
	pin(o);
	signals_setup();
	/* Orphaned guests come to hostk, not to some host process. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		die_errno("pipe");
	prog_path = path;
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0)
		guest_child(go[0], err[1], path, argv);
	close(go[0]);
	close(err[1]);
	exec_err_fd = err[0];
	setpgid(pid, pid);
	/* Like a shell starting a foreground job: the guest's group gets the
	 * terminal, so Ctrl-C and Ctrl-Z reach the guest, not hostk. */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp())
		gave_tty = tcsetpgrp(STDIN_FILENO, pid) == 0;
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
	sched_init(o->cpus, o->quantum_ms);
	sched_first(task_first(pid));
	init_host_pid = pid;
	/* The machine's other parts: the interrupt controller (and its thread),
	 * the timer, the test device.  Started after the fork, so the guest
	 * never inherits their threads' state. */
	if ((rc = irq_boot()) < 0 || (rc = timer_boot(o->hz)) < 0 ||
	    (rc = testdev_boot(o->pin && o->cpus == 1 ? sched_getcpu() : -1)) < 0) {
		kill(pid, SIGKILL);
		die("cannot start the interrupt controller and devices: %s", strerror(-rc));
	}
	kernel_loop_prepare();
	irq_tracing = trace_fp != NULL;
	timer_reprogram();
	if (write(go[1], "g", 1) != 1)
		die_errno("starting the guest");
	close(go[1]);
}

int boot_finish(int status)
{
	int err = 0;

	kregion_shutdown();
	if (gave_tty)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	if (shutdown_sig)
		return 128 + shutdown_sig;
	if (exec_err_fd >= 0 && read(exec_err_fd, &err, sizeof err) == (ssize_t)sizeof err) {
		if (err < 0)
			die("cannot confine the guest: %s", strerror(-err));
		die_status(err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "%s: %s", prog_path, strerror(err));
	}
	return status;
}
