/* The task table.  Every host thread of a guest is a task; every thread
 * group a proc.  Guest ids are their pid namespace's own (ns.c), so hostk
 * translates nothing: it reads a new task's ids from the host once, at its
 * first stop, and keeps what it needs of its own per process (alarms,
 * accounting).  stop.c creates and ends tasks as ptrace reports them.  Every
 * operation is O(1) or proportional to what it touches (a dying process's
 * children, a parent's unreaped ones), never to the number of guests. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kregion.h"
#include "ktimer.h"
#include "sched.h"
#include "task.h"
#include "util.h"

#define HASH_SIZE 4096

static struct task *task_hash[HASH_SIZE];
static struct proc *proc_hash[HASH_SIZE];

struct task *tasks;
int ntasks, nprocs;
struct proc *init_proc;

static unsigned hash(pid_t id) { return (unsigned)id * 2654435761u % HASH_SIZE; }

/* The region shows how many there are (not in unit tests: no region). */
static void publish_counts(void)
{
	if (!kr)
		return;
	int krs = kr_begin();
	kr->ntasks = (uint32_t)ntasks;
	kr->nprocs = (uint32_t)nprocs;
	kr_end(krs);
}

struct task *task_of(pid_t tid)
{
	struct task *t;

	for (t = task_hash[hash(tid)]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct proc *proc_of(pid_t pid)
{
	struct proc *p;

	for (p = proc_hash[hash(pid)]; p; p = p->hnext)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* What the host says of a task: its thread group, its parent process and
 * its id in the innermost pid namespace.  False if it is gone already. */
struct hostview {
	pid_t tgid, ppid, vtid;
};

static bool host_view(pid_t tid, struct hostview *v)
{
	char buf[2048], *line;

	if (read_proc(tid, "status", buf, sizeof buf) <= 0)
		return false;
	*v = (struct hostview){ 0 };
	for (line = buf; line; line = (line = strchr(line, '\n')) ? line + 1 : NULL) {
		if (!strncmp(line, "Tgid:", 5))
			v->tgid = (pid_t)strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "PPid:", 5))
			v->ppid = (pid_t)strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "NSpid:", 6)) {
			char *p = line + 6, *end;

			/* One id per namespace level, the guest's last. */
			for (long id; (id = strtol(p, &end, 10)), end != p; p = end)
				v->vtid = (pid_t)id;
		}
	}
	return v->tgid > 0;
}

static void link_kid(struct proc *parent, struct proc *kid)
{
	kid->parent = parent;
	kid->sib_prev = NULL;
	kid->sib_next = parent ? parent->kids : NULL;
	if (kid->sib_next)
		kid->sib_next->sib_prev = kid;
	if (parent)
		parent->kids = kid;
}

static void unlink_kid(struct proc *kid)
{
	if (kid->sib_prev)
		kid->sib_prev->sib_next = kid->sib_next;
	else if (kid->parent)
		kid->parent->kids = kid->sib_next;
	if (kid->sib_next)
		kid->sib_next->sib_prev = kid->sib_prev;
	kid->parent = kid->sib_prev = kid->sib_next = NULL;
}

static struct proc *proc_new(pid_t pid, pid_t vpid, struct proc *parent)
{
	struct proc *p = xcalloc(1, sizeof *p);

	p->pid = pid;
	p->vpid = vpid;
	p->hnext = proc_hash[hash(pid)];
	proc_hash[hash(pid)] = p;
	link_kid(parent, p);
	if (parent)
		p->own_filter = parent->own_filter;	/* filters are inherited */
	nprocs++;
	return p;
}

static void proc_free(struct proc *p)
{
	struct proc **pp;

	/* Its children are the namespace init's now, as the host made them. */
	while (p->kids) {
		struct proc *kid = p->kids;

		unlink_kid(kid);
		link_kid(init_proc != p ? init_proc : NULL, kid);
	}
	unlink_kid(p);
	for (pp = &proc_hash[hash(p->pid)]; *pp != p; pp = &(*pp)->hnext)
		;
	*pp = p->hnext;
	ktimer_del(&p->itimer);	/* an alarm outlives no process */
	if (init_proc == p)
		init_proc = NULL;
	nprocs--;
	free(p);
}

struct task *task_new(pid_t tid)
{
	struct task *t = xcalloc(1, sizeof *t);
	struct hostview v;

	t->tid = tid;
	if (host_view(tid, &v)) {
		t->vtid = v.vtid;
		t->proc = proc_of(v.tgid);
		if (!t->proc) {
			/* A new process (or a thread of one hostk has not seen,
			 * which a clone event cannot precede: its leader's
			 * first stop made it). */
			struct hostview lv = v;

			if (v.tgid != tid)
				host_view(v.tgid, &lv);
			t->proc = proc_new(v.tgid, lv.vtid, proc_of(v.ppid));
			if (!init_proc)
				init_proc = t->proc;
		}
	} else {
		/* Gone before hostk looked: a process of its own, ending soon. */
		t->proc = proc_new(tid, 0, NULL);
	}
	t->proc->nthreads++;
	t->hnext = task_hash[hash(tid)];
	task_hash[hash(tid)] = t;
	t->next = tasks;
	if (tasks)
		tasks->prev = t;
	tasks = t;
	ntasks++;
	publish_counts();
	return t;
}

static void task_free(struct task *t)
{
	struct task **pp;

	for (pp = &task_hash[hash(t->tid)]; *pp != t; pp = &(*pp)->hnext)
		;
	*pp = t->hnext;
	if (t->prev)
		t->prev->next = t->next;
	else
		tasks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	ntasks--;
	free(t);
}

/* A child ended: its times wait for its parent's wait(). */
static void proc_ended(struct proc *p)
{
	struct proc *parent = p->parent;
	struct deadkid *d = NULL;

	if (!parent)
		return;
	for (unsigned i = 0; i < NDEADKIDS && !d; i++)
		if (!parent->dead[i].vpid)
			d = &parent->dead[i];
	if (!d) {
		/* A parent that leaves this many unreaped (or ignores SIGCHLD,
		 * so the host reaps them): count the oldest now. */
		d = &parent->dead[parent->dead_next];
		parent->dead_next = (parent->dead_next + 1) % NDEADKIDS;
		parent->cutime_ns += d->utime_ns;
		parent->cstime_ns += d->stime_ns;
	}
	*d = (struct deadkid){ p->vpid, p->utime_ns + p->cutime_ns, p->stime_ns + p->cstime_ns };
}

void proc_reaped(struct proc *p, pid_t vpid)
{
	for (unsigned i = 0; i < NDEADKIDS; i++) {
		struct deadkid *d = &p->dead[i];

		if (d->vpid != vpid || !d->vpid)
			continue;
		p->cutime_ns += d->utime_ns;
		p->cstime_ns += d->stime_ns;
		d->vpid = 0;
		return;
	}
}

bool task_exit(struct task *t)
{
	struct proc *p = t->proc;

	task_free(t);
	if (--p->nthreads > 0) {
		publish_counts();
		return false;
	}
	proc_ended(p);
	proc_free(p);
	publish_counts();
	return true;
}

void proc_times(const struct proc *p, uint64_t *utime, uint64_t *stime)
{
	*utime = p->utime_ns;
	*stime = p->stime_ns;
}

void task_exec_takeover(struct task *leader, struct task *execer)
{
	/* The execer becomes the leader: the leader's tid and guest id stay,
	 * the execer's own go.  The other threads were killed by the host and
	 * report their own exits. */
	leader->sys = execer->sys;
	sched_takeover(leader, execer);
	execer->proc->nthreads--;
	task_free(execer);
	publish_counts();
}
