/* `hostk bench`: trap costs measured against native runs and strace. */
#ifndef HOSTK_TOOLS_BENCH_H
#define HOSTK_TOOLS_BENCH_H

int cmd_bench(int argc, char **argv);
/* `hostk bench irq`: the interrupt path, in-process (irqbench.c). */
int bench_irq(int argc, char **argv, const char *self, const char *loop);

#endif
