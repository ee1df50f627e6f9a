/* Exceptions: the faults a guest's own instructions cause. */
#ifndef HOSTK_EXC_H
#define HOSTK_EXC_H

#include <signal.h>
#include <stdbool.h>

struct task;

/* A signal-delivery stop: if it is an exception, count and trace it. */
bool exc_seen(struct task *tk, const siginfo_t *si);

#endif
