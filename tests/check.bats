#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# socktrace check: CI assertions over real traced runs.  Each rule passes
# a run that keeps it and fails (exit 1, one line per violation, in words
# a person can act on) a run that breaks it; bad usage and input exit 2.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	st_setup
	need_tw_room
}

KV() { traced "$PYTHON3" "$top_srcdir/tests/scripts/kernelview.py" "$@"; }

run_check() { # ARGS...: runs check, status in $status, stdout in $output
	run "$SOCKTRACE" check "$@"
}

@test "check no-leaks: a client that forgets close() on one path is reported once, with the function that made the socket" {
	SOCKTRACE_STACK=6 traced "$(prog leaky)" >out
	run_check --rule no-leaks "$TRACE"
	assert_eq "$status" 1 "exit status"
	assert_eq "${#lines[@]}" 1 "violation lines"
	[[ ${lines[0]} == "no-leaks: pid "*" (leaky): tcp 127.0.0.1:"*" -> 127.0.0.1:$(fact out listen port) (fd $(fact out leak fd)"* ]]
	# the place, by function and source line (leaky is built with -g)
	[[ ${lines[0]} == *"made by socket() at fetch_once"*" (leaky.c:"[0-9]*") <- main (leaky.c:"* ]]
	# the three, each by its descriptor and ends; the same process
	# each time, so no count of processes
	fds=$(awk '/^leak fd=/ { sub("fd=", "", $2); printf "%s%s", n++ ? " " : "", $2 }' out)
	shown=$(grep -o 'fd [0-9]* 127\.0\.0\.1:[0-9]* -> 127\.0\.0\.1:[0-9]*' <<<"${lines[0]#*leaked from the same place}" | awk '{ printf "%s%s", n++ ? " " : "", $2 }')
	assert_eq "$shown" "$fds" "the leaked descriptors named"
	[[ ${lines[0]} == *"was never closed before exit; 3 such sockets leaked from the same place: pid "* ]]
	[[ ${lines[0]} != *" processes of "* && ${lines[0]} != *" more" ]]
}

@test "check no-leaks: without stacks, the leaks are still grouped and the clean run passes" {
	traced "$(prog leaky)" >out
	run_check --rule no-leaks "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == *"made by socket() was never closed before exit; 3 such sockets leaked from the same place: pid "* ]]
	rm -f "$TRACE"
	traced "$(prog leaky)" -n 1 >out
	run_check --rule no-leaks "$TRACE"
	assert_eq "$status" 0 "a run without leaks: $output"
	[[ $output == "socktrace: check: 1 rule held over "*" events" ]]
}

@test "check reuseaddr: a server without SO_REUSEADDR fails, with it passes" {
	tcp_pair "-n 1" ""
	run_check --rule reuseaddr "$S"
	assert_eq "$status" 1
	[[ ${lines[0]} == "reuseaddr: pid "*": tcp 127.0.0.1:$PORT listens without SO_REUSEADDR"*"set SO_REUSEADDR before bind()" ]]
	tcp_pair "-r -n 1" ""
	run_check --rule reuseaddr "$S"
	assert_eq "$status" 0 "$output"
}

