# Sourced by tools/demo and tools/test: install the Debian packages hostk
# needs (only those missing), then configure and build into build/.
# shellcheck shell=bash

HK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HK_BUILD=${HOSTK_BUILD:-$HK_TOP/build}

# Package, and a command or file that shows it is there.
HK_PACKAGES=(
	"gcc:gcc"
	"libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a"
	"meson:meson"
	"ninja-build:ninja"
	"pkg-config:pkg-config"
	"libseccomp-dev:/usr/include/seccomp.h"
	"check:/usr/include/check.h"
	"busybox-static:busybox"
	"strace:strace"
	"toybox:toybox"
	"perl:perl"
	"python3:/usr/bin/python3"
	# the security suite: procps in a guest, setpriv and unshare to compare
	"procps:/usr/bin/ps"
	"util-linux:/usr/bin/setpriv"
	# hostk trace-host (BPF): without them hostk builds without it
	"libbpf-dev:/usr/include/bpf/libbpf.h"
	"libelf-dev:/usr/include/libelf.h"
	"clang:clang"
	"bpftool:/usr/sbin/bpftool"
	"sqlite3:sqlite3"
)

hk_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
[ -t 2 ] || hk_say() { printf '==> %s\n' "$*" >&2; }

hk_install_missing() {
	local missing=() entry pkg probe
	for entry in "${HK_PACKAGES[@]}"; do
		pkg=${entry%%:*} probe=${entry#*:}
		case $probe in
		/*) [ -e "$probe" ] || missing+=("$pkg") ;;
		*) command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg") ;;
		esac
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	hk_say "installing missing packages: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			echo "hostk: missing packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
			exit 1
		fi
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || {
		echo "hostk: apt-get update failed" >&2; exit 1; }
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2 || { echo "hostk: apt-get install ${missing[*]} failed" >&2; exit 1; }
}

hk_build() {
	if [ ! -f "$HK_BUILD/build.ninja" ]; then
		hk_say "configuring $HK_BUILD"
		meson setup "$HK_BUILD" "$HK_TOP" >/dev/null || { echo "hostk: meson setup failed" >&2; exit 1; }
	fi
	hk_say "building"
	meson compile -C "$HK_BUILD" >/dev/null || {
		meson compile -C "$HK_BUILD" >&2; echo "hostk: build failed" >&2; exit 1; }
}

hk_install_missing
hk_build
HOSTK=$HK_BUILD/hostk
export HOSTK
