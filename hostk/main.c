/* The command line: run, syscalls, bench, trace-host, version.  Only this
 * file and boot.c print and exit on errors; everything below them returns
 * errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../drivers/devices.h"
#include "boot.h"
#include "exc.h"
#include "filter.h"
#include "policy.h"
#include "stop.h"
#include "systab.h"
#include "trace.h"
#include "util.h"
#include "../tools/bench.h"
#include "../tools/trace-host.h"

static const char usage_head[] =
	"Usage: hostk run [OPTIONS] [--] PROG [ARGS...]   run PROG as the first guest (pid 1)\n"
	"       hostk syscalls [--json] [--filter]        print the trap table (or the seccomp filter)\n"
	"       hostk policy check FILE | show NAME | list  validate a policy file, print a built-in one\n"
	"       hostk devices                              the kinds of device, their arguments and options\n";

/* Then bench_usage (tools/bench.c), then: */
static const char usage_tail[] =
	"       hostk trace-host [--json] [--hist] [--cost] [-v] [RUN OPTIONS] -- PROG [ARGS...]\n"
	"                                                 split each trap's time into phases (BPF; needs root)\n"
	"       hostk version | --version | --help\n"
	"\n"
	"Run options:\n"
	"  --trace[=FILE]      one line per trap, signal, exception, fork, exec, exit (default: stderr)\n"
	"  --stats[=FILE]      traps per syscall with times, and cpu time split, at exit (default: stderr)\n"
	"  --json              --trace and --stats as JSON (one object per line / one object)\n"
	"  --cpus N            N virtual CPUs: at most N guest tasks run at once, on N host CPUs (default 1)\n"
	"  --no-pin            do not pin hostk and the guests to host CPUs\n"
	"  --hz N              timer interrupts per second while guests run (default 100)\n"
	"  --quantum MS        time slice before a running task is preempted (default 10)\n"
	"  --device NAME=KIND[:ARG][,OPT=VAL...]  a device, /dev/hostk/NAME for the guests (see hostk devices)\n"
	"  --policy FILE|NAME  a policy file, or a built-in one: default, strict, trace-all, permissive\n"
	"                      (syscall dispositions, path rules, limits; see hostk policy show NAME)\n"
	"  --deny NAME[=ERR]   make syscall NAME fail with errno ERR (name or number; default EPERM)\n"
	"  --kill NAME         kill any guest process that makes syscall NAME\n"
	"  --init              a minimal init is pid 1 and runs PROG as pid 2 (signals forwarded)\n"
	"  --watchdog S        when no guest task ran for S seconds and nothing is due, print every task's state\n"
	"  --on-exception=ACT  a guest's CPU exception: deliver (as Linux), kill, or stop (left for a debugger)\n"
	"  --uid-map IN:OUT[:N]  guest uids IN.. are host uids OUT.. (default for root: 0:1000000000:65536;\n"
	"                      for others: their own uid only)\n"
	"  --gid-map IN:OUT[:N]  the same for gids (default: as --uid-map)\n"
	"  --host-root         root only, UNSAFE: guest root is host root (guest uids are host uids)\n"
	"  --untraced          the guests' namespaces, ids, path rules and limits, and no traps, kernel\n"
	"                      region or devices: the baseline that tells the sandbox's cost from hostk's\n"
	"\n"
	"hostk exits with the status of the guest's pid 1 (128+N if it died of signal N),\n"
	"127 if PROG is not found, 126 if it cannot be run, 2 for bad usage.\n";

static _Noreturn void usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fputs(usage_head, fp);
	fputs(bench_usage, fp);
	fputs(usage_tail, fp);
	exit(status);
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "hostk: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'hostk --help'.\n");
	exit(EXIT_USAGE);
}

static FILE *open_out(const char *path)
{
	FILE *fp;

	if (!path)
		return stderr;
	if (!(fp = fopen(path, "we")))
		die_errno("%s", path);
	setvbuf(fp, NULL, _IOFBF, 1 << 16);
	return fp;
}

