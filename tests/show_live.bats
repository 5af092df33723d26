#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f timeline` joins the two ends of a real TCP connection,
# traced in two processes into two files, by their tuple, and names the
# active closer as the kernel saw it; `show -f mermaid` draws real runs
# with one lifeline per process and a stated cut.

load helpers

# timeline of the server's and the client's traces
timeline() { "$SOCKTRACE" show --color=never -f timeline "$S" "$C"; }

@test "live: one connection, client closes first: joined, client is the active closer" {
	tcp_pair "-n 1" "-c client"
	spid=$(fact srv.out listen pid)
	cpid=$(fact cli.out socket pid)
	clocal=$(fact cli.out connect local)
	run timeline
	[[ $status == 0 ]]
	[[ $(grep -c '^connection #' <<<"$output") == 1 ]]
	grep -q "^connection #1  tcp $clocal -> 127.0.0.1:$PORT " <<<"$output"
	! grep -q 'not traced' <<<"$output"
	grep -q "^  client     pid $cpid fd [0-9]* (tcp_client .*) $clocal" <<<"$output"
	grep -q "^  server     pid $spid fd [0-9]* (tcp_server .*) 127.0.0.1:$PORT, accepted on fd" <<<"$output"
	grep -q '^  teardown   client closed first' <<<"$output"
	grep -q 'client close(): ESTABLISHED -> FIN_WAIT1  \[active close\]' <<<"$output"
	grep -q 'server close(): CLOSE_WAIT -> LAST_ACK' <<<"$output"
	grep -q "^ *client $clocal  *server 127.0.0.1:$PORT$" <<<"$output"
	grep -q '^ *close() FIN_WAIT1 |-* FIN -*>| CLOSE_WAIT$' <<<"$output"
	# the files in the other order give the same timeline
	diff <(timeline) <("$SOCKTRACE" show --color=never -f timeline "$C" "$S")
}

@test "live: two connections, server closes first: both joined, server is the active closer" {
	tcp_pair "-n 2 -c server" "-n 2 -c server"
	run timeline
	[[ $status == 0 ]]
	[[ $(grep -c '^connection #' <<<"$output") == 2 ]]
	! grep -q 'not traced' <<<"$output"
	[[ $(grep -c '^  teardown   server closed first' <<<"$output") == 2 ]]
	[[ $(grep -c 'server close(): ESTABLISHED -> FIN_WAIT1  \[active close\]' <<<"$output") == 2 ]]
	grep -q '^  accepted   2 connections: #1 #2$' <<<"$output"
	# lifecycle: the listener accepted twice
	run "$SOCKTRACE" show -f lifecycle "$S" "$C"
	grep -Eq "^pid=$(fact srv.out listen pid) fd=$(fact srv.out listen fd) tcp 127.0.0.1:$PORT socket bind listen accept4×2 close$" <<<"$output"
}

@test "live: a reset (SO_LINGER 0) is named, and one end alone is shown as such" {
	tcp_pair "-n 1 -c server -L" "-c server"
	run timeline
	[[ $status == 0 ]]
	grep -q '^  teardown   server reset the connection (RST, no FIN handshake)$' <<<"$output"
	run "$SOCKTRACE" show --color=never -f timeline "$C"
	grep -q '\[server end not traced\]' <<<"$output"
	grep -q 'server 127.0.0.1:[0-9]* (not traced)$' <<<"$output"
}

@test "live: python3 server and client in two processes are joined" {
	SOCKTRACE_OUTPUT=$SCRATCH/py-srv.jsonl bg_start pysrv traced "$PYTHON3" -u -c '
import socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
print("listen port=%d" % l.getsockname()[1], flush=True)
c, _ = l.accept(); c.recv(5); c.close(); l.close()'
	port=$(wait_line pysrv '^listen ' | sed 's/.*port=//')
	SOCKTRACE_OUTPUT=$SCRATCH/py-cli.jsonl traced "$PYTHON3" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"ping\n")
s.recv(1); s.close()' "$port"
	bg_wait pysrv
	run "$SOCKTRACE" show --color=never -f timeline py-srv.jsonl py-cli.jsonl
	[[ $status == 0 ]]
	[[ $(grep -c '^connection #' <<<"$output") == 1 ]]
	! grep -q 'not traced' <<<"$output"
	grep -q '^  teardown   server closed first' <<<"$output"
	run "$SOCKTRACE" show -f mermaid py-srv.jsonl py-cli.jsonl
	grep -q '^sequenceDiagram$' <<<"$output"
	grep -Eq '^    P[0-9]+->>P[0-9]+: FIN \(close, active close\)$' <<<"$output"
}

@test "live: mermaid draws one lifeline per process, at most 50 connections, and says how many it left out" {
	traced "$(prog threads)" -t 2 -n 30 >out
	"$SOCKTRACE" show -f mermaid "$TRACE" >m.txt 2>err
	assert_empty err
	pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
	# one process: one lifeline, whatever its ports and threads
	assert_eq "$(grep -c '^    participant ' m.txt)" 1
	grep -qE "^    participant P1 as threads -t 2 -n 30 \(pid $pid\)$" m.txt
	# the first 50 of the 60 connections, in order, each naming its tuple
	assert_eq "$(grep -c '^    P1->>P1: SYN (connection [0-9]*: 127.0.0.1:[0-9]* to 127.0.0.1:[0-9]*)$' m.txt)" 50
	assert_eq "$(grep -o 'SYN (connection [0-9]*' m.txt | sed 's/.* //' | sort -n | tail -n 1)" 50
	grep -qx '    Note over P1: … 10 more connections not drawn (the first 50 are, show -f timeline or -f connections lists every one, --pid and --port narrow)' m.txt
	# two processes of a client and a server: two lifelines, no cut
	tcp_pair "-n 2" "-n 2 -c client"
	"$SOCKTRACE" show -f mermaid "$S" "$C" >two.txt
	assert_eq "$(grep -c '^    participant ' two.txt)" 2
	assert_eq "$(grep -c 'SYN (connection' two.txt)" 2
	assert_eq "$(grep -c 'not drawn' two.txt || true)" 0
}
