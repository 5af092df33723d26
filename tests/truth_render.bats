#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# What show and check say of the ends the record now tells (gone, handed
# over, an accept after the peer closed, a connect cut short by a signal,
# the process that ended a socket): the timeline, lifecycle, summary,
# mermaid and check views agree with the events and with each other.

load helpers
load truth

@test "render: a socket closed out of sight is not drawn as a copy another process held" {
	traced "$(prog outofsight)" dlsym >o.out 2>o.err
	view timeline
	view_has "server never closed it: closed out of sight (noticed at close())"
	# one process, one descriptor: nobody else ever held it
	view_lacks "its copy only, another process held it"
}

@test "render: mermaid does not draw a close() for a socket closed out of sight" {
	traced "$(prog outofsight)" dlsym >o.out 2>o.err
	view mermaid
	view_has "active close"
	view_lacks "FIN (close, active close)"
}

@test "render: a connection handed to a spawned program and ended by its exit is not a leak in any view, as check says" {
	traced "$PYTHON3" -c 'import socket, subprocess
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
p = subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE, pass_fds=[s.fileno()])
s.close()
p.stdin.write(b"\n")
p.stdin.close()
p.wait()
c.recv(10)
c.close()
l.close()' >p.out 2>p.err
	assert_empty p.err
	rule_holds no-leaks
	view lifecycle
	view_has "(handed over, open at exit@"
	view timeline
	view_lacks "(a leak)"
	view summary
	view_line "^  sockets .* 0 leaked"
	view_lacks "1 leaked"
}

@test "render: an accept() that returned after the client closed is shown with the state it returned (CLOSE_WAIT)" {
	traced "$(prog connects)" late-accept >c.out 2>c.err
	assert_eq "$(fact c.out accepted state)" CLOSE_WAIT "the accepted socket's state"
	view timeline
	view_line "accept\(\) on fd [0-9]+ returned fd $(fact c.out accepted fd) \(CLOSE_WAIT\)"
}

@test "render: a connect() cut short by EINTR is not shown as staying SYN_SENT; the timeline names the EINTR" {
	traced "$(prog connects)" eintr >c.out 2>c.err
	view timeline
	conn_block "$(fact c.out client local) ->"
	[[ $BLOCK != *"SYN_SENT -> SYN_SENT"* ]] || { echo "$BLOCK" >&2; false; }
	[[ $BLOCK == *EINTR* ]] || { echo "$BLOCK" >&2; false; }
	[[ $BLOCK == *ESTABLISHED* ]] || { echo "$BLOCK" >&2; false; }
}

@test "render: every pid the timeline names as holding or ending a socket has its process line" {
	traced "$(prog procs)" leak >p.out 2>p.err
	child=$(fact p.out child pid)
	view timeline
	view_has "held by pid $child when it exited"
	view_line "^process $child "
}

# tcpinfo_sent FILE FD: bytes_sent of the program's "tcpinfo fd=FD" line
tcpinfo_sent() {
	sed -n "s/^tcpinfo fd=$2 .*bytes_sent=\\([0-9]*\\).*/\\1/p" "$1"
}

@test "render: summary counts a connection whose two ends were traced once under all endpoints, and bytes without the FIN, as each end sent them" {
	traced "$(prog tconnect)" halfclose >t.out 2>t.err
	assert_empty t.err
	port=$(fact t.out listen port)
	cfd=$(fact t.out connect fd)
	sfd=$(fact t.out accept fd)
	csent=$(tcpinfo_sent t.out "$cfd")
	ssent=$(tcpinfo_sent t.out "$sfd")
	[[ $csent -gt 0 && $ssent -gt 0 ]]
	# the kernel's count of bytes received includes the FIN: one more
	assert_eq "$(sed -n "s/^tcpinfo fd=$cfd .*bytes_received=\([0-9]*\).*/\1/p" t.out)" $((ssent + 1)) \
		"the client's bytes_received (tcp_info)"
	view summary
	# the client end ends in CLOSE (its TIME_WAIT is the kernel's own): the
	# state does not tell the FIN, the server's count does
	block=$(awk -v t="tcp -> 127.0.0.1:$port (client side)" '$0 == t { on = 1 } on && /^$/ { exit } on' <<<"$VIEW")
	[[ $block == *"connections   1, "*", sent $csent B, received $ssent B"* ]] || { echo "$block" >&2; false; }
	block=$(awk -v t="tcp 127.0.0.1:$port (server side)" '$0 == t { on = 1 } on && /^$/ { exit } on' <<<"$VIEW")
	[[ $block == *"connections   1, "*", sent $ssent B, received $csent B"* ]] || { echo "$block" >&2; false; }
	block=$(awk '$0 == "all endpoints" { on = 1 } on' <<<"$VIEW")
	[[ $block == *"connections   1, "*", sent $((csent + ssent)) B, received $((csent + ssent)) B"* ]] ||
		{ echo "$block" >&2; false; }
	view connections
	view_has "\"bytes_client_to_server\":$csent,\"bytes_server_to_client\":$ssent,"
	view timeline
	view_has "client sent $csent B, received $ssent B"
}

