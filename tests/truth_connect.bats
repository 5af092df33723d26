#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Connections whose handshake is seen another way than a connect() that
# returns 0 (connects eintr, nbpoll, late-accept; a python self-connect):
# a connect cut short by a signal goes on in the kernel; a non-blocking
# connect completed through poll() alone; a socket connected to itself; an
# accept() that returns after the client already closed.  Each is one
# connection, as the kernel had it.

load helpers
load truth

@test "connect: EINTR, then poll and SO_ERROR: the close has the peer and the counters, the exit lists its TIME_WAIT as ss does" {
	need_tw_room
	traced "$(prog connects)" eintr >c.out 2>c.err
	assert_empty c.err
	assert_valid_jsonl
	assert_seq_ok
	assert_eq "$(fact c.out connect errno)" EINTR "connect's errno"
	assert_eq "$(fact c.out completed so_error)" 0 "SO_ERROR"
	assert_eq "$(fact c.out completed peer)" 1 "getpeername named the listener"
	fd=$(fact c.out client fd)
	local_=$(fact c.out client local)
	server=127.0.0.1:$(fact c.out listen port)
	e=$(one ".call==\"connect\" and .fd==$fd")
	assert_field "$e" .errno EINTR
	assert_field "$e" .remote "$server"
	e=$(one ".call==\"getsockopt\" and .fd==$fd")
	assert_field "$e" .connect_done ESTABLISHED
	assert_field "$e" .remote "$server"
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .local "$local_"
	assert_field "$e" .remote "$server"
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .tcp.bytes_sent 1
	ss -Htan state time-wait src "$local_" dst "$server" >ss.out
	[[ -s ss.out ]] || { echo "ss shows no TIME_WAIT $local_ -> $server" >&2; false; }
	e=$(one '.call=="exit"')
	assert_field "$e" "[.lingering[] | select(.local==\"$local_\" and .remote==\"$server\") | .state] | join(\",\")" TIME_WAIT
	rule_holds handshakes
}

@test "connect: a non-blocking connect completed through poll() alone, to an untraced server: handshakes holds" {
	bg_start srv "$PYTHON3" -u -c 'import socket
l = socket.create_server(("127.0.0.1", 0))
print("listen port=%d" % l.getsockname()[1], flush=True)
c, _ = l.accept()
c.sendall(b"hello")
c.close()'
	wait_line srv '^listen ' >/dev/null
	port=$(fact srv.out listen port)
	traced "$(prog connects)" nbpoll "$port" >c.out 2>c.err
	bg_wait srv
	assert_empty c.err
	assert_valid_jsonl
	assert_eq "$(fact c.out connect errno)" EINPROGRESS "connect's errno"
	assert_eq "$(fact c.out read bytes)" 5 "bytes read"
	fd=$(fact c.out client fd)
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .remote "127.0.0.1:$port"
	# the peer had closed: the connection was ESTABLISHED, then CLOSE_WAIT
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	rule_holds handshakes
	view timeline
	conn_block "$(fact c.out client local) ->"
	assert_eq "$NCONN" 1 "connection blocks"
	[[ $BLOCK != *"never seen established"* ]] || { echo "$BLOCK" >&2; false; }
}

@test "connect: a socket connected to its own address: one connection, said so, no untraced server; handshakes reports it" {
	need_tw_room
	traced "$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.connect(("127.0.0.1", port))
print("self port=%d fd=%d itself=%d" % (port, s.fileno(), s.getsockname() == s.getpeername()))
s.sendall(b"ping")
print("echo data=%s" % s.recv(10).decode())
s.close()' >p.out 2>p.err
	assert_empty p.err
	assert_valid_jsonl
	port=$(fact p.out self port)
	fd=$(fact p.out self fd)
	assert_eq "$(fact p.out self itself)" 1 "getsockname == getpeername"
	assert_eq "$(fact p.out echo data)" ping "what the socket read from itself"
	e=$(one ".call==\"connect\" and .fd==$fd")
	assert_field "$e" .self_connect true
	assert_field "$e" .local "127.0.0.1:$port"
	assert_field "$e" .remote "127.0.0.1:$port"
	e=$(one '.call=="exit"')
	assert_field "$e" "[.lingering[] | select(.local==\"127.0.0.1:$port\" and .remote==\"127.0.0.1:$port\")] | length" 1
	view timeline
	conn_block "127.0.0.1:$port -> 127.0.0.1:$port"
	assert_eq "$NCONN" 1 "connection blocks"
	[[ $BLOCK == *"connected to itself"* ]] || { echo "$BLOCK" >&2; false; }
	view_lacks "not traced"
	rule_fails handshakes "*connected to itself*"
}

@test "connect: accept() returning after the client closed: one connection with both ends, the client's active close" {
	traced "$(prog connects)" late-accept >c.out 2>c.err
	assert_empty c.err
	assert_valid_jsonl
	assert_seq_ok
	# the kernel's view: the connection waited in the queue, the FIN arrived
	assert_eq "$(fact c.out accepted state)" CLOSE_WAIT "the accepted socket's state"
	assert_eq "$(fact c.out accepted read)" 1 "bytes the server read"
	afd=$(fact c.out accepted fd)
	e=$(one ".call==\"accept\" and .fd==$afd")
	assert_field "$e" .state CLOSE_WAIT
	assert_field "$e" .remote "$(fact c.out client local)"
	view timeline
	conn_block "$(fact c.out client local) ->"
	assert_eq "$NCONN" 1 "connection blocks"
	[[ $BLOCK == *"  client "* && $BLOCK == *"  server "* ]] || { echo "$BLOCK" >&2; false; }
	[[ $BLOCK == *"client close(): ESTABLISHED -> FIN_WAIT1  [active close]"* ]] || { echo "$BLOCK" >&2; false; }
	[[ $BLOCK == *"server close(): CLOSE_WAIT -> LAST_ACK"* ]] || { echo "$BLOCK" >&2; false; }
	view_lacks "not traced"
}