@test "check handshakes: a refused connect fails with its errno; a good connection passes" {
	traced "$(prog tconnect)" refused >out
	run_check --rule handshakes "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == "handshakes: pid "*": connect to 127.0.0.1:"*" failed with ECONNREFUSED (fd "* ]]
	tcp_pair "-r -n 1" ""
	run_check --rule handshakes "$C"
	assert_eq "$status" 0 "$output"
}

@test "check no-eaddrinuse: the failed restart is reported with its holder and the verdict" {
	KV restart 0 1 >kv.out
	PORT=$(fact kv.out conn port)
	run_check --rule no-eaddrinuse "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == "no-eaddrinuse: pid "*": bind("*", 127.0.0.1:$PORT) failed with EADDRINUSE; held by 127.0.0.1:$PORT -> 127.0.0.1:"*" TIME_WAIT; neither SO_REUSEADDR nor SO_REUSEPORT would have helped" ]]
}

@test "check no-resets and closed-by: a linger-0 close is a reset; the server closing first breaks closed-by=client" {
	tcp_pair "-r -n 1 -L -c server" "-c server"
	run_check --rule no-resets "$S"
	assert_eq "$status" 1
	[[ ${lines[0]} == "no-resets: pid "*": tcp 127.0.0.1:$PORT -> 127.0.0.1:"*" was closed with a reset (RST) instead of a FIN (SO_LINGER 0)"* ]]
	tcp_pair "-r -n 2 -c server" "-n 2 -c server"
	run_check --rule closed-by=client "$S" "$C"
	assert_eq "$status" 1
	# the same finding twice, one server: one line, both connections named
	assert_eq "${#lines[@]}" 1 "one line for the server's connections"
	[[ ${lines[0]} == "closed-by=client: connection 127.0.0.1:"*" -> 127.0.0.1:$PORT: the server closed first"*"; 2 such connections: pid "*" 127.0.0.1:"*" -> 127.0.0.1:$PORT, pid "*" 127.0.0.1:"*" -> 127.0.0.1:$PORT" ]]
	run_check --rule closed-by=server "$S" "$C"
	assert_eq "$status" 0 "$output"
}

@test "check max-time-wait and max-open count what the kernel and the trace show" {
	KV timewait >kv.out
	run_check --rule max-time-wait=0 "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == "max-time-wait=0: 1 closed connections in TIME_WAIT at exit (pid "*": 1), more than 0"* ]]
	run_check --rule max-time-wait=1 "$TRACE"
	assert_eq "$status" 0 "$output"
	rm -f "$TRACE"
	traced "$(prog leaky)" -n 6 >out
	run_check --rule max-open=2 "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == "max-open=2: pid "*" (leaky -n 6): 5 sockets open at once"* ]]
	run_check --rule max-open=5 "$TRACE"
	assert_eq "$status" 0 "$output"
}

@test "check --expect: a lifecycle pattern matches; a wrong one fails showing the closest lifecycles" {
	tcp_pair "-r -n 3" "-n 3"
	run_check --expect "tcp 127.0.0.1:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept+ close" "$S"
	assert_eq "$status" 0 "$output"
	run_check --expect "tcp *:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept×3 close" "$S"
	assert_eq "$status" 0 "$output"
	run_check --expect "tcp * -> *:$PORT socket connect shutdown? close" "$C"
	assert_eq "$status" 0 "$output"
	run_check --expect "tcp *:$PORT socket bind listen accept×3 close" "$S"
	assert_eq "$status" 1
	[[ ${lines[0]} == "expect: tcp *:$PORT socket bind listen accept×3 close: no socket matches 'tcp *:$PORT socket bind listen accept×3 close'; closest: pid="*" tcp 127.0.0.1:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept"* ]]
}

@test "check --junit writes one testcase per rule; --format=github prints annotations" {
	SOCKTRACE_STACK=4 traced "$(prog leaky)" >out
	run_check --rule no-leaks --rule reuseaddr --junit report.xml --format=github "$TRACE"
	assert_eq "$status" 1
	# the annotation points at the line of leaky.c that made the sockets
	# one annotation for the three leaks, counted in its title
	[[ ${lines[0]} == "::error file="*"/tests/progs/leaky.c,line="[0-9]*",title=socktrace no-leaks (×3)::pid "* ]]
	line=$(sed -n 's/^::error file=[^,]*,line=\([0-9]*\),.*/\1/p' <<<"${lines[0]}")
	sed -n "${line}p" "$top_srcdir/tests/progs/leaky.c" | grep -q 'socket('
	assert_eq "${#lines[@]}" 1
	# as the runner's parser reads it (scripts/gh_annotations.py)
	assert_eq "$(printf '%s\n' "${lines[@]}" | "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/gh_annotations.py" |
		jq -c '.properties | [(.file | endswith("/tests/progs/leaky.c")), .line, .title]')" \
		"[true,\"$line\",\"socktrace no-leaks (×3)\"]"
	# relative to the checkout, as GitHub places files
	GITHUB_WORKSPACE=$(dirname "$(dirname "$(sed -n 's/^::error file=\([^,]*\),.*/\1/p' <<<"${lines[0]}")")") \
		run "$SOCKTRACE" check --rule no-leaks --format=github "$TRACE"
	[[ ${lines[0]} == "::error file=progs/leaky.c,line=$line,title=socktrace no-leaks (×3)::"* ]]
	grep -q '<testsuite name="socktrace check" tests="2" failures="1"' report.xml
	grep -q '<testcase classname="socktrace.check" name="reuseaddr" time="[0-9.]*"/>' report.xml
	grep -q '<failure type="violation" message="3 violations: pid ' report.xml
	if command -v xmllint >/dev/null; then xmllint --noout report.xml; fi
	"$PYTHON3" -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert len(r.findall(".//testcase")) == 2' report.xml
}

@test "check: usage and input errors exit 2 with a message" {
	tcp_pair "-r -n 1" ""
	run_check --rule no-such-rule "$S"
	assert_eq "$status" 2
	[[ $output == *"unknown rule 'no-such-rule'"* ]]
	run_check --rule max-open "$S"
	assert_eq "$status" 2
	[[ $output == *"rule max-open needs a count: max-open=N"* ]]
	run_check --rule closed-by=nobody "$S"
	assert_eq "$status" 2
	run_check --expect "" "$S"
	assert_eq "$status" 2
	[[ $output == *"bad pattern ''"* ]]
	run_check --expect "tcp * socket accept×0" "$S"
	assert_eq "$status" 2
	printf 'not json\n' >bad.jsonl
	run_check bad.jsonl
	assert_eq "$status" 2
	[[ $output == *"bad.jsonl:1:"* ]]
	: >empty.jsonl
	run_check empty.jsonl
	assert_eq "$status" 2
	run_check "$SCRATCH/missing.jsonl"
	assert_eq "$status" 2
}

@test "check: with no rule given, the default rules run; a clean client/server run passes them all" {
	tcp_pair "-r -n 2" "-n 2"
	run_check "$S" "$C"
	assert_eq "$status" 0 "$output"
	[[ $output == "socktrace: check: 5 rules held over "*" events" ]]
}

@test "check no-eaddrinuse: a verdict the trace cannot tell (another process's TIME_WAIT) is said to be unknown, never no" {
	tcp_pair "-n 1 -c server" "-n 1 -c server"
	# the first server is gone; its closed connection waits in TIME_WAIT
	SOCKTRACE_OUTPUT=$SCRATCH/again.jsonl traced "$(prog tcp_server)" -p "$PORT" -n 1 >/dev/null 2>&1 || true
	assert_eq "$(jq -c 'select(.call == "bind") | [.reuse_verdict.SO_REUSEADDR, .reuse_verdict.SO_REUSEPORT]' again.jsonl)" \
		'[null,null]' "the shim's verdict"
	run_check --rule no-eaddrinuse again.jsonl
	assert_eq "$status" 1
	[[ ${lines[0]} == "no-eaddrinuse: pid "*": bind("*", 127.0.0.1:$PORT) failed with EADDRINUSE; held by 127.0.0.1:$PORT -> 127.0.0.1:"*" TIME_WAIT; whether SO_REUSEADDR or SO_REUSEPORT would have helped is unknown (the holders' options are not visible to this process)" ]]
}

@test "check: events missing from the trace (a line a collector lost, events the shim dropped) are named in a note, --strict refuses the trace, and show says so" {
	traced "$(prog leaky)" -n 1 >out
	run_check --rule no-leaks "$TRACE"
	assert_eq "$status" 0 "the whole trace: $output"
	[[ $output != *incomplete* ]]
	run --separate-stderr "$SOCKTRACE" show -f summary "$TRACE"
	assert_empty "$stderr"
	# the listener's close lost on its way (as a lossy collector would
	# lose a line): the listener now reads as a leak, and check says the
	# verdict stands on a trace that lacks an event
	pid=$(jq -r 'select(.call=="close" and .state_before=="LISTEN") | .pid' "$TRACE" | head -1)
	seq=$(jq -r 'select(.call=="close" and .state_before=="LISTEN") | .seq' "$TRACE" | head -1)
	[[ -n $seq ]]
	last=$(jq -r "select(.pid==$pid) | .seq" "$TRACE" | sort -n | tail -1)
	jq -c "select(.seq != $seq or .pid != $pid)" "$TRACE" >lossy.jsonl
	run --separate-stderr "$SOCKTRACE" check --rule no-leaks lossy.jsonl
	assert_eq "$status" 1 "check on the lossy trace: $output"
	[[ $output == *"no-leaks: pid $pid (leaky -n 1): tcp 127.0.0.1:"* ]]
	[[ $output == *"note: incomplete: pid $pid (leaky -n 1) lacks at least 1 event between seq 1 and $last (numbers missing from seq): what they did is unknown, and a verdict on its sockets may be wrong"* ]]
	[[ $stderr == *"the trace lacks at least 1 event (numbers missing from seq, counted as dropped by the shim, or an exit event of a process that ended normally)"*"the first, pid $pid, lacks 1 between seq 1 and $last" ]]
	run --separate-stderr "$SOCKTRACE" check --strict --rule no-leaks lossy.jsonl
	assert_eq "$status" 2 "--strict on the lossy trace"
	[[ $stderr == *"socktrace: check: the trace lacks at least 1 event (--strict); nothing was checked" ]]
	for f in text summary timeline; do
		run --separate-stderr "$SOCKTRACE" show -f "$f" lossy.jsonl
		assert_eq "$status" 0
		[[ $stderr == *"the trace lacks at least 1 event "* ]] || { echo "show -f $f: $stderr" >&2; false; }
	done
}

@test "check: a child's exit event lost at the end of its file (a collector, a cut copy) is named as missing, and --strict refuses the trace" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	traced "$PYTHON3" -c 'import os, socket
pid = os.fork()
if pid == 0:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    os._exit(0)         # holding it: a leak
os.waitpid(pid, 0)' >out 2>err
	assert_empty err
	kid=$(jq -r 'select(.call == "fork") | .ret' "$TRACE" | head -1)
	[[ $(jq -r "select(.pid == $kid and .call == \"end\") | .status" "$TRACE") == 0 ]]
	run_check --rule no-leaks "$TRACE"
	assert_eq "$status" 1 "the whole trace: $output"
	[[ $output != *incomplete* ]]
	jq -c "select(.pid != $kid or .call != \"exit\")" "$TRACE" >cut.jsonl
	run --separate-stderr "$SOCKTRACE" check --rule no-leaks cut.jsonl
	[[ $output == *"note: incomplete: pid $kid ("*") lacks its exit event (its end was seen, a normal exit, after seq "*"): what it held at its end is unknown, and a verdict on its sockets may be wrong"* ]]
	[[ $stderr == *"the first, pid $kid, lacks its exit event"* ]]
	run --separate-stderr "$SOCKTRACE" check --strict --rule no-leaks cut.jsonl
	assert_eq "$status" 2 "--strict on the cut trace"
}

