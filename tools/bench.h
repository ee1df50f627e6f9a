/* `hostk bench`: trap costs measured against native runs and strace. */
#ifndef HOSTK_TOOLS_BENCH_H
#define HOSTK_TOOLS_BENCH_H

int cmd_bench(int argc, char **argv);

#endif
