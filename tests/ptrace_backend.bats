#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The runner's ptrace back end: static programs (tcp_server_static,
# tcp_client_static) are traced with ptrace and a seccomp filter, with the
# same records as the shim gives for the dynamic build of the same program;
# children followed; exit status, signals and deaths passed through.

load helpers
bats_require_minimum_version 1.5.0

# The Go program (tests/progs/go/gotcp.go), built once for the file when Go
# is installed (quickstart installs golang-go); its tests skip without it.
setup_file() {
	export GOTCP= GOBUILD=$BATS_FILE_TMPDIR/gobuild.log
	if command -v go >/dev/null; then
		GOTCP=$BATS_FILE_TMPDIR/gotcp
		GOCACHE=$BATS_FILE_TMPDIR/gocache GOPATH=$BATS_FILE_TMPDIR/gopath GO111MODULE=off \
			go build -o "$GOTCP" "$top_srcdir/tests/progs/go/gotcp.go" >"$GOBUILD" 2>&1 || true
	fi
}

# need_go: skip without Go; fail, with go build's output, when it did not build
need_go() {
	[[ -n $GOTCP ]] || skip "no Go compiler (golang-go)"
	[[ -x $GOTCP ]] || { echo "go build failed:"; cat "$GOBUILD"; false; }
}

setup() {
	st_setup
	[[ -x $TESTPROGS/tcp_server_static ]] || skip "no static test programs"
	[[ $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0) -lt 3 ]] || skip "ptrace is off here (Yama scope 3)"
}

# pair SUFFIX "SERVER ARGS" "CLIENT ARGS" [RUNNER OPTIONS]: tcp_server$SUFFIX
# and tcp_client$SUFFIX, each under the runner, into srv$SUFFIX.jsonl and
# cli$SUFFIX.jsonl.  Sets PORT.
pair() {
	local sfx=$1 sargs=$2 cargs=$3 opts=${4:-}
	# shellcheck disable=SC2086
	bg_start "srv$sfx" "$SOCKTRACE" $opts -o "srv$sfx.jsonl" -- "$(prog "tcp_server$sfx")" $sargs
	wait_line "srv$sfx" '^listen ' >/dev/null
	PORT=$(fact "srv$sfx.out" listen port)
	# shellcheck disable=SC2086
	"$SOCKTRACE" $opts -o "cli$sfx.jsonl" -- "$(prog "tcp_client$sfx")" -p "$PORT" $cargs \
		>"cli$sfx.out" 2>"cli$sfx.err"
	bg_wait "srv$sfx"
}

# calls TRACE: each call event's facts that do not vary between runs:
# call, descriptors, result, family, protocol, states, options, whether the
# tuple's ports are the server's (SP) or another (EP); one line each
calls() {
	jq -r --arg sp "$PORT" 'select(.call != "start" and .call != "exit" and .call != "end")
		| def ep: if . == null then "-" else sub(":" + $sp + "$"; ":SP") | sub(":[0-9]+$"; ":EP") end;
		[.call, .fd, .listen_fd, .ret, .errno, .family, .proto, (.addr|ep), (.local|ep), (.remote|ep),
		 .state_before, .state, (.opts|tostring), .last, .reset, .shared] | map(tostring) | join(" ")' "$1"
}

@test "static server and client: auto-selected ptrace back end, the same calls, tuples and states as the shim on the dynamic build" {
	pair "" "-r -n 2" "-n 2" "--backend=shim"
	calls srv.jsonl >shim_srv
	calls cli.jsonl >shim_cli
	pair _static "-r -n 2" "-n 2"
	calls srv_static.jsonl >pt_srv
	calls cli_static.jsonl >pt_cli
	diff -u shim_srv pt_srv
	diff -u shim_cli pt_cli
	[ "$(wc -l <pt_srv)" -ge 8 ]
	# only the start event tells the back ends apart
	assert_field "$(one '.call=="start"' srv_static.jsonl)" .backend ptrace
	assert_field "$(one '.call=="start"' srv.jsonl)" .backend null
	assert_count 0 'has("backend") and .call!="start"' srv_static.jsonl
	# and show reads both the same way
	"$SOCKTRACE" show -f lifecycle srv.jsonl cli.jsonl | sed -E 's/pid=[0-9]+//; s/:[0-9]+/:P/g' | sort >shim_lc
	"$SOCKTRACE" show -f lifecycle srv_static.jsonl cli_static.jsonl | sed -E 's/pid=[0-9]+//; s/:[0-9]+/:P/g' | sort >pt_lc
	diff -u shim_lc pt_lc
	"$SOCKTRACE" check --rule no-leaks --rule reuseaddr --rule handshakes srv_static.jsonl cli_static.jsonl
}