@test "check: events the shim dropped while its FIFO's reader did not read are counted, not taken for a whole trace" {
	cat >burst.py <<'PY'
import socket, time
for i in range(600):
    socket.socket().close()
time.sleep(4.5)
for i in range(5):
    socket.socket().close()
PY
	mkfifo fifo
	# a reader for certain, which reads nothing for 4 s: the pipe fills
	# (about 200 events), the shim waits a second, then drops events
	# until it reads again
	exec {keep}<>fifo
	{ sleep 4; exec cat; } <fifo >got.jsonl {keep}>&- &
	reader=$!
	env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$SCRATCH/fifo" "$PYTHON3" burst.py 2>err
	exec {keep}>&-
	wait "$reader"
	grep -q 'events are being lost' err
	dropped=$(jq -s 'map(.dropped // 0) | add' got.jsonl)
	((dropped > 0)) || { echo "nothing was dropped: the pipe never filled" >&2; false; }
	# the shim's count is the events lost: every seq number the trace lacks
	last=$(jq -s 'map(.seq) | max' got.jsonl)
	assert_eq "$dropped" "$((last - $(wc -l <got.jsonl)))" "dropped against the seq numbers missing"
	run --separate-stderr "$SOCKTRACE" check --rule no-leaks got.jsonl
	assert_eq "$status" 0 "$output"
	[[ $output == *"note: incomplete: pid "*" (python3 burst.py) lacks at least $dropped events between seq 1 and $last (the shim counted them as dropped)"* ]] || { echo "$output" >&2; false; }
	run --separate-stderr "$SOCKTRACE" check --strict --rule no-leaks got.jsonl
	assert_eq "$status" 2
}

