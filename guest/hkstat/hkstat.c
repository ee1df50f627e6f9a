/* hkstat: prints hostk's kernel region from inside a guest, without a syscall
 * to hostk: once (readably or as JSON, optionally with every syscall's
 * disposition), or a compact line every interval with --watch. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hostk/libhk.h>

static const char usage[] =
	"usage: hkstat [--json] [--syscalls] [--watch [--interval SECONDS] [--count N]]\n";

static bool json;

/* Lines and bottom halves in use, as far as the arrays go. */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define nirqs(k) MIN((k)->nr_irqs, (unsigned)HK_MAX_IRQS)
#define nsoftirqs(k) MIN((k)->nr_softirqs, (unsigned)HK_MAX_SOFTIRQS)

/* A name field (HK_NAME_LEN bytes, maybe unterminated) as a C string. */
static const char *nm(const char *field, char buf[HK_NAME_LEN + 1])
{
	memcpy(buf, field, HK_NAME_LEN);
	buf[HK_NAME_LEN] = 0;
	return buf;
}

/* Prints s as a JSON string. */
static void jstr(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* A name from the region, or KINDn if it has none there: "irq3", "disp9". */
static const char *name_of(const char *field, const char *kind, unsigned i, char buf[HK_NAME_LEN + 1])
{
	if (field && field[0])
		return nm(field, buf);
	snprintf(buf, HK_NAME_LEN + 1, "%s%u", kind, i);
	return buf;
}
#define irq_name(k, i, b) name_of((i) < nirqs(k) ? (k)->irq_names[i] : NULL, "irq", i, b)
#define softirq_name(k, i, b) name_of((k)->softirq_names[i], "softirq", i, b)
#define dname(k, v, b) name_of(strcmp(hk_disp_name(k, v), "?") ? hk_disp_name(k, v) : NULL, "disp", v, b)

/* The lines whose bits are set in m: "[timer, io]" or a JSON array. */
static void lines(const struct hk_kregion *k, uint64_t m)
{
	char b[HK_NAME_LEN + 1];
	const char *sep = "";

	putchar('[');
	for (unsigned i = 0; i < 64; i++) {
		if (!(m >> i & 1))
			continue;
		fputs(sep, stdout);
		if (json)
			jstr(irq_name(k, i, b));
		else
			fputs(irq_name(k, i, b), stdout);
		sep = json ? "," : ", ";
	}
	putchar(']');
}

/* Nanoseconds since boot_time_ns by CLOCK_REALTIME (0 if the clock is behind). */
static uint64_t uptime_ns(const struct hk_kregion *k)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return now > k->boot_time_ns ? now - k->boot_time_ns : 0;
}

/* Counts syscalls per disposition value (0..255) from the disp[] table. */
static void disp_counts(const volatile struct hk_kregion *kr, unsigned cnt[256])
{
	memset(cnt, 0, 256 * sizeof(cnt[0]));
	for (unsigned nr = 0; hk_syscall_disp(kr, nr) >= 0; nr++)
		cnt[hk_syscall_disp(kr, nr)]++;
}

