#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The kernel's view of a traced program's sockets, checked against the real
# kernel on loopback: connections lingering after close (TIME_WAIT at
# exit), who holds an address a bind() could not get, whether SO_REUSEADDR
# or SO_REUSEPORT would have changed that, resets, and the state right
# after close (SOCKTRACE_PROBE=close).

load helpers

setup() {
	st_setup
	need_tw_room
}

KV() { traced "$PYTHON3" "$top_srcdir/tests/scripts/kernelview.py" "$@"; }

@test "kernel view: the server that closes first leaves TIME_WAIT, listed at exit with ~60 s left" {
	KV timewait >kv.out
	sport=$(fact kv.out conn server)
	cport=$(fact kv.out conn client)
	e=$(one '.call=="exit"')
	tw=$(jq -c ".lingering[] | select(.local==\"127.0.0.1:$sport\" and .remote==\"127.0.0.1:$cport\")" <<<"$e")
	assert_field "$tw" .state TIME_WAIT
	left=$(get "$tw" .timer_ms)
	[[ $left -gt 50000 && $left -le 60000 ]] || { echo "timer_ms $left not in (50000, 60000]" >&2; false; }
	# the server's close was the active one, the client's the passive one
	e=$(one ".call==\"close\" and .local==\"127.0.0.1:$sport\" and .remote==\"127.0.0.1:$cport\"")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	e=$(one ".call==\"close\" and .local==\"127.0.0.1:$cport\"")
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	# the client's side is gone (LAST_ACK ends at the ACK on loopback)
	e=$(one '.call=="exit"')
	assert_eq "$(jq "[.lingering[]? | select(.local==\"127.0.0.1:$cport\")] | length" <<<"$e")" 0
}

@test "kernel view: a tuple used again (the client's port, the server's TIME_WAIT taken over): one lingering socket at exit, the second connection's" {
	KV again >kv.out
	grep -q '^again refused' kv.out && skip "this kernel refused the second connection on the tuple ($(cat kv.out))"
	sport=$(fact kv.out conn2 server)
	cport=$(fact kv.out conn2 client)
	assert_eq "$(fact kv.out conn1 client)" "$cport" "the client's port, both times"
	# the kernel: one socket in TIME_WAIT for the tuple
	assert_eq "$(ss -Htan state time-wait "( sport = :$sport and dport = :$cport )" | wc -l)" 1 "TIME_WAIT sockets ss shows"
	e=$(one '.call=="exit"')
	assert_eq "$(jq "[.lingering[] | select(.local==\"127.0.0.1:$sport\" and .remote==\"127.0.0.1:$cport\")] | length" <<<"$e")" 1 \
		"the tuple in the exit's lingering list"
	assert_field "$e" .time_wait 1
	# each connection's two ends are its own (not the other's, 200 ms
	# apart), and the kernel's TIME_WAIT at exit is the second's
	"$SOCKTRACE" show -f connections "$TRACE" >conns.jsonl
	assert_eq "$(jq -c '[.id, (.duration_us >= 0 and .duration_us < 150000), .server.state_at_exit]' conns.jsonl | tr '\n' ' ')" \
		'[1,true,null] [2,true,"TIME_WAIT"] ' "connections: id, a duration of its own, the server end's state at exit"
	"$SOCKTRACE" show -f timeline "$TRACE" >timeline.txt
	assert_eq "$(grep -c 'kernel at exit' timeline.txt)" 1 "'kernel at exit' lines in the timeline"
}

@test "kernel view: 300 TIME_WAIT at exit, more than an exit lists (256): the count is whole, and summary says which states are the kernel's" {
	KV many 300 >kv.out
	port=$(fact kv.out many port)
	e=$(one '.call=="exit"')
	assert_field "$e" .time_wait 300
	assert_field "$e" .lingering_total 300
	assert_eq "$(jq '.lingering | length' <<<"$e")" 256 "entries listed"
	assert_eq "$(ss -Htan state time-wait "( sport = :$port )" | wc -l)" 300 "TIME_WAIT sockets ss shows"
	"$SOCKTRACE" show -f summary "$TRACE" >summary.txt
	grep -q '^  final states  .*TIME_WAIT 256' summary.txt
	grep -q "the kernel's table at exit held 300 of these connections (300 in TIME_WAIT), of which the exits listed 256" summary.txt ||
		{ cat summary.txt >&2; false; }
}

# restart OLD NEW: the server restarts on its port while the old
# connection is in TIME_WAIT; sets E (the second bind) and PORT.
restart() {
	KV restart "$1" "$2" >kv.out
	PORT=$(fact kv.out conn port)
	E=$(one ".call==\"bind\" and .addr==\"127.0.0.1:$PORT\" and (.seq > 5)")
}

check_holders_tw() {
	local h
	h=$(jq -c ".holders[] | select(.local==\"127.0.0.1:$PORT\")" <<<"$E")
	assert_eq "$(jq -s length <<<"$h")" 1 "holders on :$PORT"
	assert_field "$h" .state TIME_WAIT
	assert_field "$h" .remote "127.0.0.1:$(fact kv.out conn client)"
}

@test "kernel view: restart, old server without SO_REUSEADDR, new without: EADDRINUSE; neither option would help" {
	restart 0 0
	grep -q "^rebind errno=98 " kv.out
	assert_field "$E" .errno EADDRINUSE
	check_holders_tw
	assert_field "$E" .reuse_verdict.SO_REUSEADDR false
	assert_field "$E" .reuse_verdict.SO_REUSEPORT false
}

@test "kernel view: restart, old server without SO_REUSEADDR, new with: still EADDRINUSE, as the verdict said" {
	restart 0 1
	grep -q "^rebind errno=98 " kv.out
	assert_field "$E" .errno EADDRINUSE
	assert_field "$E" .opts.SO_REUSEADDR true
	check_holders_tw
	assert_field "$E" .reuse_verdict.SO_REUSEADDR false
}

@test "kernel view: restart, old server with SO_REUSEADDR, new without: EADDRINUSE, SO_REUSEADDR would have helped" {
	restart 1 0
	grep -q "^rebind errno=98 " kv.out
	assert_field "$E" .errno EADDRINUSE
	check_holders_tw
	assert_field "$E" .reuse_verdict.SO_REUSEADDR true
	assert_field "$E" .reuse_verdict.SO_REUSEPORT false
}

@test "kernel view: restart, both with SO_REUSEADDR: the bind succeeds; with --probe=close it says it reused 1 TIME_WAIT" {
	restart 1 1
	grep -q "^rebind ok " kv.out
	assert_field "$E" .ret 0
	assert_field "$E" .errno null
	# counting them walks every connection of the host: not by default
	assert_field "$E" .reused_time_wait null
	assert_field "$E" .holders null
	rm -f "$TRACE"
	SOCKTRACE_PROBE=close restart 1 1
	grep -q "^rebind ok " kv.out
	assert_field "$E" .reused_time_wait 1
}

@test "kernel view: the text log explains the failed restart in words" {
	SOCKTRACE_FORMAT=text KV restart 0 1 >kv.out
	PORT=$(fact kv.out conn port)
	grep -Eq "bind\([0-9]+, 127.0.0.1:$PORT\) = -1 EADDRINUSE \(Address already in use\)" "$TRACE"
	grep -q "127.0.0.1:$PORT is held by:" "$TRACE"
	grep -q "127.0.0.1:$PORT -> 127.0.0.1:$(fact kv.out conn client) TIME_WAIT" "$TRACE"
	grep -q "SO_REUSEADDR on this socket would not have helped" "$TRACE"
	grep -q "hint: SO_REUSEADDR here is not enough: the connections in TIME_WAIT were made by a socket without SO_REUSEADDR" "$TRACE"
}

@test "kernel view: a second server on a live listener's port: holder LISTEN with the owner's pid, no option helps" {
	KV second 0 >kv.out
	PORT=$(fact kv.out second port)
	pid=$(fact kv.out second pid)
	grep -q "^second errno=98 " kv.out
	E=$(one ".call==\"bind\" and .errno==\"EADDRINUSE\"")
	h=$(jq -c '.holders[] | select(.state=="LISTEN")' <<<"$E")
	assert_field "$h" .local "127.0.0.1:$PORT"
	assert_field "$h" .pid "$pid"
	assert_field "$h" .comm "$(fact kv.out comm name)"
	assert_field "$E" .reuse_verdict.SO_REUSEADDR false
	assert_field "$E" .reuse_verdict.SO_REUSEPORT false
}

@test "kernel view: two servers with SO_REUSEPORT: both binds succeed" {
	KV second 1 >kv.out
	PORT=$(fact kv.out second port)
	grep -q "^second ok " kv.out
	assert_count 2 ".call==\"bind\" and .ret==0 and .local==\"127.0.0.1:$PORT\" and .opts.SO_REUSEPORT==true"
	assert_count 0 '.errno=="EADDRINUSE"'
}

@test "kernel view: SO_LINGER {1,0}: the close is a reset and leaves no TIME_WAIT" {
	KV reset linger >kv.out
	grep -q "^peer saw reset" kv.out
	fd=$(fact kv.out reset fd)
	lport=$(fact kv.out reset local)
	e=$(one ".call==\"close\" and .local==\"127.0.0.1:$lport\"")
	assert_field "$e" .reset true
	assert_field "$e" .reset_reason "SO_LINGER 0"
	assert_field "$e" .state CLOSE
	assert_field "$e" .opts.SO_LINGER 0
	e=$(one '.call=="exit"')
	assert_eq "$(jq "[.lingering[]? | select(.local==\"127.0.0.1:$lport\" or .remote==\"127.0.0.1:$lport\")] | length" <<<"$e")" 0
}

@test "kernel view: a close with unread data is a reset" {
	KV reset unread >kv.out
	grep -q "^peer saw reset" kv.out
	lport=$(fact kv.out reset local)
	e=$(one ".call==\"close\" and .local==\"127.0.0.1:$lport\"")
	assert_field "$e" .reset true
	assert_field "$e" .reset_reason "unread data"
	assert_field "$e" .tcp.unread 6
	assert_field "$e" .state CLOSE
}

@test "kernel view: SOCKTRACE_PROBE=close records the kernel's state right after the active close" {
	SOCKTRACE_PROBE=close KV active >kv.out
	lport=$(fact kv.out active local)
	e=$(one ".call==\"close\" and .local==\"127.0.0.1:$lport\"")
	assert_field "$e" .state FIN_WAIT1
	case $(get "$e" .state_after) in
	FIN_WAIT1 | FIN_WAIT2 | TIME_WAIT) ;;
	*) echo "state_after: $(get "$e" .state_after)" >&2; false ;;
	esac
	# the passive side's socket is gone from the table once its FIN is acknowledged
	e=$(one ".call==\"close\" and .remote==\"127.0.0.1:$lport\"")
	assert_field "$e" .state LAST_ACK
	case $(get "$e" .state_after) in
	LAST_ACK | CLOSE) ;;
	*) echo "state_after: $(get "$e" .state_after)" >&2; false ;;
	esac
}

