#!/usr/bin/env bash
# record.sh - record the golden traces of `socktrace show` from real runs.
#
#   tests/data/record.sh BUILDDIR [NAME...]
#
# Runs real programs (the test programs of BUILDDIR/tests, python3, curl)
# under the shim of BUILDDIR, on 127.0.0.1 only, and writes
# tests/data/NAME.jsonl.  Then `make regen-golden` in BUILDDIR rewrites the
# expected outputs (tests/data/NAME.FORMAT.expected, NAME.check.expected)
# from those traces.
# Review both in the diff: a recording holds real pids, ports and times.
#
# Build first: make && make check TESTS= (builds the test programs).
set -euo pipefail
export LC_ALL=C

build=$(cd "${1:?usage: record.sh BUILDDIR [NAME...]}" && pwd)
shift
data=$(cd "$(dirname "$0")" && pwd)
shim=$build/shim/.libs/libsocktrace.so
progs=$build/tests
py=$(python3 -c 'import sys; print(sys.executable)')
[[ -f $shim ]] || { echo "record.sh: no shim at $shim" >&2; exit 1; }
[[ -x $progs/tcp_server ]] || { echo "record.sh: build the test programs (make check TESTS=)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# traced OUT CMD...: CMD under the shim, events appended to OUT
traced() {
	local out=$1
	shift
	LD_PRELOAD=$shim SOCKTRACE_OUTPUT=$out SOCKTRACE_FORMAT=jsonl "$@"
}

# ready FILE REGEX: wait for a background program's ready line
ready() {
	local i
	for ((i = 0; i < 1000; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	echo "record.sh: no /$2/ in $1" >&2
	return 1
}

port_of() { sed -n 's/.* port=\([0-9]*\).*/\1/p' "$1" | head -n 1; }

# http3: python's http.server answering three curl requests
rec_http3() {
	local t=$work/http3.jsonl
	traced "$t" "$py" -u -c '
import http.server, os, sys
os.chdir(sys.argv[1])
s = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print("listen port=%d" % s.server_address[1], flush=True)
for _ in range(3):
    s.handle_request()
s.server_close()
' "$work" >"$work/http.out" 2>/dev/null &
	local srv=$!
	ready "$work/http.out" '^listen ' && local port=$(port_of "$work/http.out")
	for _ in 1 2 3; do
		traced "$t" curl -s -o /dev/null "http://127.0.0.1:$port/"
	done
	wait "$srv"
	mv "$t" "$data/http3.jsonl"
}

# restart: a server (with SO_REUSEADDR) closes first, leaving TIME_WAIT; it
# is restarted on its port without SO_REUSEADDR (EADDRINUSE), then with it
rec_restart() {
	local t=$work/restart.jsonl port
	traced "$t" "$progs/tcp_server" -r -n 1 -c server >"$work/s1.out" &
	local s1=$!
	ready "$work/s1.out" '^listen ' && port=$(port_of "$work/s1.out")
	traced "$t" "$progs/tcp_client" -p "$port" -c server >/dev/null
	wait "$s1"
	traced "$t" "$progs/tcp_server" -p "$port" -n 1 >/dev/null 2>&1 || true
	traced "$t" "$progs/tcp_server" -p "$port" -r -n 1 >"$work/s3.out" &
	local s3=$!
	ready "$work/s3.out" '^listen '
	traced "$t" "$progs/tcp_client" -p "$port" >/dev/null
	wait "$s3"
	mv "$t" "$data/restart.jsonl"
}

# refused: connect to a port nothing listens on, blocking and not
rec_refused() {
	local t=$work/refused.jsonl
	traced "$t" "$progs/tconnect" refused >/dev/null
	traced "$t" "$progs/tconnect" nb-refused >/dev/null
	mv "$t" "$data/refused.jsonl"
}

# reset: the server closes with SO_LINGER {1,0}
rec_reset() {
	local t=$work/reset.jsonl port
	traced "$t" "$progs/tcp_server" -n 1 -c server -L >"$work/s.out" &
	local s=$!
	ready "$work/s.out" '^listen ' && port=$(port_of "$work/s.out")
	traced "$t" "$progs/tcp_client" -p "$port" -c server >/dev/null 2>&1 || true
	wait "$s"
	mv "$t" "$data/reset.jsonl"
}

# fork: a server forking a child per connection, clients closing first
rec_fork() {
	local t=$work/fork.jsonl port
	traced "$t" "$progs/tcp_server" -n 2 -F >"$work/s.out" &
	local s=$!
	ready "$work/s.out" '^listen ' && port=$(port_of "$work/s.out")
	traced "$t" "$progs/tcp_client" -p "$port" -n 2 >/dev/null
	wait "$s"
	mv "$t" "$data/fork.jsonl"
}

# fds: dup aliases, close_range, a half-close, unix and udp sockets
rec_fds() {
	local t=$work/fds.jsonl
	(cd "$work" &&
		traced "$t" "$progs/dupfd" dup2-over >/dev/null &&
		traced "$t" "$progs/dupfd" close_range >/dev/null &&
		traced "$t" "$progs/tconnect" halfclose >/dev/null &&
		traced "$t" "$progs/unixsock" pair stream >/dev/null &&
		traced "$t" "$progs/udp" connected >/dev/null)
	mv "$t" "$data/fds.jsonl"
}

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(http3 restart refused reset fork fds)
for n in "${names[@]}"; do
	echo "recording $n"
	"rec_$n"
done