@test "check --expect: an IPv6 endpoint is written as lifecycle prints it ([::1]:PORT), and @* is a pid glob: a step in any other process" {
	tcp_pair "-a ::1 -r -F -n 2" "-a ::1 -n 2"
	"$SOCKTRACE" show -f lifecycle "$S" >lc
	grep -q "^pid=[0-9]* fd=[0-9]* tcp \[::1\]:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept[4]* close@[0-9]* accept[4]* close@[0-9]* close\$" lc ||
		{ cat lc >&2; false; }
	# the address as printed: its brackets are the literal's, not a glob's
	run_check --expect "tcp [::1]:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept close@* accept close@* close" "$S"
	assert_eq "$status" 0 "$output"
	run_check --expect "tcp [::1]:* socket setsockopt(SO_REUSEADDR) bind listen accept close@* accept close@* close" "$S"
	assert_eq "$status" 0 "$output"
	# and one that must not match: another address, or the closes in the
	# listener's own process
	run_check --expect "tcp [::2]:* socket setsockopt(SO_REUSEADDR) bind listen accept close@* accept close@* close" "$S"
	assert_eq "$status" 1 "$output"
	run_check --expect "tcp [::1]:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept close accept close close@*" "$S"
	assert_eq "$status" 1 "$output"
	# a bracket expression of fnmatch still is one
	run_check --expect "tcp [[]::1]:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept close@* accept close@* close" "$S"
	assert_eq "$status" 0 "$output"
}

