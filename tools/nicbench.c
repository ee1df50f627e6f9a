/* `hostk bench nic`: the network card's receive path, end to end, under a
 * real hostk.  The bench runs, as a user would,
 *     hostk run --device nic0=nic:127.0.0.1:P,peer=127.0.0.1:Q -- nicecho -s nic0 0
 * (hostk pins itself and its guest to the CPU it starts on, the idlest; the
 * card's hardware thread goes off it) and talks UDP to it from port Q:
 *
 *   latency     one frame at a time, each sent an interval after the echo of
 *               the one before, so that the guest is asleep in read() when
 *               it comes; nicecho stamps each echo with the CLOCK_MONOTONIC
 *               ns at which its read() returned, the frame carries its send
 *               time, and the difference is one figure;
 *   floor       the least a wake-up across the same two CPUs costs: a thread
 *               on hostk's CPU asleep in read() on an eventfd, which the
 *               sender's CPU writes; its wake time minus the write's, paced
 *               the same way;
 *   throughput  a window of frames in flight (half the RX ring, so that the
 *               ring never drops one): echoes per second over the frames.
 *
 * Latency and floor take turns in rounds, so that the shared machine's
 * drifts hit both alike.  hostk is killed and reaped on every way out: at
 * exit, on SIGINT/SIGTERM/SIGHUP, and by PR_SET_PDEATHSIG if the bench dies
 * outright.  Called from bench.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../hostk/util.h"

#define PROBE_BIT (1ull << 63)	/* a start-up probe's sequence number */
#define TPUT_BIT (1ull << 62)	/* a throughput frame's */
#define HDR 16			/* a frame: its sequence number, its send time, padding */
#define STAMP 8			/* nicecho -s puts its read()'s time first */
#define MAX_SIZE (1500 - STAMP)	/* the echo must fit the card's default MTU */
#define ECHO_MS 2000		/* an echo later than this is lost */
#define START_S 10		/* hostk and nicecho start in milliseconds */
#define EXIT_S 10
#define TARGET 3.0		/* the issue's: p99 within 3x the floor's */

struct opts {
	long frames, interval_us, window, rxring, size, rounds;
	int sender_cpu;		/* -1: the second idlest */
	bool json, smoke;
	const char *svg;
};

struct run {
	int sock, errfd, cpu_hostk, cpu_sender;
	struct sockaddr_in nic;
	char cmd[512];
	double load;
	uint64_t *lat, *loaded;
	size_t nlat, nloaded;
	long lost, tput_got, tput_lost, echoed;
	double tput_s;
	struct hist h_lat, h_floor, h_loaded;
};

/* The floor's two threads: the reader on hostk's CPU, the writer the sender. */
struct floor {
	int go, ack, cpu;
	uint64_t t0;		/* the writer's, before each write */
	bool stop;
	uint64_t *v;
	size_t n;
};

static pid_t hostk_pid;		/* 0 once reaped */

static void kill_hostk(void)
{
	if (hostk_pid > 0) {
		kill(hostk_pid, SIGKILL);
		while (waitpid(hostk_pid, NULL, 0) < 0 && errno == EINTR)
			;
		hostk_pid = 0;
	}
}

/* kill and waitpid are async-signal-safe: the bench dies as it would have,
 * without its child. */
static void on_signal(int sig)
{
	kill_hostk();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* hostk's exit, if it has come: false while it runs. */
static bool hostk_exited(int *status)
{
	if (hostk_pid > 0 && waitpid(hostk_pid, status, WNOHANG) == hostk_pid) {
		hostk_pid = 0;
		return true;
	}
	return false;
}

/* The reason, then what hostk and nicecho said on stderr, then exit 1. */
static _Noreturn __attribute__((format(printf, 2, 3))) void fail(const struct run *r, const char *fmt, ...)
{
	char buf[4096];
	ssize_t got;
	va_list ap;

	kill_hostk();	/* first: then all it said is in the file */
	got = r->errfd >= 0 ? pread(r->errfd, buf, sizeof buf - 1, 0) : -1;
	fputs("hostk: bench nic: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (got > 0) {
		buf[got] = '\0';
		fprintf(stderr, "what hostk and its guest said:\n%s", buf);
	}
	exit(1);
}

static void hostk_check(const struct run *r, const char *doing)
{
	char st[64];
	int status;

	if (hostk_exited(&status))
		fail(r, "hostk ended while %s: %s", doing, status_text(status, st, sizeof st));
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = ns_to_ts(t);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int bind_any(struct sockaddr_in *a)
{
	socklen_t len = sizeof *a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) < 0 || getsockname(fd, (struct sockaddr *)a, &len) < 0)
		die_errno("bench nic: a UDP socket on 127.0.0.1");
	return fd;
}

