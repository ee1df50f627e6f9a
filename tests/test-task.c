/* Unit test of the task table and pid translation (hostk/task.c), driven with
 * fake host ids: guest pids in order, threads, zombies, re-parenting, groups,
 * sessions, exec by a thread, and no reuse of a guest id while it is in use. */
#include <check.h>

#include "ck-main.h"
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostk/task.h"

/* Host tids no real thread has: the table never touches the host for them. */
#define H(n) ((pid_t)(900000 + (n)))

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
		      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define FORK_FLAGS (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)

/* pid 1, as boot makes it: the test process itself, so getsid() works. */
static struct task *boot(void)
{
	struct task *t = task_first(getpid());

	ck_assert_ptr_nonnull(t);
	return t;
}

/* A clone child as stop.c makes it: first heard of, then linked. */
static struct task *spawn(struct task *parent, pid_t tid, unsigned long flags)
{
	struct task *c = task_embryo(tid);

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(task_of(tid), c);
	task_link(c, parent, flags);
	ck_assert(c->linked);
	return c;
}

START_TEST(test_first)
{
	pid_t me = getpid();
	struct task *t = boot();
	struct proc *p = t->proc;

	ck_assert_int_eq(t->tid, me);
	ck_assert_int_eq(t->vtid, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_eq(init_proc, p);
	ck_assert_int_eq(p->vpid, 1);
	ck_assert_int_eq(p->pid, me);
	ck_assert_ptr_null(p->parent);
	ck_assert_int_eq(p->nthreads, 1);
	ck_assert(p->reaped_by_hostk);
	ck_assert(!p->exited);
	ck_assert(t->started && t->linked);
	ck_assert_int_eq(ntasks, 1);

	ck_assert_int_eq(pid_to_host(1), me);
	ck_assert_int_eq(pid_to_guest(me), 1);
	ck_assert(pid_is_guest(me));
	ck_assert_ptr_eq(task_of(me), t);
	ck_assert_ptr_eq(task_by_vtid(1), t);
	ck_assert_ptr_eq(proc_by_vpid(1), p);
	ck_assert_ptr_eq(proc_by_pid(me), p);

	/* Its own group leader; its session is the one outside. */
	ck_assert_int_eq(p->pgid, me);
	ck_assert_int_eq(pid_to_guest(p->pgid), 1);
	ck_assert_int_eq(p->sid, getsid(me));
	if (p->sid != me)
		ck_assert_int_eq(pid_to_guest(p->sid), 0);
}
END_TEST

START_TEST(test_unknown)
{
	/* Before any guest exists ... */
	ck_assert_int_eq(pid_to_guest(H(999)), 0);
	ck_assert_int_eq(pid_to_host(5), -1);
	ck_assert_int_eq(pid_to_host(0), 0);
	ck_assert_int_eq(pid_to_guest(0), 0);
	ck_assert(!pid_is_guest(H(999)));
	ck_assert(!pid_is_guest(0));

	boot();
	/* ... and after. */
	ck_assert_int_eq(pid_to_guest(H(999)), 0);
	if (getpid() != 1)
		ck_assert_int_eq(pid_to_guest(1), 0);	/* the host's init */
	ck_assert_int_eq(pid_to_host(2), -1);
	ck_assert_int_eq(pid_to_host(77), -1);
	ck_assert_int_eq(pid_to_host(-1), -1);
	ck_assert_int_eq(pid_to_host(0), 0);
	ck_assert_int_eq(pid_to_guest(0), 0);
	ck_assert(!pid_is_guest(H(999)));
	ck_assert_ptr_null(task_of(H(999)));
	ck_assert_ptr_null(task_by_vtid(2));
	ck_assert_ptr_null(task_by_vtid(0));
	ck_assert_ptr_null(proc_by_vpid(2));
	ck_assert_ptr_null(proc_by_pid(H(999)));
}
END_TEST

START_TEST(test_process)
{
	struct task *init = boot();
	struct task *c[3];

	/* Flags 0 (a bare clone) and fork's flags both make a process. */
	for (int i = 0; i < 3; i++) {
		c[i] = spawn(init, H(1 + i), i ? FORK_FLAGS : 0);
		ck_assert_int_eq(c[i]->vtid, 2 + i);
	}
	for (int i = 0; i < 3; i++) {
		struct proc *p = c[i]->proc;

		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_ne(p, init_proc);
		ck_assert_int_eq(p->pid, H(1 + i));
		ck_assert_int_eq(p->vpid, 2 + i);
		ck_assert_ptr_eq(p->parent, init_proc);
		ck_assert_int_eq(p->nthreads, 1);
		ck_assert(!p->reaped_by_hostk);	/* pid 1 is a guest: it reaps */
		ck_assert(!p->exited);
		ck_assert_uint_eq(c[i]->clone_flags, i ? FORK_FLAGS : 0);
		/* A fork inherits the group and the session. */
		ck_assert_int_eq(p->pgid, init_proc->pgid);
		ck_assert_int_eq(p->sid, init_proc->sid);

		ck_assert_int_eq(pid_to_host(2 + i), H(1 + i));
		ck_assert_int_eq(pid_to_guest(H(1 + i)), 2 + i);
		ck_assert(pid_is_guest(H(1 + i)));
		ck_assert_ptr_eq(task_by_vtid(2 + i), c[i]);
		ck_assert_ptr_eq(proc_by_vpid(2 + i), p);
		ck_assert_ptr_eq(proc_by_pid(H(1 + i)), p);
	}
	ck_assert_int_eq(ntasks, 4);

	/* A grandchild's parent is its own parent, not pid 1. */
	struct task *g = spawn(c[1], H(10), FORK_FLAGS);

	ck_assert_int_eq(g->vtid, 5);
	ck_assert_ptr_eq(g->proc->parent, c[1]->proc);
}
END_TEST

START_TEST(test_thread)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct task *t = spawn(l, H(2), THREAD_FLAGS);

	ck_assert_ptr_eq(t->proc, l->proc);
	ck_assert_int_eq(l->proc->nthreads, 2);
	ck_assert_int_eq(t->vtid, 3);
	ck_assert_int_eq(t->proc->vpid, 2);	/* getpid() in the thread */
	ck_assert_int_eq(t->proc->pid, H(1));
	ck_assert_int_eq(pid_to_host(3), H(2));
	ck_assert_int_eq(pid_to_guest(H(2)), 3);
	ck_assert_ptr_eq(task_by_vtid(3), t);
	ck_assert_ptr_null(proc_by_vpid(3));	/* a thread is no process */
	ck_assert_ptr_null(proc_by_pid(H(2)));

	/* A thread's thread is in the same process too. */
	struct task *t2 = spawn(t, H(3), THREAD_FLAGS);

	ck_assert_ptr_eq(t2->proc, l->proc);
	ck_assert_int_eq(l->proc->nthreads, 3);
	ck_assert_int_eq(t2->vtid, 4);

	/* A fork from a thread: the new process's parent is the process. */
	struct task *f = spawn(t, H(4), FORK_FLAGS);

	ck_assert_ptr_ne(f->proc, l->proc);
	ck_assert_ptr_eq(f->proc->parent, l->proc);
	ck_assert_int_eq(f->proc->vpid, 5);
	ck_assert_int_eq(l->proc->nthreads, 3);

	/* Threads of pid 1 too. */
	struct task *it = spawn(init, H(5), THREAD_FLAGS);

	ck_assert_ptr_eq(it->proc, init_proc);
	ck_assert_int_eq(init_proc->nthreads, 2);
	ck_assert_int_eq(it->vtid, 6);
}
END_TEST

