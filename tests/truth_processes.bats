#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Sockets across new processes and process ends (procs, dtorconn, a python
# ForkingTCPServer): a socket ends when its last holder lets it go, in the
# process that held it last; every process has its own start, its own seq
# and one end; the ends that skip exit handlers, a death by SIGKILL and a
# library's destructor are each recorded where the kernel ended them.

load helpers
load truth
bats_require_minimum_version 1.5.0

# procs MODE: run `procs MODE` traced; facts in p.out; PARENT, and CHILD
# when the mode makes one.
procs() {
	local status=0
	traced "$(prog procs)" "$1" >p.out 2>p.err || status=$?
	PSTATUS=$status
	PARENT=$(fact p.out parent pid)
	CHILD=$(fact p.out child pid 2>/dev/null || true)
	assert_valid_jsonl
}

# no_close_is_teardown_while_held: the timeline never draws the active
# close on a close that left the connection ESTABLISHED
no_false_teardown() {
	view timeline
	if grep -E 'close\(\): ESTABLISHED -> ESTABLISHED +\[active close\]' <<<"$VIEW"; then
		echo "a close of a copy drawn as the teardown:" >&2
		echo "$VIEW" >&2
		return 1
	fi
}

@test "processes: a forking server's child exits holding the connection: no-leaks names the child, never the parent" {
	procs leak
	assert_eq "$PSTATUS" 0 "exit status"
	assert_seq_ok
	one_end_per_process
	ino=$(fact p.out accept ino)
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$ino")
	assert_field "$e" .shared true
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state ESTABLISHED
	e=$(one ".call==\"exit\" and .pid==$CHILD")
	assert_field "$e" .open 1
	rule_fails no-leaks "*no-leaks: pid $CHILD *"
	[[ $output != *"no-leaks: pid $PARENT "* ]] || { echo "$output" >&2; false; }
	view lifecycle
	view_line "^pid=$PARENT fd=$(fact p.out accept fd) tcp .* accept close exit@$CHILD \(open at exit@$CHILD\)$"
	no_false_teardown
	view timeline
	view_has "server never closed it: held by pid $CHILD when it exited (a leak)"
}

@test "processes: python ForkingTCPServer served three curl requests: every child has its exit, no leak, no false teardown" {
	command -v curl >/dev/null || skip "curl not installed"
	bg_start srv traced "$PYTHON3" -u -c 'import os, socketserver
class H(socketserver.StreamRequestHandler):
    def handle(self):
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhi\n")
srv = socketserver.ForkingTCPServer(("127.0.0.1", 0), H)
print("listen port=%d pid=%d" % (srv.server_address[1], os.getpid()), flush=True)
for _ in range(3):
    srv.handle_request()
srv.server_close()'
	wait_line srv '^listen ' >/dev/null
	port=$(fact srv.out listen port)
	server=$(fact srv.out listen pid)
	for _ in 1 2 3; do
		curl -sS --max-time 10 "http://127.0.0.1:$port/" >body
		assert_eq "$(cat body)" hi "the reply"
	done
	bg_wait srv
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	children=$(jq -r "select(.call==\"start\" and .ppid==$server) | .pid" "$TRACE")
	assert_eq "$(wc -w <<<"$children")" 3 "children"
	for c in $children; do
		# os._exit(): the exit event comes from the _exit wrapper; the
		# child still holds the listener it inherited (socketserver's
		# children do not close it), and nothing else
		e=$(one ".call==\"exit\" and .pid==$c")
		assert_field "$e" .status 0
		assert_field "$e" .open 1
	done
	# no connection leaked, and the server is never blamed: each child closed
	# the connection it served.  The listener is another matter: each child
	# held the copy it inherited to its exit, before or after the server's
	# server_close() as the race goes; all three are named in every run, on
	# one line, the listener last seen LISTEN (as they held it) either way
	run "$SOCKTRACE" check --rule no-leaks "$TRACE"
	[[ $output != *"no-leaks: pid $server "* ]] || { echo "$output" >&2; false; }
	assert_eq "$(grep -c '^no-leaks:' <<<"$output")" 1 "lines of leaks"
	line=$(grep -F "tcp 127.0.0.1:$port (last seen LISTEN)" <<<"$output")
	for c in $children; do
		[[ $line == *" $c "* || $line == *" $c,"* ]] || { echo "child $c not named: $output" >&2; false; }
	done
	[[ $line == *"made by socket() in pid $server "* ]] || { echo "$line" >&2; false; }
	no_false_teardown
}

