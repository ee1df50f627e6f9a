/* `hostk trace-host [OPTIONS] [RUN OPTIONS] -- PROG [ARGS...]`: loads and
 * attaches the BPF program of bpf/trace-host.bpf.c, then runs `hostk run`
 * (this executable again) as its child, so that the program follows hostk
 * from its first instruction, and at the child's exit prints where the wall
 * time of each trap went (trace-report.c).  Called from main.c; built only
 * with libbpf, clang and bpftool (trace-host-none.c otherwise). */
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "trace-host.h"
#include "trace-host.skel.h"
#include "../hostk/util.h"

/* The status for "this host cannot do it": meson's skip. */
#define EXIT_SKIP 77
/* The inode of the initial pid namespace (include/linux/proc_ns.h). */
#define PROC_PID_INIT_INO 0xEFFFFFFCu

static const char usage_text[] =
	"Usage: hostk trace-host [--json] [--hist] [--cost] [-v] [RUN OPTIONS] -- PROG [ARGS...]\n"
	"\n"
	"Runs 'hostk run [RUN OPTIONS] -- PROG [ARGS...]' with a BPF program on the host's scheduler\n"
	"and syscall tracepoints that follows hostk, its threads and its guests (and nothing else), and\n"
	"splits the wall time of every trap (a guest syscall with a ptrace stop in it) into:\n"
	"  guest in the host kernel   syscall entry to the stop, and from the resume to the syscall's exit\n"
	"  stop to tracer wake-up     the stopped guest switched out until hostk's wait4 returns the stop\n"
	"  hostk handling             from wait4's return to hostk's resuming ptrace call\n"
	"  resume to guest wake-up    from that ptrace call until the guest runs again\n"
	"Per phase it prints the count, mean, p50 and p99 in ns (within 1%) and the share of the total;\n"
	"per trap the stops, guest context switches, CPU migrations and hostk's syscalls; fast-path\n"
	"syscalls (no stop) and stops outside syscalls apart; context switches, migrations, wake-ups and\n"
	"signals of guests and hostk; and how many records were lost, if any.\n"
	"\n"
	"Options:\n"
	"  --json      print one JSON object on stdout, after the guest's own output (else: a table on stderr)\n"
	"  --hist      add a log2 histogram of total trap time to the table\n"
	"  --cost      also measure the BPF programs' own run time (the kernel's BPF statistics)\n"
	"  -v          show libbpf's messages\n"
	"  RUN OPTIONS are hostk run's (--cpus N, --no-pin, --hz N, ...), passed on unchanged.\n"
	"\n"
	"Needs root (or CAP_BPF and CAP_PERFMON), the kernel's BTF (/sys/kernel/btf/vmlinux) and the\n"
	"host's initial pid namespace.  SIGINT, SIGTERM and SIGHUP are passed on to hostk run.\n"
	"Exit status: hostk run's (the guest's), 77 if a privilege or the BTF is missing, 1 if the BPF\n"
	"program cannot be loaded, 2 for bad usage.\n";

static bool verbose;
static char libbpf_last[256];

static _Noreturn void bad_usage(const char *msg)
{
	fprintf(stderr, "hostk: trace-host: %s\nTry 'hostk trace-host --help'.\n", msg);
	exit(EXIT_USAGE);
}

/* libbpf's messages: shown with -v; the last warning is kept for the error
 * line when loading fails. */
static int libbpf_message(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;
	size_t n;

	if (verbose) {
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last, sizeof libbpf_last, fmt, ap);
		n = strlen(libbpf_last);
		while (n && libbpf_last[n - 1] == '\n')
			libbpf_last[--n] = '\0';
	}
	return 0;
}

static bool privileged(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, d) < 0)
		return false;
	eff = d[0].effective | (uint64_t)d[1].effective << 32;
	return (eff >> CAP_SYS_ADMIN & 1) || ((eff >> CAP_BPF & 1) && (eff >> CAP_PERFMON & 1));
}

/* What the host must give us; each missing thing is a skip, not a failure. */
static void require(void)
{
	struct stat st;

	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
		die_status(EXIT_SKIP, "trace-host: no kernel BTF (/sys/kernel/btf/vmlinux: %s): the kernel needs "
			   "CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
	/* The BPF program sees host pids; wait4 and ptrace give ours. */
	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != PROC_PID_INIT_INO)
		die_status(EXIT_SKIP, "trace-host: needs the host's initial pid namespace, not a container's");
	if (!privileged())
		die_status(EXIT_SKIP, "trace-host: needs root, or CAP_BPF and CAP_PERFMON");
}

/* Open, load and attach, with the syscall-entry probe as fentry where the
 * kernel allows tracing programs, as a kprobe where it has kprobes, or with
 * the raw tracepoints alone. */
static struct trace_host *attach(const char **probe)
{
	static const char *const modes[] = { "fentry", "kprobe", "none" };
	int err = 0;

