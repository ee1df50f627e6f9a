/* Unit test of the kernel region ABI (guest/include/hostk/kregion.h) and of
 * libhk's reader: the layout, the seqlock against a writer thread in this
 * process, and hk_kregion()'s probe where there is no region or a fake one. */
#include <check.h>

#include "ck-main.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hostk/libhk.h>

#define OFF(f) offsetof(struct hk_kregion, f)
#define PSW(f) offsetof(struct hk_psw, f)
#define DISP_OFF 1024u		/* where the fake regions keep disp[] */
#define NR_FAKE 451u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills a valid region as hostk would at boot, at a mapping of HK_KREGION_SIZE. */
static void fill(struct hk_kregion *k)
{
	static const char *const dn[] = { "none", "fast", "emulate", "check", "deny", "kill" };
	unsigned char *disp = (unsigned char *)k + DISP_OFF;

	memset(k, 0, HK_KREGION_SIZE);
	k->magic = HK_KREGION_MAGIC;
	k->version = HK_KREGION_VERSION;
	k->size = HK_KREGION_SIZE;
	k->hdr_size = sizeof(*k);
	k->off_disp = DISP_OFF;
	k->nr_syscalls = NR_FAKE;
	k->nr_irqs = 2;
	k->nr_softirqs = 1;
	k->hz = 100;
	strcpy(k->kernel_name, "hostk");
	strcpy(k->kernel_version, "0.1.0");
	strcpy(k->irq_names[0], "timer");
	strcpy(k->irq_names[1], "io");
	strcpy(k->softirq_names[0], "sched");
	for (unsigned i = 0; i < sizeof(dn) / sizeof(dn[0]); i++)
		strcpy(k->disp_names[i], dn[i]);
	memcpy(k->disp_names[6], "0123456789abcdef", HK_NAME_LEN);	/* unterminated */
	for (unsigned i = 0; i < NR_FAKE; i++)
		disp[i] = (unsigned char)(i % 6);
}

