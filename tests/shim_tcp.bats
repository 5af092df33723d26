#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The shim records a TCP server's and a TCP client's whole lifecycle over
# IPv4 loopback: the calls, the five-tuple on both ends, the TCP state after
# each call and the kernel's transition at close (active closer
# ESTABLISHED -> FIN_WAIT1, passive closer CLOSE_WAIT -> LAST_ACK).

load helpers

@test "tcp server: socket, bind, listen, accept4 and close with the server's tuple" {
	tcp_pair "-n 1" ""
	lfd=$(fact srv.out listen fd)
	afd=$(fact srv.out accept fd)
	cport_local=$(fact cli.out connect local)

	e=$(one '.call=="socket"' "$S")
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .ret "$lfd"
	assert_field "$e" .family AF_INET
	assert_field "$e" .type SOCK_STREAM
	assert_field "$e" .proto tcp
	assert_field "$e" .inode "$(fact srv.out socket ino)"

	e=$(one '.call=="bind"' "$S")
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .ret 0
	assert_field "$e" .errno null
	assert_field "$e" .addr 127.0.0.1:0
	assert_field "$e" .local "127.0.0.1:$PORT"

	e=$(one '.call=="listen"' "$S")
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .ret 0
	assert_field "$e" .backlog 16
	assert_field "$e" .local "127.0.0.1:$PORT"
	assert_field "$e" .state LISTEN

	e=$(one '.call=="accept4"' "$S")
	assert_field "$e" .fd "$afd"
	assert_field "$e" .ret "$afd"
	assert_field "$e" .listen_fd "$lfd"
	assert_field "$e" .flags SOCK_CLOEXEC
	assert_field "$e" .local "127.0.0.1:$PORT"
	assert_field "$e" .remote "$cport_local"
	assert_field "$e" .inode "$(fact srv.out accept ino)"
	assert_field "$e" .state ESTABLISHED

	e=$(one ".call==\"close\" and .fd==$lfd" "$S")
	assert_field "$e" .ret 0
	assert_field "$e" .local "127.0.0.1:$PORT"
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE
	assert_field "$e" .last true
	assert_count 2 '.call=="close"' "$S"
}

@test "tcp client: socket and connect with the tuple the server saw" {
	tcp_pair "-n 1" ""
	cfd=$(fact cli.out connect fd)
	clocal=$(fact cli.out connect local)

	e=$(one '.call=="socket"' "$C")
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .inode "$(fact cli.out socket ino)"
	assert_field "$e" .proto tcp

	e=$(one '.call=="connect"' "$C")
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .ret 0
	assert_field "$e" .errno null
	assert_field "$e" .addr "127.0.0.1:$PORT"
	assert_field "$e" .local "$clocal"
	assert_field "$e" .remote "127.0.0.1:$PORT"
	assert_field "$e" .state ESTABLISHED

	# the two ends of one connection: each one's local is the other's remote
	a=$(one '.call=="accept4"' "$S")
	assert_eq "$(get "$a" .remote)" "$(get "$e" .local)" "server's remote vs client's local"
	assert_eq "$(get "$a" .local)" "$(get "$e" .remote)" "server's local vs client's remote"
}

@test "tcp: the client closes first: ESTABLISHED->FIN_WAIT1 on it, CLOSE_WAIT->LAST_ACK on the server" {
	tcp_pair "-n 1 -c client" "-c client"
	afd=$(fact srv.out accept fd)
	cfd=$(fact cli.out connect fd)

	e=$(one ".call==\"close\" and .fd==$cfd" "$C")
	assert_field "$e" .ret 0
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .local "$(fact cli.out connect local)"
	assert_field "$e" .remote "127.0.0.1:$PORT"
	assert_field "$e" .last true
	assert_field "$e" .tcp.bytes_sent "$(fact cli.out tcpinfo bytes_sent)"
	assert_field "$e" .tcp.bytes_received "$(fact cli.out tcpinfo bytes_received)"
	assert_field "$e" .tcp.bytes_sent 5

	e=$(one ".call==\"close\" and .fd==$afd" "$S")
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	assert_field "$e" .local "127.0.0.1:$PORT"
	assert_field "$e" .remote "$(fact cli.out connect local)"
	assert_field "$e" .tcp.bytes_sent "$(fact srv.out tcpinfo bytes_sent)"
	assert_field "$e" .tcp.bytes_received "$(fact srv.out tcpinfo bytes_received)"
}

@test "tcp: the server closes first: ESTABLISHED->FIN_WAIT1 on it, CLOSE_WAIT->LAST_ACK on the client" {
	tcp_pair "-n 1 -c server" "-c server"
	afd=$(fact srv.out accept fd)
	cfd=$(fact cli.out connect fd)

	e=$(one ".call==\"close\" and .fd==$afd" "$S")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .tcp.bytes_sent 5
	assert_field "$e" .tcp.bytes_received 5

	e=$(one ".call==\"close\" and .fd==$cfd" "$C")
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	assert_field "$e" .tcp.bytes_received "$(fact cli.out tcpinfo bytes_received)"
}