@test "--backend=ptrace on a dynamic program, and the server closing first, as the shim records it" {
	pair "" "-n 1 -c server" "-c server" "--backend=shim"
	calls srv.jsonl >shim_srv
	calls cli.jsonl >shim_cli
	pair "" "-n 1 -c server" "-c server" "--backend=ptrace"
	calls srv.jsonl >pt_srv
	calls cli.jsonl >pt_cli
	diff -u shim_srv pt_srv
	diff -u shim_cli pt_cli
	assert_field "$(one '.call=="start"' srv.jsonl)" .backend ptrace
}

@test "the last close's reset (SO_LINGER 0) decided by the one rule the shim uses: same reset, reason and state" {
	pair "" "-n 1 -L -c server" "-c server" "--backend=shim"
	calls srv.jsonl >shim_srv
	calls cli.jsonl >shim_cli
	pair _static "-n 1 -L -c server" "-c server"
	calls srv_static.jsonl >pt_srv
	calls cli_static.jsonl >pt_cli
	diff -u shim_srv pt_srv
	diff -u shim_cli pt_cli
	afd=$(fact srv_static.out accept fd)
	e=$(one ".call==\"close\" and .fd==$afd" srv_static.jsonl)
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .reset true
	assert_field "$e" .reset_reason "SO_LINGER 0"
	assert_field "$e" .state CLOSE
}

@test "EADDRINUSE over TIME_WAIT left by a static server: the holder's timer is the kernel's, and the hint says how long to wait" {
	"$SOCKTRACE" -o first.jsonl -- "$(prog tcp_server_static)" -n 1 -c server >srv.out 2>&1 &
	local srv=$!
	wait_until 30 grep -q '^listen ' srv.out
	PORT=$(fact srv.out listen port)
	"$(prog tcp_client)" -p "$PORT" -n 1 -c server >/dev/null
	wait "$srv"
	run "$SOCKTRACE" -o again.jsonl -- "$(prog tcp_server_static)" -p "$PORT" -n 1
	[ "$status" -eq 1 ]
	e=$(one '.call=="bind"' again.jsonl)
	assert_field "$e" '.holders[0].state' TIME_WAIT
	# the time left on its timer, from /proc/net/tcp's tm->when (the
	# kernel's TIME_WAIT is 60 s; the restart came within a few seconds)
	left=$(get "$e" '.holders[0].timer_ms')
	[[ $left -gt 45000 && $left -le 60000 ]] || { echo "timer_ms $left not in (45000, 60000]" >&2; false; }
	run "$SOCKTRACE" show again.jsonl
	[[ $output == *"hint: "*"TIME_WAIT"* ]]
	[[ $output != *"wait 0s"* ]] || { echo "$output" >&2; false; }
	[[ $output =~ wait\ (4[5-9]|5[0-9]|60)s\ for\ them\ to\ expire ]] || { echo "$output" >&2; false; }
}

