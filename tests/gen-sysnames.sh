#!/bin/sh
# Print X(name) for each "#define __NR_name number" in the kernel's x86-64
# syscall header (argument 1), so test-systab.c can check systab against it.
hdr=${1:-/usr/include/x86_64-linux-gnu/asm/unistd_64.h}
[ -r "$hdr" ] || { echo "gen-sysnames.sh: cannot read $hdr" >&2; exit 1; }
sed -n 's/^#[[:space:]]*define[[:space:]]\{1,\}__NR_\([A-Za-z0-9_]\{1,\}\)[[:space:]]\{1,\}[0-9]\{1,\}[[:space:]]*$/X(\1)/p' "$hdr"