static void show_text(const volatile struct hk_kregion *kr, const struct hk_kregion *k, bool sys)
{
	char b[HK_NAME_LEN + 1], b2[HK_NAME_LEN + 1];
	const struct hk_psw *p = &k->psw;
	uint64_t up = uptime_ns(k);
	unsigned cnt[256], i;

	printf("kernel        %s %s\n", nm(k->kernel_name, b), nm(k->kernel_version, b2));
	printf("region        %#lx, version %" PRIu32 ", %" PRIu32 " bytes, seq %" PRIu32 "\n",
	       HK_KREGION_ADDR, k->version, k->size, k->seq);
	printf("uptime        %" PRIu64 ".%03" PRIu64 " s\n", up / 1000000000u, up / 1000000u % 1000u);
	printf("clock         hz %" PRIu32 ", jiffies %" PRIu64 "\n", k->hz, k->jiffies);
	printf("psw           mode %s, ipl %" PRIu32 ", interrupts %s, current pid %" PRId32 "\n",
	       p->mode == HK_MODE_KERNEL ? "kernel" : p->mode == HK_MODE_USER ? "user" : "?",
	       p->ipl, p->intr_enabled ? "enabled" : "disabled", p->current);
	printf("              mask 0x%" PRIx64 " ", p->mask);
	lines(k, p->mask);
	printf(", pending 0x%" PRIx64 " ", p->pending);
	lines(k, p->pending);
	printf("\ntasks         %" PRIu32 " threads in %" PRIu32 " processes\n", k->ntasks, k->nprocs);
	printf("traps         %" PRIu64 ", exceptions %" PRIu64 ", fence refusals %" PRIu64 "\n",
	       k->traps, k->exceptions, k->fence_refusals);
	for (i = 0; i < k->nr_exc && i < HK_MAX_EXC; i++)
		if (k->exc_count[i])
			printf("  exception   %-16s %" PRIu64 "\n", nm(k->exc_names[i], b), k->exc_count[i]);
	printf("scheduling    %" PRIu64 " context switches, %" PRIu64 " preemptions\n",
	       k->context_switches, k->preemptions);
	printf("%-13s %-16s %s\n", "irq", "line", "count");
	for (i = 0; i < nirqs(k); i++)
		printf("%-13u %-16s %" PRIu64 "\n", i, irq_name(k, i, b), k->irq_count[i]);
	printf("%-13s %-16s %s\n", "softirq", "name", "count");
	for (i = 0; i < nsoftirqs(k); i++)
		printf("%-13u %-16s %" PRIu64 "\n", i, softirq_name(k, i, b), k->softirq_count[i]);
	disp_counts(kr, cnt);
	printf("syscalls      %" PRIu32 ":", k->nr_syscalls);
	for (i = 0; i < 256; i++)
		if (cnt[i])
			printf(" %s %u", dname(k, i, b), cnt[i]);
	putchar('\n');
	for (i = 0; sys && hk_syscall_disp(kr, i) >= 0; i++)
		printf("%-13u %s\n", i, dname(k, (unsigned)hk_syscall_disp(kr, i), b));
}

/* "key":value, with a leading comma unless first. */
static void ju(const char *key, uint64_t v)
{
	printf(",\"%s\":%" PRIu64, key, v);
}

static void show_json(const volatile struct hk_kregion *kr, const struct hk_kregion *k, bool sys)
{
	char b[HK_NAME_LEN + 1];
	const struct hk_psw *p = &k->psw;
	const char *sep;
	unsigned cnt[256], i;

	printf("{\"kernel_name\":");
	jstr(nm(k->kernel_name, b));
	printf(",\"kernel_version\":");
	jstr(nm(k->kernel_version, b));
	printf(",\"address\":\"%#lx\"", HK_KREGION_ADDR);
	ju("version", k->version), ju("size", k->size), ju("seq", k->seq);
	ju("uptime_ns", uptime_ns(k)), ju("hz", k->hz), ju("jiffies", k->jiffies);
	printf(",\"psw\":{\"mode\":\"%s\"", p->mode == HK_MODE_KERNEL ? "kernel" : "user");
	ju("ipl", p->ipl);
	printf(",\"interrupts_enabled\":%s", p->intr_enabled ? "true" : "false");
	printf(",\"mask\":\"0x%" PRIx64 "\",\"mask_lines\":", p->mask);
	lines(k, p->mask);
	printf(",\"pending\":\"0x%" PRIx64 "\",\"pending_lines\":", p->pending);
	lines(k, p->pending);
	printf(",\"current\":%" PRId32 "}", p->current);
	ju("ntasks", k->ntasks), ju("nprocs", k->nprocs), ju("traps", k->traps);
	ju("exceptions", k->exceptions), ju("fence_refusals", k->fence_refusals);
	printf(",\"exception_kinds\":{");
	for (i = 0, sep = ""; i < k->nr_exc && i < HK_MAX_EXC; i++) {
		printf("%s", sep);
		jstr(nm(k->exc_names[i], b));
		printf(":%" PRIu64, k->exc_count[i]);
		sep = ",";
	}
	printf("}");
	ju("context_switches", k->context_switches), ju("preemptions", k->preemptions);
	printf(",\"irqs\":[");
	for (i = 0; i < nirqs(k); i++) {
		printf("%s{\"name\":", i ? "," : "");
		jstr(irq_name(k, i, b));
		printf(",\"count\":%" PRIu64 "}", k->irq_count[i]);
	}
	printf("],\"softirqs\":[");
	for (i = 0; i < nsoftirqs(k); i++) {
		printf("%s{\"name\":", i ? "," : "");
		jstr(softirq_name(k, i, b));
		printf(",\"count\":%" PRIu64 "}", k->softirq_count[i]);
	}
	disp_counts(kr, cnt);
	printf("],\"nr_syscalls\":%" PRIu32 ",\"dispositions\":{", k->nr_syscalls);
	for (i = 0, sep = ""; i < 256; i++) {
		if (!cnt[i])
			continue;
		fputs(sep, stdout);
		jstr(dname(k, i, b));
		printf(":%u", cnt[i]);
		sep = ",";
	}
	putchar('}');
	if (sys) {
		printf(",\"syscalls\":[");
		for (i = 0; hk_syscall_disp(kr, i) >= 0; i++) {
			printf("%s", i ? "," : "");
			jstr(dname(k, (unsigned)hk_syscall_disp(kr, i), b));
		}
		putchar(']');
	}
	printf("}\n");
}