@test "EADDRINUSE: the failed bind of a static server recorded as the shim records it, explained by show" {
	bg_start holder "$(prog tcp_server)" -n 1
	wait_line holder '^listen ' >/dev/null
	PORT=$(fact holder.out listen port)
	run "$SOCKTRACE" --backend=shim -o shim.jsonl -- "$(prog tcp_server)" -p "$PORT" -n 1
	[ "$status" -eq 1 ]
	run "$SOCKTRACE" -o pt.jsonl -- "$(prog tcp_server_static)" -p "$PORT" -n 1
	[ "$status" -eq 1 ]
	[[ $output == *"bind fd="*" ret=-1 errno=EADDRINUSE"* ]]
	e=$(one '.call=="bind"' pt.jsonl)
	assert_field "$e" .errno EADDRINUSE
	assert_field "$e" .addr "127.0.0.1:$PORT"
	assert_field "$e" .opts.SO_REUSEADDR false
	calls shim.jsonl >shim_calls
	calls pt.jsonl >pt_calls
	diff -u shim_calls pt_calls
	# the holder: the listening server, in LISTEN
	assert_field "$e" '.holders[0].local' "127.0.0.1:$PORT"
	assert_field "$e" '.holders[0].state' LISTEN
	run "$SOCKTRACE" show pt.jsonl
	[[ $output == *"EADDRINUSE"* ]]
	[[ $output == *"127.0.0.1:$PORT is held by"*LISTEN* ]]
	"$(prog tcp_client)" -p "$PORT" >/dev/null
	bg_wait holder
}

@test "a forked child is followed: its start, the connection it serves, its end; the parent's copy is not the end" {
	pair _static "-F -n 1 -c server" "-c server"
	spid=$(fact srv_static.out listen pid)
	child=$(jq -c "select(.call==\"start\" and .ppid==$spid)" srv_static.jsonl)
	[ -n "$child" ]
	cpid=$(get "$child" .pid)
	assert_field "$child" .backend ptrace
	afd=$(fact srv_static.out accept fd)
	# the parent's close of its copy: the child still holds it
	e=$(one ".pid==$spid and .call==\"close\" and .fd==$afd" srv_static.jsonl)
	assert_field "$e" .state ESTABLISHED
	# the child's close is the active close
	e=$(one ".pid==$cpid and .call==\"close\" and .fd==$afd" srv_static.jsonl)
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$(one ".pid==$cpid and .call==\"end\"" srv_static.jsonl)" .status 0
	assert_seq_ok srv_static.jsonl
}

@test "exit status passed through: a refused connect, exit 1, recorded" {
	PORT=$(free_port)
	run "$SOCKTRACE" -o pt.jsonl -- "$(prog tcp_client_static)" -p "$PORT"
	[ "$status" -eq 1 ]
	e=$(one '.call=="connect"' pt.jsonl)
	assert_field "$e" .errno ECONNREFUSED
	assert_field "$e" .addr "127.0.0.1:$PORT"
	assert_field "$(one '.call=="end"' pt.jsonl)" .status 1
}

@test "signals: a stop stays a stop, SIGTERM to the runner reaches the program, whose death is the runner's" {
	bg_start srv "$SOCKTRACE" -o pt.jsonl -- "$(prog tcp_server_static)" -n 1
	wait_line srv '^listen ' >/dev/null
	PORT=$(fact srv.out listen port)
	spid=$(fact srv.out listen pid)
	# a group-stop: the program is stopped, as bare, until SIGCONT
	kill -STOP "$spid"
	wait_until 5 grep -Eq '^State:.*(T \(stopped\)|t \(tracing stop\))' "/proc/$spid/status"
	kill -CONT "$spid"
	wait_until 5 grep -Eq '^State:.*(S|R) ' "/proc/$spid/status"
	kill -TERM "${BG[srv]}"
	bg_wait srv || true
	[ "$BG_STATUS" -eq 143 ]
	e=$(one ".call==\"end\" and .pid==$spid" pt.jsonl)
	assert_field "$e" .signal SIGTERM
}

