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
	"time:/usr/bin/time"
	# the security suite: procps in a guest, setpriv and unshare to compare
	"procps:/usr/bin/ps"
	"util-linux:/usr/bin/setpriv"
	# hostk trace-host (BPF): without them hostk builds without it
	"libbpf-dev:/usr/include/bpf/libbpf.h"
	"libelf-dev:/usr/include/libelf.h"
	"clang:clang"
	"bpftool:/usr/sbin/bpftool"
	"sqlite3:sqlite3"
	"python3.11:/usr/bin/python3.11"
	"libpython3.11-testsuite:/usr/lib/python3.11/test/test_os.py"
	# the fuzz suite
	"trinity:trinity"
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

# As root, guests run as host uid 1000000000 (hostk's default map for root)
# and tools/test's ordinary-user pass as nobody: both must reach the tree
# (the build's programs, the tests' scripts and tables).  A clone under a
# private directory (/root is 0700) cannot give them that, so the tree is
# copied where they can reach it, afresh each time, and built there.
hk_reachable_tree() {
	[ "$(id -u)" -eq 0 ] && [ -z "${HOSTK_BUILD:-}" ] && command -v setpriv >/dev/null 2>&1 || return 0
	local u
	for u in 1000000000 65534; do
		setpriv --reuid=$u --regid=$u --clear-groups test -r "$HK_TOP/meson.build" 2>/dev/null && continue
		local copy=/var/tmp/hostk-$(printf '%s' "$HK_TOP" | md5sum | cut -c1-12)
		hk_say "$HK_TOP is out of reach of the guests' uid $u: testing a copy in $copy/src"
		mkdir -p "$copy/src" && chmod 755 "$copy" "$copy/src" || exit 1
		find "$copy/src" -mindepth 1 -maxdepth 1 ! -name build ! -name build-san -exec rm -rf {} + &&
			tar -C "$HK_TOP" --exclude=./build --exclude=./build-san --exclude=./.git -cf - . | tar -C "$copy/src" -xf - &&
			chmod -R a+rX "$copy/src" || exit 1
		HK_TOP=$copy/src
		HK_BUILD=$copy/build
		return 0
	done
}

hk_install_missing
hk_reachable_tree
hk_build
HOSTK=$HK_BUILD/hostk
export HOSTK