@test "render: a socket inherited from before the trace and held to exit is no leak in summary, as check says (one process's trace of several)" {
	LD_PRELOAD=$SHIM SOCKTRACE_OUTPUT=$SCRATCH/p.%p.jsonl SOCKTRACE_FORMAT=jsonl "$PYTHON3" -c 'import os, socket
a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    print("child pid=%d" % os.getpid(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
a.close()
b.close()' >p.out 2>p.err
	assert_empty p.err
	child=$(fact p.out child pid)
	f=$SCRATCH/p.$child.jsonl
	rule_holds no-leaks "$f"
	view lifecycle "$f"
	view_line "^pid=$child fd=[0-9]+ unix \(inherited\) setsockopt"
	view summary "$f"
	view_line "^  sockets       1 opened, 0 closed, 0 leaked, 1 inherited and held to exit, "
	view timeline "$f"
	view_lacks "(a leak)"
	# the whole run: the parent made it and closed it after the child's
	# end, but the child held its copies of both ends to its exit: the
	# child's leak (the same had the parent closed first), as check says
	rule_fails no-leaks "no-leaks: pid $child *: unix stream (last seen open) was never closed before exit; it was made by socketpair() in pid *; 2 such sockets leaked from the same place*" "$SCRATCH"/p.*.jsonl
	view summary "$SCRATCH"/p.*.jsonl
	view_line "^  sockets       2 opened, 0 closed, 2 leaked, "
}

@test "render: a socket-activated listener (inherited from a program not traced) is a listener, not a failed one, with its connections under it" {
	"$(prog activate)" 2 1 -- env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$TRACE" SOCKTRACE_FORMAT=jsonl \
		"$(prog activate)" serve 2 >a.out 2>a.err
	assert_empty a.err
	port=$(fact a.out listen port)
	assert_eq "$(fact a.out served n)" 2 "connections the server accepted"
	assert_eq "$(fact a.out reaped status)" 0 "the server's exit status"
	assert_eq "$(fact a.out queued errno)" ECONNRESET "the connection left in the backlog at the server's exit"
	e=$(one '.call=="start"')
	assert_field "$e" "[.inherited[] | select(.fd==3) | .state]" '[
  "LISTEN"
]'
	view timeline
	view_line "^listener  tcp 127\.0\.0\.1:$port  pid [0-9]+ fd 3 "
	view_lacks "failed listener"
	view_line "^  accepted   2 connections: #1 #2$"
	view summary
	view_line "^tcp 127\.0\.0\.1:$port \(server side\)$"
	view_line "^  sockets       3 opened, 3 closed, 0 leaked, at most 2 open at once, 1 listening$"
	rule_holds no-leaks
	view chrome
	view_has "tcp listen 127.0.0.1:$port"
}

@test "render: connections a traced listener never accepted are said so (queued in its backlog, reset when it closed), not '[server end not traced]'" {
	traced "$PYTHON3" -c 'import socket
l = socket.create_server(("127.0.0.1", 0), backlog=8)
print("listen port=%d" % l.getsockname()[1])
cs = [socket.create_connection(l.getsockname()) for i in range(3)]
s, _ = l.accept()
print("accepted remote=%s:%d" % s.getpeername())
s.close()
l.close()
for c in cs[1:]:
    try:
        c.recv(10)
        print("queued local=%s:%d errno=0" % c.getsockname())
    except ConnectionResetError:
        print("queued local=%s:%d errno=ECONNRESET" % c.getsockname())
for c in cs:
    c.close()' >q.out 2>q.err
	assert_empty q.err
	port=$(fact q.out listen port)
	# the kernel reset both waiting connections when the listener closed
	assert_eq "$(grep -c '^queued .* errno=ECONNRESET$' q.out)" 2 "queued connections reset"
	view timeline
	view_line "^  accepted   1 connection: #1; 2 more queued, never accepted: #2 #3$"
	view_lacks "[server end not traced]"
	for q in $(sed -n 's/^queued local=\([^ ]*\) .*/\1/p' q.out); do
		conn_block "$q -> 127.0.0.1:$port"
		assert_eq "$NCONN" 1 "connection blocks of $q"
		# the block with its ladder: up to the next block
		BLOCK=$(awk -v t="$q -> " '/^(connection #|listener|process)/ { on = index($0, t) > 0 && /^connection #/ } on' <<<"$VIEW")
		[[ $BLOCK == *"[never accepted: queued in the backlog]"* ]] || { echo "$BLOCK" >&2; false; }
		[[ $BLOCK == *"never accepted: it waited in the backlog of the listener 127.0.0.1:$port"* ]] ||
			{ echo "$BLOCK" >&2; false; }
		[[ $BLOCK == *"RST --------------| (listener closed)"* ]] || { echo "$BLOCK" >&2; false; }
		[[ $BLOCK != *"FIN --------------|"* ]] || { echo "no FIN came from the server end: $BLOCK" >&2; false; }
	done
	view mermaid
	n=$(grep -c -- '-xP[0-9]*: RST (listener closed, never accepted)' <<<"$VIEW" || true)
	assert_eq "$n" 2 "resets drawn for the queued connections"
	view_lacks "(not traced)"
	view connections
	n=$(jq -c 'select(.server.never_accepted == true and .server.listener_fd != null and .reset == true and
		.reset_by == "server")' <<<"$VIEW" | wc -l)
	assert_eq "$n" 2 "connections never accepted, reset by the server's kernel"
}

@test "render: a reset after the other end's FIN: the ladder and mermaid draw the FIN first, then the RST" {
	traced "$PYTHON3" -c 'import socket, time
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
s.sendall(b"hello")
s.shutdown(socket.SHUT_WR)
time.sleep(0.05)
c.close()
time.sleep(0.05)
s.close()
l.close()' >r.out 2>r.err
	assert_empty r.err
	# the events: the server half-closed (FIN), later the client closed
	# with "hello" unread (RST)
	fin=$(one '.call=="shutdown"')
	assert_field "$fin" .state FIN_WAIT1
	rst=$(one '.call=="close" and .reset==true')
	assert_field "$rst" .state_before CLOSE_WAIT
	[[ $(get "$fin" .ts) < $(get "$rst" .ts) ]]
	view timeline
	view_has "teardown   server sent a FIN first (shutdown), then the client reset the connection (RST)"
	view_lacks "RST, no FIN handshake"
	ladder=$(grep -E '\|' <<<"$VIEW" | grep -E 'FIN|RST')
	[[ $(head -n 1 <<<"$ladder") == *"CLOSE_WAIT |<------------ FIN --------------| shutdown() FIN_WAIT1"* ]] ||
		{ echo "$ladder" >&2; false; }
	[[ $(tail -n 1 <<<"$ladder") == *"close() CLOSED |------------- RST ------------->| CLOSED"* ]] ||
		{ echo "$ladder" >&2; false; }
	view mermaid
	order=$(grep -oE 'FIN \(shutdown, active close\)|RST \(unread data\)' <<<"$VIEW" | tr '\n' ' ')
	assert_eq "$order" "FIN (shutdown, active close) RST (unread data) " "mermaid's FIN and RST, in order"
}

@test "render: an active closer whose TIME_WAIT is the kernel's (its close came in CLOSE), peer not traced: bytes received without the peer's FIN" {
	bg_start srv "$PYTHON3" -c 'import socket
l = socket.create_server(("127.0.0.1", 0))
print("listen port=%d" % l.getsockname()[1], flush=True)
s, _ = l.accept()
data = b""
while True:
    b = s.recv(100)
    if not b:
        break
    data += b
s.sendall(b"pong:" + data)
print("server sent=%d" % (5 + len(data)), flush=True)
s.close()
l.close()'
	wait_line srv '^listen ' >/dev/null
	port=$(fact srv.out listen port)
	traced "$PYTHON3" -c 'import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"ping")
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = c.recv(100)
    if not b:
        break
    got += b
print("client read=%d" % len(got), flush=True)
c.close()' "$port" >c.out 2>c.err
	bg_wait srv
	assert_empty c.err
	n=$(fact c.out client read)
	assert_eq "$n" "$(fact srv.out server sent)" "bytes the client read"
	e=$(one '.call=="close" and .tcp != null')
	# the kernel counts the FIN: one more than the data
	assert_field "$e" .tcp.bytes_received $((n + 1))
	assert_field "$e" .state_before CLOSE
	e=$(one '.call=="exit"')
	assert_field "$e" '[.lingering[] | .state]' '[
  "TIME_WAIT"
]'
	view summary
	view_line "^  connections   1, .*, sent 4 B, received $n B$"
	view timeline
	view_has "client sent 4 B, received $n B"
}

