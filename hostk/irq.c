/* The interrupt controller.  Each line has a priority; a line is delivered
 * (its top half run) only while interrupts are enabled, the line is not
 * masked, and its priority is above the current interrupt priority level.
 * A top half runs at its line's level, so a higher line may nest inside a
 * lower one's top half and never the reverse.  Everything else stays pending
 * and is delivered the moment splx(), irq_unmask() or irq_enable() makes it
 * deliverable.
 *
 * Masking is lazy, as in many real kernels: spl and the mask bits are plain
 * variables, never a syscall.  The transport is a real-time signal per line
 * to the kernel thread (SIGALRM for the timer); a signal that finds its line
 * not deliverable just leaves it pending.  Raisers on other threads and the
 * kernel thread lowering its level race only through the pending and level
 * words, both sequentially consistent, so one of them always sees the
 * other: nothing is lost.  The unit tests drive the same state machine with
 * a direct transport instead of signals. */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "irq.h"
#include "kregion.h"
#include "softirq.h"
#include "util.h"

#define SEQ __ATOMIC_SEQ_CST

/* The lines drivers registered: the kernel names no device. */
static struct line {
	const char *name;
	int ipl;
	irq_top_fn *top;
	irq_bottom_fn *bottom;
	void *cookie;
} lines[MAX_IRQS];
static int nlines;
static int line_ipl[MAX_IRQS];		/* lines[l].ipl, read from top halves */
static uint64_t bh_pending;		/* lines whose bottom half is due */
static struct irq_counts counts[MAX_IRQS];

static uint64_t pending;	/* raised, not delivered */
static uint64_t masked;
static uint64_t waited;		/* pending lines that found a mask or the level in the way */
static int ipl;
static int enabled = 1;
static int nesting, max_nesting;

/* Latency samples (ns) per line, kept in rings that top and bottom halves
 * fill without locks; percentiles are taken at exit. */
#define NSAMPLES 4096
struct samples {
	uint64_t v[NSAMPLES];
	uint64_t n;
};
static struct samples top_ns[MAX_IRQS], to_top_ns[MAX_IRQS], to_bh_ns[MAX_IRQS];
static uint64_t raised_at[MAX_IRQS];	/* when the line last went pending */
static uint64_t served_raise[MAX_IRQS];	/* raise time of the last delivery */

static void sample(struct samples *s, uint64_t v)
{
	s->v[s->n++ % NSAMPLES] = v;
}

/* The event log: top halves record, the kernel loop prints (stdio is not
 * for signal handlers). */
#define NEVENTS 1024
static struct irq_event ring[NEVENTS];
static uint64_t ring_head, ring_tail, ring_dropped;
bool irq_tracing;

static void log_event(int line, int kind, int depth)
{
	uint64_t h = __atomic_load_n(&ring_head, SEQ);

	if (h - __atomic_load_n(&ring_tail, SEQ) >= NEVENTS) {
		__atomic_add_fetch(&ring_dropped, 1, SEQ);
		return;
	}
	ring[h % NEVENTS] = (struct irq_event){ now_ns(), line, kind, depth,
						__atomic_load_n(&pending, SEQ), __atomic_load_n(&masked, SEQ) };
	__atomic_store_n(&ring_head, h + 1, SEQ);
}

bool irq_next_event(struct irq_event *ev)
{
	uint64_t t = ring_tail;

	if (t == __atomic_load_n(&ring_head, SEQ))
		return false;
	*ev = ring[t % NEVENTS];
	__atomic_store_n(&ring_tail, t + 1, SEQ);
	return true;
}

void irq_bh_done(int line)
{
	if (served_raise[line])
		sample(&to_bh_ns[line], now_ns() - served_raise[line]);
	if (irq_tracing)
		log_event(line, IRQ_EV_BOTTOM, nesting);
}

static pid_t kernel_tid;
static __thread bool on_kernel_thread;
static irq_kick_fn *kick;
static uintptr_t idle_begin, idle_end;

static inline uint64_t bit(int line) { return 1ull << line; }

