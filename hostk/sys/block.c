/* Syscalls that may block in the host.  The task gives up its CPU while the
 * host runs them (the row's SY_BLOCK), and gets one back at the exit stop.
 * read and write block only on pipes, sockets, terminals and the like: on a
 * regular file they keep their CPU. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../trap.h"
#include "sys.h"

enum trap_action sys_block(struct trap *t)
{
	(void)t;
	return TRAP_RUN;
}

/* What the descriptor is, from the name the host gives it: a path for files
 * and devices, "pipe:[...]", "socket:[...]", "anon_inode:[...]" otherwise. */
static bool may_block(pid_t tid, int fd)
{
	char link[64], name[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%d/fd/%d", tid, fd);
	n = readlink(link, name, sizeof name - 1);
	if (n <= 0)
		return false;	/* a bad descriptor: the host answers at once */
	name[n] = 0;
	if (name[0] != '/')
		return true;
	if (strncmp(name, "/dev/", 5) != 0)
		return false;
	return strcmp(name, "/dev/null") && strcmp(name, "/dev/zero") && strcmp(name, "/dev/full") &&
	       strcmp(name, "/dev/urandom") && strcmp(name, "/dev/random");
}

enum trap_action sys_rw(struct trap *t)
{
	t->wait = may_block(t->task->tid, (int)t->arg[0]) ? WAIT_BLOCK : WAIT_NONE;
	return TRAP_RUN;
}
