#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A connection handed to another process with SCM_RIGHTS (passfd): the
# sender's close right after sendmsg() is not the connection's end (the
# kernel keeps it ESTABLISHED for the receiver), the receiver's descriptor
# is the same socket (one socket, one end: the receiver's active close),
# and its TIME_WAIT is listed by the receiver's exit, not the sender's.

load helpers
load truth

# handover recvmsg|recvmmsg: run passfd traced; sets PARENT, WORKER, INO
# (the handed socket), SPORT (the listener's port), CLOCAL (the client's
# address).
handover() {
	traced "$(prog passfd)" "$1" >pf.out 2>pf.err
	assert_empty pf.err
	PARENT=$(fact pf.out sent pid)
	WORKER=$(fact pf.out received pid)
	INO=$(fact pf.out accept ino)
	SPORT=$(fact pf.out listen port)
	CLOCAL=$(fact pf.out client local)
	assert_eq "$(fact pf.out received ino)" "$INO" "the inode the worker got"
	assert_eq "$(fact pf.out reaped status)" 0 "the worker's exit status"
	assert_valid_jsonl
	assert_seq_ok
}

# sender_hands_over: the sendmsg names the socket, the sender's close of
# its copy leaves the connection as the kernel showed the worker
sender_hands_over() {
	local e
	e=$(one ".call==\"sendmsg\" and .pid==$PARENT")
	assert_field "$e" '.rights | length' 1
	assert_field "$e" .rights[0].fd "$(fact pf.out accept fd)"
	assert_field "$e" .rights[0].inode "$INO"
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$INO")
	assert_eq "$(fact pf.out handed state)" ESTABLISHED "the worker's view after the sender's close"
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state ESTABLISHED
	assert_field "$e" .shared true
	assert_field "$e" .reset null
}

# receiver_ends_it CALL: the worker's receive names the socket, and the
# worker's close is the connection's end, the active close
receiver_ends_it() {
	local e
	e=$(one ".call==\"$1\" and .pid==$WORKER")
	assert_field "$e" .rights[0].fd "$(fact pf.out received fd)"
	assert_field "$e" .rights[0].inode "$INO"
	e=$(one ".call==\"close\" and .pid==$WORKER and .inode==$INO")
	assert_field "$e" .fd "$(fact pf.out closed fd)"
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .tcp.bytes_sent 2
	assert_eq "$(fact pf.out peer read)" 2 "bytes the client read"
}

@test "rights: the sender's close right after sendmsg() keeps the connection: ESTABLISHED, shared, no FIN" {
	handover recvmsg
	sender_hands_over
	receiver_ends_it recvmsg
}

@test "rights: the receiver's descriptor is the sender's socket: one lifecycle line, the receiver's close is the active close" {
	for how in recvmsg recvmmsg; do
		rm -f "$TRACE"
		handover "$how"
		view lifecycle
		n=$(grep -c -- "tcp 127.0.0.1:$SPORT -> $CLOCAL " <<<"$VIEW" || true)
		assert_eq "$n" 1 "$how: lifecycle lines of the handed socket"
		view_line "^pid=$PARENT fd=[0-9]+ tcp 127\.0\.0\.1:$SPORT -> $CLOCAL accept .*close(\\([0-9]+\\))?@$WORKER$"
		view timeline
		view_line "server close\(\) in pid $WORKER: ESTABLISHED -> FIN_WAIT1  \[active close\]"
		view_lacks "ESTABLISHED -> ESTABLISHED  [active close]"
		view_line "server pid $PARENT close\([0-9]+\): its copy only, another process held it"
		rule_holds no-leaks
	done
}

@test "rights: the connection's TIME_WAIT is in the receiver's exit lingering, not the sender's (as ss shows it)" {
	need_tw_room
	handover recvmsg
	assert_eq "$(fact pf.out timewait seen)" 1 "TIME_WAIT seen by the worker in /proc/net/tcp"
	local_=$(fact pf.out timewait local)
	remote=$(fact pf.out timewait remote)
	ss -Htan state time-wait src "$local_" dst "$remote" >ss.out
	[[ -s ss.out ]] || { echo "ss shows no TIME_WAIT $local_ -> $remote" >&2; false; }
	e=$(one ".call==\"exit\" and .pid==$WORKER")
	assert_field "$e" "[.lingering[] | select(.local==\"$local_\" and .remote==\"$remote\") | .state]" '[
  "TIME_WAIT"
]'
	assert_field "$e" .time_wait 1
	e=$(one ".call==\"exit\" and .pid==$PARENT")
	assert_field "$e" "[.lingering[] | select(.local==\"$local_\")] | length" 0
	assert_field "$e" .time_wait 0
}