/* The card's port: one the host says is free now (bound to port 0, then let
 * go), so that two benches never pick the same.  Another program could take
 * it before hostk binds it; hostk then says so and the bench fails. */
static void start_hostk(struct run *r, const struct opts *o, const char *self, const char *echo)
{
	struct sockaddr_in me, nic;
	int tmp = bind_any(&nic);
	char dev[160];
	pid_t parent = getpid(), pid;

	close(tmp);
	r->nic = nic;
	r->sock = bind_any(&me);
	snprintf(dev, sizeof dev, "nic0=nic:127.0.0.1:%u,peer=127.0.0.1:%u,rxring=%ld", ntohs(nic.sin_port),
		 ntohs(me.sin_port), o->rxring);
	snprintf(r->cmd, sizeof r->cmd, "hostk run --device %s -- nicecho -s nic0 0", dev);
	char *argv[] = { (char *)self, "run", "--device", dev, "--", (char *)echo, "-s", "nic0", "0", NULL };

	if ((r->errfd = memfd_create("hostk-bench-nic-stderr", MFD_CLOEXEC)) < 0)
		die_errno("bench nic: memfd_create");
	fflush(NULL);
	if ((pid = fork()) < 0)
		die_errno("bench nic: fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);	/* the bench died before the line above */
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(r->errfd, STDERR_FILENO) < 0 || pin_cpu(r->cpu_hostk) < 0)
			_exit(127);
		execv(self, argv);
		_exit(127);
	}
	hostk_pid = pid;
}

static void send_frame(const struct run *r, const struct opts *o, uint64_t seq, uint64_t *t0)
{
	unsigned char buf[MAX_SIZE] = { 0 };

	memcpy(buf, &seq, 8);
	*t0 = now_ns();
	memcpy(buf + 8, t0, 8);
	if (sendto(r->sock, buf, (size_t)o->size, 0, (const struct sockaddr *)&r->nic, sizeof r->nic) != o->size)
		fail(r, "sendto 127.0.0.1:%u: %s", ntohs(r->nic.sin_port), strerror(errno));
}

/* One echo that is waiting: its sequence number, send time and stamp.
 * False if none is there (or it is not an echo of ours). */
static bool take_echo(const struct run *r, const struct opts *o, uint64_t *seq, uint64_t *t0, uint64_t *stamp)
{
	unsigned char buf[STAMP + MAX_SIZE + 1];
	ssize_t n = recv(r->sock, buf, sizeof buf, MSG_DONTWAIT);

	if (n != STAMP + o->size)
		return false;
	memcpy(stamp, buf, 8);
	memcpy(seq, buf + STAMP, 8);
	memcpy(t0, buf + STAMP + 8, 8);
	return true;
}

static bool readable(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now;

	while ((now = now_ns()) < deadline) {
		int ms = (int)((deadline - now + 999999) / 1000000);

		if (poll(&p, 1, ms) > 0)
			return true;
	}
	return false;
}

/* Probes every 20 ms until nicecho echoes one: its device is open and it
 * reads.  (A frame before that has no reader and is dropped.) */
static void wait_ready(const struct run *r, const struct opts *o)
{
	uint64_t end = now_ns() + START_S * NSEC_PER_SEC, seq, t0, stamp;

	for (uint64_t k = 0; now_ns() < end; k++) {
		send_frame(r, o, PROBE_BIT | k, &t0);
		if (readable(r->sock, now_ns() + 20000000))
			while (take_echo(r, o, &seq, &t0, &stamp))
				if (seq & PROBE_BIT)
					return;
		hostk_check(r, "starting");
	}
	fail(r, "nicecho echoed no probe frame within %d s of hostk's start", START_S);
}