/* The PSW in the kernel region follows the controller. */
static void publish(void)
{
	int krs;

	if (!kr)
		return;
	krs = kr_begin();
	kr->psw.ipl = (uint32_t)krs;	/* the level before this write raised it */
	kr->psw.mask = __atomic_load_n(&masked, SEQ);
	kr->psw.pending = __atomic_load_n(&pending, SEQ);
	kr->psw.intr_enabled = (uint32_t)__atomic_load_n(&enabled, SEQ);
	kr->nr_irqs = (uint32_t)nlines;
	for (int l = 0; l < nlines; l++)
		kr->irq_count[l] = counts[l].delivered;
	kr_end(krs);
}

static bool deliverable(int line)
{
	return __atomic_load_n(&enabled, SEQ) && !(__atomic_load_n(&masked, SEQ) & bit(line)) &&
	       line_ipl[line] > __atomic_load_n(&ipl, SEQ);
}

static void run_bottom_halves(void);

int request_irq(const char *name, int ipl, irq_top_fn *top, irq_bottom_fn *bottom, void *cookie)
{
	int l = nlines;

	if (l == MAX_IRQS || ipl <= IPL_NONE || ipl >= IPL_HIGH)
		return -ENOSPC;
	lines[l] = (struct line){ name, ipl, top, bottom, cookie };
	line_ipl[l] = ipl;
	if (bottom)
		open_softirq(SOFTIRQ_DEV, run_bottom_halves);
	__atomic_store_n(&nlines, l + 1, SEQ);
	if (kr) {
		int krs = kr_begin();

		snprintf(kr->irq_names[l], HK_NAME_LEN, "%s", name);
		kr->nr_irqs = (uint32_t)(l + 1);
		kr_end(krs);
	}
	return l;
}

void irq_reset(void)
{
	nlines = 0;
	memset(lines, 0, sizeof lines);
	memset(line_ipl, 0, sizeof line_ipl);
	memset(counts, 0, sizeof counts);
	pending = masked = waited = bh_pending = 0;
	ipl = IPL_NONE;
	enabled = 1;
	nesting = max_nesting = 0;
	memset(top_ns, 0, sizeof top_ns);
	memset(to_top_ns, 0, sizeof to_top_ns);
	memset(to_bh_ns, 0, sizeof to_bh_ns);
	memset(raised_at, 0, sizeof raised_at);
	memset(served_raise, 0, sizeof served_raise);
	ring_head = ring_tail = ring_dropped = 0;
	irq_tracing = false;
}

int nr_irqs(void)
{
	return nlines;
}

const char *irq_name(int line)
{
	return line >= 0 && line < nlines ? lines[line].name : "?";
}

void irq_schedule_bh(int line)
{
	__atomic_fetch_or(&bh_pending, bit(line), SEQ);
	raise_softirq(SOFTIRQ_DEV);
}

/* The device softirq: every line's bottom half that its top half asked
 * for, in line order. */
static void run_bottom_halves(void)
{
	uint64_t p = __atomic_exchange_n(&bh_pending, 0, SEQ);

	for (int l = 0; p; l++, p >>= 1)
		if ((p & 1) && lines[l].bottom)
			lines[l].bottom(l, lines[l].cookie);
}

void irq_set_kick(irq_kick_fn *k)
{
	kick = k;
}

void irq_raise(int line)
{
	uint64_t old;

	if (line < 0 || line >= __atomic_load_n(&nlines, SEQ))
		return;
	__atomic_add_fetch(&counts[line].raised, 1, SEQ);
	__atomic_store_n(&raised_at[line], now_ns(), SEQ);
	old = __atomic_fetch_or(&pending, bit(line), SEQ);
	if (old & bit(line)) {
		__atomic_add_fetch(&counts[line].coalesced, 1, SEQ);
		return;
	}
	if (deliverable(line))
		kick(line);
	else
		__atomic_fetch_or(&waited, bit(line), SEQ);
}

void irq_coalesced(int line, uint64_t n)
{
	__atomic_add_fetch(&counts[line].coalesced, n, SEQ);
}

void irq_spurious(int line)
{
	__atomic_add_fetch(&counts[line].spurious, 1, SEQ);
}

/* The highest pending line that may be delivered now, or -1. */
static int next_line(void)
{
	uint64_t p = __atomic_load_n(&pending, SEQ) & ~__atomic_load_n(&masked, SEQ);
	int best = -1;

	if (!__atomic_load_n(&enabled, SEQ))
		return -1;
	for (int l = 0; l < nlines; l++)
		if ((p & bit(l)) && line_ipl[l] > __atomic_load_n(&ipl, SEQ) &&
		    (best < 0 || line_ipl[l] > line_ipl[best]))
			best = l;
	return best;
}

