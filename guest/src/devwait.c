/* devwait: the textbook device story, from a guest.  It asks hostk's test
 * device for a burst of events, sleeps until the driver's bottom half has
 * handled them all (the interrupt wakes it), and shows what the interrupt
 * controller counted and what the kernel region saw, without a syscall.
 *   hostk run --device test=test -- devwait [COUNT]        (default 1000) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hostk/hkcall.h>
#include <hostk/libhk.h>

static long hk_call(long op, long line, long arg)
{
	return syscall(HK_CALL_NR, op, line, arg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The kernel region's index of the line called name, or -1. */
static int line_named(const struct hk_kregion *k, const char *name)
{
	for (uint32_t i = 0; i < k->nr_irqs && i < HK_MAX_IRQS; i++)
		if (strcmp(k->irq_names[i], name) == 0)
			return (int)i;
	return -1;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	const volatile struct hk_kregion *kr = hk_kregion();
	struct hk_kregion before, after;
	struct hk_dev_counts c;
	double t0;
	long r;
	int lo;

	if (count < 1 || count > 100000000) {
		fprintf(stderr, "devwait: COUNT must be from 1 to 100000000\n");
		return 2;
	}
	if (hk_call(HK_DEV_COUNTS, HK_TEST_LO, (long)&c) < 0) {
		if (errno == ENOSYS)
			fprintf(stderr, "devwait: not under hostk (the hostk call is ENOSYS)\n");
		else if (errno == ENODEV)
			fprintf(stderr, "devwait: no test device (run hostk with --device test=test)\n");
		else
			perror("devwait: HK_DEV_COUNTS");
		return 1;
	}
	if (!kr || hk_kregion_read(kr, &before) < 0) {
		fprintf(stderr, "devwait: no kernel region\n");
		return 1;
	}
	if ((lo = line_named(&before, "test-lo")) < 0) {
		fprintf(stderr, "devwait: the kernel region shows no line test-lo\n");
		return 1;
	}
	t0 = now_s();
	hk_call(HK_DEV_RAISE, HK_TEST_LO, count);
	/* Sleep until the bottom half has handled them: off CPU, woken by it. */
	r = hk_call(HK_DEV_WAIT, HK_TEST_LO, (long)(c.handled + (uint64_t)count));
	if (r < 0) {
		perror("devwait: wait");
		return 1;
	}
	hk_call(HK_DEV_COUNTS, HK_TEST_LO, (long)&c);
	hk_kregion_read(kr, &after);
	printf("device: %lu events raised, %lu handled, in %.1f ms\n", (unsigned long)c.device_raised,
	       (unsigned long)c.handled, (now_s() - t0) * 1e3);
	printf("controller: %lu interrupts delivered, %lu events coalesced into them, %lu late, %lu spurious\n",
	       (unsigned long)c.delivered, (unsigned long)c.coalesced, (unsigned long)c.late,
	       (unsigned long)c.spurious);
	printf("kernel region: line %s count %lu -> %lu, jiffies %lu -> %lu, traps %lu -> %lu\n",
	       before.irq_names[lo], (unsigned long)before.irq_count[lo], (unsigned long)after.irq_count[lo], (unsigned long)before.jiffies,
	       (unsigned long)after.jiffies, (unsigned long)before.traps, (unsigned long)after.traps);
	return c.handled >= (uint64_t)count ? 0 : 1;
}