@test "tcp: three connections on one listener: three accept4 whose remotes are the client's three locals" {
	tcp_pair "-n 3" "-n 3"
	assert_count 3 '.call=="accept4" and .ret>=0' "$S"
	assert_count 3 '.call=="connect" and .ret==0' "$C"
	assert_count 4 '.call=="close"' "$S"
	assert_count 3 '.call=="close"' "$C"
	remotes=$(jq -r 'select(.call=="accept4") | .remote' "$S" | sort)
	locals=$(jq -r 'select(.call=="connect") | .local' "$C" | sort)
	printed=$(grep '^connect ' cli.out | sed 's/.* local=\([^ ]*\).*/\1/' | sort)
	assert_eq "$remotes" "$locals" "accept4 remotes vs connect locals"
	assert_eq "$locals" "$printed" "connect locals vs the client's getsockname"
	assert_eq "$(sort -u <<<"$locals" | wc -l)" 3 "distinct client ports"
}

@test "tcp: accept() is recorded as accept, with listen_fd and the peer" {
	tcp_pair "-n 1 -A" ""
	assert_count 0 '.call=="accept4"' "$S"
	e=$(one '.call=="accept"' "$S")
	assert_field "$e" .fd "$(fact srv.out accept fd)"
	assert_field "$e" .listen_fd "$(fact srv.out listen fd)"
	assert_field "$e" .remote "$(fact cli.out connect local)"
	assert_field "$e" .flags null
	assert_field "$e" .state ESTABLISHED
}

@test "tcp: shutdown(SHUT_WR) half-close: ESTABLISHED->FIN_WAIT1 (FIN_WAIT2 already after it when the peer's ACK came), the peer reads EOF and closes CLOSE_WAIT->LAST_ACK" {
	# both ends in one process, so the peer cannot move while the shim looks
	traced "$(prog tconnect)" halfclose >out
	cfd=$(fact out connect fd)
	afd=$(fact out accept fd)
	kstate=$(fact out shutdown state)
	[[ $kstate == FIN_WAIT1 || $kstate == FIN_WAIT2 ]]

	e=$(one '.call=="shutdown"')
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .ret 0
	assert_field "$e" .how SHUT_WR
	assert_field "$e" .state_before ESTABLISHED
	# the call's transition; the kernel's later reading, when the peer's
	# ACK had moved it on by then (the program read after the shim)
	assert_field "$e" .state FIN_WAIT1
	sa=$(get "$e" '.state_after // "-"')
	[[ $sa == - || ($sa == FIN_WAIT2 && $kstate == FIN_WAIT2) ]] ||
		{ echo "state_after $sa, and the program read $kstate after it" >&2; false; }
	assert_field "$e" .local "$(get "$(one '.call=="connect"')" .local)"
	assert_field "$e" .remote "$(get "$(one '.call=="listen"')" .local)"

	e=$(one ".call==\"close\" and .fd==$afd")
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	assert_field "$e" .tcp.bytes_sent 5
	assert_field "$e" .tcp.bytes_received "$(fact out tcpinfo bytes_received)"

	# the client's connection went FIN_WAIT2 -> TIME_WAIT before its close:
	# its descriptor's socket is CLOSE, and TCP_INFO still has the counts
	e=$(one ".call==\"close\" and .fd==$cfd")
	assert_field "$e" .ret 0
	assert_field "$e" .last true
	assert_field "$e" .tcp.bytes_sent "$(fact out tcpinfo bytes_sent 2)"
	assert_field "$e" .tcp.bytes_received "$(fact out tcpinfo bytes_received 2)"
}

@test "tcp: shutdown(SHUT_WR) after the peer closed: CLOSE_WAIT->LAST_ACK, and the kernel's CLOSE (the peer's ACK came inside the call) as state_after, never CLOSE_WAIT->CLOSE" {
	traced "$PYTHON3" -c 'import socket, struct
l = socket.create_server(("127.0.0.1", 0))
for i in range(20):
    c = socket.create_connection(l.getsockname())
    s, _ = l.accept()
    s.close()
    while c.recv(1):
        pass
    before = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
    c.shutdown(socket.SHUT_WR)
    after = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
    print("shutdown fd=%d before=%d after=%d" % (c.fileno(), before, after))
    c.close()' >p.out 2>p.err
	assert_empty p.err
	# the kernel's numbers: 8 CLOSE_WAIT, 7 CLOSE
	assert_eq "$(grep -c ' before=8 ' p.out)" 20 "shutdowns the program made in CLOSE_WAIT"
	assert_count 20 '.call=="shutdown" and .state_before=="CLOSE_WAIT" and .state=="LAST_ACK"'
	# what the kernel showed right after: CLOSE already, or LAST_ACK still
	# (then no state_after); never CLOSE where the program, reading after
	# the shim, still saw LAST_ACK
	assert_count 0 '.call=="shutdown" and .state_after != null and .state_after != "CLOSE"'
	n=$(grep -c ' after=7$' p.out || true)
	[ "$(nev '.call=="shutdown" and .state_after=="CLOSE"')" -le "$n" ]
	assert_count 0 '.call=="shutdown" and .state=="CLOSE"'
}

