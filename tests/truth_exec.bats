#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Sockets at exec and at spawn (execs; python's subprocess): the kernel
# closes a close-on-exec socket at a successful exec, and nothing at a
# failed one; a spawned child holds what it inherits, so the parent's close
# of a connection it handed on is not the connection's end.

load helpers
load truth

# no_false_teardown: no close that left the connection ESTABLISHED is
# drawn as the teardown
no_false_teardown() {
	view timeline
	if grep -E 'close\(\): ESTABLISHED -> ESTABLISHED +\[active close\]' <<<"$VIEW"; then
		echo "a close of a copy drawn as the teardown:" >&2
		echo "$VIEW" >&2
		return 1
	fi
}

@test "exec: a SOCK_CLOEXEC listener, then execl(/bin/true): an exec event ends it, no leak" {
	traced "$(prog execs)" cloexec >x.out 2>x.err
	assert_empty x.err
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	ino=$(fact x.out listen ino)
	fd=$(fact x.out listen fd)
	ends_once "$ino"
	assert_field "$END" .call exec
	assert_field "$END" .fd "$fd"
	assert_field "$END" .state_before LISTEN
	assert_field "$END" .state CLOSE
	pid=$(get "$END" .pid)
	assert_eq "$(jq -r "select(.call==\"start\" and .pid==$pid) | .exe" "$TRACE" | tr '\n' ' ')" \
		"$TESTPROGS/execs $(readlink -f /bin/true) " "the two images of pid $pid"
	e=$(jq -c "select(.call==\"start\" and .pid==$pid)" "$TRACE" | tail -n 1)
	assert_field "$e" '.inherited | length' 0
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
	rule_holds no-leaks
	view lifecycle
	view_line "^pid=$pid fd=$fd tcp .* listen exec$"
}

@test "exec: execve() of a missing program: the failed call keeps the socket, which is still tracked to its close" {
	traced "$(prog execs)" missing >x.out 2>x.err
	assert_empty x.err
	assert_valid_jsonl
	assert_seq_ok
	ino=$(fact x.out listen ino)
	fd=$(fact x.out listen fd)
	assert_eq "$(fact x.out exec errno)" ENOENT "execve's errno"
	assert_eq "$(fact x.out exec kept)" 1 "the listener after the failed exec"
	e=$(one '.call=="execve"')
	assert_field "$e" .ret -1
	assert_field "$e" .errno ENOENT
	assert_field "$e" .kept "[
  $fd
]"
	# the exec event announced the close the failed exec did not make; the
	# program's own close is the end, after the failed call
	x=$(one ".call==\"exec\" and .inode==$ino")
	[[ $(get "$x" .seq) -lt $(get "$e" .seq) ]]
	c=$(one ".call==\"close\" and .inode==$ino")
	assert_field "$c" .fd "$fd"
	assert_field "$c" .last true
	assert_field "$c" .state_before LISTEN
	assert_field "$c" .state CLOSE
	[[ $(get "$c" .seq) -gt $(get "$e" .seq) ]]
	assert_count 0 ".inode==$ino and .seq>$(get "$c" .seq)"
	assert_field "$(one '.call=="exit"')" .open 0
	rule_holds no-leaks
	view lifecycle
	view_line "^pid=[0-9]+ fd=$fd tcp .* listen exec close$"
}

@test "exec: posix_spawn() while the parent holds the connection: the parent's close of it is shared, the child holds it" {
	traced "$(prog execs)" spawn >x.out 2>x.err
	assert_empty x.err
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	ino=$(fact x.out accept ino)
	child=$(fact x.out spawned pid)
	assert_eq "$(fact x.out reaped status)" 0 "sh's exit status"
	assert_eq "$(fact x.out peer eof)" 1 "the client saw EOF once sh exited"
	e=$(one '.call=="posix_spawn"')
	assert_field "$e" .child "$child"
	parent=$(get "$e" .pid)
	e=$(one ".call==\"close\" and .pid==$parent and .inode==$ino")
	assert_field "$e" .shared true
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state ESTABLISHED
	e=$(one ".call==\"start\" and .pid==$child")
	assert_field "$e" "[.inherited[] | select(.inode==$ino)] | length" 1
	rule_holds no-leaks
}

@test "exec: posix_spawn(): the connection the child inherited is one socket, and the parent's close is not its teardown" {
	traced "$(prog execs)" spawn >x.out 2>x.err
	view lifecycle
	n=$(grep -c -- "tcp 127.0.0.1:$(fact x.out listen port) -> $(fact x.out client local)" <<<"$VIEW" || true)
	assert_eq "$n" 1 "lifecycle lines of the connection"
	no_false_teardown
	# the server end's FIN came from sh's exit, not from the parent's close
	if grep -E 'server close\(\).*\[active close\]' <<<"$VIEW"; then
		echo "the parent's close drawn as the active close:" >&2
		echo "$VIEW" >&2
		false
	fi
}

@test "exec: python subprocess with pass_fds while the parent holds the connection: the parent's close is not the teardown" {
	traced "$PYTHON3" -c 'import os, socket, subprocess
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
print("accept fd=%d ino=%d" % (s.fileno(), os.fstat(s.fileno()).st_ino), flush=True)
print("client local=%s:%d" % c.getsockname(), flush=True)
p = subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE, pass_fds=[s.fileno()])
print("spawned pid=%d" % p.pid, flush=True)
s.close()
p.stdin.write(b"\n")
p.stdin.close()
print("reaped status=%d" % p.wait(), flush=True)
print("peer eof=%d" % (c.recv(10) == b""), flush=True)
c.close()
l.close()' >x.out 2>x.err
	assert_empty x.err
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	ino=$(fact x.out accept ino)
	child=$(fact x.out spawned pid)
	assert_eq "$(fact x.out reaped status)" 0 "sh's exit status"
	assert_eq "$(fact x.out peer eof)" 1 "the client saw EOF once sh exited"
	e=$(one ".call==\"close\" and .inode==$ino and .pid!=$child")
	assert_field "$e" .shared true
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state ESTABLISHED
	e=$(one ".call==\"start\" and .pid==$child")
	assert_field "$e" "[.inherited[] | select(.inode==$ino)] | length" 1
	rule_holds no-leaks
	view lifecycle
	n=$(grep -c -- "-> $(fact x.out client local) " <<<"$VIEW" || true)
	assert_eq "$n" 1 "lifecycle lines of the connection"
	no_false_teardown
}