# forked_child_own_record HOW: the child made with HOW has its own start
# (ppid the parent), its own seq and one exit; its close of the connection
# is its own; the parent's close, made while the child still held the
# connection, changed nothing.
forked_child_own_record() {
	procs "$1"
	assert_eq "$PSTATUS" 0 "exit status"
	assert_seq_ok
	one_end_per_process
	assert_eq "$(fact p.out served pid)" "$CHILD" "the child that served"
	e=$(one ".call==\"start\" and .pid==$CHILD")
	assert_field "$e" .ppid "$PARENT"
	assert_field "$e" .seq 1
	assert_count 1 ".call==\"start\" and .pid==$PARENT"
	assert_count 1 ".call==\"exit\" and .pid==$PARENT"
	assert_count 1 ".call==\"exit\" and .pid==$CHILD"
	ino=$(fact p.out accept ino)
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$ino")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state ESTABLISHED
	assert_field "$e" .shared true
	e=$(one ".call==\"close\" and .pid==$CHILD and .inode==$ino")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .reset false
	rule_holds no-leaks
	rule_holds no-resets
	no_false_teardown
}

@test "processes: a child made with _Fork(): its own start and seq, its own close; the parent's close says ESTABLISHED" {
	forked_child_own_record _Fork
}

@test "processes: a child made with syscall(SYS_fork): its own start and seq, its own close; the parent's close says ESTABLISHED" {
	forked_child_own_record sysfork
}

@test "processes: a vfork child dup2()s the connection onto 0 and 1 and execs: nothing of it under the parent's pid" {
	procs vfork-dup2
	assert_eq "$PSTATUS" 0 "exit status"
	assert_seq_ok
	one_end_per_process
	ino=$(fact p.out accept ino)
	assert_eq "$(fact p.out peer read)" 6 "what the client read from echo"
	# the child's dup2s ran on the parent's memory: not recorded as the parent's
	assert_count 0 ".pid==$PARENT and (.call==\"dup2\" or .call==\"execl\" or .call==\"exec\")"
	e=$(one ".call==\"vfork\" and .pid==$PARENT")
	assert_field "$e" .ret "$CHILD"
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$ino")
	assert_field "$e" .last true
	assert_field "$e" .shared true
	assert_field "$e" .state_before ESTABLISHED
	# echo's copy keeps the connection up while echo runs; when echo is
	# gone first (a loaded machine), the parent's close is the kernel's
	# last and sends the FIN.  Only the second may be FIN_WAIT1
	closed=$(jq -r .ts <<<"$e")
	exited=$(one ".call==\"exit\" and .pid==$CHILD" | jq -r .ts)
	if awk -v a="$exited" -v b="$closed" 'BEGIN { exit !(a > b) }'; then
		assert_field "$e" .state ESTABLISHED
	else
		assert_field "$e" '.state | IN("ESTABLISHED", "FIN_WAIT1")' true
	fi
	e=$(one ".call==\"start\" and .pid==$CHILD")
	assert_field "$e" .exe "$(readlink -f /bin/echo)"
	assert_field "$e" "[.inherited[] | select(.inode==$ino) | .fd] | join(\",\")" 0,1
	assert_field "$e" '.inherited | length' 2
	rule_holds no-leaks
}

@test "processes: a vfork child's connection on 0 and 1 is the parent's socket: one lifecycle line" {
	procs vfork-dup2
	ino=$(fact p.out accept ino)
	view lifecycle
	n=$(grep -c -- "tcp 127.0.0.1:$(fact p.out listen port) -> $(fact p.out client local)" <<<"$VIEW" || true)
	assert_eq "$n" 1 "lifecycle lines of the connection"
	no_false_teardown
}

@test "processes: a vfork child's close_range(3, ~0U) then exec: the parent's later closes are recorded, and true" {
	procs vfork-closerange
	assert_eq "$PSTATUS" 0 "exit status"
	assert_seq_ok
	one_end_per_process
	assert_eq "$(fact p.out open fds)" 1 "the parent's descriptors after the child's close_range"
	assert_count 0 '.call=="close_range"'
	e=$(one ".call==\"start\" and .pid==$CHILD")
	assert_field "$e" '.inherited | length' 0
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$(fact p.out accept ino)")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .last true
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$(fact p.out client ino)")
	assert_field "$e" .state_before CLOSE_WAIT
	assert_field "$e" .state LAST_ACK
	e=$(one ".call==\"close\" and .pid==$PARENT and .inode==$(fact p.out listen ino)")
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE
	rule_holds no-leaks
	no_false_teardown
}

