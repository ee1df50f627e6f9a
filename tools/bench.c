/* `hostk bench`: the cost of one null syscall (getppid) under each way of
 * intercepting it, with the tracer and its guest on one CPU and on two.  The
 * guest is always tools/hk-loop, which times batches of calls itself; the
 * tracers are the minimal ones of mech-ptrace.c and mech-unotif.c, the
 * in-process gates are hk-loop's own (--sigsys, --sud), hostk is `hostk run`,
 * and --peers adds other tools (peers.c).  The seccomp floor (getuid under
 * an allow-all filter) splits hostk's fast path into the host's seccomp
 * entry and hostk's own share.  Many short runs (15 of 1000 calls by
 * default) go round-robin over the mechanisms, so that the machine's shifts
 * of speed from run to run (a shared VM's) hit all alike.  `hostk bench irq` is
 * irqbench.c, `hostk bench workloads` workloads.c, `hostk bench nic`
 * nicbench.c.  Called from main.c. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../guest/include/hostk/hkcall.h"
#include "../hostk/systab.h"
#include "../hostk/util.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif

enum kind { K_GUEST, K_PTRACE, K_UNOTIF, K_HOSTK, K_PEER };
static const char *const kind_names[] = {
	[K_GUEST] = "in-process", [K_PTRACE] = "tracer", [K_UNOTIF] = "supervisor", [K_HOSTK] = "hostk",
	[K_PEER] = "peer",
};

enum cmode { SAME, CROSS, NR_CMODES };
static const char *const cmode_keys[NR_CMODES] = { "same_cpu", "cross_cpu" };
static const char *const cmode_labels[NR_CMODES] = { "same CPU", "cross CPU" };

enum {
	M_NATIVE, M_PTRACE, M_SYSEMU, M_SECCOMP, M_UNOTIF, M_SIGSYS, M_SUD, M_HK_EMU, M_HK_CHECK, M_HK_FAST,
	M_STRACE, M_PROOT, M_RUNSC, M_UML, M_NAT_UID, M_FLOOR, NR_MECHS
};
#define MF_PEER 0x1	/* only with --peers */
#define MF_FLOOR 0x2	/* the floor's figures: same CPU, not charted */

/* Each mechanism, in the order they run and are shown: the guest's gate
 * (hk-loop's option) and op, and what it runs under. */
static const struct mech {
	const char *key, *label;
	enum kind kind;
	int sub;		/* enum ptrace_kind, or enum peer */
	const char *gate, *op;
	long nr;		/* op's syscall: the tracer's, and hostk's label */
	unsigned flags;
} mechs[NR_MECHS] = {
	[M_NATIVE] = { "native", "native getppid", K_GUEST, 0, NULL, "getppid", SYS_getppid, 0 },
	[M_PTRACE] = { "ptrace_syscall", "ptrace PTRACE_SYSCALL (2 stops)", K_PTRACE, TR_SYSCALL, NULL, "getppid",
		       SYS_getppid, 0 },
	[M_SYSEMU] = { "ptrace_sysemu", "ptrace PTRACE_SYSEMU", K_PTRACE, TR_SYSEMU, NULL, "getppid", SYS_getppid, 0 },
	[M_SECCOMP] = { "seccomp_trace", "seccomp RET_TRACE + ptrace", K_PTRACE, TR_SECCOMP, NULL, "getppid",
			SYS_getppid, 0 },
	[M_UNOTIF] = { "seccomp_unotif", "seccomp user notification", K_UNOTIF, 0, NULL, "getppid", SYS_getppid, 0 },
	[M_SIGSYS] = { "seccomp_sigsys", "seccomp RET_TRAP, SIGSYS handler", K_GUEST, 0, "--sigsys", "getppid",
		       SYS_getppid, 0 },
	[M_SUD] = { "sud", "Syscall User Dispatch, SIGSYS", K_GUEST, 0, "--sud", "getppid", SYS_getppid, 0 },
	[M_HK_EMU] = { "hostk_emulate", "hostk: hostk call HK_NULL", K_HOSTK, 0, NULL, "hknull", HK_CALL_NR, 0 },
	[M_HK_CHECK] = { "hostk_check", "hostk: unshare(0)", K_HOSTK, 0, NULL, "unshare0", SYS_unshare, 0 },
	[M_HK_FAST] = { "hostk_fast", "hostk: getuid", K_HOSTK, 0, NULL, "getuid", SYS_getuid, 0 },
	[M_STRACE] = { "strace", "strace -f", K_PEER, PEER_STRACE, NULL, "getppid", SYS_getppid, MF_PEER },
	[M_PROOT] = { "proot", "proot", K_PEER, PEER_PROOT, NULL, "getppid", SYS_getppid, MF_PEER },
	[M_RUNSC] = { "runsc", "runsc --platform=ptrace", K_PEER, PEER_RUNSC, NULL, "getppid", SYS_getppid, MF_PEER },
	[M_UML] = { "uml", "User-Mode Linux", K_PEER, PEER_UML, NULL, "getppid", SYS_getppid, MF_PEER },
	[M_NAT_UID] = { "native_getuid", "native getuid", K_GUEST, 0, NULL, "getuid", SYS_getuid, MF_FLOOR },
	[M_FLOOR] = { "filter_getuid", "getuid under an allow-all filter", K_GUEST, 0, "--floor", "getuid",
		      SYS_getuid, MF_FLOOR },
};