@test "check max-time-wait: a forking server's children that exit holding their connection, and a server killed by SIGTERM, count as the kernel's table does" {
	cat >fk.py <<'PY'
import socket, os, sys
# each child writes a byte and exits holding the connection: the kernel
# closes it (the active close); the parent closes its copy
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
port = s.getsockname()[1]
print("port", port, flush=True)
for i in range(4):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
    pid = os.fork()
    if pid == 0:
        a.sendall(b"x"); os._exit(0)
    a.close(); os.waitpid(pid, 0); c.recv(1); c.close()
s.close()
if len(sys.argv) > 1:
    os.kill(os.getpid(), 15)   # killed: no exit event reads the kernel's table
PY
	for how in exit killed; do
		rm -f fk.jsonl
		args=()
		[[ $how == killed ]] && args=(term)
		"$SOCKTRACE" -o fk.jsonl -- "$PYTHON3" fk.py "${args[@]}" >fk.out || true
		port=$(awk '/^port/ {print $2}' fk.out)
		kernel=$(ss -Htan state time-wait "( sport = :$port or dport = :$port )" | wc -l)
		assert_eq "$kernel" 4 "TIME_WAIT in the kernel's table ($how)"
		run_check --rule max-time-wait=3 fk.jsonl
		assert_eq "$status" 1 "$how: $output"
		[[ ${lines[0]} == "max-time-wait=3: 4 closed connections in TIME_WAIT "* ]] || { echo "$how: $output" >&2; false; }
		run_check --rule max-time-wait=4 fk.jsonl
		assert_eq "$status" 0 "$how: $output"
	done
}

