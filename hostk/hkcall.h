/* The hostk call (guest/include/hostk/hkcall.h): a syscall number no Linux
 * kernel has, emulated by hostk (hkcall.c). */
#ifndef HOSTK_HKCALL_SIDE_H
#define HOSTK_HKCALL_SIDE_H

#include "systab.h"

struct trap;

enum trap_action hkcall(struct trap *t);
void hkcall_exit(struct trap *t);

#endif