void irq_deliver(void)
{
	int l;

	while ((l = next_line()) >= 0) {
		uint64_t t0, r;
		int s;

		/* Raise the level first, then take the line: an interrupt in
		 * between already sees the level it must beat. */
		s = __atomic_exchange_n(&ipl, line_ipl[l], SEQ);
		if (!(__atomic_fetch_and(&pending, ~bit(l), SEQ) & bit(l))) {
			__atomic_store_n(&ipl, s, SEQ);	/* a nested delivery took it */
			continue;
		}
		t0 = now_ns();
		r = __atomic_load_n(&raised_at[l], SEQ);
		served_raise[l] = r;
		if (r && t0 > r)
			sample(&to_top_ns[l], t0 - r);
		if (++nesting > max_nesting)
			max_nesting = nesting;
		counts[l].delivered++;
		if (nesting > 1)
			counts[l].nested++;
		if (__atomic_fetch_and(&waited, ~bit(l), SEQ) & bit(l))
			counts[l].late++;
		if (irq_tracing)
			log_event(l, IRQ_EV_TOP, nesting);
		if (lines[l].top)
			lines[l].top(l, lines[l].cookie);
		sample(&top_ns[l], now_ns() - t0);
		nesting--;
		__atomic_store_n(&ipl, s, SEQ);
	}
	/* Whatever is still pending is waiting for a mask or the level. */
	__atomic_fetch_or(&waited, __atomic_load_n(&pending, SEQ), SEQ);
	/* Show it in the PSW, unless we interrupted a region write (its
	 * IPL_HIGH says so); the next publish shows it then. */
	if (nesting == 0 && __atomic_load_n(&ipl, SEQ) < IPL_HIGH)
		publish();
}

int splraise(int level)
{
	int s = __atomic_load_n(&ipl, SEQ);

	if (level > s)
		__atomic_store_n(&ipl, level, SEQ);
	return s;
}

void splx(int s)
{
	__atomic_store_n(&ipl, s, SEQ);
	/* Only for a line the new level lets through: a masked line stays
	 * pending, and delivering nothing would publish, whose own splx would
	 * come back here. */
	if (next_line() >= 0)
		irq_deliver();
}

int spl_current(void)
{
	return __atomic_load_n(&ipl, SEQ);
}

void irq_mask(int line)
{
	__atomic_fetch_or(&masked, bit(line), SEQ);
	publish();
}

void irq_unmask(int line)
{
	__atomic_fetch_and(&masked, ~bit(line), SEQ);
	irq_deliver();
}

void irq_disable(void)
{
	__atomic_store_n(&enabled, 0, SEQ);
	publish();
}

void irq_enable(void)
{
	__atomic_store_n(&enabled, 1, SEQ);
	irq_deliver();
}

void irq_counts(int line, struct irq_counts *out)
{
	out->raised = __atomic_load_n(&counts[line].raised, SEQ);
	out->delivered = counts[line].delivered;
	out->coalesced = __atomic_load_n(&counts[line].coalesced, SEQ);
	out->late = counts[line].late;
	out->spurious = __atomic_load_n(&counts[line].spurious, SEQ);
	out->nested = counts[line].nested;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void irq_latency(int line, int which, struct irq_latency *out)
{
	const struct samples *s = which == IRQ_LAT_TOP ? &top_ns[line] :
				  which == IRQ_LAT_TO_TOP ? &to_top_ns[line] : &to_bh_ns[line];
	size_t n = s->n < NSAMPLES ? (size_t)s->n : NSAMPLES;
	uint64_t *v;

	memset(out, 0, sizeof *out);
	out->n = s->n;
	if (!n || !(v = malloc(n * sizeof *v)))
		return;
	memcpy(v, s->v, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_u64);
	out->min = v[0];
	out->p50 = v[n / 2];
	out->p99 = v[n * 99 / 100];
	out->max = v[n - 1];
	free(v);
}

int irq_nesting(void) { return nesting; }
int irq_max_nesting(void) { return max_nesting; }
uint64_t irq_pending(void) { return __atomic_load_n(&pending, SEQ); }
uint64_t irq_masked(void) { return __atomic_load_n(&masked, SEQ); }
bool irq_enabled(void) { return __atomic_load_n(&enabled, SEQ); }
int irq_priority(int line) { return line >= 0 && line < nlines ? line_ipl[line] : IPL_NONE; }

/* The signal transport. */

static int line_signal(int line)
{
	return line == 0 ? SIGALRM : SIGRTMIN + 1 + line;	/* line 0: the timer */
}

static void kick_signal(int line)
{
	if (on_kernel_thread)
		irq_deliver();	/* already on the kernel thread: a software interrupt */
	else
		syscall(SYS_tgkill, getpid(), kernel_tid, line_signal(line));
}

void irq_set_idle_window(uintptr_t begin, uintptr_t end)
{
	idle_begin = begin;
	idle_end = end;
}

static void on_irq_signal(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	int saved = errno;

	(void)si;
	if (sig == SIGALRM)
		irq_raise(0);	/* the timer "hardware" (line 0) is this very signal */
	else
		irq_deliver();
	/* The kernel loop checks for bottom halves and then waits; an interrupt
	 * that lands between the two would not wake it.  Send it back to the
	 * check instead, as an idle loop does. */
	if (softirq_pending && uc->uc_mcontext.gregs[REG_RIP] >= (greg_t)idle_begin &&
	    uc->uc_mcontext.gregs[REG_RIP] <= (greg_t)idle_end)
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)idle_begin;
	errno = saved;
}