static int cmd_run(int argc, char **argv)
{
	enum { O_TRACE = 256, O_STATS, O_JSON, O_CPUS, O_NOPIN, O_DENY, O_KILL, O_HZ, O_QUANTUM, O_INIT, O_UIDMAP,
	       O_GIDMAP, O_HOSTROOT, O_WATCHDOG, O_ONEXC, O_POLICY, O_DEVICE, O_UNTRACED };
	static const struct option opts[] = {
		{ "trace", optional_argument, 0, O_TRACE },
		{ "stats", optional_argument, 0, O_STATS },
		{ "json", no_argument, 0, O_JSON },
		{ "cpus", required_argument, 0, O_CPUS },
		{ "no-pin", no_argument, 0, O_NOPIN },
		{ "deny", required_argument, 0, O_DENY },
		{ "kill", required_argument, 0, O_KILL },
		{ "hz", required_argument, 0, O_HZ },
		{ "quantum", required_argument, 0, O_QUANTUM },
		{ "init", no_argument, 0, O_INIT },
		{ "uid-map", required_argument, 0, O_UIDMAP },
		{ "gid-map", required_argument, 0, O_GIDMAP },
		{ "host-root", no_argument, 0, O_HOSTROOT },
		{ "watchdog", required_argument, 0, O_WATCHDOG },
		{ "on-exception", required_argument, 0, O_ONEXC },
		{ "policy", required_argument, 0, O_POLICY },
		{ "device", required_argument, 0, O_DEVICE },
		{ "untraced", no_argument, 0, O_UNTRACED },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct boot_opts bo = { .cpus = 1, .pin = true, .hz = 100, .quantum_ms = 10 };
	const char *trace_path = NULL, *stats_path = NULL, *policy = "default";
	/* --deny and --kill amend the policy, whatever their order. */
	const char *amend[256];
	enum disp amend_disp[256];
	int namend = 0;
	bool trace = false, stats = false;
	char *path, *end, err[512];
	int c, status;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case O_TRACE: trace = true; trace_path = optarg; break;
		case O_STATS: stats = true; stats_path = optarg; break;
		case O_JSON: out_json = true; break;
		case O_CPUS:
			bo.cpus = (int)strtol(optarg, &end, 10);
			if (*end || bo.cpus < 1 || bo.cpus > 1024)
				bad_usage("--cpus wants a number from 1 to 1024, not '%s'", optarg);
			break;
		case O_NOPIN: bo.pin = false; break;
		case O_HZ:
			bo.hz = (int)strtol(optarg, &end, 10);
			if (*end || bo.hz < 1 || bo.hz > 10000)
				bad_usage("--hz wants a number from 1 to 10000, not '%s'", optarg);
			break;
		case O_QUANTUM:
			bo.quantum_ms = (int)strtol(optarg, &end, 10);
			if (*end || bo.quantum_ms < 1 || bo.quantum_ms > 10000)
				bad_usage("--quantum wants milliseconds from 1 to 10000, not '%s'", optarg);
			break;
		case O_DENY:
		case O_KILL:
			if (namend == (int)NELEM(amend))
				bad_usage("%s", "too many --deny and --kill options");
			if (c == O_KILL && strchr(optarg, '='))
				bad_usage("--kill takes no errno: '%s'", optarg);
			amend_disp[namend] = c == O_DENY ? D_DENY : D_KILL;
			amend[namend++] = optarg;
			break;
		case O_POLICY: policy = optarg; break;
		case O_DEVICE:
			if (devices_add(optarg, err, sizeof err) < 0)
				die_status(EXIT_USAGE, "%s", err);
			break;
		case O_INIT: bo.ns.init = true; break;
		case O_UIDMAP: bo.ns.uid_map = optarg; break;
		case O_GIDMAP: bo.ns.gid_map = optarg; break;
		case O_HOSTROOT: bo.ns.host_root = true; break;
		case O_UNTRACED: bo.untraced = true; break;
		case O_WATCHDOG:
			bo.watchdog = (int)strtol(optarg, &end, 10);
			if (*end || bo.watchdog < 1 || bo.watchdog > 86400)
				bad_usage("--watchdog wants seconds from 1 to 86400, not '%s'", optarg);
			break;
		case O_ONEXC:
			for (c = 0; c < NR_EXC_ACTIONS && strcmp(optarg, exc_action_names[c]); c++)
				;
			if (c == NR_EXC_ACTIONS)
				bad_usage("--on-exception wants deliver, kill or stop, not '%s'", optarg);
			exc_action = (enum exc_action)c;
			break;
		case 'h': usage(0);
		default: usage(EXIT_USAGE);
		}
	}
	if (optind >= argc)
		bad_usage("%s", "run: no program given");
	if (policy_load(policy, err, sizeof err) < 0)
		die_status(EXIT_USAGE, "%s", err);
	for (int i = 0; i < namend; i++)
		if (policy_set(amend[i], amend_disp[i]) < 0)
			bad_usage(amend_disp[i] == D_DENY ? "--deny: unknown syscall or errno in '%s'" :
				  "--kill: unknown syscall '%s'", amend[i]);
	path = boot_resolve(argv[optind]);
	if (bo.untraced) {
		if (trace || stats || devices_count() || bo.watchdog || exc_action != EXC_DELIVER || namend ||
		    strcmp(policy, "default"))
			bad_usage("%s", "--untraced runs no kernel of hostk's: no --trace, --stats, --device, "
				  "--watchdog, --on-exception, --policy, --deny or --kill with it");
		return boot_untraced(&bo, path, argv + optind);
	}
	if (trace)
		trace_fp = open_out(trace_path);
	if (stats)
		stats_fp = open_out(stats_path);
	stats_start();
	boot(&bo, path, argv + optind);
	status = kernel_loop();
	devices_stop();		/* frames the guests sent still go out */
	stats_report();
	if (trace_fp)
		fflush(trace_fp);
	return boot_finish(status);
}

