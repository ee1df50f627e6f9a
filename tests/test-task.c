/* Unit test of the task table (hostk/task.c) with real host tasks: the test
 * process as pid 1, its threads and forked children.  What a task is comes
 * from the host, so these check that hostk reads it right (thread group,
 * parent, ids), keeps the family links as the host re-parents, keeps a
 * child's times until its parent reaps it and never more than a bounded
 * number of them, and forgets everything when tasks end.  Each test ends
 * every task it made, so the suite passes with CK_FORK=no too. */
#include <check.h>

#include "ck-main.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostk/task.h"

static int gate[2] = { -1, -1 };	/* threads and children wait on it */

static void setup(void)
{
	ck_assert_int_eq(pipe(gate), 0);
}

static void teardown(void)
{
	close(gate[0]);
	close(gate[1]);
	ck_assert_int_eq(ntasks, 0);
	ck_assert_int_eq(nprocs, 0);
	ck_assert_ptr_null(tasks);
	ck_assert_ptr_null(init_proc);
}

static void *waiter(void *tidp)
{
	char c;

	*(volatile pid_t *)tidp = (pid_t)syscall(SYS_gettid);
	while (read(gate[0], &c, 1) < 0)
		;
	return NULL;
}

/* A thread of this process that waits on the gate; returns its tid. */
static pid_t thread(pthread_t *th)
{
	static volatile pid_t tid;

	tid = 0;
	ck_assert_int_eq(pthread_create(th, NULL, waiter, (void *)&tid), 0);
	while (!tid)
		sched_yield();
	return tid;
}

static void release_thread(pthread_t th)
{
	ck_assert_int_eq(write(gate[1], "x", 1), 1);
	pthread_join(th, NULL);
}

/* A child that waits until killed; with grandchild, it forks one first and
 * reports the grandchild's pid through *gpid's pipe. */
static pid_t child(pid_t *gpid)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t g = 0;

		if (gpid && (g = fork()) == 0)
			for (;;)
				pause();
		if (write(p[1], &g, sizeof g) != sizeof g)
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(p[0], gpid ? gpid : &(pid_t){ 0 }, sizeof(pid_t)), sizeof(pid_t));
	close(p[0]);
	close(p[1]);
	return pid;
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* What the scheduler charges (sched.c): the task, and its process at once. */
static void charge(struct task *t, uint64_t u, uint64_t st)
{
	t->utime_ns += u;
	t->stime_ns += st;
	t->proc->utime_ns += u;
	t->proc->stime_ns += st;
}

START_TEST(test_first)
{
	struct task *t = task_new(getpid());
	struct proc *p = t->proc;

	ck_assert_ptr_eq(task_of(getpid()), t);
	ck_assert_int_eq(t->tid, getpid());
	ck_assert_int_eq(t->vtid, getpid());	/* the test runs in the host's own pid namespace */
	ck_assert_ptr_eq(init_proc, p);
	ck_assert_ptr_eq(proc_of(getpid()), p);
	ck_assert_int_eq(p->pid, getpid());
	ck_assert_int_eq(p->vpid, getpid());
	ck_assert_ptr_null(p->parent);
	ck_assert_int_eq(p->nthreads, 1);
	ck_assert_int_eq(ntasks, 1);
	ck_assert_int_eq(nprocs, 1);
	ck_assert(task_exit(t));
	ck_assert_ptr_null(task_of(getpid()));
	ck_assert_ptr_null(proc_of(getpid()));
}
END_TEST

/* A thread joins its process, whichever of the two hostk hears of first. */
START_TEST(test_thread)
{
	pthread_t th;
	pid_t tid = thread(&th);
	struct task *tt = task_new(tid), *lt = task_new(getpid());

	ck_assert_ptr_eq(tt->proc, lt->proc);
	ck_assert_int_eq(lt->proc->nthreads, 2);
	ck_assert_int_eq(tt->vtid, tid);
	ck_assert_int_eq(lt->proc->vpid, getpid());
	ck_assert_int_eq(nprocs, 1);
	charge(tt, 7, 0);
	ck_assert(!task_exit(tt));	/* the process goes on */
	ck_assert_uint_eq(lt->proc->utime_ns, 7);
	ck_assert(task_exit(lt));
	release_thread(th);
}
END_TEST

/* A child's process knows its parent from the host, and its times wait
 * for the parent's wait. */