@test "processes: a child killed by SIGKILL and reaped by its traced parent: an end with the signal, its socket not a leak" {
	procs killed
	assert_eq "$PSTATUS" 0 "exit status"
	assert_seq_ok
	assert_eq "$(fact p.out reaped signal)" 9 "the signal the parent saw"
	e=$(one ".call==\"end\" and .pid==$CHILD")
	assert_field "$e" .signal SIGKILL
	assert_field "$e" .by parent
	assert_field "$e" .status null
	assert_count 0 ".call==\"exit\" and .pid==$CHILD"
	cfd=$(fact p.out client fd)
	view lifecycle
	view_line "^pid=$CHILD fd=$cfd tcp .* socket connect \(open when SIGKILL killed it\)$"
	rule_holds no-leaks
	[[ $output == *"note"*"SIGKILL"* ]] || { echo "$output" >&2; false; }
	view timeline
	view_has "process $CHILD"
	view_has "killed by SIGKILL"
}

@test "processes: _exit(), _Exit() and quick_exit() with a listener open: an exit event with the status, and the leak judged" {
	for how in _exit _Exit quick_exit; do
		rm -f "$TRACE"
		procs "$how"
		assert_eq "$PSTATUS" 3 "$how: exit status"
		assert_seq_ok
		e=$(one '.call=="exit"')
		assert_field "$e" .status 3
		assert_field "$e" .open 1
		rule_fails no-leaks "*no-leaks: pid $PARENT *(fd $(fact p.out listen fd), last seen LISTEN)*"
	done
}

@test "processes: a library closes its sockets in its destructor: the exit event comes after those closes, no leak" {
	traced "$(prog dtorconn)" >d.out 2>d.err
	assert_empty d.err
	assert_valid_jsonl
	assert_seq_ok
	pid=$(fact d.out main pid)
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
	assert_field "$e" .status 0
	exit_seq=$(get "$e" .seq)
	for what in listen client accept; do
		e=$(one ".call==\"close\" and .inode==$(fact d.out $what ino)")
		[[ $(get "$e" .seq) -lt $exit_seq ]] || { echo "close of the $what after the exit event" >&2; false; }
	done
	assert_eq "$(jq -s 'map(.seq) | max' "$TRACE")" "$exit_seq" "the exit event is the last"
	rule_holds no-leaks
}

# exit_order ORDER: a parent makes a socketpair and forks; the child holds
# both ends to its exit (it writes on one, closes neither); the parent
# closes its copies after the child's exit (child-first) or before it
# (parent-first), the order forced by a pipe, not by timing.  Sets PARENT
# and CHILD; the trace is $TRACE.
exit_order() {
	rm -f "$TRACE"
	traced "$PYTHON3" -c 'import os, socket, sys
a, b = socket.socketpair()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    if sys.argv[1] == "parent-first":
        os.read(r, 1)
    b.send(b"x")
    os._exit(0)
os.close(r)
print("parent pid=%d" % os.getpid())
print("child pid=%d" % pid, flush=True)
if sys.argv[1] == "parent-first":
    a.close(); b.close()
    os.write(w, b"g")
    os.waitpid(pid, 0)
else:
    os.waitpid(pid, 0)
    a.close(); b.close()' "$1" >o.out 2>o.err
	assert_empty o.err
	PARENT=$(fact o.out parent pid)
	CHILD=$(fact o.out child pid)
}

@test "processes: a child holds its copies of a socketpair to its exit: the same leak whether the parent closes its copies before or after that exit" {
	local verdict=() summary=()
	for order in child-first parent-first; do
		exit_order "$order"
		assert_valid_jsonl
		assert_seq_ok
		e=$(one ".call==\"exit\" and .pid==$CHILD")
		assert_field "$e" .open 2
		assert_count 2 ".call==\"close\" and .pid==$PARENT"
		# the kernel's end of each socket was the parent's close
		# (child-first) or the child's exit (parent-first); the child held
		# both to its exit either way: it is named, never the parent
		rule_fails no-leaks "no-leaks: pid $CHILD *: unix stream (last seen open) was never closed before exit; it was made by socketpair() in pid $PARENT *; 2 such sockets leaked from the same place*"
		assert_eq "${#lines[@]}" 1 "$order: lines of leaks"
		verdict+=("$(sed 's/[0-9][0-9]*/N/g' <<<"$output")")
		view lifecycle
		assert_eq "$(grep -c " (open at exit@$CHILD)$" <<<"$VIEW")" 2 "$order: lifecycle lines naming the child"
		view summary
		summary+=("$(grep '^  sockets ' <<<"$VIEW")")
		view_line "^  sockets       2 opened, 0 closed, 2 leaked, "
	done
	assert_eq "${verdict[0]}" "${verdict[1]}" "the verdicts of the two orders (pids as N)"
	assert_eq "${summary[0]}" "${summary[1]}" "the summaries of the two orders"
}