@test "check: a trace with %p, one file a process: the parent's file alone judges no socket of the child's (a note says its events are absent); all files together do" {
	cat >pf.py <<'PY'
import socket, os, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
pid = os.fork()
if pid == 0:
    l.close(); c.close()
    if sys.argv[1] == "closes":
        a.close()
    os._exit(0)              # "leaks": exits holding the accepted socket
a.close(); os.waitpid(pid, 0); c.close(); l.close()
print("child", pid, flush=True)
PY
	for how in closes leaks; do
		rm -f pf_*.jsonl
		"$SOCKTRACE" -o 'pf_%p.jsonl' -- "$PYTHON3" pf.py "$how" >pf.out
		child=$(awk '/^child/ {print $2}' pf.out)
		parent=$(ls pf_*.jsonl | grep -v "pf_$child.jsonl")
		run_check --rule no-leaks "$parent"
		assert_eq "$status" 0 "$how, the parent's file alone: $output"
		# it held the listener, the client and the accepted end from its
		# fork: what it did with each is unknown, whichever of them the
		# parent closed after the child's end
		[[ $output == *"note: absent: pid $child has no events of its own in the traces"*"the 3 sockets it held is unknown"* ]] ||
			{ echo "$output" >&2; false; }
		# --strict judges nothing on a part of the program
		run --separate-stderr "$SOCKTRACE" check --strict --rule no-leaks "$parent"
		assert_eq "$status" 2 "$how, --strict on the parent's file alone: $output"
		assert_empty "$output"
		[[ $stderr == "socktrace: check: the traces lack the events of 1 process that held sockets (--strict); nothing was checked"$'\n'"socktrace: check: the first: pid $child"*" has no events of its own in the traces"* ]] ||
			{ echo "$stderr" >&2; false; }
		run_check --rule no-leaks pf_*.jsonl
		[[ $output != *absent* ]]
		run_check --strict --rule no-leaks pf_*.jsonl
		[[ $output != *absent* ]]
		if [[ $how == closes ]]; then
			assert_eq "$status" 0 "$how, every file: $output"
		else
			assert_eq "$status" 1 "$how, every file: $output"
			[[ ${lines[0]} == "no-leaks: pid $child "* ]]
		fi
	done
}

@test "check reuseaddr: SO_REUSEADDR set after bind() is named as too late: the program's restart, binding before it sets it, fails as the rule says" {
	cat >late.py <<'PY'
import socket, sys
s = socket.socket()
if sys.argv[1] == "before":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
if sys.argv[1] == "after":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
a.close(); c.recv(1); c.close()      # the server closes first: TIME_WAIT
port = s.getsockname()[1]; s.close()
# the restart, as the same program makes it: options in the same order
n = socket.socket()
if sys.argv[1] == "before":
    n.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    n.bind(("127.0.0.1", port)); print("restart bound")
except OSError as e:
    print("restart", e.errno)
PY
	traced "$PYTHON3" late.py after >out
	grep -q '^restart 98' out
	run_check --rule reuseaddr "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == "reuseaddr: pid "*" tcp 127.0.0.1:"*" sets SO_REUSEADDR only after bind() (fd "*"): too late for the bind"* ]] || { echo "$output" >&2; false; }
	rm -f "$TRACE"
	traced "$PYTHON3" late.py before >out
	grep -q '^restart bound' out
	run_check --rule reuseaddr "$TRACE"
	assert_eq "$status" 0 "$output"
}

