/* The task table.  Every host thread of a guest is a task; every thread group
 * a proc.  Guest ids are hostk's own: the first guest is pid 1 and the rest
 * are handed out in order, like Linux does.  stop.c creates and ends tasks as
 * ptrace reports them; the sys/ handlers translate ids through pid_to_*(). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kregion.h"
#include "sched.h"
#include "ktimer.h"
#include "task.h"
#include "util.h"

#define HASH_SIZE 1024
#define VPID_MAX 4194304	/* Linux's PID_MAX_LIMIT */

/* The pid map: host id <-> guest id.  An entry lives while anything names it:
 * a live thread, an unreaped zombie, or a process group or session that still
 * has members (a group outlives its leader).  After that it lingers as a
 * ghost: the host may still hand its id out (a clone's result after the thread
 * already ended, the si_pid of a SIGCHLD whose child was already reaped), so
 * host -> guest keeps working, while guest -> host says it is gone.  The ghost
 * ring is bounded; a ghost also goes when the host reuses its id. */
struct pident {
	pid_t host, v;
	int refs;
	struct pident *hnext, *vnext;
};

#define NGHOSTS 256

static struct pident *by_host[HASH_SIZE], *by_v[HASH_SIZE];
static struct pident *ghosts[NGHOSTS];
static unsigned ghost_next;
static struct task *task_hash[HASH_SIZE];
static pid_t last_vpid;

struct proc *procs;
struct task *tasks;
int ntasks;
static int nprocs;

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
struct proc *init_proc;

static unsigned hash(pid_t id) { return (unsigned)id * 2654435761u % HASH_SIZE; }

static struct pident *pident_host(pid_t host)
{
	struct pident *e;

	for (e = by_host[hash(host)]; e; e = e->hnext)
		if (e->host == host)
			return e;
	return NULL;
}

static struct pident *pident_v(pid_t v)
{
	struct pident *e;

	for (e = by_v[hash(v)]; e; e = e->vnext)
		if (e->v == v)
			return e;
	return NULL;
}