struct cell {
	struct samples s;
	struct stat3 st;
	const char *why;	/* not measured, and why */
	char whybuf[160];
};

struct setup {
	char self[PATH_MAX], loop[PATH_MAX];
	struct peer_found peers[NR_PEERS];
	bool peers_on;
	long n, k;		/* calls per repetition, calls per batch */
	int reps, cpu[NR_CMODES];	/* the tracer's CPU is cpu[SAME] */
	double load;		/* the 1-minute load average at the start: how busy the machine was */
	struct cell cell[NR_MECHS][NR_CMODES];
};

/* How hostk takes m's syscall, read from the trap table, so that the label
 * stays true.  The hostk call has no row: trap.c emulates every one. */
static const char *hostk_disp(const struct mech *m)
{
	return m->nr == HK_CALL_NR ? disp_names[D_EMULATE] : disp_names[sys_disp(m->nr)];
}

static const char *label(const struct mech *m, char *buf, size_t size)
{
	if (m->kind != K_HOSTK)
		return m->label;
	snprintf(buf, size, "%s (%s)", m->label, hostk_disp(m));
	return buf;
}

static bool shown(const struct setup *s, int m)
{
	return !(mechs[m].flags & MF_PEER) || s->peers_on;
}

static void find_programs(struct setup *s)
{
	ssize_t len = readlink("/proc/self/exe", s->self, sizeof s->self - 1);

	if (len < 0)
		die_errno("bench: /proc/self/exe");
	s->self[len] = '\0';
	bench_program(s->self, "HOSTK_LOOP", "tools/hk-loop", s->loop, sizeof s->loop);
}

/* Syscall User Dispatch, tried in a child so that this process never has it. */
static const char *sud_missing(void)
{
	static char why[160];
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		static volatile char selector;	/* 0: allow */

		_exit(prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector) < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		die_errno("bench: fork");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	snprintf(why, sizeof why, "the kernel has no Syscall User Dispatch (Linux >= 5.11): %s",
		 strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL));
	return why;
}

/* What cannot be measured here, found before anything runs. */
static void probe(struct setup *s)
{
	const char *sud = sud_missing(), *unotif = unotif_missing();

	peers_find(s->peers);
	for (int m = 0; m < NR_MECHS; m++)
		for (int c = 0; c < NR_CMODES; c++) {
			struct cell *cl = &s->cell[m][c];

			if (m == M_SUD)
				cl->why = sud;
			else if (m == M_UNOTIF)
				cl->why = unotif;
			else if (mechs[m].kind == K_PEER)
				cl->why = s->peers[mechs[m].sub].missing;
			if (c == CROSS && !cl->why && (mechs[m].flags & MF_FLOOR))
				cl->why = "same CPU only";
			if (c == CROSS && !cl->why && s->cpu[CROSS] < 0)
				cl->why = "this process may use one CPU only";
		}
}