@test "render: mermaid notes a listener inherited from an untraced parent (socket activation), whose listen() is not in the trace" {
	"$PYTHON3" -c 'import os, socket, subprocess, sys
l = socket.create_server(("127.0.0.1", 0))
port = l.getsockname()[1]
env = dict(os.environ, LD_PRELOAD=sys.argv[1], SOCKTRACE_OUTPUT=sys.argv[2], SOCKTRACE_FORMAT="jsonl")
srv = "import socket\ns = socket.socket(fileno=%d)\nc, _ = s.accept()\nc.recv(1)\nc.close()\ns.close()\n" % l.fileno()
p = subprocess.Popen([sys.executable, "-c", srv], env=env, pass_fds=[l.fileno()])
l.close()
c = socket.create_connection(("127.0.0.1", port))
c.close()
sys.exit(p.wait())
' "$SHIM" "$TRACE" >p.out 2>p.err
	assert_empty p.err
	port=$(jq -r 'select(.call=="start") | .inherited[]? | select(.state=="LISTEN") | .local' "$TRACE" | head -1)
	[[ $port == 127.0.0.1:* ]] || { cat "$TRACE" >&2; false; }
	view mermaid
	view_has "Note over P1: listening on $port (inherited)"
	view_lacks "listen $port (backlog"
	# --port finds it in the start's list: drawn, and not said missing
	"$SOCKTRACE" show -f mermaid --port "${port##*:}" "$TRACE" >m.out 2>m.err
	assert_empty m.err
	grep -qF "listening on $port (inherited)" m.out
}