START_TEST(test_clone_parent)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct task *s = spawn(l, H(2), CLONE_PARENT | SIGCHLD);

	ck_assert_ptr_ne(s->proc, l->proc);
	ck_assert_ptr_eq(s->proc->parent, init_proc);	/* l's sibling */
	ck_assert_ptr_eq(s->proc->parent, l->proc->parent);
	ck_assert(!s->proc->reaped_by_hostk);
	ck_assert_int_eq(s->proc->vpid, 3);

	/* CLONE_PARENT from pid 1: the child's parent is outside, hostk reaps. */
	struct task *o = spawn(init, H(3), CLONE_PARENT | SIGCHLD);

	ck_assert_ptr_null(o->proc->parent);
	ck_assert(o->proc->reaped_by_hostk);
	ck_assert_int_eq(o->proc->vpid, 4);
}
END_TEST

START_TEST(test_embryo)
{
	boot();
	struct task *e = task_embryo(H(1));

	ck_assert_ptr_null(e->proc);
	ck_assert(!e->linked);
	ck_assert_int_eq(ntasks, 2);
	/* No guest id until it is linked. */
	ck_assert_int_eq(pid_to_guest(H(1)), 0);
	ck_assert(!pid_is_guest(H(1)));
	ck_assert(!task_exit(e));
	ck_assert_ptr_null(task_of(H(1)));
	ck_assert_int_eq(ntasks, 1);
}
END_TEST

