/* The watchdog (watchdog.c): a report of every task's state when nothing
 * has moved for a while. */
#ifndef HOSTK_WATCHDOG_H
#define HOSTK_WATCHDOG_H

#include <stdio.h>

/* Watch from now on: report to fp after seconds without progress. */
void watchdog_start(int seconds, FILE *fp);

#endif