static void lost_one(struct run *r, const struct opts *o, const char *phase)
{
	long most = o->frames / 100 > 10 ? o->frames / 100 : 10;

	hostk_check(r, phase);
	if (++r->lost > most)
		fail(r, "%ld frames had no echo within %d ms (%s)", r->lost, ECHO_MS, phase);
}

/* n frames one at a time; *seq numbers them across rounds. */
static void latency_block(struct run *r, const struct opts *o, long n, uint64_t *next)
{
	for (long i = 0; i < n; i++) {
		uint64_t want = (*next)++, end, seq, t0, sent, stamp;
		bool got = false;

		send_frame(r, o, want, &sent);
		end = sent + ECHO_MS * 1000000ull;
		while (!got && readable(r->sock, end))
			while (!got && take_echo(r, o, &seq, &t0, &stamp))
				got = seq == want;	/* else a late one of an earlier round's */
		if (!got) {
			lost_one(r, o, "measuring latency");
			continue;
		}
		if (stamp < sent || stamp - sent > ECHO_MS * 1000000ull)
			fail(r, "nicecho's stamp is not this host's CLOCK_MONOTONIC (sent %" PRIu64 ", read %" PRIu64 ")",
			     sent, stamp);
		r->lat[r->nlat++] = stamp - sent;
		sleep_until(now_ns() + (uint64_t)o->interval_us * 1000);
	}
}

static void *floor_reader(void *arg)
{
	struct floor *f = arg;
	uint64_t x, one = 1;

	for (;;) {
		if (read(f->go, &x, sizeof x) != (ssize_t)sizeof x)
			continue;	/* EINTR */
		uint64_t t1 = now_ns();

		if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
			return NULL;
		f->v[f->n] = t1 - __atomic_load_n(&f->t0, __ATOMIC_ACQUIRE);
		__atomic_store_n(&f->n, f->n + 1, __ATOMIC_RELEASE);
		if (write(f->ack, &one, sizeof one) < 0)
			return NULL;
	}
}

static void floor_start(struct floor *f, pthread_t *th, size_t n)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	f->v = calloc(n, sizeof *f->v);
	f->go = eventfd(0, EFD_CLOEXEC);
	f->ack = eventfd(0, EFD_CLOEXEC);
	if (!f->v || f->go < 0 || f->ack < 0)
		die_errno("bench nic: the floor's eventfds");
	pthread_attr_init(&attr);
	CPU_ZERO(&set);
	CPU_SET(f->cpu, &set);
	pthread_attr_setaffinity_np(&attr, sizeof set, &set);
	if ((rc = pthread_create(th, &attr, floor_reader, f)))
		die("bench nic: the floor's reader: %s", strerror(rc));
	pthread_attr_destroy(&attr);
}

static void floor_block(const struct run *r, struct floor *f, const struct opts *o, long n)
{
	uint64_t one = 1, x;

	for (long i = 0; i < n; i++) {
		__atomic_store_n(&f->t0, now_ns(), __ATOMIC_RELEASE);
		if (write(f->go, &one, sizeof one) != (ssize_t)sizeof one)
			fail(r, "the floor's eventfd: %s", strerror(errno));
		if (!readable(f->ack, now_ns() + ECHO_MS * 1000000ull))
			fail(r, "the floor's reader did not wake within %d ms", ECHO_MS);
		if (read(f->ack, &x, sizeof x) < 0)
			fail(r, "the floor's eventfd: %s", strerror(errno));
		sleep_until(now_ns() + (uint64_t)o->interval_us * 1000);
	}
}

static void floor_stop(struct floor *f, pthread_t th)
{
	uint64_t one = 1;

	__atomic_store_n(&f->stop, true, __ATOMIC_RELEASE);
	if (write(f->go, &one, sizeof one) == (ssize_t)sizeof one)
		pthread_join(th, NULL);	/* it wakes on that write and returns */
}