START_TEST(test_thread_exit)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct task *t = spawn(l, H(2), THREAD_FLAGS);
	struct proc *p = l->proc;
	struct task *f = spawn(l, H(3), FORK_FLAGS);

	ck_assert_int_eq(t->vtid, 3);
	ck_assert(!task_exit(t));	/* the process lives on */
	ck_assert_int_eq(p->nthreads, 1);
	ck_assert_int_eq(pid_to_host(3), -1);
	ck_assert(!pid_is_guest(H(2)));
	ck_assert_ptr_null(task_of(H(2)));
	ck_assert_ptr_null(task_by_vtid(3));
	ck_assert_int_eq(ntasks, 3);
	/* The rest of the process is untouched. */
	ck_assert_ptr_eq(task_by_vtid(2), l);
	ck_assert_int_eq(pid_to_host(2), H(1));
	ck_assert(!p->exited);
	ck_assert_ptr_eq(proc_by_vpid(2), p);
	ck_assert_ptr_eq(f->proc->parent, p);	/* no re-parenting for a thread */
}
END_TEST

START_TEST(test_zombie)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct proc *p = l->proc;

	ck_assert(task_exit(l));	/* the process ended */
	ck_assert_ptr_null(task_of(H(1)));
	ck_assert_int_eq(ntasks, 1);
	/* Its guest parent has not waited: a zombie, ids still mapped. */
	ck_assert_ptr_eq(proc_by_vpid(2), p);
	ck_assert(p->exited);
	ck_assert_int_eq(pid_to_host(2), H(1));
	ck_assert_int_eq(pid_to_guest(H(1)), 2);
	ck_assert(pid_is_guest(H(1)));

	proc_reaped(p);
	ck_assert_ptr_null(proc_by_vpid(2));
	ck_assert_ptr_null(proc_by_pid(H(1)));
	ck_assert_int_eq(pid_to_host(2), -1);
	ck_assert(!pid_is_guest(H(1)));

	/* A live process is not reaped. */
	struct task *m = spawn(init, H(2), FORK_FLAGS);

	proc_reaped(m->proc);
	ck_assert_ptr_eq(proc_by_vpid(3), m->proc);
	ck_assert_int_eq(pid_to_host(3), H(2));

	/* hostk's own child (parent outside) is gone at once: no zombie. */
	struct task *o = spawn(init, H(3), CLONE_PARENT | SIGCHLD);

	ck_assert(task_exit(o));
	ck_assert_ptr_null(proc_by_vpid(4));
	ck_assert_int_eq(pid_to_host(4), -1);
}
END_TEST

START_TEST(test_reparent)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct task *g1 = spawn(l, H(2), FORK_FLAGS);
	struct task *g2 = spawn(l, H(3), FORK_FLAGS);
	struct task *gg = spawn(g1, H(4), FORK_FLAGS);
	struct proc *lp = l->proc;

	ck_assert(task_exit(l));
	ck_assert_ptr_eq(g1->proc->parent, init_proc);
	ck_assert_ptr_eq(g2->proc->parent, init_proc);
	ck_assert_ptr_eq(gg->proc->parent, g1->proc);	/* grandchildren stay */
	ck_assert_ptr_eq(lp->parent, init_proc);
	ck_assert(lp->exited);
	proc_reaped(lp);
	ck_assert_ptr_eq(g1->proc->parent, init_proc);
	ck_assert_ptr_eq(g2->proc->parent, init_proc);

	/* A process whose leader exits while a thread lives has not ended. */
	struct task *m = spawn(init, H(5), FORK_FLAGS);
	struct task *mt = spawn(m, H(6), THREAD_FLAGS);
	struct task *mc = spawn(m, H(7), FORK_FLAGS);
	struct proc *mp = m->proc;

	ck_assert(!task_exit(mt));
	ck_assert_ptr_eq(mc->proc->parent, mp);
	ck_assert(task_exit(m));
	ck_assert_ptr_eq(mc->proc->parent, init_proc);

	/* When pid 1 itself goes, its children have no guest parent left. */
	struct proc *g2p = g2->proc;

	ck_assert(task_exit(init));
	ck_assert_ptr_null(init_proc);
	ck_assert_ptr_null(g2p->parent);
	ck_assert(g2p->reaped_by_hostk);
	ck_assert_ptr_null(proc_by_vpid(1));
	ck_assert_ptr_null(task_of(getpid()));
	/* Its group still has members, so its id stays. */
	ck_assert_int_eq(g2p->pgid, getpid());
	ck_assert_int_eq(pid_to_host(1), getpid());
}
END_TEST