static int cmd_syscalls(int argc, char **argv)
{
	bool json = false, filter = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--filter"))
			filter = true;
		else
			bad_usage("syscalls: unknown option '%s'", argv[i]);
	}
	if (filter) {
		int rc = filter_build();

		if (rc < 0)
			die("cannot build the seccomp filter: %s", strerror(-rc));
		filter_dump(stdout);
		return 0;
	}
	if (json)
		printf("[");
	for (long nr = 0, n = 0; nr < NR_SYSCALLS; nr++) {
		const struct sysent *e = &systab[nr];

		if (!e->name)
			continue;
		if (json)
			printf("%s\n{\"nr\":%ld,\"name\":\"%s\",\"nargs\":%d,\"disp\":\"%s\",\"note\":\"%s\"}",
			       n++ ? "," : "", nr, e->name, e->nargs, disp_names[sys_disp(nr)], e->note ? e->note : "");
		else
			printf("%4ld  %-24s %-8s %s\n", nr, e->name, disp_names[sys_disp(nr)], e->note ? e->note : "");
	}
	if (json)
		printf("\n]\n");
	return 0;
}

/* hostk policy check FILE | hostk policy show NAME */
static int cmd_policy(int argc, char **argv)
{
	char err[512];

	if (argc == 3 && !strcmp(argv[1], "check")) {
		if (policy_load(argv[2], err, sizeof err) < 0)
			die_status(EXIT_USAGE, "%s", err);
		printf("%s: a valid policy\n", argv[2]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "show")) {
		const char *text = policy_builtin(argv[2]);

		if (!text)
			bad_usage("policy show: no built-in policy '%s' (default, strict, trace-all, permissive)", argv[2]);
		fputs(text, stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (int i = 0; policy_names[i]; i++)
			puts(policy_names[i]);
		return 0;
	}
	bad_usage("%s", "policy wants: check FILE | show NAME | list");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		usage(EXIT_USAGE);
	crash_handlers_setup();
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "syscalls"))
		return cmd_syscalls(argc - 1, argv + 1);
	if (!strcmp(cmd, "policy"))
		return cmd_policy(argc - 1, argv + 1);
	if (!strcmp(cmd, "devices") && (argc == 2 || (argc == 3 && (!strcmp(argv[2], "--help") ||
									    !strcmp(argv[2], "-h"))))) {
		devices_list(stdout);
		return 0;
	}
	if (!strcmp(cmd, "devices"))
		bad_usage("%s", "devices takes no arguments");
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "trace-host"))
		return cmd_trace_host(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("hostk %s\n", HOSTK_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
		usage(0);
	bad_usage("unknown command '%s'", cmd);
}
