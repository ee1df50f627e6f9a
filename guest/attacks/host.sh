# host.sh - the host's side of an attack run, for run-attacks and
# tests/security/run-security (sourced, bash): a scratch directory nobody
# may read, copies of hostk and the attack programs there (a build
# directory under /root is not nobody's to read), a file of the host's root,
# a host process listening on a unix socket by path and by abstract name,
# and the checks that an attack left the host as it was.
#
# host_setup HOSTK DIR   sets WORK, BIN, HOSTK (the copy), ROOTFILE, SOCK,
#                        ABSTRACT, and starts the server (SERVER, its pid)
# host_unharmed          prints what an attack left changed (nothing: fine)
# as WHO CMD...          runs CMD from / as root or nobody (root becomes
#                        nobody; anyone else stays who they are), with a
#                        time limit

host_cleanup() {
	[ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
}

host_setup() {
	local f py
	py=$(command -v /usr/bin/python3 python3 | head -1)
	[ -n "$py" ] || { echo "SKIP: python3 (the host's socket server) is missing"; exit 77; }
	[ -x "$1" ] || { echo "SKIP: no hostk at $1"; exit 77; }
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/hostk-attacks.XXXXXX") || exit 1
	trap host_cleanup EXIT
	chmod 755 "$WORK"
	BIN=$WORK/bin
	mkdir "$BIN"
	cp "$1" "$BIN/" || exit 1
	for f in "$2"/attack-*; do
		[ -f "$f" ] && cp "$f" "$BIN/"
	done
	HOSTK=$BIN/hostk
	# Root makes the file; anyone else tries root's /etc/passwd, which the
	# host never lets them write.
	ROOTFILE=/etc/passwd
	if [ "$(id -u)" -eq 0 ]; then
		ROOTFILE=$WORK/rootfile
		host_restore
	fi
	ROOTSUM=$(sha256sum <"$ROOTFILE")
	SOCK=$WORK/sock
	ABSTRACT=hostk-attacks-$$
	"$py" - "$SOCK" "$ABSTRACT" <<'EOF' &
import os, select, socket, sys
path, name = sys.argv[1], sys.argv[2]
socks = []
for addr in (path, "\0" + name):
    s = socket.socket(socket.AF_UNIX)
    s.bind(addr)
    s.listen(16)
    socks.append(s)
os.chmod(path, 0o777)
while True:
    for s in select.select(socks, [], [])[0]:
        c, _ = s.accept()
        c.sendall(b"the host's secret\n")
        c.close()
EOF
	SERVER=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
}

# Processes still running a program of BIN.
host_leftovers() {
	local p e
	for p in /proc/[0-9]*; do
		e=$(readlink "$p/exe" 2>/dev/null) || continue
		case $e in "$BIN"/*) echo "${p#/proc/}" ;; esac
	done
}

host_unharmed() {
	local left
	left=$(host_leftovers)
	[ -z "$left" ] || { sleep 0.3; left=$(host_leftovers); }
	[ -z "$left" ] || echo "processes left: $left"
	[ "$(sha256sum <"$ROOTFILE")" = "$ROOTSUM" ] || echo "the host's file changed"
	kill -0 "$SERVER" 2>/dev/null || echo "the host's socket server died"
}

# Puts the host's file back after an attack that changed it (root's own
# copy only).
host_restore() {
	[ "$ROOTFILE" = "$WORK/rootfile" ] || return 0
	echo "the host's own" >"$ROOTFILE"
	chmod 644 "$ROOTFILE"
}

as() {
	local who=$1 pre=()
	shift
	[ "$who" = nobody ] && [ "$(id -u)" -eq 0 ] && pre=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	(cd / && exec "${pre[@]}" timeout -k 5 60 "$@")
}