START_TEST(test_pgrp)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct task *c = spawn(init, H(2), FORK_FLAGS);
	struct proc *lp = l->proc, *cp = c->proc;

	/* setpgid(0, 0) in l, then setpgid(0, l) in c. */
	proc_set_pgid(lp, lp->pid);
	proc_set_pgid(cp, H(1));
	ck_assert_int_eq(lp->pgid, H(1));
	ck_assert_int_eq(cp->pgid, H(1));
	ck_assert_int_eq(pid_to_guest(cp->pgid), 2);

	/* The leader exits and is reaped; its group still has c in it. */
	ck_assert(task_exit(l));
	proc_reaped(lp);
	ck_assert_ptr_null(proc_by_vpid(2));
	ck_assert_int_eq(pid_to_guest(H(1)), 2);
	ck_assert_int_eq(pid_to_host(2), H(1));
	ck_assert(pid_is_guest(H(1)));

	/* Its id is not handed out while the group lives. */
	struct task *n = spawn(init, H(3), FORK_FLAGS);

	ck_assert_int_eq(n->vtid, 4);
	ck_assert_int_ne(n->vtid, 2);

	/* The last member goes: the group, and its id, are gone. */
	ck_assert(task_exit(c));
	proc_reaped(cp);
	ck_assert_int_eq(pid_to_host(2), -1);
	ck_assert(!pid_is_guest(H(1)));
	ck_assert_ptr_null(task_by_vtid(2));

	/* Moving back to pid 1's group drops the reference too. */
	struct task *m = spawn(init, H(4), FORK_FLAGS);

	proc_set_pgid(m->proc, m->proc->pid);
	proc_set_pgid(m->proc, init_proc->pgid);
	ck_assert_int_eq(pid_to_guest(m->proc->pgid), 1);
	ck_assert(task_exit(m));
	proc_reaped(proc_by_pid(H(4)));
	ck_assert_int_eq(pid_to_host(5), -1);
}
END_TEST

START_TEST(test_session)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct proc *lp = l->proc;
	pid_t outside = init_proc->sid;

	proc_set_sid(lp);
	ck_assert_int_eq(lp->sid, H(1));
	ck_assert_int_eq(lp->pgid, H(1));
	ck_assert_int_eq(pid_to_guest(lp->sid), 2);
	ck_assert_int_eq(pid_to_guest(lp->pgid), 2);
	ck_assert_int_eq(init_proc->sid, outside);	/* pid 1 unchanged */

	/* A child of the session leader is in its session and group. */
	struct task *c = spawn(l, H(2), FORK_FLAGS);
	struct proc *cp = c->proc;

	ck_assert_int_eq(cp->sid, H(1));
	ck_assert_int_eq(cp->pgid, H(1));

	/* The session outlives its leader while it has members. */
	ck_assert(task_exit(l));
	proc_reaped(lp);
	ck_assert_int_eq(pid_to_host(2), H(1));
	ck_assert_int_eq(pid_to_guest(cp->sid), 2);

	/* c starts a session of its own: the old one is empty now. */
	proc_set_sid(cp);
	ck_assert_int_eq(cp->sid, H(2));
	ck_assert_int_eq(pid_to_guest(cp->sid), 3);
	ck_assert_int_eq(pid_to_host(2), -1);
	ck_assert(!pid_is_guest(H(1)));

	ck_assert(task_exit(c));
	ck_assert_int_eq(pid_to_host(3), H(2));	/* a zombie */
	proc_reaped(cp);
	ck_assert_int_eq(pid_to_host(3), -1);
}
END_TEST