/* A window of frames in flight until all have come back or are lost: a
 * frame not back within ECHO_MS of the last progress is lost. */
static void throughput(struct run *r, const struct opts *o)
{
	long n = o->frames, sent = 0, got = 0, lost = 0;
	char *state = calloc((size_t)n, 1);	/* 0 in flight, 1 back, 2 lost */
	uint64_t first = 0, last = 0, seq, t0, stamp;

	if (!state || !(r->loaded = calloc((size_t)n, sizeof *r->loaded)))
		die_oom();
	while (got + lost < n) {
		for (; sent < n && sent - got - lost < o->window; sent++)
			send_frame(r, o, TPUT_BIT | (uint64_t)sent, sent ? &t0 : &first);
		if (!readable(r->sock, now_ns() + ECHO_MS * 1000000ull)) {
			hostk_check(r, "measuring throughput");
			for (long i = 0; i < sent; i++)
				if (!state[i]) {
					state[i] = 2;
					lost++;
				}
			if (lost > n / 10)
				fail(r, "%ld of %ld frames in the throughput run had no echo within %d ms", lost, sent, ECHO_MS);
			continue;
		}
		while (take_echo(r, o, &seq, &t0, &stamp)) {
			long i = (long)(seq & ~TPUT_BIT);

			if (!(seq & TPUT_BIT) || i >= sent || state[i])
				continue;	/* a late one of the latency run's, or one given up */
			state[i] = 1;
			got++;
			last = now_ns();
			r->loaded[r->nloaded++] = stamp - t0;
		}
	}
	free(state);
	r->tput_got = got;
	r->tput_lost = lost;
	r->tput_s = (double)(last - first) / 1e9;
}