@test "tcp: shutdown racing the peer's close (wr, rdwr, rd; 300 rounds each): every recorded pair is a transition shutdown makes, and every later reading is one the peer's packets lead to" {
	for how in wr rdwr rd; do
		SOCKTRACE_OUTPUT=$SCRATCH/$how.jsonl traced "$(prog shutrace)" 300 "$how" >"$how.out" 2>"$how.err"
		assert_empty "$how.err"
		assert_eq "$(fact "$how.out" runs n)" 300 "rounds of $how"
		assert_count 300 '.call=="shutdown" and .ret==0' "$SCRATCH/$how.jsonl"
	done
	# the kernel's rules (inet_shutdown, tcp_shutdown), and the states the
	# peer's ACK, FIN or RST lead to, written out apart from the shim's
	bad=$(jq -c '
		def made($b; $how): if $b == "SYN_SENT" then "CLOSE"
			elif $b == "LISTEN" and $how != "SHUT_WR" then "CLOSE"
			elif ($b == "ESTABLISHED" or $b == "SYN_RECV") and $how != "SHUT_RD" then "FIN_WAIT1"
			elif $b == "CLOSE_WAIT" and $how != "SHUT_RD" then "LAST_ACK"
			else $b end;
		def later: {"ESTABLISHED": ["CLOSE_WAIT", "CLOSE"], "CLOSE_WAIT": ["CLOSE"],
			"FIN_WAIT1": ["FIN_WAIT2", "CLOSING", "TIME_WAIT", "CLOSE"], "FIN_WAIT2": ["TIME_WAIT", "CLOSE"],
			"CLOSING": ["TIME_WAIT", "CLOSE"], "LAST_ACK": ["CLOSE"], "TIME_WAIT": ["CLOSE"]};
		select(.call == "shutdown") | . as $e
		| select($e.state_before == null or $e.state != made($e.state_before; $e.how)
			or ($e.state_after != null and ((later[$e.state] // []) | index($e.state_after)) == null))
		| {how, state_before, state, state_after}' "$SCRATCH"/wr.jsonl "$SCRATCH"/rdwr.jsonl "$SCRATCH"/rd.jsonl)
	[[ -z $bad ]] || { echo "pairs no shutdown makes:" >&2; sort <<<"$bad" | uniq -c >&2; false; }
}

@test "tcp: SO_LINGER {1,0}: the setsockopt, the option at close, and a reset instead of FIN_WAIT1" {
	tcp_pair "-n 1 -c client" "-L"
	cfd=$(fact cli.out connect fd)
	afd=$(fact srv.out accept fd)
	assert_eq "$(fact srv.out eof errno)" ECONNRESET "what the server read"

	e=$(one '.call=="setsockopt"' "$C")
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .ret 0
	assert_field "$e" .level SOL_SOCKET
	assert_field "$e" .optname SO_LINGER
	assert_field "$e" '.optval|tojson' '{"l_onoff":1,"l_linger":0}'
	assert_field "$e" .opts.SO_LINGER 0

	e=$(one ".call==\"close\" and .fd==$cfd" "$C")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state CLOSE
	assert_field "$e" .opts.SO_LINGER 0
	assert_field "$e" .reset true
	assert_field "$e" .reset_reason "SO_LINGER 0"

	e=$(one ".call==\"close\" and .fd==$afd" "$S")
	assert_field "$e" .state_before CLOSE
	assert_field "$e" .opts.SO_LINGER null
}

@test "tcp: start and exit events frame each process, seq runs 1..N" {
	tcp_pair "-n 2" "-n 2"
	spid=$(fact srv.out listen pid)
	cpid=$(fact cli.out socket pid)
	for t in "$S" "$C"; do
		assert_valid_jsonl "$t"
		assert_seq_ok "$t"
	done

	e=$(one '.call=="start"' "$S")
	assert_field "$e" .pid "$spid"
	assert_field "$e" .seq 1
	assert_field "$e" .exe "$TESTPROGS/tcp_server"
	assert_field "$e" '.argv|join(" ")' "$TESTPROGS/tcp_server -n 2"
	assert_field "$e" .ppid "$(fact srv.out listen ppid)"
	[[ $(get "$e" .version) =~ ^[0-9]+\.[0-9]+ ]]

	e=$(one '.call=="exit"' "$S")
	assert_field "$e" .pid "$spid"
	assert_field "$e" .open 0
	assert_eq "$(get "$e" .seq)" "$(wc -l <"$S")" "exit's seq vs lines in the trace"

	e=$(one '.call=="start"' "$C")
	assert_field "$e" .pid "$cpid"
	e=$(one '.call=="exit"' "$C")
	assert_field "$e" .open 0
	# every event of a process carries its pid, and the main thread's tid
	assert_count 0 ".pid!=$spid or .tid!=$spid" "$S"
	assert_count 0 ".pid!=$cpid or .tid!=$cpid" "$C"
}