START_TEST(test_exec_takeover)
{
	struct task *init = boot();
	struct task *l = spawn(init, H(1), FORK_FLAGS);
	struct task *t = spawn(l, H(2), THREAD_FLAGS);
	struct task *t2 = spawn(l, H(3), THREAD_FLAGS);
	struct proc *p = l->proc;

	ck_assert_int_eq(p->nthreads, 3);
	t->sys.nr = SYS_execve;
	t->sys.arg[0] = 0x1234;
	t->sys.active = true;

	/* t execs: the host gives it l's tid, and the guest sees l's id. */
	task_exec_takeover(l, t);
	ck_assert_ptr_null(task_of(H(2)));
	ck_assert_ptr_eq(task_of(H(1)), l);
	ck_assert_int_eq(pid_to_host(3), -1);	/* the execer's own id went */
	ck_assert(!pid_is_guest(H(2)));
	ck_assert_int_eq(l->vtid, 2);
	ck_assert_int_eq(pid_to_host(2), H(1));
	ck_assert_ptr_eq(l->proc, p);
	ck_assert_int_eq(p->vpid, 2);
	ck_assert_int_eq(p->nthreads, 2);	/* l (now the execer) and t2 */
	ck_assert(l->started && l->linked);
	/* The syscall in flight is the execer's, finishing in the leader. */
	ck_assert_int_eq(l->sys.nr, SYS_execve);
	ck_assert_uint_eq(l->sys.arg[0], 0x1234);
	ck_assert(l->sys.active);
	ck_assert_int_eq(ntasks, 3);

	/* The other thread reports its own exit; the process lives on. */
	ck_assert(!task_exit(t2));
	ck_assert_int_eq(p->nthreads, 1);
	ck_assert(!p->exited);
	ck_assert_ptr_eq(proc_by_vpid(2), p);
	ck_assert(task_exit(l));
	ck_assert(p->exited);
}
END_TEST

START_TEST(test_no_reuse)
{
	struct task *init = boot();
	struct task *a = spawn(init, H(1), FORK_FLAGS);		/* 2: live */
	struct task *b = spawn(a, H(2), THREAD_FLAGS);		/* 3: a thread */
	struct task *z = spawn(init, H(3), FORK_FLAGS);		/* 4: a zombie */
	struct task *gl = spawn(init, H(4), FORK_FLAGS);	/* 5: group leader, reaped */
	struct task *gm = spawn(init, H(5), FORK_FLAGS);	/* 6: member of 5's group */

	ck_assert_int_eq(b->vtid, 3);
	ck_assert(task_exit(z));
	proc_set_pgid(gl->proc, H(4));
	proc_set_pgid(gm->proc, H(4));
	struct proc *glp = gl->proc;

	ck_assert(task_exit(gl));
	proc_reaped(glp);
	ck_assert_int_eq(gm->vtid, 6);

	/* A freed id is not handed out next: ids go on in order. */
	ck_assert(!task_exit(b));
	struct task *n = spawn(init, H(6), FORK_FLAGS);

	ck_assert_int_eq(n->vtid, 7);

	/* Go round the whole id space (hostk's own children end at once), and
	 * the ids still in use are skipped when the counter wraps.
	 * (No ck_assert in the loop: each one is a write to the runner.) */
	pid_t prev = n->vtid, v = 0;
	long i;
	bool ended = true;

	for (i = 0; i < 5000000 && ended; i++) {
		struct task *o = task_embryo(H(100));

		task_link(o, init, CLONE_PARENT | SIGCHLD);
		v = o->vtid;
		ended = task_exit(o);
		if (v < prev)
			break;
		prev = v;
	}
	ck_assert_msg(ended, "hostk's own child did not end at its exit");
	ck_assert_msg(v < prev, "guest ids never wrapped in %ld forks", i);
	ck_assert_int_ge(v, 1);
	static const pid_t in_use[] = { 1, 2, 4, 5, 6, 7 };

	for (size_t k = 0; k < sizeof in_use / sizeof in_use[0]; k++)
		ck_assert_msg(v != in_use[k], "guest id %d was handed out again while in use", in_use[k]);
	ck_assert_int_eq(pid_to_host(1), getpid());
	ck_assert_int_eq(pid_to_host(2), H(1));
	ck_assert_int_eq(pid_to_host(4), H(3));
	ck_assert_int_eq(pid_to_host(5), H(4));
	ck_assert_int_eq(pid_to_host(6), H(5));
	ck_assert_int_eq(pid_to_host(7), H(6));
	ck_assert_int_eq(pid_to_host(3), -1);
}
END_TEST

static Suite *task_suite(void)
{
	Suite *s = suite_create("task");
	ADD_CASE(s, first);
	ADD_CASE(s, unknown);
	ADD_CASE(s, process);
	ADD_CASE(s, thread);
	ADD_CASE(s, clone_parent);
	ADD_CASE(s, embryo);
	ADD_CASE(s, thread_exit);
	ADD_CASE(s, zombie);
	ADD_CASE(s, reparent);
	ADD_CASE(s, pgrp);
	ADD_CASE(s, session);
	ADD_CASE(s, exec_takeover);
	/* It goes round 4M guest ids: about a second, more under valgrind. */
	TCase *tc = tcase_create("no_reuse");
	tcase_add_test(tc, test_no_reuse);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

CK_MAIN(task_suite)