/* An empty frame ends nicecho, and with it hostk; both say how it went. */
static void stop_hostk(struct run *r)
{
	uint64_t end = now_ns() + EXIT_S * NSEC_PER_SEC, resend = 0;
	char buf[4096], st[64], *p;
	ssize_t got;
	int status = 0;

	while (!hostk_exited(&status)) {
		if (now_ns() > end)
			fail(r, "hostk did not exit within %d s of the empty frame that ends nicecho", EXIT_S);
		if (now_ns() >= resend) {	/* a datagram may be lost: again every 500 ms */
			sendto(r->sock, "", 0, 0, (const struct sockaddr *)&r->nic, sizeof r->nic);
			resend = now_ns() + 500000000;
		}
		sleep_until(now_ns() + 2000000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail(r, "hostk run ended with %s", status_text(status, st, sizeof st));
	got = pread(r->errfd, buf, sizeof buf - 1, 0);
	buf[got > 0 ? got : 0] = '\0';
	r->echoed = (p = strstr(buf, "nicecho: ")) ? strtol(p + 9, NULL, 10) : -1;
}

static void measure(struct run *r, const struct opts *o, const char *self, const char *echo)
{
	struct floor f = { .cpu = r->cpu_hostk };
	uint64_t seq = 0;
	pthread_t th;

	if (!(r->lat = calloc((size_t)o->frames, sizeof *r->lat)))
		die_oom();
	floor_start(&f, &th, (size_t)o->frames);
	start_hostk(r, o, self, echo);
	wait_ready(r, o);
	for (long k = 0; k < o->rounds; k++) {
		long n = o->frames / o->rounds + (k < o->frames % o->rounds);

		latency_block(r, o, n, &seq);
		floor_block(r, &f, o, n);
	}
	floor_stop(&f, th);
	throughput(r, o);
	stop_hostk(r);
	r->h_lat = (struct hist){ "latency", "nic", "datagram sent on the host -> the guest's read() returns" };
	r->h_floor = (struct hist){ "floor", "floor", "floor: eventfd written -> the reader's read() returns" };
	r->h_loaded = (struct hist){ "loaded", "in flight", "one-way, with the throughput run's window in flight" };
	hist_fill(&r->h_lat, r->lat, r->nlat);
	hist_fill(&r->h_floor, f.v, f.n);
	hist_fill(&r->h_loaded, r->loaded, r->nloaded);
	free(f.v);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

static double fps(const struct run *r)
{
	return r->tput_s > 0 ? (double)r->tput_got / r->tput_s : 0;
}

static void print_row(const char *what, const struct hist *h)
{
	printf("%-52s %8.1f %8.1f %8.1f %8.1f\n", what, (double)h->min / 1e3, (double)h->p50 / 1e3,
	       (double)h->p99 / 1e3, (double)h->max / 1e3);
}

static void print_table(const struct run *r, const struct opts *o)
{
	const struct hist *l = &r->h_lat, *f = &r->h_floor;
	double x99 = ratio(l->p99, f->p99);
	char floor_label[64];

	printf("hostk bench nic: a datagram sent on the host -> the guest's read() returns it\n%s\n", r->cmd);
	printf("hostk and its guest on CPU %d (hostk pins itself to the CPU it starts on: the idlest), the card's "
	       "hardware thread off it, the sender on CPU %d; load average %.2f at the start\n", r->cpu_hostk,
	       r->cpu_sender, r->load);
	printf("%ld frames of %ld bytes, one at a time, each %ld us after the echo of the one before; %ld round(s) "
	       "taking turns with the floor\n\n", o->frames, o->size, o->interval_us, o->rounds);
	printf("%-52s %8s %8s %8s %8s\n", "one-way latency (us)", "min", "p50", "p99", "max");
	print_row("datagram sent -> guest read() returns", l);
	snprintf(floor_label, sizeof floor_label, "floor: eventfd wake-up, CPU %d -> CPU %d", r->cpu_sender,
		 r->cpu_hostk);
	print_row(floor_label, f);
	printf("%-52s %7.1fx %7.1fx %7.1fx %7.1fx\n", "latency / floor", ratio(l->min, f->min), ratio(l->p50, f->p50),
	       x99, ratio(l->max, f->max));
	printf("target: p99 <= %.0fx the floor's p99: %.1fx, %s; %ld frame(s) lost\n\n", TARGET, x99,
	       x99 <= TARGET ? "met" : "not met", r->lost);
	printf("throughput: %ld frames in flight (RX ring %ld), %ld frames: %.0f frames/s over %.3f s, %ld lost\n",
	       o->window, o->rxring, o->frames, fps(r), r->tput_s, r->tput_lost);
	print_row("  one-way latency with the window in flight (us)", &r->h_loaded);
	printf("nicecho echoed %ld frame(s) in all (start-up probes included)\n\n", r->echoed);
	hist_print(stdout, (const struct hist[]){ *l, *f }, 2);
}

static void print_json(const struct run *r, const struct opts *o)
{
	const struct hist *l = &r->h_lat, *f = &r->h_floor;

	printf("{\"bench\":\"nic\",\"smoke\":%s,\"frames\":%ld,\"size\":%ld,\"interval_us\":%ld,\"rounds\":%ld,"
	       "\"rxring\":%ld,\"command\":", o->smoke ? "true" : "false", o->frames, o->size, o->interval_us,
	       o->rounds, o->rxring);
	json_str(stdout, r->cmd);
	printf(",\"cpus\":{\"hostk\":%d,\"sender\":%d},\"loadavg\":%.2f,\n\"latency_ns\":", r->cpu_hostk,
	       r->cpu_sender, r->load);
	hist_json(stdout, l);
	printf(",\"lost\":%ld,\n\"floor_ns\":", r->lost);
	hist_json(stdout, f);
	printf(",\n\"ratio\":{\"min\":%.3f,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"target_p99_ratio\":%.1f,"
	       "\"met\":%s,\n", ratio(l->min, f->min), ratio(l->p50, f->p50), ratio(l->p99, f->p99),
	       ratio(l->max, f->max), TARGET, ratio(l->p99, f->p99) <= TARGET ? "true" : "false");
	printf("\"throughput\":{\"window\":%ld,\"frames\":%ld,\"received\":%ld,\"lost\":%ld,\"seconds\":%.6f,"
	       "\"frames_per_s\":%.1f,\"latency_ns\":", o->window, o->frames, r->tput_got, r->tput_lost, r->tput_s,
	       fps(r));
	hist_json(stdout, &r->h_loaded);
	printf("},\n\"guest_echoed\":%ld}\n", r->echoed);
}

static void write_svg(const struct run *r, const struct opts *o)
{
	char sub[256];
	int rc;

	snprintf(sub, sizeof sub, "%ld frames of %ld bytes, one at a time; hostk on CPU %d, sender on CPU %d; "
		 "p99 %.1fx the floor's", o->frames, o->size, r->cpu_hostk, r->cpu_sender,
		 ratio(r->h_lat.p99, r->h_floor.p99));
	if ((rc = hist_svg(o->svg, "hostk's network card: a datagram to the guest's read(), and the wake-up floor",
			   sub, (const struct hist[]){ r->h_lat, r->h_floor }, 2)) < 0)
		die("bench nic: %s: %s", o->svg, strerror(-rc));
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const char cmd[] = "bench nic";
	long frames = 0, window = 0, cpu = -1;
	const struct {
		const char *name;
		long lo, hi, *to;
	} nums[] = {
		{ "--frames", 10, 10000000, &frames },
		{ "--interval", 0, 1000000, &o->interval_us },
		{ "--window", 1, 65536, &window },
		{ "--rxring", 2, 65536, &o->rxring },
		{ "--size", HDR, MAX_SIZE, &o->size },
		{ "--sender-cpu", 0, CPU_SETSIZE - 1, &cpu },
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k = 0;

		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(a, "--smoke")) {
			o->smoke = true;
			continue;
		}
		if (!strcmp(a, "--svg") && i + 1 < argc) {
			o->svg = argv[++i];
			continue;
		}
		while (k < NELEM(nums) && strcmp(a, nums[k].name))
			k++;
		if (k == NELEM(nums) && strcmp(a, "--svg"))
			die_status(EXIT_USAGE, "%s: unknown option '%s' (see hostk --help)", cmd, a);
		if (i + 1 == argc)
			die_status(EXIT_USAGE, "%s: %s wants a value", cmd, a);
		*nums[k].to = bench_number(cmd, a, argv[++i], nums[k].lo, nums[k].hi);
	}
	if (o->smoke) {
		o->frames = 200;
		o->rounds = 2;
	}
	if (frames)
		o->frames = frames;
	if (o->rounds > o->frames)
		o->rounds = 1;
	o->sender_cpu = (int)cpu;
	o->window = window ? window : o->rxring / 2;
	if (o->window > o->rxring)
		die_status(EXIT_USAGE, "%s: --window %ld is more than the RX ring (--rxring %ld) holds", cmd, o->window,
			   o->rxring);
}

int bench_nic(int argc, char **argv, const char *self)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct opts o = { .frames = 10000, .interval_us = 500, .rxring = 64, .size = 64, .rounds = 10,
			  .sender_cpu = -1 };
	struct run r = { .errfd = -1 };
	char echo[4096];
	cpu_set_t allowed;
	int cpu[2];

	parse(argc, argv, &o);
	bench_program(self, "HOSTK_NICECHO", "guest/nicecho", echo, sizeof echo);
	idlest_cpus(cpu);
	r.cpu_hostk = cpu[0];
	r.cpu_sender = o.sender_cpu >= 0 ? o.sender_cpu : cpu[1] >= 0 ? cpu[1] : cpu[0];
	if (r.cpu_hostk < 0 || sched_getaffinity(0, sizeof allowed, &allowed) < 0 || !CPU_ISSET(r.cpu_sender, &allowed))
		die_status(EXIT_USAGE, "bench nic: --sender-cpu %d is not a CPU this process may use", r.cpu_sender);
	if (pin_cpu(r.cpu_sender) < 0)
		die_errno("bench nic: pinning the sender to CPU %d", r.cpu_sender);
	getloadavg(&r.load, 1);
	atexit(kill_hostk);
	for (size_t i = 0; i < NELEM(sigs); i++)
		signal(sigs[i], on_signal);
	measure(&r, &o, self, echo);
	if (o.json)
		print_json(&r, &o);
	else
		print_table(&r, &o);
	if (o.svg)
		write_svg(&r, &o);
	return 0;
}
