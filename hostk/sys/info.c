/* The guest's own seccomp filters.  They stack under hostk's; a filter of the
 * guest's that answers SECCOMP_RET_TRACE must not be mistaken for hostk's, so
 * the trap path checks the event's data for processes marked here. */
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "../trap.h"
#include "sys.h"

enum trap_action sys_seccomp(struct trap *t)
{
	if (t->arg[0] == SECCOMP_SET_MODE_FILTER)
		t->task->proc->own_filter = true;
	return TRAP_RUN;
}

enum trap_action sys_prctl(struct trap *t)
{
	if (t->arg[0] == PR_SET_SECCOMP)
		t->task->proc->own_filter = true;
	return TRAP_RUN;
}
