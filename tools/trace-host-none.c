/* `hostk trace-host` in a build without libbpf, libelf, clang, bpftool or
 * the host's BTF (tools/bpf/meson.build says which were missing). */
#include "trace-host.h"
#include "../hostk/util.h"

int cmd_trace_host(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	die("trace-host: %s", HOSTK_TRACE_HOST_WHY);
}