START_TEST(test_child_reaped)
{
	pid_t pid = child(NULL);
	struct task *me = task_new(getpid()), *c = task_new(pid);

	ck_assert_ptr_ne(c->proc, me->proc);
	ck_assert_ptr_eq(c->proc->parent, me->proc);
	ck_assert_ptr_eq(me->proc->kids, c->proc);
	charge(c, 100, 20);
	ck_assert(task_exit(c));
	ck_assert_ptr_null(me->proc->kids);
	ck_assert_uint_eq(me->proc->cutime_ns, 0);	/* not reaped yet */
	proc_reaped(me->proc, pid + 1);			/* someone else */
	ck_assert_uint_eq(me->proc->cutime_ns, 0);
	proc_reaped(me->proc, pid);
	ck_assert_uint_eq(me->proc->cutime_ns, 100);
	ck_assert_uint_eq(me->proc->cstime_ns, 20);
	proc_reaped(me->proc, pid);			/* only once */
	ck_assert_uint_eq(me->proc->cutime_ns, 100);
	ck_assert(task_exit(me));
	end_child(pid);
}
END_TEST

/* A parent that never waits (or ignores SIGCHLD, so the host reaps for it)
 * costs a bounded record: past NDEADKIDS, children are counted at once. */
START_TEST(test_unreaped_bounded)
{
	enum { N = NDEADKIDS + 8 };
	pid_t pids[N];
	struct task *me = task_new(getpid());

	for (int i = 0; i < N; i++) {
		struct task *c;

		pids[i] = child(NULL);
		c = task_new(pids[i]);
		charge(c, 1, 0);
		ck_assert(task_exit(c));
	}
	/* Every time is counted exactly once, now or at the reap. */
	ck_assert_uint_eq(me->proc->cutime_ns, N - NDEADKIDS);
	for (int i = 0; i < N; i++)
		proc_reaped(me->proc, pids[i]);
	ck_assert_uint_eq(me->proc->cutime_ns, N);
	ck_assert(task_exit(me));
	for (int i = 0; i < N; i++)
		end_child(pids[i]);
}
END_TEST

/* When a process ends, its children are the namespace init's. */
START_TEST(test_reparent)
{
	pid_t gpid, pid = child(&gpid);
	struct task *me = task_new(getpid()), *c = task_new(pid), *g = task_new(gpid);

	ck_assert_ptr_eq(g->proc->parent, c->proc);
	ck_assert(task_exit(c));
	ck_assert_ptr_eq(g->proc->parent, me->proc);
	ck_assert_ptr_eq(me->proc->kids, g->proc);
	ck_assert(task_exit(g));
	ck_assert_ptr_null(me->proc->kids);
	ck_assert(task_exit(me));
	kill(gpid, SIGKILL);
	end_child(pid);
}
END_TEST

/* A tid that is gone before hostk looks is a process of its own. */
START_TEST(test_gone)
{
	struct task *t = task_new(0x7ffffff0);

	ck_assert_ptr_nonnull(t->proc);
	ck_assert_int_eq(t->proc->vpid, 0);
	ck_assert(task_exit(t));
}
END_TEST

/* An exec by a thread: it goes on as the leader; its own task goes. */
START_TEST(test_exec_takeover)
{
	pthread_t th;
	pid_t tid = thread(&th);
	struct task *lt = task_new(getpid()), *tt = task_new(tid);

	charge(tt, 3, 0);
	tt->sys.nr = 59;
	task_exec_takeover(lt, tt);
	ck_assert_ptr_null(task_of(tid));
	ck_assert_ptr_eq(task_of(getpid()), lt);
	ck_assert_int_eq(lt->proc->nthreads, 1);
	ck_assert_uint_eq(lt->proc->utime_ns, 3);
	ck_assert_int_eq(lt->sys.nr, 59);
	ck_assert_int_eq(ntasks, 1);
	ck_assert(task_exit(lt));
	release_thread(th);
}
END_TEST

/* Many tasks: every one is found by its tid, and all go. */
START_TEST(test_many)
{
	enum { N = 10000 };
	static struct task *t[N];

	for (int i = 0; i < N; i++)
		t[i] = task_new(0x70000000 + i);
	ck_assert_int_eq(ntasks, N);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(task_of(0x70000000 + i), t[i]);
	for (int i = N - 1; i >= 0; i -= 2)
		task_exit(t[i]);
	for (int i = 0; i < N; i += 2)
		ck_assert_ptr_eq(task_of(0x70000000 + i), t[i]);
	for (int i = 0; i < N; i += 2)
		task_exit(t[i]);
}
END_TEST

static Suite *task_suite(void)
{
	Suite *s = suite_create("task");

#define ADD(name) ADD_CASE_X(s, name, tcase_add_checked_fixture(tc_, setup, teardown))
	ADD(first);
	ADD(thread);
	ADD(child_reaped);
	ADD(unreaped_bounded);
	ADD(reparent);
	ADD(gone);
	ADD(exec_takeover);
	ADD(many);
	return s;
}

CK_MAIN(task_suite)