@test "render: a unix listener inherited from an untraced parent and never accepted on is a listener (inherited) in every view; an inherited datagram socket is not" {
	# the kernel's TCP table says nothing of a unix socket: the start's
	# list says it listens (SO_ACCEPTCONN), as the parent made it
	traced_prefix
	"$PYTHON3" -c 'import socket, subprocess, sys
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind("srv.sock")
l.listen(4)
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind("dgram.sock")
print("listen fd=%d" % l.fileno())
print("dgram fd=%d" % d.fileno(), flush=True)
p = subprocess.run(sys.argv[1:] + ["true"], pass_fds=[l.fileno(), d.fileno()])
sys.exit(p.returncode)' "${TRACED[@]}" >p.out 2>p.err
	trace_settle "$TRACE"
	assert_empty p.err
	lfd=$(fact p.out listen fd)
	dfd=$(fact p.out dgram fd)
	e=$(one '.call=="start"')
	assert_field "$e" "[.inherited[] | select(.fd==$lfd) | {local, state, listening}]" '[
  {
    "local": "srv.sock",
    "state": null,
    "listening": true
  }
]'
	assert_field "$e" "[.inherited[] | select(.fd==$dfd) | {local, listening}]" '[
  {
    "local": "dgram.sock",
    "listening": null
  }
]'
	view mermaid
	view_has "Note over P1: listening on srv.sock (inherited)"
	view_lacks "dgram.sock (inherited)"
	view summary
	view_line "^unix srv\.sock \(server side\)$"
	view_line "^  sockets       1 opened, 1 closed, 0 leaked, at most 1 open at once, 1 listening$"
	view timeline
	view_line "^listener  unix srv\.sock  pid [0-9]+ fd $lfd "
	view_lacks "listener  unix dgram.sock"
	view text
	view_line "^    fd $lfd AF_UNIX srv\.sock listening$"
	view_line "^    fd $dfd AF_UNIX dgram\.sock$"
	# held from before the trace to the exit: no leak
	rule_holds no-leaks
}