@test "check closed-by: a connection reset with no FIN before it has no side that sent the first FIN: closed-by leaves it to no-resets" {
	tcp_pair "-r -n 1 -L -c server" "-c server"
	jq -s -e 'any(.[]; .call=="close" and .reset==true)' "$S" >/dev/null
	for side in client server; do
		run_check --rule "closed-by=$side" "$S" "$C"
		assert_eq "$status" 0 "closed-by=$side: $output"
	done
	run_check --rule no-resets "$S" "$C"
	assert_eq "$status" 1 "$output"
}

@test "check --strict: a run part of which went into an image the trace does not follow (a static program a shell execs, env -i) is refused, exit 2, also in JUnit; a failed exec is not; under ptrace the same run is judged" {
	local static port
	static=$(prog tcp_client_static)
	port=$(free_port)
	# the static client finds no server: its refused connect is not in
	# the shim's trace, and the rules hold over what is
	"$SOCKTRACE" -o st.jsonl -- sh -c 'exec "$0" -p "$1" -n 1' "$static" "$port" >/dev/null || true
	assert_eq "$(jq -c 'select(.call == "untraced") | [.exe, .reason]' st.jsonl)" "[\"$static\",\"static\"]" "the untraced event"
	run_check st.jsonl
	assert_eq "$status" 0 "without --strict: $output"
	[[ $output == *"note: untraced: pid "*"exec'd $static, an image the shim cannot enter (static)"* ]]
	run --separate-stderr "$SOCKTRACE" check --strict --junit report.xml st.jsonl
	assert_eq "$status" 2 "--strict: $output"
	assert_empty "$output"
	local said="socktrace: check: part of the program ran untraced: 1 image the trace does not follow (--strict); nothing was checked"
	[[ $stderr == "$said"$'\n'"socktrace: check: the first: pid "*" exec'd $static, an image the shim cannot enter (static): its socket calls are not in this trace; socktrace --backend=ptrace traces it" ]] ||
		{ echo "$stderr" >&2; false; }
	"$PYTHON3" "$BATS_TEST_DIRNAME/scripts/junit_check.py" report.xml >junit.json
	assert_eq "$(jq -r '.cases[0] | .name + " " + .result + " " + .type' junit.json)" "input error unusable-input"
	assert_eq "$(jq -r '.cases[0].message' junit.json)" "${said#socktrace: check: }"
	[[ $(jq -r '.cases[0].text' junit.json) == *"exec'd $static, an image the shim cannot enter (static)"* ]]
	# an environment without LD_PRELOAD is not followed either
	"$SOCKTRACE" -o env.jsonl -- env -i /bin/true
	run --separate-stderr "$SOCKTRACE" check --strict env.jsonl
	assert_eq "$status" 2 "env -i: $stderr"
	[[ $stderr == *"the first: pid "*" exec'd /bin/true, an image the shim cannot enter (no LD_PRELOAD)"* ]]
	# an exec that failed ran no other image: nothing to refuse
	cp "$static" noexec
	chmod a-x noexec
	"$SOCKTRACE" -o fail.jsonl -- sh -c 'exec ./noexec; exit 7' 2>/dev/null || true
	jq -e -s 'any(.[]; .call == "untraced")' fail.jsonl >/dev/null
	run_check --strict fail.jsonl
	assert_eq "$status" 0 "a failed exec: $output"
	# the ptrace back end follows the static image: the refused connect
	# is in the trace, and --strict judges it
	[[ $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0) -lt 3 ]] || skip "ptrace is off here (Yama scope 3)"
	"$SOCKTRACE" --backend=ptrace -o pt.jsonl -- sh -c 'exec "$0" -p "$1" -n 1' "$static" "$port" >/dev/null || true
	run_check --strict --rule handshakes pt.jsonl
	assert_eq "$status" 1 "under ptrace: $output"
	[[ ${lines[0]} == "handshakes: pid "*" (tcp_client_static -p $port -n 1): connect to 127.0.0.1:$port failed with ECONNREFUSED"* ]]
}