	libbpf_set_print(libbpf_message);
	for (unsigned m = 0; m < NELEM(modes); m++) {
		struct trace_host *skel = trace_host__open();

		if (!skel)
			die_errno("trace-host: cannot open the BPF program");
		skel->rodata->root_tgid = (__u32)getpid();
		bpf_program__set_autoload(skel->progs.entry_fentry, m == 0);
		bpf_program__set_autoload(skel->progs.entry_kprobe, m == 1);
		if (!(err = trace_host__load(skel)) && !(err = trace_host__attach(skel))) {
			*probe = modes[m];
			return skel;
		}
		trace_host__destroy(skel);
	}
	/* EACCES is the verifier's refusal: a bug, not a missing privilege. */
	if (err == -EPERM)
		die_status(EXIT_SKIP, "trace-host: the kernel does not permit the BPF program (%s%s%s)",
			   strerror(-err), libbpf_last[0] ? "; " : "", libbpf_last);
	die("trace-host: cannot load the BPF program: %s%s%s%s", strerror(-err), libbpf_last[0] ? "; " : "",
	    libbpf_last, verbose ? "" : " (-v shows libbpf's messages)");
}

/* hostk run, once the program is attached.  It dies with us (PDEATHSIG) and
 * hostk's guests die with it (PTRACE_O_EXITKILL). */
static pid_t spawn(char **args, const sigset_t *mask)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	if ((pid = fork()) < 0)
		die_errno("trace-host: fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(127);
		sigprocmask(SIG_SETMASK, mask, NULL);
		execv("/proc/self/exe", args);
		fprintf(stderr, "hostk: trace-host: cannot run hostk: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

static int on_record(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(struct th_trap))
		th_report_trap(ctx, data);
	return 0;
}

/* The BPF programs' run counts and times since load (all tasks' events,
 * most of them filtered out at once: the tracer's whole cost). */
static void probe_cost(const struct trace_host *skel, struct th_report *rep)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof info;
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			rep->probe_runs += info.run_cnt;
			rep->probe_ns += info.run_time_ns;
		}
	}
}

/* Wait for the child, draining the ring buffer every 50 ms and passing the
 * shutdown signals on.  Its exit status, as a shell reports it. */
static int run_child(char **args, struct ring_buffer *rb)
{
	struct timespec poll = { 0, 50 * 1000 * 1000 };
	sigset_t set, old;
	int status;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = spawn(args, &old);
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &poll);

		ring_buffer__consume(rb);
		if (sig > 0 && sig != SIGCHLD)
			kill(pid, sig);	/* hostk kills its guests and exits 128+sig */
		if (waitpid(pid, &status, WNOHANG) == pid && !WIFSTOPPED(status))
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct options {
	bool json, hist, cost;
};

/* Our options out of the words before "--"; the rest, and all after it,
 * make the child's command line: this hostk, run. */
static char **child_args(int argc, char **argv, struct options *o)
{
	char **args = calloc((size_t)argc + 2, sizeof *args);
	static char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	int n = 0, dashes = -1;

	if (!args)
		die("out of memory");
	for (int i = 1; i < argc && dashes < 0; i++)
		if (!strcmp(argv[i], "--"))
			dashes = i;
	/* ps shows the child for what it is: this hostk, running. */
	self[len > 0 ? len : 0] = '\0';
	args[n++] = len > 0 ? self : "hostk";
	args[n++] = "run";
	for (int i = 1; i < (dashes < 0 ? argc : dashes); i++) {
		if (!strcmp(argv[i], "--json")) {
			o->json = true;
		} else if (!strcmp(argv[i], "--hist")) {
			o->hist = true;
		} else if (!strcmp(argv[i], "--cost")) {
			o->cost = true;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			exit(0);
		} else {
			args[n++] = argv[i];	/* hostk run's; it checks them */
		}
	}
	if (dashes < 0)
		bad_usage("'--' must come before the program");
	if (dashes + 1 >= argc)
		bad_usage("no program given");
	for (int i = dashes; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return args;
}

int cmd_trace_host(int argc, char **argv)
{
	struct options o = { 0 };
	char **args = child_args(argc, argv, &o);
	struct th_report *rep = calloc(1, sizeof *rep);
	struct trace_host *skel;
	struct ring_buffer *rb;
	int stats_fd = -1;
	uint64_t t0;

	if (!rep)
		die("out of memory");
	require();
	/* Attached before the fork: the fork tracepoint then adds the child
	 * (trace-host's only one) as hostk, so it needs no start signal. */
	skel = attach(&rep->entry_probe);
	rep->attached = true;
	if (o.cost) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		rep->probe_cost = stats_fd >= 0;
		if (stats_fd < 0)
			warn("trace-host: --cost: no BPF statistics from this kernel: %s", strerror(-stats_fd));
	}
	if (!(rb = ring_buffer__new(bpf_map__fd(skel->maps.traps), on_record, rep, NULL)))
		die_errno("trace-host: cannot map the ring buffer");
	t0 = now_ns();
	rep->status = run_child(args, rb);
	rep->elapsed_ns = now_ns() - t0;

	ring_buffer__consume(rb);
	memcpy(rep->counters, skel->bss->counters, sizeof rep->counters);
	if (rep->probe_cost)
		probe_cost(skel, rep);
	ring_buffer__free(rb);
	trace_host__destroy(skel);	/* detaches every program */
	rep->detached = true;
	if (stats_fd >= 0)
		close(stats_fd);
	if (o.json)
		th_report_json(rep, stdout);
	else
		th_report_text(rep, stderr, o.hist);
	fflush(NULL);
	return rep->status;
}