/* One compact --watch line: jiffies, traps, ntasks and the irq counts. */
static void show_line(const struct hk_kregion *k)
{
	char b[HK_NAME_LEN + 1];

	if (json) {
		printf("{\"jiffies\":%" PRIu64 ",\"traps\":%" PRIu64 ",\"ntasks\":%" PRIu32 ",\"irqs\":{",
		       k->jiffies, k->traps, k->ntasks);
		for (unsigned i = 0; i < nirqs(k); i++) {
			printf("%s", i ? "," : "");
			jstr(irq_name(k, i, b));
			printf(":%" PRIu64, k->irq_count[i]);
		}
		printf("}}\n");
		return;
	}
	printf("jiffies %" PRIu64 " traps %" PRIu64 " ntasks %" PRIu32, k->jiffies, k->traps, k->ntasks);
	for (unsigned i = 0; i < nirqs(k); i++)
		printf(" %s %" PRIu64, irq_name(k, i, b), k->irq_count[i]);
	putchar('\n');
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "hkstat: %s%s%s; %s", what, arg ? ": " : "", arg ? arg : "", usage);
	return 2;
}

int main(int argc, char **argv)
{
	const volatile struct hk_kregion *kr;
	struct hk_kregion k;
	bool sys = false, watch = false, timed = false;
	double interval = 1.0;
	long count = -1;
	char *end;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--syscalls")) {
			sys = true;
		} else if (!strcmp(a, "--watch")) {
			watch = true;
		} else if (!strcmp(a, "--interval") || !strcmp(a, "--count")) {
			if (++i == argc)
				return bad("missing value for", a);
			errno = 0;
			timed = true;
			if (a[2] == 'i') {
				interval = strtod(argv[i], &end);
				if (*end || errno || !(interval > 0 && interval < 1e9))
					return bad("bad interval", argv[i]);
			} else {
				count = strtol(argv[i], &end, 10);
				if (*end || errno || count < 1 || end == argv[i])
					return bad("bad count", argv[i]);
			}
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		} else {
			return bad("unknown argument", a);
		}
	}
	if (timed && !watch)
		return bad("--interval and --count go with --watch", NULL);

	kr = hk_kregion();
	if (!kr) {
		fputs("hkstat: no kernel region here (is this running under hostk?)\n", stderr);
		return 1;
	}
	for (long n = 0; !watch || count < 0 || n < count; n++) {
		struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };

		if (hk_kregion_read(kr, &k) != 0) {
			fputs("hkstat: cannot take a consistent snapshot (is hostk stuck?)\n", stderr);
			return 1;
		}
		if (!watch) {
			if (json)
				show_json(kr, &k, sys);
			else
				show_text(kr, &k, sys);
			break;
		}
		show_line(&k);
		fflush(stdout);
		if (count < 0 || n + 1 < count)
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