static int exit_code(int status)
{
	return status < 0 ? 127 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_ptrace(char *const argv[], void *arg)
{
	const struct mech *m = arg;

	return exit_code(trace_ptrace((enum ptrace_kind)m->sub, m->nr, argv));
}

static int run_unotif(char *const argv[], void *arg)
{
	return exit_code(trace_unotif(((const struct mech *)arg)->nr, argv));
}

/* One repetition of mechanism m in CPU mode c; false with cl->why set when a
 * peer cannot run (any other failure ends the bench). */
static bool run_one(struct setup *s, int m, enum cmode c)
{
	const struct mech *me = &mechs[m];
	struct cell *cl = &s->cell[m][c];
	char nbuf[24], kbuf[24], cpubuf[16], st[64], peerbuf[3 * PATH_MAX], *guest[12], *argv[24], *out = NULL;
	/* 1.1 ms a call is ten times the dearest median seen (and a minute for
	 * starting up, UML's boot included): a run that takes longer is hung. */
	struct spawn sp = { .argv = guest, .cpu = s->cpu[SAME], .timeout_s = 60 + (unsigned)(s->n * 11 / 10000),
			    .arg = (void *)me };
	int g = 0, a = 0, status;
	long got;

	snprintf(nbuf, sizeof nbuf, "%ld", s->n);
	snprintf(kbuf, sizeof kbuf, "%ld", s->k);
	snprintf(cpubuf, sizeof cpubuf, "%d", s->cpu[CROSS]);
	guest[g++] = s->loop;
	if (me->gate)
		guest[g++] = (char *)me->gate;
	if (c == CROSS) {
		guest[g++] = "--cpu";
		guest[g++] = cpubuf;
	}
	guest[g++] = (char *)me->op;
	guest[g++] = nbuf;
	guest[g++] = kbuf;
	guest[g] = NULL;
	switch (me->kind) {
	case K_GUEST:
		break;
	case K_PTRACE:
		sp.fn = run_ptrace;
		break;
	case K_UNOTIF:
		sp.fn = run_unotif;
		break;
	case K_HOSTK:
		argv[a++] = s->self;
		argv[a++] = "run";
		if (c == CROSS)
			argv[a++] = "--no-pin";	/* hostk stays where it was put; the guest moves */
		argv[a++] = "--";
		for (int i = 0; guest[i]; i++)
			argv[a++] = guest[i];
		argv[a] = NULL;
		sp.argv = argv;
		break;
	case K_PEER:
		if (!(sp.argv = peer_argv((enum peer)me->sub, &s->peers[me->sub], guest, c == CROSS, argv,
					  sizeof argv / sizeof argv[0], peerbuf, sizeof peerbuf, &cl->why)))
			return false;
		break;
	}
	status = spawn_wait(&sp, &out);
	got = status == 0 ? parse_figures(out, &cl->s) : 0;
	free(out);
	if (status == 0 && got == s->n / s->k)
		return true;
	if (status == 0)
		snprintf(st, sizeof st, "printed %ld figures, not %ld", got, s->n / s->k);
	else
		status_text(status, st, sizeof st);
	if (me->kind != K_PEER)
		die("bench: the run of '%s' (%s) failed: %s", me->label, cmode_labels[c], st);
	snprintf(cl->whybuf, sizeof cl->whybuf, "its run failed: %s", st);
	cl->why = cl->whybuf;
	return false;
}

static void fmt_ns(double v, char *buf, size_t size)
{
	snprintf(buf, size, v < 10000 ? "%.1f" : "%.0f", v);
}

static double ratio(const struct setup *s, int m, enum cmode c)
{
	const struct cell *base = &s->cell[M_NATIVE][c];

	return base->st.median > 0 ? s->cell[m][c].st.median / base->st.median : 0;
}

/* A cell of the table: min, median and p99 in ns, and the ratio to native. */
static void print_cell(const struct setup *s, int m, enum cmode c)
{
	const struct cell *cl = &s->cell[m][c];
	char mn[16], md[16], p99[16], x[16];

	if (cl->why) {
		printf(" %-36s", "n/a (below)");
		return;
	}
	fmt_ns(cl->st.min, mn, sizeof mn);
	fmt_ns(cl->st.median, md, sizeof md);
	fmt_ns(cl->st.p99, p99, sizeof p99);
	snprintf(x, sizeof x, "x%.1f", ratio(s, m, c));
	printf(" %8s %8s %8s %7s  ", mn, md, p99, x);
}

static void print_table(const struct setup *s)
{
	char name[64];
	const struct cell *nat = &s->cell[M_NAT_UID][SAME], *flo = &s->cell[M_FLOOR][SAME];
	const struct cell *fast = &s->cell[M_HK_FAST][SAME];
	int filters = own_seccomp_filters();

	printf("hostk bench: one null syscall under each mechanism, ns per call\n"
	       "%d repetition(s) x %ld batches of %ld calls, after %ld warm-up calls; tracer on CPU %d, guest on "
	       "CPU %d (same CPU)", s->reps, s->n / s->k, s->k, s->n / 10 > s->k ? s->n / 10 : s->k, s->cpu[SAME],
	       s->cpu[SAME]);
	if (s->cpu[CROSS] >= 0)
		printf(" or CPU %d (cross CPU)", s->cpu[CROSS]);
	printf("; load average %.2f at the start", s->load);
	printf("\n\n%-40s  %-36s %s\n%-40s", "", "------------ same CPU -------------",
	       "------------ cross CPU ------------", "mechanism");
	for (int c = 0; c < NR_CMODES; c++)
		printf(" %8s %8s %8s %7s  ", "min", "median", "p99", "native");
	printf("\n");
	for (int m = 0; m < NR_MECHS; m++) {
		if (!shown(s, m) || (mechs[m].flags & MF_FLOOR))
			continue;
		printf("%-40s", label(&mechs[m], name, sizeof name));
		for (int c = 0; c < NR_CMODES; c++)
			print_cell(s, m, (enum cmode)c);
		printf("\n");
	}
	for (int m = 0; m < NR_MECHS; m++)
		for (int c = 0; c < NR_CMODES; c++)
			if (shown(s, m) && !(mechs[m].flags & MF_FLOOR) && s->cell[m][c].why)
				printf("n/a: %s, %s: %s\n", label(&mechs[m], name, sizeof name), cmode_labels[c],
				       s->cell[m][c].why);
	printf("\nthe seccomp floor (same CPU, median ns per call): what the fast path costs, and whose it is\n");
	printf("  %-44s %8.1f\n", mechs[M_NAT_UID].label, nat->st.median);
	printf("  %-44s %8.1f   x%.2f native: the host kernel's seccomp entry\n", mechs[M_FLOOR].label,
	       flo->st.median, flo->st.median / nat->st.median);
	printf("  %-44s %8.1f   x%.2f native, x%.2f the floor: hostk's own share (its filter)\n",
	       label(&mechs[M_HK_FAST], name, sizeof name), fast->st.median, fast->st.median / nat->st.median,
	       fast->st.median / flo->st.median);
	if (filters)
		printf("\nnote: the bench itself runs under %d seccomp filter(s): 'native' already pays the host's "
		       "seccomp entry\n", filters);
}

static void json_cell(const struct setup *s, int m, enum cmode c)
{
	const struct cell *cl = &s->cell[m][c];

	if (cl->why) {
		printf("{\"unavailable\":");
		json_str(stdout, cl->why);
		printf("}");
		return;
	}
	printf("{\"min_ns\":%.1f,\"median_ns\":%.1f,\"p99_ns\":%.1f,\"batches\":%zu,\"x_native\":%.3f}", cl->st.min,
	       cl->st.median, cl->st.p99, cl->st.n, ratio(s, m, c));
}

static void print_json(const struct setup *s)
{
	const struct cell *nat = &s->cell[M_NAT_UID][SAME], *flo = &s->cell[M_FLOOR][SAME];
	const struct cell *fast = &s->cell[M_HK_FAST][SAME];
	char name[64];
	int n = 0;

	printf("{\"bench\":\"syscall\",\"op\":\"getppid\",\"reps\":%d,\"calls\":%ld,\"batch\":%ld,\"warmup\":%ld,"
	       "\"cpus\":{\"tracer\":%d,\"guest_same\":%d,\"guest_cross\":", s->reps, s->n, s->k,
	       s->n / 10 > s->k ? s->n / 10 : s->k, s->cpu[SAME], s->cpu[SAME]);
	if (s->cpu[CROSS] >= 0)
		printf("%d", s->cpu[CROSS]);
	else
		printf("null");
	printf("},\"loadavg\":%.2f,\"own_seccomp_filters\":%d,\"peers\":%s,\"mechanisms\":[", s->load,
	       own_seccomp_filters(), s->peers_on ? "true" : "false");
	for (int m = 0; m < NR_MECHS; m++) {
		const struct mech *me = &mechs[m];

		if (!shown(s, m) || (me->flags & MF_FLOOR))
			continue;
		printf("%s\n{\"key\":\"%s\",\"label\":", n++ ? "," : "", me->key);
		json_str(stdout, label(me, name, sizeof name));
		printf(",\"kind\":\"%s\",\"op\":\"%s\"", m == M_NATIVE ? "native" : kind_names[me->kind], me->op);
		if (me->kind == K_HOSTK)
			printf(",\"disp\":\"%s\"", hostk_disp(me));
		for (int c = 0; c < NR_CMODES; c++) {
			printf(",\"%s\":", cmode_keys[c]);
			json_cell(s, m, (enum cmode)c);
		}
		printf("}");
	}
	printf("\n],\"floor\":{\"native_getuid_ns\":%.1f,\"filter_getuid_ns\":%.1f,\"hostk_getuid_ns\":%.1f,"
	       "\"filter_vs_native\":%.3f,\"fast_vs_filter\":%.3f,\"fast_vs_native\":%.3f}}\n", nat->st.median,
	       flo->st.median, fast->st.median, flo->st.median / nat->st.median, fast->st.median / flo->st.median,
	       fast->st.median / nat->st.median);
}

static void write_svg(const struct setup *s, const char *path)
{
	static struct svg_row rows[NR_MECHS];
	static char labels[NR_MECHS][64];
	struct svg_chart ch = {
		.title = "The null syscall (getppid) under each interception mechanism",
		.axis = "time per call, log scale (bar: median; whisker: min .. p99)",
		.whisker = "min .. p99", .nseries = NR_CMODES, .rows = rows,
		.series_key = { cmode_keys[SAME], cmode_keys[CROSS] },
		.series_label = { "tracer and guest on one CPU", "on two CPUs" },
	};
	char sub[256];
	struct utsname u;
	int rc;

	uname(&u);
	snprintf(sub, sizeof sub, "%d x %ld batches of %ld calls each; Linux %s, %ld CPU(s) online", s->reps,
		 s->n / s->k, s->k, u.release, sysconf(_SC_NPROCESSORS_ONLN));
	ch.subtitle = sub;
	for (int m = 0; m < NR_MECHS; m++) {
		if (!shown(s, m) || (mechs[m].flags & MF_FLOOR))
			continue;
		struct svg_row *r = &rows[ch.nrows++];

		r->key = mechs[m].key;
		r->label = label(&mechs[m], labels[m], sizeof labels[m]);
		for (int c = 0; c < NR_CMODES; c++) {
			const struct cell *cl = &s->cell[m][c];

			r->bar[c] = (struct svg_bar){ !cl->why, cl->st.min, cl->st.median, cl->st.p99,
						     m == M_NATIVE ? 0 : ratio(s, m, (enum cmode)c), cl->why };
		}
	}
	if ((rc = svg_write(path, &ch)) < 0)
		die("bench: %s: %s", path, strerror(-rc));
}

/* Also in hostk --help, between run's lines and trace-host's. */
const char bench_usage[] =
	"       hostk bench [--json] [--svg FILE] [--smoke] [--peers] [-n CALLS] [--reps R]\n"
	"                                                 a null syscall under every interception mechanism\n"
	"       hostk bench workloads [--json] [--svg FILE] [--smoke] [--peers] [-n RUNS]\n"
	"                                                 real programs natively and under hostk\n"
	"       hostk bench irq [--json] [--svg FILE] [--smoke] [-n N]\n"
	"                                                 timer and device interrupt latency (histograms), the tick,\n"
	"                                                 an idle hostk\n"
	"       hostk bench nic [--json] [--svg FILE] [--smoke] [--frames N] [--interval US] [--window N]\n"
	"                       [--rxring N] [--size BYTES] [--sender-cpu C]\n"
	"                                                 the network card: a datagram to the guest's read(), beside\n"
	"                                                 the eventfd wake-up floor; frames/s\n";

int cmd_bench(int argc, char **argv)
{
	static struct setup s = { .reps = 15, .n = 1000, .k = 20 };
	bool json = false, smoke = false;
	const char *svg = NULL;
	long n = 0, reps = 0;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs("Usage:\n", stdout);
			fputs(bench_usage, stdout);
			fputs("See docs/BENCHMARKS.md for what each measures and how to read it.\n", stdout);
			return 0;
		}

	if (argc > 1 && !strcmp(argv[1], "irq")) {
		find_programs(&s);
		return bench_irq(argc - 1, argv + 1, s.self, s.loop);
	}
	if (argc > 1 && !strcmp(argv[1], "workloads")) {
		find_programs(&s);
		return bench_workloads(argc - 1, argv + 1, s.self, s.loop);
	}
	if (argc > 1 && !strcmp(argv[1], "nic")) {
		find_programs(&s);
		return bench_nic(argc - 1, argv + 1, s.self);
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--smoke"))
			smoke = true;
		else if (!strcmp(argv[i], "--peers"))
			s.peers_on = true;
		else if (!strcmp(argv[i], "--svg") && i + 1 < argc)
			svg = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = bench_number("bench", "-n", argv[++i], 100, 10000000);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = bench_number("bench", "--reps", argv[++i], 1, 100);
		else
			die_status(EXIT_USAGE, "bench: unknown option '%s'\nUsage: hostk bench [--json] [--svg FILE] "
				   "[--smoke] [--peers] [-n CALLS] [--reps R]\n       hostk bench workloads|irq|nic "
				   "[OPTIONS] (see hostk --help)", argv[i]);
	}
	if (smoke) {
		s.reps = 1;
		s.n = 100;
		s.k = 10;
	}
	if (n)
		s.n = n;
	if (reps)
		s.reps = (int)reps;
	find_programs(&s);
	idlest_cpus(s.cpu);	/* the tracer's, then the cross-CPU guest's */
	probe(&s);
	getloadavg(&s.load, 1);

	for (int rep = 0; rep < s.reps; rep++)
		for (int c = 0; c < NR_CMODES; c++)
			for (int m = 0; m < NR_MECHS; m++)
				if (shown(&s, m) && !s.cell[m][c].why)
					run_one(&s, m, (enum cmode)c);
	for (int m = 0; m < NR_MECHS; m++)
		for (int c = 0; c < NR_CMODES; c++)
			s.cell[m][c].st = stat_of(&s.cell[m][c].s);

	if (json)
		print_json(&s);
	else
		print_table(&s);
	if (svg)
		write_svg(&s, svg);
	return 0;
}