@test "processes: a python multiprocessing (fork) child inherits the listener and exits holding it: the same leak whether the parent closes it before or after the child's end" {
	local verdict=()
	cat >mp.py <<'PY'
import multiprocessing as mp, os, socket, sys
def work(r):
    os.read(r, 1) if sys.argv[1] == "parent-first" else None
if __name__ == "__main__":
    mp.set_start_method("fork")
    l = socket.create_server(("127.0.0.1", 0))
    r, w = os.pipe()
    p = mp.Process(target=work, args=(r,))
    p.start()
    print("parent pid=%d" % os.getpid())
    print("child pid=%d" % p.pid)
    print("listen port=%d" % l.getsockname()[1], flush=True)
    if sys.argv[1] == "parent-first":
        l.close()
        os.write(w, b"g")
        p.join()
    else:
        p.join()
        l.close()
PY
	for order in child-first parent-first; do
		rm -f "$TRACE"
		traced "$PYTHON3" mp.py "$order" >mp.out 2>mp.err
		assert_empty mp.err
		assert_valid_jsonl
		parent=$(fact mp.out parent pid)
		child=$(fact mp.out child pid)
		port=$(fact mp.out listen port)
		rule_fails no-leaks "no-leaks: pid $child (*): tcp 127.0.0.1:$port (last seen LISTEN) was never closed before exit; it was made by socket() in pid $parent (*"
		[[ $output != *"no-leaks: pid $parent "* ]] || { echo "$output" >&2; false; }
		verdict+=("$(sed 's/[0-9][0-9]*/N/g' <<<"$output")")
	done
	assert_eq "${verdict[0]//child-first/ORDER}" "${verdict[1]//parent-first/ORDER}" "the verdicts of the two orders (pids as N)"
}

# A tracer's waits (strace -f, itself run under the shim) are told of its
# tracees' ends before their parents are, and of the ends of the threads
# it traces: the shim in strace wrote each as an `end` "by parent", so a
# child collected by its traced parent had two ends, and threads had ends
# as if they were processes.
@test "processes: a traced tracer (strace -f under the shim) writes no end for others' children or for threads: one end per process" {
	command -v strace >/dev/null || skip "needs strace"
	[[ -n $PYTHON3 ]] || skip "needs python3"
	env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$TRACE" strace -f -qq -o /dev/null "$PYTHON3" -c 'import subprocess, threading
ids = []
ts = [threading.Thread(target=lambda: ids.append(threading.get_native_id())) for i in range(3)]
[t.start() for t in ts]
[t.join() for t in ts]
print(" ".join(map(str, ids)))
subprocess.run(["true"])
subprocess.run(["sh", "-c", "(true); true"])' >threads.out || { echo "strace cannot trace here" >&2; skip "strace cannot trace here"; }
	assert_valid_jsonl
	# no pid ends twice
	assert_eq "$(jq -r 'select(.call=="end") | .pid' "$TRACE" | sort | uniq -d)" "" "pids with two ends"
	# no thread ends
	for tid in $(cat threads.out); do
		assert_count 0 ".call==\"end\" and .pid==$tid"
	done
	# each child of the python program and of sh has its one end, from its parent
	for pid in $(jq -r 'select(.call=="start" and .exe!="/usr/bin/strace" and .ppid!=null) | .pid' "$TRACE" | sort -u); do
		ppid=$(jq -r "select(.call==\"start\" and .pid==$pid) | .ppid" "$TRACE" | head -n 1)
		[[ $(nev ".call==\"start\" and .pid==$ppid") -gt 0 ]] || continue	# strace's own child
		assert_count 1 ".call==\"end\" and .pid==$pid and .status==0"
	done
}

@test "processes: a child that ends with syscall(SYS_exit) from its only thread has its exit event, with the status" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$TRACE" "$PYTHON3" -c 'import ctypes, os
pid = os.fork()
if pid == 0:
    print(os.getpid(), flush=True)
    ctypes.CDLL(None).syscall(60, 3)   # SYS_exit
_, st = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(st))' >exit.out
	child=$(head -n 1 exit.out)
	assert_eq "$(tail -n 1 exit.out)" 3 "the child's status, bare"
	assert_count 1 ".call==\"exit\" and .pid==$child and .status==3"
	run --separate-stderr "$SOCKTRACE" check --strict "$TRACE"
	assert_eq "$status" 0 "check --strict: $output $stderr"
}