@test "rights: recvmmsg() receives the socket the same way: the sender's close keeps it, the worker ends it" {
	handover recvmmsg
	sender_hands_over
	receiver_ends_it recvmmsg
}

# passfd pair|pair-late: the handed end is one socket, made by the parent's
# socketpair, received, written and closed by the worker
pair_handover() {
	traced "$(prog passfd)" "$1" >pf.out 2>pf.err
	assert_empty pf.err
	assert_valid_jsonl
	assert_seq_ok
	PARENT=$(fact pf.out sent pid)
	WORKER=$(fact pf.out received pid)
	ino=$(fact pf.out pair ino)
	assert_eq "$(fact pf.out received ino)" "$ino" "the inode the worker got"
	assert_eq "$(fact pf.out peer read)" 2 "bytes read from the other end"
	e=$(one ".call==\"recvmsg\" and .pid==$WORKER")
	assert_field "$e" .rights[0].inode "$ino"
	view lifecycle
	# one line for the handed end, made by the parent's socketpair, with the
	# worker's receive and close; none of its own in the worker
	view_line "^pid=$PARENT fd=[0-9]+ unix socketpair (close recvmsg@$WORKER|recvmsg@$WORKER close) close(\\([0-9]+\\))?@$WORKER$"
	if grep -E "^pid=$WORKER fd=[0-9]+ unix \(inherited\) recvmsg" <<<"$VIEW"; then
		echo "the received end is a socket of its own:" >&2
		echo "$VIEW" >&2
		false
	fi
}

@test "rights: a socketpair end handed over (as nginx passes its channels) is the sender's socketpair end in the receiver" {
	pair_handover pair
}

@test "rights: the same when the worker receives it before the sender closes its copy (its inode known only from the socketpair and the sendmsg)" {
	pair_handover pair-late
}

@test "rights: a handed socketpair end, then one more fork on each side: one socket, the helper that exits holding its copy named, and summary and check agree" {
	traced "$(prog passfd)" pair-fork >pf.out 2>pf.err
	assert_empty pf.err
	assert_valid_jsonl
	assert_seq_ok
	PARENT=$(fact pf.out sent pid)
	WORKER=$(fact pf.out received pid)
	HELPER=$(fact pf.out helper pid)
	SECOND=$(fact pf.out second pid)
	assert_eq "$(fact pf.out helper status)" 0 "the helper's exit status"
	assert_eq "$(fact pf.out second status)" 0 "the second worker's exit status"
	assert_eq "$(fact pf.out peer read)" 2 "bytes read from the other end"
	view lifecycle
	# the handed end: the parent's, received and closed by the worker, its
	# copy in the helper ended by the helper's exit (not the socket's end,
	# but a copy held to an exit: the helper's, whether it exits before or
	# after the worker's close)
	view_line "^pid=$PARENT fd=[0-9]+ unix socketpair .*recvmsg@$WORKER .*exit@$HELPER .*close(\\([0-9]+\\))?@$WORKER \\(open at exit@$HELPER\\)$"
	view_lacks "(inherited)"
	view_lacks "(still held by another process)"
	n=$(grep -c "^pid=$PARENT fd=[0-9]* unix socketpair" <<<"$VIEW" || true)
	assert_eq "$n" 4 "sockets of the two socketpairs"
	n=$(grep -c -v "^pid=$PARENT " <<<"$VIEW" || true)
	assert_eq "$n" 0 "sockets of the worker, the helper or the second worker of their own"
	# the helper held its copies of the worker's two ends (its channel and
	# the handed one) to its exit: one line for both, naming the helper
	rule_fails no-leaks "no-leaks: pid $HELPER *: unix stream (last seen open) was never closed before exit; it was made by socketpair() in pid $PARENT *; 2 such sockets leaked from the same place*"
	assert_eq "${#lines[@]}" 1 "lines of leaks"
	view summary
	view_line "^  sockets       4 opened, 2 closed, 2 leaked, "
	# the same socket count in the kernel's eyes: two socketpairs made
	assert_count 2 ".call==\"socketpair\""
	view lifecycle
	n=$(grep -c "close@$SECOND" <<<"$VIEW" || true)
	assert_eq "$n" 2 "the second worker's closes, each of a copy of the parent's sockets"
}