@test "Go: a Go server and client, auto-selected, with the handshake, the states and the teardown" {
	need_go
	bg_start srv "$SOCKTRACE" -o srv.jsonl -- "$GOTCP" server -n 1
	wait_line srv '^listen ' >/dev/null
	PORT=$(fact srv.out listen port)
	"$SOCKTRACE" -o cli.jsonl -- "$GOTCP" client -p "$PORT" >cli.out
	bg_wait srv
	assert_field "$(one '.call=="start"' srv.jsonl)" .backend ptrace
	# the server: socket, SO_REUSEADDR, bind, listen, accept4, closes
	e=$(one '.call=="listen"' srv.jsonl)
	assert_field "$e" .local "127.0.0.1:$PORT"
	assert_field "$e" .state LISTEN
	assert_field "$e" .opts.SO_REUSEADDR true
	e=$(one '.call=="accept4" and .ret>=0' srv.jsonl)
	assert_field "$e" .state ESTABLISHED
	afd=$(get "$e" .fd)
	e=$(one ".call==\"close\" and .fd==$afd" srv.jsonl)
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	# the client: a non-blocking connect, its end seen at getsockopt(SO_ERROR)
	e=$(one '.call=="connect"' cli.jsonl)
	assert_field "$e" .errno EINPROGRESS
	assert_field "$e" .state SYN_SENT
	e=$(one '.call=="getsockopt"' cli.jsonl)
	assert_field "$e" .so_error 0
	assert_field "$e" .connect_done ESTABLISHED
	e=$(one '.call=="close"' cli.jsonl)
	assert_field "$e" .state FIN_WAIT1
	run "$SOCKTRACE" show -f timeline srv.jsonl cli.jsonl
	[[ $output == *"client closed first"* ]]
	"$SOCKTRACE" check --rule no-leaks --rule handshakes srv.jsonl cli.jsonl
}

@test "Go: EADDRINUSE on a port a Go server holds, explained" {
	need_go
	bg_start holder "$GOTCP" server -n 1
	wait_line holder '^listen ' >/dev/null
	PORT=$(fact holder.out listen port)
	hpid=$(fact holder.out listen pid)
	run "$SOCKTRACE" -o pt.jsonl -- "$GOTCP" server -p "$PORT"
	[ "$status" -eq 1 ]
	e=$(one '.call=="bind"' pt.jsonl)
	assert_field "$e" .errno EADDRINUSE
	assert_field "$e" '.holders[0].state' LISTEN
	assert_field "$e" '.holders[0].pid' "$hpid"
	assert_field "$e" .reuse_verdict.SO_REUSEADDR false
	"$GOTCP" client -p "$PORT" >/dev/null
	bg_wait holder
}

@test "ptrace refused: under strace -f the program is already traced; one clear line, exit 2, the program never runs" {
	command -v strace >/dev/null || skip "no strace"
	PORT=$(free_port)
	# (LeakSanitizer stops threads with ptrace, which a traced process cannot:
	# off for this one run of a sanitizer build)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run strace -f -o strace.log "$SOCKTRACE" --backend=ptrace -o pt.jsonl -- "$(prog tcp_client_static)" -p "$PORT"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "socktrace: the ptrace back end cannot trace "*"tcp_client_static: process "*" already traces it, and a process has one tracer" ]]
	# the program did not run: no connect reached the kernel
	[ "$(grep -c 'connect(' strace.log)" -eq 0 ]
	grep -q 'execve(' strace.log
	[ ! -s pt.jsonl ]
	# the same program and runner, not traced: it runs and is recorded
	run "$SOCKTRACE" --backend=ptrace -o pt.jsonl -- "$(prog tcp_client_static)" -p "$PORT"
	[ "$status" -eq 1 ]
	assert_field "$(one '.call=="connect"' pt.jsonl)" .errno ECONNREFUSED
}

@test "a call cut short by a signal: EINTR (no SA_RESTART) recorded with its errno, a restarted one (SA_RESTART) once, as the shim records them" {
	for mode in eintr restart; do
		"$SOCKTRACE" --backend=shim -o "shim_$mode.jsonl" -- "$(prog connects)" "$mode" >"shim_$mode.out"
		"$SOCKTRACE" --backend=ptrace -o "pt_$mode.jsonl" -- "$(prog connects)" "$mode" >"pt_$mode.out"
		PORT=$(fact "shim_$mode.out" listen port)
		calls "shim_$mode.jsonl" | sed "s/:$PORT\b/:SP/g" >"shim_$mode"
		PORT=$(fact "pt_$mode.out" listen port)
		calls "pt_$mode.jsonl" | sed "s/:$PORT\b/:SP/g" >"pt_$mode"
		# (restart: two threads, whose calls interleave as they come)
		diff -u <(sort "shim_$mode") <(sort "pt_$mode")
	done
	diff -u shim_eintr pt_eintr
	e=$(one '.call=="connect" and .ret==-1' pt_eintr.jsonl)
	assert_field "$e" .errno EINTR
	assert_field "$e" .state SYN_SENT
	assert_eq "$(fact pt_eintr.out connect errno)" EINTR "connect's errno"
	# the restarted accept: one event, its time from the first entry (the
	# alarm came at 100 ms, the connection at 300 ms)
	assert_eq "$(fact pt_restart.out accepted handled)" 1 "handled alarms"
	assert_count 1 '.call=="accept"' pt_restart.jsonl
	assert_count 0 '.errno=="EINTR"' pt_restart.jsonl
	e=$(one '.call=="accept"' pt_restart.jsonl)
	[ "$(get "$e" .dur_ns)" -ge 150000000 ]
}

