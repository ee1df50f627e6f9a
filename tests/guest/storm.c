/* storm.c - an interrupt storm must not livelock a guest: a CPU-bound loop's speed with the test
 * device's low line storming against its speed alone, hostk calls served meanwhile, and the storm's counts. */
#include "guest.h"

#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include <hostk/hkcall.h>
#include <hostk/libhk.h>

#define CHUNK 4096u		/* iterations between two looks at the clock */
#define TRAP_EVERY 256u		/* chunks between two HK_NULL traps */
#define ROUNDS 5		/* solo and storm measurements alternate, against drift */
#define PHASE_NS 100000000ull	/* each measurement */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long hkcall(long op, long line, long arg)
{
	return syscall(HK_CALL_NR, op, line, arg);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct phase {
	uint64_t iters, ns, cpu_ns;	/* iterations, in wall and CPU time */
	uint64_t traps, wrong;	/* HK_NULL calls (each a trap hostk serves), and those that did not return 0 */
};

static double rate(const struct phase *p)
{
	return p->ns ? (double)p->iters * 1e9 / (double)p->ns : 0;
}

/* Spins for PHASE_NS, calling HK_NULL every TRAP_EVERY chunks; adds to *p. */
static void measure(struct phase *p)
{
	uint64_t t0 = now_ns(), c0 = cpu_ns(), t1 = t0 + PHASE_NS, n = 0, t;
	unsigned k = 0;

	for (;;) {
		for (unsigned i = 0; i < CHUNK; i++)
			__asm__ volatile("" ::: "memory");
		if ((t = now_ns()) >= t1)
			break;
		n += CHUNK;
		if (++k == TRAP_EVERY) {
			k = 0;
			p->traps++;
			if (hkcall(HK_NULL, 0, 0) != 0)
				p->wrong++;
		}
	}
	p->iters += n;
	p->ns += t - t0;
	p->cpu_ns += cpu_ns() - c0;
}

static uint64_t irq_count(const volatile struct hk_kregion *kr)
{
	struct hk_kregion snap;

	if (!kr || hk_kregion_read(kr, &snap) < 0)
		return 0;
	for (uint32_t i = 0; i < snap.nr_irqs && i < HK_MAX_IRQS; i++)
		if (strcmp(snap.irq_names[i], "test-lo") == 0)
			return snap.irq_count[i];
	return 0;
}

int main(void)
{
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_dev_counts c0, c1;
	struct phase solo = { 0 }, storm = { 0 };
	uint64_t irq0, irq1;
	long on = 0, off = 0;

	if (hkcall(HK_DEV_COUNTS, HK_TEST_LO, (long)&c0) < 0) {
		if (errno == ENOSYS)
			fprintf(stderr, "storm: the hostk call fails with ENOSYS: not running under hostk\n");
		else
			fail("HK_DEV_COUNTS: %s", ename(errno));
		return 1;
	}
	irq0 = irq_count(kr);
	for (int r = 0; r < ROUNDS && !on && !off; r++) {
		measure(&solo);
		on = hkcall(HK_DEV_STORM, HK_TEST_LO, 1);
		measure(&storm);
		off = hkcall(HK_DEV_STORM, HK_TEST_LO, 0);
	}
	if (hkcall(HK_DEV_COUNTS, HK_TEST_LO, (long)&c1) < 0)
		fail("HK_DEV_COUNTS: %s", ename(errno));
	irq1 = irq_count(kr);
	CHECK(on == 0 && off == 0, "HK_DEV_STORM on returned %ld, off returned %ld (%s)", on, off, ename(errno));

	say("solo: %.0f iterations/s, cpu %.3f, %llu hknull, %llu wrong", rate(&solo),
	    (double)solo.cpu_ns / (double)solo.ns, (unsigned long long)solo.traps, (unsigned long long)solo.wrong);
	say("storm: %.0f iterations/s, cpu %.3f, %llu hknull, %llu wrong", rate(&storm),
	    (double)storm.cpu_ns / (double)storm.ns, (unsigned long long)storm.traps,
	    (unsigned long long)storm.wrong);
	say("ratio %.3f", rate(&storm) / rate(&solo));
	say("device: device_raised +%llu handled +%llu raised +%llu delivered +%llu coalesced +%llu "
	    "throttled +%llu", (unsigned long long)(c1.device_raised - c0.device_raised),
	    (unsigned long long)(c1.handled - c0.handled), (unsigned long long)(c1.raised - c0.raised),
	    (unsigned long long)(c1.delivered - c0.delivered), (unsigned long long)(c1.coalesced - c0.coalesced),
	    (unsigned long long)(c1.throttled - c0.throttled));
	say("kregion: test-lo's irq_count +%llu", (unsigned long long)(irq1 - irq0));
	CHECK(solo.wrong == 0 && storm.wrong == 0, "HK_NULL returned something but 0: %llu times alone, "
	      "%llu in the storm", (unsigned long long)solo.wrong, (unsigned long long)storm.wrong);
	CHECK(storm.traps > 0, "no HK_NULL completed during the storm");
	return finish();
}