@test "exec: popen() while the parent holds the connection: the parent's close of it is shared, ESTABLISHED as the client saw" {
	traced "$(prog execs)" popen >x.out 2>x.err
	assert_empty x.err
	assert_valid_jsonl
	assert_seq_ok
	ino=$(fact x.out accept ino)
	# the shell popen() started holds the connection: no FIN yet
	assert_eq "$(fact x.out handed state)" ESTABLISHED "the client's state after the parent's close"
	assert_eq "$(fact x.out peer eof)" 1 "the client saw EOF once the shell exited"
	e=$(one ".call==\"close\" and .inode==$ino and .fd==$(fact x.out accept fd)")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state ESTABLISHED
	assert_field "$e" .shared true
	no_false_teardown
	view timeline
	if grep -E 'server close\(\).*\[active close\]' <<<"$VIEW"; then
		echo "the parent's close drawn as the active close:" >&2
		echo "$VIEW" >&2
		false
	fi
}

@test "exec: a child that execs an untraced program (no LD_PRELOAD) is not blamed for what that program did" {
	traced "$(prog execs)" untraced >x.out 2>x.err
	assert_empty x.err
	assert_valid_jsonl
	child=$(fact x.out spawned pid)
	assert_eq "$(fact x.out reaped status)" 0 "the untraced shell's exit status"
	# the untraced shell closed the listener itself (exec N>&-): the trace
	# cannot know, and must not say the child leaked it, nor that it held it
	# open: its fate is unknown, and said so
	rule_holds no-leaks
	view lifecycle
	view_line "^pid=[0-9]+ fd=$(fact x.out listen fd) tcp .* close .*\(held by an untraced program at its end@$child\)$"
	view_lacks "(open at exit"
}

@test "exec: a listener made and bound by one image and inherited across exec by the next: every format and check name the image that made it, not the one after the exec" {
	cat >maker.py <<'PY'
# maker: binds a listener (no SO_REUSEADDR), keeps it across exec
import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(4)
os.set_inheritable(l.fileno(), True)
print("listen port=%d fd=%d pid=%d" % (l.getsockname()[1], l.fileno(), os.getpid()), flush=True)
os.execv(sys.executable, [sys.executable, sys.argv[1], str(l.fileno())])
PY
	cat >server.py <<'PY'
# server: serves one connection on the listener it inherited, exits holding it
import os, socket, sys
l = socket.socket(fileno=int(sys.argv[1]))
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
a.close()
c.close()
print("served pid=%d" % os.getpid(), flush=True)
os._exit(0)
PY
	traced "$PYTHON3" maker.py server.py >m.out 2>m.err
	assert_empty m.err
	assert_valid_jsonl
	assert_seq_ok
	pid=$(fact m.out listen pid)
	fd=$(fact m.out listen fd)
	port=$(fact m.out listen port)
	assert_eq "$(fact m.out served pid)" "$pid" "the server's pid (exec in place)"
	assert_count 2 ".call==\"start\" and .pid==$pid"
	# the listener was made by the first image; the second's start lists it
	e=$(one ".call==\"listen\" and .pid==$pid")
	ino=$(get "$e" .inode)
	one ".call==\"socket\" and .inode==$ino" >/dev/null
	before=$(jq -s "(map(select(.call==\"socket\" and .inode==$ino))[0].ts) < (map(select(.call==\"start\" and .pid==$pid)) | last | .ts)" "$TRACE")
	assert_eq "$before" true "the socket call before the second image's start"
	e=$(jq -c "select(.call==\"start\" and .pid==$pid)" "$TRACE" | tail -n 1)
	assert_eq "$(jq -r ".inherited[] | select(.fd==$fd) | .inode" <<<"$e")" "$ino" "the listener in the second image's start"
	maker="python3 maker.py server.py"
	server="python3 server.py $fd"
	# timeline: the listener's block names its maker
	view timeline
	view_line "^listener .*pid $pid fd $fd \\($maker\\)"
	view_lacks "pid $pid fd $fd ($server)"
	# the process itself ran both programs: its line names both, in order
	view_line "^process $pid \\($maker -> $server\\) "
	# check: the listener without SO_REUSEADDR was bound by the maker (the
	# second image, handed it at its start, held it to its exit: no leak)
	rule_fails reuseaddr "reuseaddr: pid $pid ($maker): tcp 127.0.0.1:$port *"
	rule_holds no-leaks
	# connections: the accepted end is the second image's, the client's too
	view connections
	view_has "\"comm\":\"$server\""
	view_lacks "\"comm\":\"$maker\""
	# the process's lifeline and track: both programs, in order
	view mermaid
	view_has "participant P1 as $maker -#62; $server (pid $pid)"
	view chrome
	assert_eq "$(jq -r ".traceEvents[] | select(.name==\"process_name\" and .pid==$pid) | .args.name" <<<"$VIEW")" \
		"$maker -> $server (pid $pid)" "the chrome process track"
}