@test "SIGKILL of the runner: what it loses is a short queue (at most 32 events), even when the tracees never leave it idle" {
	# 16 processes closing sockets without a pause: each line of their
	# output is a close done, whose event the runner had queued
	"$SOCKTRACE" --backend=ptrace -o loop.jsonl -- "$(prog sockloop)" -P 16 >loop.out 2>loop.err &
	runner=$!
	wait_until 10 grep -q '^ready ' loop.out
	wait_until 20 sh -c '[ "$(grep -c "^closed " loop.out)" -ge 2000 ]'
	kill -KILL "$runner"
	wait "$runner" || true
	# the tracees die with the runner (PTRACE_O_EXITKILL)
	wait_until 10 sh -c 'a=$(wc -l <loop.out); sleep 0.3; [ "$(wc -l <loop.out)" -eq "$a" ]'
	done_=$(grep -c '^closed ' loop.out)
	recorded=$(grep -c '"call":"close"' loop.jsonl)
	echo "closes done $done_, recorded $recorded" >&2
	# (a close is recorded at its seccomp stop, before its line)
	[ "$recorded" -le $((done_ + 16)) ]
	# 32 queued, and each process's close made while the runner flushed
	[ $((done_ - recorded)) -le 48 ]
}

# inherit BACKEND PROG TRACE: runs PROG under the runner with a listening
# TCP socket inherited at descriptor 3 and a listening unix one (inh.sock)
# at descriptor 4 (from python3, as a socket-activating parent passes them)
inherit() {
	python3 - "$SOCKTRACE" "$1" "$2" "$3" <<'PY'
import os, socket, subprocess, sys
st, backend, prog, trace = sys.argv[1:]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
os.dup2(s.fileno(), 3)
u = socket.socket(socket.AF_UNIX)
u.bind("inh.sock")
u.listen()
os.dup2(u.fileno(), 4)
subprocess.run([st, "--backend=" + backend, "-o", trace, "--", prog, "-p", "1"], pass_fds=[3, 4],
               stdout=subprocess.DEVNULL)
os.unlink("inh.sock")
print(s.getsockname()[1])
PY
}