@test "kernel view: SOCKTRACE_PROBE=off asks the kernel nothing: no lingering, no state_after" {
	SOCKTRACE_PROBE=off KV timewait >kv.out
	assert_count 0 '.lingering != null or .state_after != null or .reused_time_wait != null'
	assert_count 1 '.call=="exit"'
}

@test "kernel view: a restart's verdict the shim could not give (its holder in TIME_WAIT, from another process) is decided from the old server's trace, as the kernel then decides" {
	cat >tw.py <<'PY'
import socket, sys
port = int(sys.argv[1]); reuse = sys.argv[2] == "1"; mode = sys.argv[3]
s = socket.socket()
if reuse:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", port))
except OSError as e:
    print("bind failed", e.errno); sys.exit(3)
s.listen(5)
if mode == "serve":
    c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
    a.close(); c.recv(1); c.close()   # the server closes first: TIME_WAIT on its end
s.close()
print("bound")
PY
	for old in 0 1; do
		port=$(free_port)
		rm -f old.jsonl new.jsonl
		"$SOCKTRACE" -o old.jsonl -- "$PYTHON3" tw.py "$port" "$old" serve >/dev/null
		rc=0
		"$SOCKTRACE" -o new.jsonl -- "$PYTHON3" tw.py "$port" 0 once >/dev/null || rc=$?
		assert_eq "$rc" 3 "the restart without SO_REUSEADDR fails"
		# alone, the new trace cannot tell: the holder's options are not visible
		run "$SOCKTRACE" check --rule no-eaddrinuse new.jsonl
		[[ $output == *"whether SO_REUSEADDR or SO_REUSEPORT would have helped is unknown"* ]] || { echo "$output" >&2; false; }
		# with the old server's trace, it can; and the kernel agrees
		run "$SOCKTRACE" check --rule no-eaddrinuse old.jsonl new.jsonl
		rc=0
		"$PYTHON3" tw.py "$port" 1 once >/dev/null || rc=$?
		if [[ $old == 1 ]]; then
			[[ $output == *"; SO_REUSEADDR would have let it succeed"* ]] || { echo "$output" >&2; false; }
			assert_eq "$rc" 0 "a bind with SO_REUSEADDR over the TIME_WAIT of a socket that had it"
		else
			[[ $output == *"; SO_REUSEADDR would not have helped"* ]] || { echo "$output" >&2; false; }
			assert_eq "$rc" 3 "a bind with SO_REUSEADDR over the TIME_WAIT of a socket that had not"
		fi
		"$SOCKTRACE" show -f timeline old.jsonl new.jsonl >tl
		grep -q "decided from the traces" tl || { cat tl >&2; false; }
	done
}