static void pident_unhash(struct pident *e)
{
	struct pident **pp;

	for (pp = &by_host[hash(e->host)]; *pp != e; pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	for (pp = &by_v[hash(e->v)]; *pp != e; pp = &(*pp)->vnext)
		;
	*pp = e->vnext;
	free(e);
}

static void ghost_bury(struct pident *e)
{
	for (unsigned i = 0; i < NGHOSTS; i++)
		if (ghosts[i] == e)
			ghosts[i] = NULL;
	pident_unhash(e);
}

static pid_t pident_new(pid_t host)
{
	struct pident *e = xcalloc(1, sizeof *e), *old = pident_host(host);
	pid_t v = last_vpid;

	if (old && old->refs <= 0)	/* the host reused a ghost's id */
		ghost_bury(old);

	do
		v = v >= VPID_MAX ? 1 : v + 1;
	while (pident_v(v));
	last_vpid = v;
	e->host = host;
	e->v = v;
	e->refs = 1;
	e->hnext = by_host[hash(host)];
	by_host[hash(host)] = e;
	e->vnext = by_v[hash(v)];
	by_v[hash(v)] = e;
	return v;
}

static void pident_ref(pid_t host)
{
	struct pident *e = pident_host(host);

	if (e && e->refs > 0)
		e->refs++;
}

static void pident_put(pid_t host)
{
	struct pident *e = pident_host(host);

	if (!e || e->refs <= 0 || --e->refs > 0)
		return;
	if (ghosts[ghost_next])
		pident_unhash(ghosts[ghost_next]);
	ghosts[ghost_next] = e;
	ghost_next = (ghost_next + 1) % NGHOSTS;
}

pid_t pid_to_host(pid_t v)
{
	struct pident *e;

	if (v == 0)
		return 0;
	e = v > 0 ? pident_v(v) : NULL;
	return e && e->refs > 0 ? e->host : -1;
}

pid_t pid_to_guest(pid_t host)
{
	struct pident *e;

	if (host <= 0)
		return host;
	e = pident_host(host);
	return e ? e->v : 0;
}

bool pid_is_guest(pid_t host)
{
	struct pident *e = host > 0 ? pident_host(host) : NULL;

	return e && e->refs > 0;
}

struct task *task_of(pid_t tid)
{
	struct task *t;

	for (t = task_hash[hash(tid)]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct task *task_by_vtid(pid_t vtid)
{
	pid_t h = pid_to_host(vtid);

	return h > 0 ? task_of(h) : NULL;
}

struct proc *proc_by_vpid(pid_t vpid)
{
	struct proc *p;

	for (p = procs; p; p = p->next)
		if (p->vpid == vpid)
			return p;
	return NULL;
}

struct proc *proc_by_pid(pid_t pid)
{
	struct proc *p;

	for (p = procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static struct task *task_new(pid_t tid)
{
	struct task *t = xcalloc(1, sizeof *t);

	t->tid = tid;
	t->hnext = task_hash[hash(tid)];
	task_hash[hash(tid)] = t;
	t->next = tasks;
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
	for (pp = &tasks; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	ntasks--;
	publish_counts();
	free(t);
}

static struct proc *proc_new(pid_t pid, pid_t vpid, struct proc *parent, pid_t pgid, pid_t sid)
{
	struct proc *p = xcalloc(1, sizeof *p);

	p->pid = pid;
	p->vpid = vpid;
	p->parent = parent;
	p->pgid = pgid;
	p->sid = sid;
	pident_ref(pgid);
	pident_ref(sid);
	p->next = procs;
	procs = p;
	nprocs++;
	publish_counts();
	return p;
}

static void proc_free(struct proc *p)
{
	struct proc **pp, *q;

	for (q = procs; q; q = q->next)
		if (q->parent == p) {
			q->parent = init_proc != p ? init_proc : NULL;
			q->reaped_by_hostk = !q->parent;
		}
	for (pp = &procs; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	pident_put(p->pgid);
	pident_put(p->sid);
	pident_put(p->pid);
	ktimer_del(&p->itimer);	/* an alarm outlives no process */
	if (init_proc == p)
		init_proc = NULL;
	nprocs--;
	publish_counts();
	free(p);
}

struct task *task_first(pid_t pid)
{
	struct task *t = task_new(pid);

	t->vtid = pident_new(pid);
	/* Its group is its own (boot made it a leader); its session is outside. */
	t->proc = init_proc = proc_new(pid, t->vtid, NULL, pid, getsid(pid));
	t->proc->nthreads = 1;
	t->proc->reaped_by_hostk = true;
	t->started = t->linked = true;
	return t;
}

struct task *task_embryo(pid_t tid)
{
	return task_new(tid);
}

void task_link(struct task *c, struct task *parent, unsigned long flags)
{
	struct proc *pp = parent->proc;

	c->vtid = pident_new(c->tid);
	c->clone_flags = flags;
	c->linked = true;
	if (flags & CLONE_THREAD) {
		c->proc = pp;
		pp->nthreads++;
		return;
	}
	c->proc = proc_new(c->tid, c->vtid, (flags & CLONE_PARENT) ? pp->parent : pp,
			   pp->pgid, pp->sid);
	c->proc->nthreads = 1;
	c->proc->own_filter = pp->own_filter;	/* filters are inherited */
	/* CLONE_PARENT from pid 1 gives hostk a child. */
	c->proc->reaped_by_hostk = !c->proc->parent;
}

bool task_exit(struct task *t)
{
	struct proc *p = t->proc;
	bool leader;

	if (!p) {		/* an embryo that never got linked */
		task_free(t);
		return false;
	}
	leader = t->tid == p->pid;
	p->utime_ns += t->utime_ns;
	p->stime_ns += t->stime_ns;
	if (!leader)
		pident_put(t->tid);
	task_free(t);
	if (--p->nthreads > 0 || !leader)
		return false;
	/* The whole group is gone.  Its children now belong to pid 1, a
	 * subreaper in the host too; pid 1's own go to hostk. */
	for (struct proc *q = procs; q; q = q->next)
		if (q->parent == p) {
			q->parent = init_proc != p ? init_proc : NULL;
			q->reaped_by_hostk = !q->parent;
		}
	if (p->reaped_by_hostk)
		proc_free(p);	/* hostk's waitpid was the reap */
	else
		p->exited = true;
	return true;
}

void proc_times(const struct proc *p, uint64_t *utime, uint64_t *stime)
{
	*utime = p->utime_ns;
	*stime = p->stime_ns;
	for (struct task *t = tasks; t; t = t->next)
		if (t->proc == p) {
			*utime += t->utime_ns;
			*stime += t->stime_ns;
		}
}

void proc_reaped(struct proc *p)
{
	if (!p->exited)
		return;
	/* As wait(2) does: the child's time, and its children's, go to the
	 * parent's children's account. */
	if (p->parent) {
		p->parent->cutime_ns += p->utime_ns + p->cutime_ns;
		p->parent->cstime_ns += p->stime_ns + p->cstime_ns;
	}
	proc_free(p);
}

void task_exec_takeover(struct task *leader, struct task *execer)
{
	/* The execer becomes the leader: the leader's tid and guest id stay,
	 * the execer's own id goes.  The other threads were killed by the
	 * host and report their own exits. */
	leader->sys = execer->sys;
	leader->started = leader->linked = true;
	/* The leader's task goes on as the execer: its place in the scheduler too. */
	sched_takeover(leader, execer);
	pident_put(execer->tid);
	execer->proc->nthreads--;
	execer->proc->utime_ns += execer->utime_ns;
	execer->proc->stime_ns += execer->stime_ns;
	task_free(execer);
}

void proc_set_pgid(struct proc *p, pid_t pgid)
{
	pident_ref(pgid);
	pident_put(p->pgid);
	p->pgid = pgid;
}

void proc_set_sid(struct proc *p)
{
	pident_ref(p->pid);
	pident_ref(p->pid);
	pident_put(p->pgid);
	pident_put(p->sid);
	p->pgid = p->sid = p->pid;
}