static struct hk_kregion *fake_region(void)
{
	void *p = mmap(NULL, HK_KREGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	fill(p);
	return p;
}

START_TEST(test_layout)
{
	/* Where the region sits. */
	ck_assert_uint_eq(HK_KREGION_ADDR + HK_KREGION_SIZE, HK_KREGION_TOP);
	ck_assert_uint_eq(HK_KREGION_ADDR % 4096, 0);
	ck_assert_uint_eq(HK_KREGION_SIZE % 4096, 0);
	ck_assert_uint_eq(HK_KREGION_TOP % 4096, 0);
	ck_assert_uint_eq(HK_KREGION_TOP, 0x7ffffffff000ul);
	ck_assert_uint_eq(HK_KREGION_ADDR, 0x7ffffffbb000ul);
	ck_assert_uint_le(sizeof(struct hk_kregion) + HK_MAX_SYSCALLS, HK_KREGION_HEAD);
	ck_assert_uint_eq(HK_KREGION_HEAD % 4096, 0);	/* the scratch slots start on a page */
	ck_assert_uint_eq(HK_KREGION_SIZE, HK_KREGION_HEAD + HK_SCRATCH_SLOTS * HK_SCRATCH_SLOT);
	ck_assert_uint_le(sizeof(struct hk_kregion), 4096);	/* the fixed part is in the first page */
	ck_assert_int_eq(memcmp(&(uint64_t){ HK_KREGION_MAGIC }, "ostkrrgn", 8), 0);

	/* Every field of the fixed part, in order. */
	ck_assert_uint_eq(OFF(magic), 0);
	ck_assert_uint_eq(OFF(version), 8);
	ck_assert_uint_eq(OFF(size), 12);
	ck_assert_uint_eq(OFF(hdr_size), 16);
	ck_assert_uint_eq(OFF(off_disp), 20);
	ck_assert_uint_eq(OFF(nr_syscalls), 24);
	ck_assert_uint_eq(OFF(nr_irqs), 28);
	ck_assert_uint_eq(OFF(nr_softirqs), 32);
	ck_assert_uint_eq(OFF(hz), 36);
	ck_assert_uint_eq(OFF(kernel_name), 40);
	ck_assert_uint_eq(OFF(kernel_version), 56);
	ck_assert_uint_eq(OFF(boot_time_ns), 72);
	ck_assert_uint_eq(OFF(irq_names), 80);
	ck_assert_uint_eq(OFF(softirq_names), 80 + HK_MAX_IRQS * HK_NAME_LEN);
	ck_assert_uint_eq(OFF(disp_names), 336 + HK_MAX_SOFTIRQS * HK_NAME_LEN);
	ck_assert_uint_eq(OFF(seq), 464 + 8 * HK_NAME_LEN);
	ck_assert_uint_eq(OFF(ntasks), 596);
	ck_assert_uint_eq(OFF(nprocs), 600);
	ck_assert_uint_eq(OFF(pad0), 604);
	ck_assert_uint_eq(OFF(jiffies), 608);
	ck_assert_uint_eq(OFF(traps), 616);
	ck_assert_uint_eq(OFF(exceptions), 624);
	ck_assert_uint_eq(OFF(fence_refusals), 632);
	ck_assert_uint_eq(OFF(psw), 640);
	ck_assert_uint_eq(OFF(irq_count), 672);
	ck_assert_uint_eq(OFF(softirq_count), 672 + HK_MAX_IRQS * 8);
	ck_assert_uint_eq(OFF(context_switches), 864);
	ck_assert_uint_eq(OFF(preemptions), 872);
	ck_assert_uint_eq(OFF(off_scratch), 880);
	ck_assert_uint_eq(OFF(scratch_slots), 884);
	ck_assert_uint_eq(OFF(scratch_slot_size), 888);
	ck_assert_uint_eq(OFF(nr_exc), 892);
	ck_assert_uint_eq(OFF(exc_names), 896);
	ck_assert_uint_eq(OFF(exc_count), 896 + HK_MAX_EXC * HK_NAME_LEN);
	ck_assert_uint_eq(sizeof(struct hk_kregion), 1280);
	ck_assert_uint_eq(OFF(jiffies) % 8, 0);
	ck_assert_uint_eq(OFF(seq) % 4, 0);

	ck_assert_uint_eq(PSW(mode), 0);
	ck_assert_uint_eq(PSW(ipl), 4);
	ck_assert_uint_eq(PSW(mask), 8);
	ck_assert_uint_eq(PSW(pending), 16);
	ck_assert_uint_eq(PSW(current), 24);
	ck_assert_uint_eq(PSW(intr_enabled), 28);
	ck_assert_uint_eq(sizeof(struct hk_psw), 32);
	ck_assert_uint_le(HK_MAX_IRQS, 64);	/* one bit per line in mask/pending */
	ck_assert_int_eq(HK_MODE_USER, 0);
	ck_assert_int_eq(HK_MODE_KERNEL, 1);
}
END_TEST

/* The writer, following the protocol in libhk.h: traps == 2 * jiffies in
 * every consistent state, written as two separate stores. */
struct writer {
	struct hk_kregion *k;
	int stop;
	uint64_t rounds;
};

static void *writer(void *arg)
{
	struct writer *w = arg;
	struct hk_kregion *k = w->k;
	uint64_t j = 0;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		uint32_t s = __atomic_load_n(&k->seq, __ATOMIC_RELAXED);

		__atomic_store_n(&k->seq, s + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		j++;
		__atomic_store_n(&k->jiffies, j, __ATOMIC_RELAXED);
		for (volatile int d = 0; d < 100; d++)	/* widen the window */
			;
		__atomic_store_n(&k->traps, 2 * j, __ATOMIC_RELAXED);
		__atomic_store_n(&k->irq_count[0], j, __ATOMIC_RELAXED);
		__atomic_store_n(&k->seq, s + 2, __ATOMIC_RELEASE);
		/* Leave readers a window, as hostk does between updates: a
		 * writer that never rests starves seqlock readers.  (Yielding,
		 * not spinning, lets a reader run under valgrind, too.) */
		sched_yield();
	}
	w->rounds = j;
	return NULL;
}

START_TEST(test_seqlock)
{
	struct hk_kregion *k = fake_region(), snap;
	struct writer w = { .k = k };
	uint64_t last = 0, first = 0;
	unsigned busy = 0;
	pthread_t th;
	double t0;

	ck_assert_int_eq(pthread_create(&th, NULL, writer, &w), 0);
	while (__atomic_load_n(&k->jiffies, __ATOMIC_RELAXED) == 0)
		sched_yield();
	t0 = now();
	for (int n = 0; n < 100000 || now() - t0 < 0.2; n++) {
		if (hk_kregion_read(k, &snap) != 0) {
			/* Only if the writer was descheduled mid-update for long. */
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_uint_lt(++busy, 100);
			n--;
			continue;
		}
		ck_assert_msg(snap.traps == 2 * snap.jiffies && snap.irq_count[0] == snap.jiffies,
			      "torn snapshot: jiffies %llu traps %llu irq0 %llu",
			      (unsigned long long)snap.jiffies, (unsigned long long)snap.traps,
			      (unsigned long long)snap.irq_count[0]);
		ck_assert_msg(snap.jiffies >= last, "jiffies went back from %llu to %llu",
			      (unsigned long long)last, (unsigned long long)snap.jiffies);
		ck_assert_uint_eq(snap.seq % 2, 0);
		ck_assert_uint_eq(snap.seq, 2 * snap.jiffies);
		if (!first)
			first = snap.jiffies;
		last = snap.jiffies;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ck_assert_msg(last > first, "the writer made no progress during the reads");
	ck_assert_uint_ge(w.rounds, last);

	/* The fixed part came along intact. */
	ck_assert_uint_eq(snap.magic, HK_KREGION_MAGIC);
	ck_assert_str_eq(snap.kernel_name, "hostk");
	ck_assert_str_eq(snap.irq_names[1], "io");
	ck_assert_uint_eq(snap.off_disp, DISP_OFF);
	munmap(k, HK_KREGION_SIZE);
}
END_TEST

START_TEST(test_seqlock_stuck)
{
	struct hk_kregion *k = fake_region(), snap;
	double t0;

	k->seq = 7;		/* a writer died mid-update */
	k->jiffies = 3;
	t0 = now();
	errno = 0;
	ck_assert_int_eq(hk_kregion_read(k, &snap), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_msg(now() - t0 < 10, "hk_kregion_read took %.1f s to give up", now() - t0);

	/* Back to even: readable again. */
	k->seq = 8;
	ck_assert_int_eq(hk_kregion_read(k, &snap), 0);
	ck_assert_uint_eq(snap.seq, 8);
	ck_assert_uint_eq(snap.jiffies, 3);

	errno = 0;
	ck_assert_int_eq(hk_kregion_read(NULL, &snap), -1);
	ck_assert_int_eq(errno, EINVAL);
	munmap(k, HK_KREGION_SIZE);
}
END_TEST

/* An older, shorter writer: the reader copies hdr_size bytes, zeroes the rest. */
START_TEST(test_short_header)
{
	struct hk_kregion *k = fake_region(), snap;

	k->hdr_size = OFF(psw);
	k->seq = 4;
	k->jiffies = 9;
	k->psw.current = 5;
	k->preemptions = 11;
	memset(&snap, 0xa5, sizeof(snap));
	ck_assert_int_eq(hk_kregion_read(k, &snap), 0);
	ck_assert_uint_eq(snap.jiffies, 9);
	ck_assert_uint_eq(snap.hdr_size, OFF(psw));
	ck_assert_int_eq(snap.psw.current, 0);
	ck_assert_uint_eq(snap.preemptions, 0);
	munmap(k, HK_KREGION_SIZE);
}
END_TEST

START_TEST(test_disp)
{
	struct hk_kregion *k = fake_region(), snap;

	ck_assert_int_eq(hk_kregion_read(k, &snap), 0);
	ck_assert_int_eq(hk_syscall_disp(k, 0), 0);
	ck_assert_int_eq(hk_syscall_disp(k, 7), 1);
	ck_assert_int_eq(hk_syscall_disp(k, NR_FAKE - 1), (NR_FAKE - 1) % 6);
	ck_assert_int_eq(hk_syscall_disp(k, NR_FAKE), -1);
	ck_assert_int_eq(hk_syscall_disp(k, ~0u), -1);
	ck_assert_int_eq(hk_syscall_disp(NULL, 0), -1);
	ck_assert_str_eq(hk_disp_name(&snap, 2), "emulate");
	ck_assert_str_eq(hk_disp_name(&snap, (unsigned)hk_syscall_disp(k, 11)), "kill");
	ck_assert_str_eq(hk_disp_name(&snap, 6), "?");	/* unterminated */
	ck_assert_str_eq(hk_disp_name(&snap, 7), "?");	/* empty */
	ck_assert_str_eq(hk_disp_name(&snap, 8), "?");	/* out of range */
	ck_assert_str_eq(hk_disp_name(&snap, 1000), "?");

	/* A table that would run past the region is refused. */
	k->off_disp = HK_KREGION_SIZE - 100;
	ck_assert_int_eq(hk_syscall_disp(k, 0), -1);
	munmap(k, HK_KREGION_SIZE);
}
END_TEST

/* This process is not a hostk guest: no region (whatever else might be at
 * the address, say the stack under `setarch -R`), and asking twice is safe. */
START_TEST(test_absent)
{
	pid_t pid = fork();	/* hk_kregion() caches its answer: ask in a child */
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(hk_kregion() == NULL && hk_kregion() == NULL ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(st == 0, "hk_kregion() found a region here (status %#x)", st);
}
END_TEST

/* hk_kregion() in a fresh child (its answer is cached per process) with a
 * fake region at HK_KREGION_ADDR: 0 valid, 1 bad magic, 2 bad version, 3
 * only the first page mapped.  The child exits 0 if hk_kregion() found it,
 * 1 if not, 77 if something else already sits at the address. */
START_TEST(test_found)
{
	for (int how = 0; how < 4; how++) {
		pid_t pid = fork();
		int st;

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			size_t len = how == 3 ? 4096 : HK_KREGION_SIZE;
			struct hk_kregion *k = mmap((void *)HK_KREGION_ADDR, len, PROT_READ | PROT_WRITE,
						    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			const volatile struct hk_kregion *kr;

			if ((void *)k != (void *)HK_KREGION_ADDR)
				_exit(77);
			k->magic = how == 1 ? HK_KREGION_MAGIC + 1 : HK_KREGION_MAGIC;
			k->version = how == 2 ? HK_KREGION_VERSION + 1 : HK_KREGION_VERSION;
			k->hdr_size = sizeof(*k);
			kr = hk_kregion();
			if (kr && (void *)kr != (void *)HK_KREGION_ADDR)
				_exit(3);
			if (kr != hk_kregion())
				_exit(4);
			_exit(kr ? 0 : 1);
		}
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st), "probe %d: child died, status %#x", how, st);
		if (WEXITSTATUS(st) == 77)
			continue;	/* something else sits there: nothing to test */
		ck_assert_msg(WEXITSTATUS(st) == (how == 0 ? 0 : 1), "probe %d: child exited %d",
			      how, WEXITSTATUS(st));
	}
}
END_TEST

static Suite *kregion_suite(void)
{
	Suite *s = suite_create("kregion");
	ADD_CASE(s, layout);
	ADD_CASE(s, seqlock);
	ADD_CASE(s, seqlock_stuck);
	ADD_CASE(s, short_header);
	ADD_CASE(s, disp);
	ADD_CASE(s, absent);
	ADD_CASE(s, found);
	return s;
}

CK_MAIN(kregion_suite)
