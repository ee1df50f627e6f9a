/* threads.c - pthreads under the supervisor: mutex counter, condvar handshake, tids,
 * signal targeting; modes exit/mainexit/segv/exec cover whole-process exits from threads. */
#include "guest.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8
#define NINCR 100000
#define NROUNDS 1000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;                        /* condvar ping-pong state */
static pthread_barrier_t barrier;
static pid_t seen_tid[NTHREADS], seen_pid[NTHREADS];
static volatile pid_t handled_by;       /* tid that ran the signal handler */
static volatile pid_t target_tid;

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, fn, arg);

	if (e) {
		fail("pthread_create: %s", ename(e));
		exit(1);
	}
	return t;
}

static void *incr(void *arg)
{
	(void)arg;
	for (int i = 0; i < NINCR; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void t_counter(void)
{
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		t[i] = spawn(incr, NULL);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(counter == (long)NTHREADS * NINCR, "counter is %ld", counter);
	say("counter: %ld", counter);
}

/* Main waits for turn==1, the peer for turn==0: NROUNDS strict alternations. */
static void *pong(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < NROUNDS; i++) {
		while (turn != 1)
			pthread_cond_wait(&cond, &lock);
		turn = 0;
		pthread_cond_broadcast(&cond);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void t_condvar(void)
{
	pthread_t t = spawn(pong, NULL);
	int rounds = 0;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < NROUNDS; i++) {
		turn = 1;
		pthread_cond_broadcast(&cond);
		while (turn != 0)
			pthread_cond_wait(&cond, &lock);
		rounds++;
	}
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	say("condvar: %d round trips", rounds);
}

static void *report_ids(void *arg)
{
	long i = (long)arg;

	seen_tid[i] = gettid();
	seen_pid[i] = getpid();
	pthread_barrier_wait(&barrier);   /* all alive at once: no tid reuse */
	return NULL;
}

static void t_tids(void)
{
	pthread_t t[NTHREADS];
	pid_t pid = getpid();
	int ok = 1;

	CHECK(gettid() == pid, "main thread: gettid() != getpid()");
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (long i = 0; i < NTHREADS; i++)
		t[i] = spawn(report_ids, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++) {
		ok &= CHECK(seen_pid[i] == pid, "thread %d: getpid() differs from main", i);
		ok &= CHECK(seen_tid[i] != pid && seen_tid[i] > 0, "thread %d: bad tid", i);
		for (int j = 0; j < i; j++)
			ok &= CHECK(seen_tid[i] != seen_tid[j], "threads %d and %d share a tid", i, j);
	}
	if (ok)
		say("tids: main tid == pid, %d distinct thread tids, same getpid()", NTHREADS);
}

static void on_sig(int sig)
{
	(void)sig;
	handled_by = gettid();
}

static void *sig_target(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);   /* only this thread takes SIGUSR2 */
	target_tid = gettid();
	for (int i = 0; i < 5000 && handled_by == 0; i++)
		msleep(1);
	return NULL;
}

static void t_kill(void)
{
	struct sigaction sa = { .sa_handler = on_sig };
	sigset_t set;
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* Thread-directed: pthread_kill (tgkill) must run the handler in the target. */
	handled_by = 0;
	target_tid = 0;
	t = spawn(sig_target, NULL);
	while (target_tid == 0)
		msleep(1);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	if (CHECK(handled_by == target_tid, "pthread_kill: handler ran in the wrong thread or not at all"))
		say("pthread_kill: handler ran in the target thread");

	/* Process-directed: only the worker has SIGUSR2 unblocked, so it must take it. */
	handled_by = 0;
	target_tid = 0;
	t = spawn(sig_target, NULL);
	while (target_tid == 0)
		msleep(1);
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	if (CHECK(handled_by == target_tid, "kill(getpid()): not taken by the only unblocking thread"))
		say("kill(getpid()): handled by the only thread not blocking it");
}

static void *exit_soon(void *arg)
{
	msleep(50);
	say("thread: calling exit(%ld)", (long)arg);
	exit((int)(long)arg);
}

static void *segv_soon(void *arg)
{
	volatile int *volatile p = NULL;

	(void)arg;
	msleep(50);
	say("thread: writing through NULL");
	*p = 1;
	return NULL;
}

static void *blocked_forever(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&cond, &lock);
	return NULL;
}

static void *after_main(void *arg)
{
	pid_t pid = (pid_t)(long)arg;

	msleep(100);   /* main thread has called pthread_exit by now */
	CHECK(getpid() == pid, "getpid() changed after main thread exit");
	say("worker: alive after main thread exit");
	exit(finish());
}

static void *exec_self(void *arg)
{
	char pid[32];
	char *argv[] = { (char *)arg, "exec-done", pid, NULL };

	snprintf(pid, sizeof(pid), "%d", getpid());
	say("thread: exec");
	execv("/proc/self/exe", argv);
	fail("execv: %s", ename(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	if (strcmp(mode, "all") == 0) {
		t_counter();
		t_condvar();
		t_tids();
		t_kill();
	} else if (strcmp(mode, "exit") == 0) {
		/* exit() in a worker ends all threads, including a main thread in join. */
		spawn(blocked_forever, NULL);
		spawn(blocked_forever, NULL);
		pthread_join(spawn(exit_soon, (void *)3L), NULL);
		fail("main thread survived exit() in a worker");
	} else if (strcmp(mode, "segv") == 0) {
		spawn(blocked_forever, NULL);
		pthread_join(spawn(segv_soon, NULL), NULL);
		fail("main thread survived SIGSEGV in a worker");
	} else if (strcmp(mode, "mainexit") == 0) {
		/* Leader becomes a zombie; the process ends with the last thread. */
		spawn(argc > 2 ? exit_soon : after_main,
		      argc > 2 ? (void *)(long)atoi(argv[2]) : (void *)(long)getpid());
		pthread_exit(NULL);
	} else if (strcmp(mode, "exec") == 0) {
		spawn(blocked_forever, NULL);
		pthread_join(spawn(exec_self, argv[0]), NULL);
		fail("main thread survived execve in a worker");
	} else if (strcmp(mode, "exec-done") == 0 && argc == 3) {
		CHECK(getpid() == atoi(argv[2]), "pid changed across execve from a thread");
		CHECK(gettid() == getpid(), "after execve: gettid() != getpid()");
		say("exec-done: same pid, single thread");
	} else {
		fprintf(stderr, "usage: %s [all|exit|segv|mainexit [CODE]|exec]\n", argv[0]);
		return 2;
	}
	return finish();
}