@test "start and exit as the shim writes them: the inherited sockets of a new image, the lingering connections at exit" {
	# an inherited listener: listed at the start, with its state
	lport=$(inherit shim "$(prog tcp_client)" shim_inh.jsonl)
	jq -c 'select(.call=="start") | .inherited | map(del(.inode))' shim_inh.jsonl | sed "s/:$lport\b/:LP/g" >shim_inh
	lport=$(inherit ptrace "$(prog tcp_client_static)" pt_inh.jsonl)
	jq -c 'select(.call=="start") | .inherited | map(del(.inode))' pt_inh.jsonl | sed "s/:$lport\b/:LP/g" >pt_inh
	diff -u shim_inh pt_inh
	grep -q '"fd":3,"family":"AF_INET","type":"SOCK_STREAM","proto":"tcp","local":"127.0.0.1:LP","state":"LISTEN","listening":true' pt_inh
	# a unix listener has no TCP state: SO_ACCEPTCONN says it listens
	grep -q '"fd":4,"family":"AF_UNIX","type":"SOCK_STREAM","local":"inh.sock","listening":true}' pt_inh
	# none inherited: an empty list, not an absent one
	pair _static "-n 1" ""
	assert_field "$(one '.call=="start"' cli_static.jsonl)" '.inherited|length' 0
	# the client closed first: its exit lists the connection, in
	# FIN_WAIT1/2 or TIME_WAIT, as ss sees it, and counts TIME_WAIT
	c=$(one '.call=="close"' cli_static.jsonl)
	e=$(one '.call=="exit"' cli_static.jsonl)
	assert_field "$e" '.lingering|length' 1
	assert_field "$e" '.lingering[0].local' "$(get "$c" .local)"
	assert_field "$e" '.lingering[0].remote' "$(get "$c" .remote)"
	[[ $(get "$e" '.lingering[0].state') =~ ^(FIN_WAIT1|FIN_WAIT2|TIME_WAIT)$ ]]
	[ "$(get "$e" .time_wait)" -eq "$(get "$e" '[.lingering[]|select(.state=="TIME_WAIT")]|length')" ]
	ss -Htan state time-wait src "$(get "$c" .local)" dst "$(get "$c" .remote)" | grep -q .
	# a process that closed no connection: an empty list, the kernel not asked
	PORT=$(free_port)
	run "$SOCKTRACE" -o refused.jsonl -- "$(prog tcp_client_static)" -p "$PORT"
	assert_field "$(one '.call=="exit"' refused.jsonl)" '.lingering|length' 0
	assert_field "$(one '.call=="exit"' refused.jsonl)" .time_wait 0
}

@test "exec: the close-on-exec sockets an exec closes are exec events, and a failed exec keeps them, as the shim records it" {
	for mode in cloexec missing; do
		for b in shim ptrace; do
			"$SOCKTRACE" --backend=$b -o "$b.jsonl" -- "$(prog execs)" "$mode" >"$b.out"
			jq -c '[.call, .fd, .ret, .errno, .state_before, .state, .last, .shared, .kept, .exe, (.inherited|length)]' "$b.jsonl" >"$b.$mode"
		done
		diff -u "shim.$mode" "ptrace.$mode"
	done
	# the exec of /bin/true ended the listener; the new image starts after it
	e=$(one '.call=="exec"' ptrace.jsonl)
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE
	e=$(one '.call=="execve"' ptrace.jsonl)
	assert_field "$e" .errno ENOENT
	assert_field "$e" '.kept|tostring' "[$(get "$(one '.call=="listen"' ptrace.jsonl)" .fd)]"
	assert_field "$e" .exe /nonexistent/socktrace-no-such-program
	# the runner's own child before its exec of the program is no process
	# of the trace
	assert_count 1 '.call=="start"' ptrace.jsonl
	"$SOCKTRACE" check --rule no-leaks ptrace.jsonl
}

@test "EADDRINUSE verdicts by the kernel's rules, as the shim gives them: a restart over TIME_WAIT (each option pair) and a second listener in the same process" {
	need_tw_room
	for args in "restart 0 0" "restart 0 1" "restart 1 0" "second 0"; do
		for b in shim ptrace; do
			# shellcheck disable=SC2086
			"$SOCKTRACE" --backend=$b -o "$b.jsonl" -- "$PYTHON3" "$top_srcdir/tests/scripts/kernelview.py" $args >"$b.out"
			jq -c 'select(.call=="bind" and .errno=="EADDRINUSE") | [.reuse_verdict, [.holders[] | .state, (.pid != null)]]' \
				"$b.jsonl" >"$b.v"
		done
		echo "$args: $(cat ptrace.v)" >&2
		[ -s ptrace.v ]
		diff -u shim.v ptrace.v
	done
	# the last one: the holder is the process's own listener, with its pid and name
	e=$(one '.call=="bind" and .errno=="EADDRINUSE"' ptrace.jsonl)
	assert_field "$e" '.holders[0].pid' "$(fact ptrace.out second pid)"
	assert_field "$e" '.holders[0].comm' "$(fact ptrace.out comm name)"
	assert_field "$e" .reuse_verdict.SO_REUSEADDR false
	assert_field "$e" .reuse_verdict.SO_REUSEPORT false
	# a holder bound and not listening is not in /proc/net/tcp: unknown,
	# never a "yes" the table cannot back
	cat >bound.py <<'PY'
import socket
a = socket.socket()
a.bind(("127.0.0.1", 0))
b = socket.socket()
try:
    b.bind(a.getsockname())
except OSError as e:
    print("errno", e.errno)
PY
	"$SOCKTRACE" --backend=ptrace -o bound.jsonl -- "$PYTHON3" bound.py >bound.out
	grep -q '^errno 98$' bound.out
	e=$(one '.call=="bind" and .errno=="EADDRINUSE"' bound.jsonl)
	assert_field "$e" .reuse_verdict.SO_REUSEADDR null
	assert_field "$e" .reuse_verdict.SO_REUSEPORT null
	[[ $(get "$e" .holders_incomplete) == *"not in /proc/net/tcp"* ]]
}