/* Device lines: the controller's own thread watches their eventfds (eventfd
 * has no O_ASYNC) and raises a line when its eventfd becomes readable.  Each
 * watch is one-shot: the driver re-arms it once its top half has read the
 * counter, so a busy device costs one interrupt per batch, not per event. */
static int epfd = -1, stop_fd = -1;
static int line_fd[MAX_IRQS];
static pthread_t controller_th;
static struct sigaction old_action[MAX_IRQS];

int irq_attach_eventfd(int line, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = (uint32_t)line };

	line_fd[line] = fd;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void irq_rearm(int line)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = (uint32_t)line };

	epoll_ctl(epfd, EPOLL_CTL_MOD, line_fd[line], &ev);
}

static void *controller(void *arg)
{
	struct epoll_event evs[MAX_IRQS];

	(void)arg;
	for (;;) {
		int n = epoll_wait(epfd, evs, MAX_IRQS, -1);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == MAX_IRQS)	/* stop_fd: irq_shutdown */
				return NULL;
			irq_raise((int)evs[i].data.u32);
		}
	}
}

int irq_boot(void)
{
	int rc;

	struct sigaction sa = { .sa_sigaction = on_irq_signal, .sa_flags = SA_SIGINFO | SA_NODEFER };

	kernel_tid = (pid_t)syscall(SYS_gettid);
	on_kernel_thread = true;
	kick = kick_signal;
	/* No signal is blocked in a handler: the controller's own level decides
	 * what nests.  SA_NODEFER lets a line interrupt its own top half's
	 * signal frame; irq_deliver() keeps the order. */
	sigemptyset(&sa.sa_mask);
	for (int l = 0; l < MAX_IRQS; l++)	/* lines may come after boot */
		if (sigaction(line_signal(l), &sa, &old_action[l]) < 0)
			return -errno;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -errno;
	/* The controller's own stop line: an eventfd past the last line. */
	struct epoll_event stop = { .events = EPOLLIN, .data.u32 = MAX_IRQS };

	if ((stop_fd = eventfd(0, EFD_CLOEXEC)) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, stop_fd, &stop) < 0)
		return -errno;
	if ((rc = start_thread_joinable(&controller_th, controller, NULL, -1)))
		return -rc;
	publish();
	return 0;
}

void irq_shutdown(void)
{
	uint64_t one = 1;

	if (stop_fd >= 0) {
		if (write(stop_fd, &one, sizeof one) == (ssize_t)sizeof one)
			pthread_join(controller_th, NULL);
		close(stop_fd);
		stop_fd = -1;
	}
	if (epfd >= 0) {
		close(epfd);	/* the drivers close the lines' eventfds */
		epfd = -1;
		for (int l = 0; l < MAX_IRQS; l++)
			sigaction(line_signal(l), &old_action[l], NULL);
	}
	kernel_tid = 0;
	on_kernel_thread = false;
	kick = NULL;
	irq_reset();
}