@test "rights: a connection passed over SCM_RIGHTS between two runs and held by the receiver to its exit: one connection, the receiver's leak, and the receiver's trace alone names it received, not inherited" {
	cat >scm.py <<'PY'
import socket, os, sys
path = sys.argv[2]
if sys.argv[1] == "recv":
    u = socket.socket(socket.AF_UNIX); u.bind(path); u.listen(1)
    print("ready", flush=True)
    x, _ = u.accept()
    msg, fds, fl, ad = socket.recv_fds(x, 10, 1)
    x.recv(10)               # the sender has closed its copy: this one is the last
    t = socket.socket(fileno=fds[0]); t.sendall(b"from receiver")
    x.close(); u.close()
    os._exit(0)              # holds the received connection to its end
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
u = socket.socket(socket.AF_UNIX); u.connect(path)
socket.send_fds(u, [b"x"], [a.fileno()]); a.close(); u.send(b"closed")
print(c.recv(100)); u.close(); c.close(); s.close()
PY
	bg_start recv "$SOCKTRACE" -o r.jsonl -- "$PYTHON3" scm.py recv "$SCRATCH/scm.sock"
	wait_line recv '^ready' >/dev/null
	"$SOCKTRACE" -o s.jsonl -- "$PYTHON3" scm.py send "$SCRATCH/scm.sock" >/dev/null
	bg_wait recv
	# the receiver alone: a socket it received, whose kind it never learnt
	"$SOCKTRACE" show -f lifecycle r.jsonl >lc
	grep -q '^pid=[0-9]* fd=[0-9]* socket (received) recvmsg (open at exit)$' lc || { cat lc >&2; false; }
	run "$SOCKTRACE" check --rule no-leaks r.jsonl
	assert_eq "$status" 1 "$output"
	[[ $output == *"received over SCM_RIGHTS from a process outside the traces, was never closed before exit"* ]]
	# both: one TCP connection, its server end held by the receiver (the
	# unix connection that carried it is not joined: traced without
	# --probe=close, the accept did not ask for its peer)
	"$SOCKTRACE" show -f connections r.jsonl s.jsonl >conns
	assert_eq "$(wc -l <conns)" 1 "connections"
	assert_eq "$(jq -r '.server.end' conns)" "held by its process when it exited"
	! grep -q 'scm.sock' conns
	run "$SOCKTRACE" check --rule no-leaks r.jsonl s.jsonl
	assert_eq "$status" 1
	[[ ${lines[0]} == "no-leaks: pid "*" (python3 scm.py recv "*"): tcp 127.0.0.1:"*" -> 127.0.0.1:"*" (last seen ESTABLISHED) was never closed before exit; it was made by accept"* ]] || { echo "$output" >&2; false; }
}

@test "rights: a unix listener received from an untraced process and never accepted on is a listener (received) in every view" {
	# the kernel's TCP state says nothing of a unix socket: the message's
	# entry says it listens (SO_ACCEPTCONN)
	traced_prefix
	"$PYTHON3" -c 'import socket, subprocess, sys
a, b = socket.socketpair()
l = socket.socket(socket.AF_UNIX)
l.bind("rx.sock")
l.listen()
rx = "import socket\nb = socket.socket(fileno=%d)\n_, fds, _, _ = socket.recv_fds(b, 1, 1)\nprint(\"received fd=%%d\" %% fds[0])\nsocket.socket(fileno=fds[0]).close()\n" % b.fileno()
p = subprocess.Popen(sys.argv[1:] + [sys.executable, "-c", rx], pass_fds=[b.fileno()])
socket.send_fds(a, [b"x"], [l.fileno()])
l.close()
sys.exit(p.wait())' "${TRACED[@]}" >p.out 2>p.err
	trace_settle "$TRACE"
	assert_empty p.err
	fd=$(fact p.out received fd)
	assert_field "$(one '.call=="recvmsg"')" "[.rights[] | {fd, listening}]" "[
  {
    \"fd\": $fd,
    \"listening\": true
  }
]"
	view mermaid
	view_has "listening on rx.sock (received)"
	view summary
	view_line "^unix rx\\.sock \\(server side\\)$"
	view_line "^  sockets .* 1 listening$"
	view timeline
	view_line "^listener  unix rx\\.sock  pid [0-9]+ fd $fd "
	rule_holds no-leaks
}