@test "aliases and bulk closes as the shim records them: dup, dup2 over a socket (its close first), dup3, fcntl, close_range (one event per socket, with its facts)" {
	for mode in dup dup2 dup2-over dup3 fcntl close_range; do
		for b in shim ptrace; do
			"$SOCKTRACE" --backend=$b -o "$b.jsonl" -- "$(prog dupfd)" "$mode" >"$b.out"
			jq -c 'select(.call!="start" and .call!="end" and .call!="exit")
				| [.seq, .call, .fd, .newfd, .ret, .state_before, .state, .opts, .last, .shared, .implicit_close, .range]' \
				"$b.jsonl" | sed -E 's/:[0-9]+/:P/g' >"$b.$mode"
		done
		diff -u "shim.$mode" "ptrace.$mode"
		assert_seq_ok ptrace.jsonl
	done
	# close_range: each socket of the range has its own event, its state before and after
	assert_count 3 '.call=="close_range"' ptrace.jsonl
	e=$(one '.call=="close_range" and .state_before=="LISTEN"' ptrace.jsonl)
	assert_field "$e" .state CLOSE
	assert_field "$e" .last true
}

@test "ptrace: --stack, --families and --probe, which it cannot honour, each get one warning, and the program runs" {
	run --separate-stderr "$SOCKTRACE" --backend=ptrace -o t.jsonl --stack=4 --families=inet --probe=close -- "$(prog tcp_client_static)" -p 1
	assert_eq "$(grep -c '^socktrace: --stack: the ptrace back end records no call stacks$' <<<"$stderr")" 1 "$stderr"
	assert_eq "$(grep -c '^socktrace: --families: the ptrace back end records every family$' <<<"$stderr")" 1 "$stderr"
	assert_eq "$(grep -c '^socktrace: --probe: the ptrace back end lists what lingers at each exit only, as --probe=exit (with close it asks each unix accept.s peer_inode, as the shim)$' <<<"$stderr")" 1 "$stderr"
	one '.call=="connect"' t.jsonl >/dev/null
	# the defaults say nothing
	run --separate-stderr "$SOCKTRACE" --backend=ptrace -o u.jsonl --families=all --probe=exit -- "$(prog tcp_client_static)" -p 1
	[[ $stderr != *"ptrace back end"* ]] || { echo "$stderr"; false; }
}

@test "Go: a traced shell that execs the Go program (not the runner's own program) says so: an untraced event, reason go or static, and check's note" {
	need_go
	local want=static
	readelf -lW "$GOTCP" 2>/dev/null | grep -q INTERP && want=go	# built with cgo: dynamically linked
	# no server: the client fails at once, in an image the shim cannot enter
	run "$SOCKTRACE" -o sh.jsonl -- sh -c 'exec "$0" client -p 1' "$GOTCP"
	assert_eq "$(jq -c 'select(.call == "untraced") | [.exe, .reason]' sh.jsonl)" "[\"$GOTCP\",\"$want\"]" "the untraced event"
	run "$SOCKTRACE" check sh.jsonl
	[[ $output == *"note: untraced: pid "*"exec'd $GOTCP, an image the shim cannot enter ($want)"* ]] || { echo "$output" >&2; false; }
}
