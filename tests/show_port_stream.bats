#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f text|json --port` streams: an event is shown once its
# socket's ports are known (an event before the bind, socket() or
# setsockopt(), waits for it), in the order and with the lines the whole
# trace gives (--strict reads it whole), from a pipe while the writer
# runs, with --follow, and past --hold (and the window's 8192) what is
# known decides, said once.

load helpers
bats_require_minimum_version 1.5.0

# server.py PORT: a python3 server on 127.0.0.1:PORT that makes its
# socket, sets SO_REUSEADDR, binds (in that order), listens, says
# "listen port=PORT", serves one client (echoes 5 bytes) and ends; on the
# way a UDP socket on another port (closed before the listen: a UDP
# socket's remote port may change until it ends) and a socketpair, which
# --port PORT leaves out.
write_server() {
	cat >server.py <<'EOF'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.sendto(b"x", u.getsockname())
u.recv(1)
u.close()
a, b = socket.socketpair()
a.send(b"x")
b.recv(1)
s.listen(1)
print("listen port=%d" % port, flush=True)
c, _ = s.accept()
c.sendall(c.recv(5))
for x in (c, s, a, b):
    x.close()
EOF
}

# client PORT: connects to the server (untraced), sends 5 bytes, reads
# them back
client() {
	"$PYTHON3" -c 'import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"hello")
assert c.recv(5) == b"hello"' "$1"
}

# calls_of FILE: the calls of FILE's text lines, one a line
calls_of() { sed -E 's/^[0-9:.]+ \[[0-9/]+\] ([a-z_0-9]+)\(.*/\1/' "$1"; }

@test "port stream: from a pipe, the server's socket() and setsockopt() before its bind are shown, in order, while it still runs (--hold 1)" {
	write_server
	PORT=$(free_port)
	mkfifo fifo
	bg_start show bash -c 'exec "$0" show -f text --color=never --port="$1" --hold=1 <fifo' "$SOCKTRACE" "$PORT"
	bg_start srv "$SOCKTRACE" -o fifo -- "$PYTHON3" server.py "$PORT"
	wait_line srv '^listen ' >/dev/null
	# shown while the server waits in accept: what came before the bind
	# too, in order, and nothing of the other sockets
	wait_line show ' listen\(' 30 >/dev/null
	kill -0 "${BG[srv]}"
	kill -0 "${BG[show]}"
	calls_of show.out >calls.txt
	diff calls.txt <(printf '%s\n' socket setsockopt bind listen)
	client "$PORT"
	bg_wait srv
	bg_wait show
	[[ $BG_STATUS == 0 ]]
	[[ ! -s show.err ]]
	grep -q ' accept4\?(' show.out
	! grep -q 'SOCK_DGRAM\|socketpair' show.out
}

@test "port stream: --follow with --port shows a file as the server appends to it; the output is the whole trace's" {
	write_server
	PORT=$(free_port)
	: >f.jsonl
	bg_start srv "$SOCKTRACE" -o f.jsonl -A -- "$PYTHON3" server.py "$PORT"
	wait_line srv '^listen ' >/dev/null
	bg_start show "$SOCKTRACE" show -f json --port="$PORT" --follow f.jsonl
	wait_line show '"call":"listen"' 30 >/dev/null
	kill -0 "${BG[srv]}"
	client "$PORT"
	bg_wait srv
	# ends by itself once the runner has written how the server ended
	bg_wait show
	[[ $BG_STATUS == 0 ]]
	diff show.out <("$SOCKTRACE" show -f json --strict --port="$PORT" f.jsonl)
	[[ $(jq -r .call show.out | head -n 2 | tr '\n' ' ') == "socket setsockopt " ]]
	diff <("$SOCKTRACE" show -f text --port="$PORT" f.jsonl) \
		<("$SOCKTRACE" show -f text --strict --port="$PORT" f.jsonl)
	# --follow stays refused with --strict and for the other formats
	run "$SOCKTRACE" show -f text --strict --follow f.jsonl
	[[ $status == 2 && $output == *'--follow is for -f text and -f json, without --strict'* ]]
	run "$SOCKTRACE" show -f lifecycle --port="$PORT" --follow f.jsonl
	[[ $status == 2 ]]
}

@test "port stream: past --hold (and 8192) events held waiting for a socket's port, what is known decides, said once" {
	PORT=$(free_port)
	# 9000 setsockopt on a socket not yet bound, then its bind to PORT
	traced "$PYTHON3" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(9000):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()' "$PORT"
	"$SOCKTRACE" show -f json --strict --port="$PORT" "$TRACE" >whole.jsonl
	[[ $(wc -l <whole.jsonl) == 9003 ]]
	# the default hold (100000) waits for the bind: the whole trace's
	run --separate-stderr "$SOCKTRACE" show -f json --port="$PORT" "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff <(echo "$output") whole.jsonl
	# --hold=1 holds 8192: the first events go before the bind is read,
	# left out, as nothing said their port yet
	run --separate-stderr "$SOCKTRACE" show -f json --port="$PORT" --hold=1 "$TRACE"
	[[ $status == 0 ]]
	n=$(wc -l <<<"$output")
	((n < 9003 && n > 0))
	diff <(echo "$output") <(tail -n "$n" whole.jsonl)
	[[ $(jq -r .call <<<"$output" | tail -n 2 | tr '\n' ' ') == "bind close " ]]
	[[ $stderr == "socktrace: show: more than 8192 events were held (--hold) waiting for their sockets' ports (--port): $((9003 - n)) of them were shown or left out by what was known of their sockets then; a larger --hold decides them as the whole trace does" ]]
}
