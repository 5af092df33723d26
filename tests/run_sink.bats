#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The runner owns the sink: under `socktrace -- PROGRAM`, every traced
# process writes compact records into shared memory and the runner's
# watcher writes the trace.  What a user sees: every output form strace's
# -o takes, nothing lost when the program is killed or when it outruns the
# runner, processes made by fork, exec, vfork and posix_spawn all in, and
# the program's limits and signals no business of the trace.

load helpers

# how many calls of each kind, succeeded or not: the same whatever the
# output form (threads make the descriptor numbers differ from run to run)
calls() { jq -r 'select(has("seq")) | "\(.call) \(.ret >= 0)"' "$1" | sort | uniq -c; }

@test "sink: the records survive their trip through shared memory, field for field (every trace in tests/data)" {
	run "$(prog record_rt)" "$BATS_TEST_DIRNAME"/data/*.jsonl
	[[ $status -eq 0 ]] || { echo "$output" >&2; false; }
	[[ $output =~ ^([0-9]+)\ events ]]
	((BASH_REMATCH[1] > 100))
}

@test "sink: a live trace with holders, a verdict, rights, inherited sockets and stacks comes out as the shim made it" {
	cat >rich.py <<'PY'
import os, socket, sys, array
if len(sys.argv) > 1:
    os.close(int(sys.argv[1]))       # the inherited socket, closed in the new image
    sys.exit(0)
a = socket.socket(); a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
a.bind(("127.0.0.1", 0)); a.listen()
b = socket.socket()
try:
    b.bind(a.getsockname())          # EADDRINUSE: holders and the verdict
except OSError:
    pass
l, r = socket.socketpair()
l.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [b.fileno(), a.fileno()]))])
msg, anc, flags, addr = r.recvmsg(1, socket.CMSG_SPACE(8))   # a: received listening
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
os.set_inheritable(u.fileno(), True)
os.set_inheritable(a.fileno(), True)  # inherited listening
os.execv(sys.executable, [sys.executable, sys.argv[0], str(u.fileno())])
PY
	"$SOCKTRACE" -o rich.jsonl --stack=4 -- python3 rich.py
	assert_some '.holders | length > 0' rich.jsonl
	assert_some 'has("verdict") or has("reuse_verdict")' rich.jsonl
	assert_some '.rights | length > 0' rich.jsonl
	assert_some 'any(.rights[]?; .listening)' rich.jsonl
	assert_some '.inherited | length > 0' rich.jsonl
	assert_some 'any(.inherited[]?; .listening)' rich.jsonl
	assert_some '.stack | length > 0' rich.jsonl
	run "$(prog record_rt)" rich.jsonl
	[[ $status -eq 0 ]] || { echo "$output" >&2; false; }
	assert_seq_ok rich.jsonl
}

@test "sink: -o -, /dev/stdout, a pipe, fd:N, >(...) and a FIFO get the same events as a file" {
	# a program that makes its own connections: a listener, 2 client threads
	srv="$(prog threads) -t 2 -n 3"
		"$SOCKTRACE" -o file.jsonl -- $srv >/dev/null
	calls file.jsonl >want
	[[ $(wc -l <want) -gt 6 ]]
	"$SOCKTRACE" -o - -- $srv 2>/dev/null | grep '^{' >dash.jsonl
	"$SOCKTRACE" -o /dev/stdout -- $srv 2>/dev/null | grep '^{' >stdout.jsonl
	"$SOCKTRACE" -o fd:5 -- $srv 5>fd.jsonl >/dev/null
	"$SOCKTRACE" -o >(cat >subst.jsonl) -- $srv >/dev/null
	mkfifo fifo
	cat fifo >fifo.jsonl &
	reader=$!
	"$SOCKTRACE" -o fifo -- $srv >/dev/null
	wait "$reader"
	wait_until 5 grep -q '"call":"end"' subst.jsonl
	for f in dash stdout fd subst fifo; do
		assert_valid_jsonl "$f.jsonl"
		assert_seq_ok "$f.jsonl"
		calls "$f.jsonl" >got
		diff want got || { echo "-o form $f differs" >&2; false; }
		assert_count 1 '.call=="end" and .by=="runner"' "$f.jsonl"
	done
	# a FIFO whose reader comes late: the runner waits for it, as strace
	# -o does, and says so after a second; nothing of the trace is lost
	mkfifo late
	( sleep 2.5; exec cat late >late.jsonl ) &
	reader=$!
	"$SOCKTRACE" -o late -- $srv >/dev/null 2>late.err
	wait "$reader"
	grep -q 'waiting for a reader of the FIFO .*late' late.err || { cat late.err >&2; false; }
	calls late.jsonl >got
	diff want got
	assert_count 1 '.call=="end" and .by=="runner"' late.jsonl
	# the program's own stdout is still its own: tcp_server's facts
	"$SOCKTRACE" -o - -- $srv 2>/dev/null >mixed
	grep -q '^done connections=6' mixed
	grep -q '^{"v":1' mixed
}

@test "sink: a program killed by SIGKILL right after its calls: every event is in the file, none torn" {
	for i in 1 2 3; do
		rm -f k.jsonl
		rc=0
		"$SOCKTRACE" -o k.jsonl -- "$(prog sockexit)" -n 300 signal KILL >out || rc=$?
		assert_eq "$rc" 137 "the program's status"
		assert_valid_jsonl k.jsonl
		assert_seq_ok k.jsonl
		# socket + 300 × (socket, setsockopt, bind)
		assert_count 901 '.call=="socket" or .call=="setsockopt" or .call=="bind"' k.jsonl
		e=$(one '.call=="end"' k.jsonl)
		assert_field "$e" .signal SIGKILL
		# the last bind is the one the program printed
		port=$(fact out made last_port)
		assert_eq "$(jq -s -r '[.[] | select(.call=="bind")][-1].local' k.jsonl)" "127.0.0.1:$port" "the last bind"
	done
}

@test "sink: a program faster than the runner waits for it (back-pressure), and nothing is lost" {
	# 4 threads × 3000 connections: about 60 000 events, far more than a
	# process's buffer holds; the watcher is stopped for a while meanwhile
	"$SOCKTRACE" -o bp.jsonl -- "$(prog threads)" -t 4 -n 3000 >out &
	pid=$!
	wait_until 10 grep -q '"call":"connect"' bp.jsonl
	w=$(watcher_of "$SCRATCH/bp.jsonl")
	kill -STOP "$w"
	sleep 1
	# the program is held up, not failing: it is still there
	kill -0 "$pid"
	kill -CONT "$w"
	wait "$pid"
	wait_until 10 grep -q '"call":"end"' bp.jsonl
	assert_valid_jsonl bp.jsonl
	assert_seq_ok bp.jsonl
	n=$(fact out done connections)
	assert_eq "$n" 12000 "connections made"
	assert_count "$n" '.call=="connect"' bp.jsonl
	assert_count "$n" '.call=="accept" or .call=="accept4"' bp.jsonl
}

@test "sink: processes made by fork, vfork, posix_spawn and exec all write into the run's trace" {
	for how in posix_spawn vfork exec; do
		rm -f s.jsonl
		"$SOCKTRACE" -o s.jsonl -- "$(prog spawn)" "$how" "$(prog sockexit)" status 0 >out
		assert_seq_ok s.jsonl
		assert_valid_jsonl s.jsonl
		# the spawner's socket and the child's
		assert_count 2 '.call=="socket"' s.jsonl
		# the spawner's image and sockexit's
		assert_count 2 '.call=="start"' s.jsonl
		assert_count 1 '.call=="start" and (.exe | endswith("/sockexit"))' s.jsonl
	done
	# a shell pipeline of traced processes
	"$SOCKTRACE" -o p.jsonl -- sh -c "\"$(prog sockexit)\" status 0 | \"$(prog sockexit)\" status 0 & wait" >/dev/null
	assert_seq_ok p.jsonl
	assert_count 2 '.call=="socket"' p.jsonl
	# sh, its two children (forked), each then sockexit (exec'd)
	assert_count 5 '.call=="start"' p.jsonl
	assert_count 2 '.call=="start" and (.exe | endswith("/sockexit"))' p.jsonl
	# one end per process: each image's exit, its process's end
	assert_count 3 '.call=="end"' p.jsonl
}

@test "sink: RLIMIT_FSIZE of 0 and SIGXFSZ's disposition do not reach the trace, nor the trace them" {
	"$SOCKTRACE" -o f.jsonl -- sh -c "ulimit -f 0; exec \"$(prog sockexit)\" -n 5 status 3" >/dev/null 2>err || rc=$?
	assert_eq "${rc:-0}" 3 "the program's status"
	assert_count 16 '.call=="socket" or .call=="setsockopt" or .call=="bind"' f.jsonl
	assert_seq_ok f.jsonl
}

@test "sink: a file size limit set for the whole run (ulimit -f): the program runs as bare, the trace ends at its last whole event, and the user is told what is missing" {
	# the soft limit only: the runner's shared memory is made (above it)
	run sh -c "ulimit -S -f 8; exec \"\$0\" -o f.jsonl -- \"\$1\" -n 200 status 0" "$SOCKTRACE" "$(prog sockexit)"
	assert_eq "$status" 0 "the program's status"
	(($(stat -c %s f.jsonl) <= 8192))
	assert_eq "$(tail -c 1 f.jsonl | od -An -c | tr -d ' ')" '\n' "the last line is whole"
	"$SOCKTRACE" show f.jsonl >/dev/null
	[[ $output =~ socktrace:\ the\ trace\ could\ not\ be\ written\ \(File\ too\ large\):\ ([0-9]+)\ events\ of\ this\ run\ are\ not\ in\ it ]]
	local missing=${BASH_REMATCH[1]}
	# what is there and what was not written make the whole run, as one
	# without the limit writes it
	"$SOCKTRACE" -o all.jsonl -- "$(prog sockexit)" -n 200 status 0
	assert_eq "$(($(wc -l <f.jsonl) + missing))" "$(wc -l <all.jsonl)" "events written and not"
	# soft and hard: no shared memory fits; the processes write themselves
	run sh -c "ulimit -f 8; exec \"\$0\" -o h.jsonl -- \"\$1\" -n 2 status 3" "$SOCKTRACE" "$(prog sockexit)"
	assert_eq "$status" 3 "the program's status"
	[[ $output == *"the file size limit (ulimit -f) leaves no room for the run's shared memory"* ]]
	assert_count 7 '.call=="socket" or .call=="setsockopt" or .call=="bind"' h.jsonl
}

@test "sink: a command line longer than a record holds: the start event keeps what fits, argc counts the rest" {
	local big
	big=$(head -c 100000 /dev/zero | tr '\0' x)
	"$SOCKTRACE" -o big.jsonl -- /bin/true "$big" "$big" "$big" "$big" 2>err
	assert_empty err
	assert_eq "$(jq -c 'select(.call == "start") | [.argc, (.argv | length), .argv[0]]' big.jsonl)" \
		'[5,4,"/bin/true"]' "argc, the arguments kept, the first"
	assert_eq "$(jq -c 'select(.call == "exit") | .dropped // 0' big.jsonl)" 0 "dropped"
	"$SOCKTRACE" show big.jsonl >/dev/null
}

@test "sink: the watcher killed mid-run: the program runs on and writes its later events itself" {
	"$SOCKTRACE" -o w.jsonl -- "$(prog sigprobe)" 20000 >out 2>err &
	pid=$!
	wait_until 10 grep -q '"call":"close"' w.jsonl
	w=$(watcher_of "$SCRATCH/w.jsonl")
	kill -KILL "$w"
	wait_until 5 bash -c "! kill -0 $w 2>/dev/null"
	# SIGTERM: the program ends normally through its handler (exit 0 for
	# WINCH; TERM re-raised): its exit event comes from the shim itself
	kill -WINCH "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_eq "$rc" 0 "the program's status"
	assert_valid_jsonl w.jsonl
	assert_seq_ok w.jsonl
	assert_count 1 '.call=="exit"' w.jsonl
	grep -q 'socktrace:.*runner' err
}

# long_lived [held|threads]: a loop of socket(), close() and a 1 ms nap traced
# into k.jsonl, its watcher SIGKILLed after 50 rounds, the program SIGKILLed
# 200 rounds later; sets w (the watcher), before (rounds at the watcher's
# kill), done_ (at the program's) and state (the watcher's then).  The
# count of rounds is replaced whole (os.replace): a reader never finds it
# empty.  With held, a tracer stops the watcher in its exit
# (PTRACE_EVENT_EXIT) until the program is gone: killed, it is neither
# gone nor a zombie meanwhile, as when the kernel takes long to end it
# (the teardown of a large address space on a loaded machine).  With
# threads, each round's socket() and close() are made by a thread of its
# own, which ends after them.
long_lived() {
	cat >loop.py <<'PY'
import os, socket, sys, threading, time
def one():
    s = socket.socket(); s.close()
i = 0
while True:
    if sys.argv[1:] == ["threads"]:
        t = threading.Thread(target=one); t.start(); t.join()
    else:
        one()
    i += 1
    with open("progress.new", "w") as f:
        f.write(str(i))
    os.replace("progress.new", "progress")
    time.sleep(0.001)
PY
	cat >hold.py <<'PY'
import ctypes, os, sys, time
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
SEIZE, CONT, TRACEEXIT, WALL, EXIT_STOP = 0x4206, 7, 0x40, 0x40000000, 5 | 6 << 8
if libc.ptrace(SEIZE, pid, None, TRACEEXIT) != 0:
    print("cannot trace it:", os.strerror(ctypes.get_errno()), flush=True)
    sys.exit(1)
print("traced", flush=True)
while True:
    _, st = os.waitpid(pid, WALL)
    if not os.WIFSTOPPED(st):
        sys.exit(0)
    if st >> 8 == EXIT_STOP:
        print("held", flush=True)
        time.sleep(30)     # the test ends it sooner; its end lets the exit go on
        sys.exit(0)
    libc.ptrace(CONT, pid, None, os.WSTOPSIG(st) if st >> 8 < 256 else 0)
PY
	"$SOCKTRACE" -o k.jsonl -- "$PYTHON3" loop.py "${1-}" >out 2>err &
	pid=$!
	progress_at_least() { [[ $(cat progress 2>/dev/null || echo 0) -ge $1 ]]; }
	wait_until 30 progress_at_least 50
	w=$(watcher_of "$SCRATCH/k.jsonl")
	if [[ ${1-} == held ]]; then
		"$PYTHON3" hold.py "$w" >hold.out 2>&1 3>&- &
		holder=$!
		wait_until 10 grep -q -e traced -e 'cannot trace' hold.out
		if ! grep -q traced hold.out; then
			kill -KILL "$pid"
			skip "$(cat hold.out)"
		fi
	fi
	kill -KILL "$w"
	if [[ ${1-} == held ]] && ! wait_until 10 grep -q held hold.out; then
		kill -KILL "$pid"
		skip "this kernel does not stop a killed process in its exit for its tracer"
	fi
	before=$(cat progress)
	wait_until 60 progress_at_least $((before + 200))
	# the watcher stayed killed and not ended all along (t: held)
	state=$(cut -d' ' -f3 "/proc/$w/stat" 2>/dev/null || echo gone)
	# the program never ends by itself: killed, it writes no exit
	kill -KILL "$pid"
	wait "$pid" || true
	done_=$(cat progress)
	if [[ ${1-} == held ]]; then
		kill "$holder"
		wait "$holder" || true
		assert_eq "$state" t "the watcher's state, held in its exit"
	fi
}

# assert_noticed: the trace of long_lived holds every round the program
# made but those of the last 64 events at most (two a round), whole, with
# seq without gaps, and the program said it took over.
assert_noticed() {
	assert_valid_jsonl k.jsonl
	assert_seq_ok k.jsonl
	local n
	n=$(jq -c 'select(.call == "socket")' k.jsonl | wc -l)
	((done_ >= before + 200 && n >= done_ - 32)) || {
		echo "sockets in the trace: $n, made: $done_ (the watcher killed at $before)" >&2
		echo "the program's stderr:" >&2
		cat err >&2
		echo "dropped, and the last events:" >&2
		jq -c 'select(.dropped) | [.seq, .dropped]' k.jsonl >&2
		tail -n 4 k.jsonl >&2
		false
	}
	grep -q 'socktrace: warning: the runner is gone: writing the trace directly' err
}

@test "sink: the watcher killed while a long-lived program runs: the program notices within 64 events and writes them itself, before its own end" {
	long_lived
	assert_noticed
}

@test "sink: the watcher killed and slow to end (a tracer holds its exit): the program does not wait for its end to notice, within 64 events" {
	long_lived held
	assert_noticed
}

@test "sink: the watcher killed while a program makes its sockets in short-lived threads (two events each): the program notices within 64 events of the process" {
	long_lived threads
	assert_noticed
}

@test "sink: under the runner the shim keeps no descriptor: EMFILE comes at the same count as bare" {
	count='import socket
n = 0
keep = []
try:
    while True:
        keep.append(socket.socket()); n += 1
except OSError as e:
    print("sockets", n, e.errno)'
	bare=$(ulimit -n 40; python3 -c "$count")
	traced=$(ulimit -n 40; "$SOCKTRACE" -o t.jsonl -- python3 -c "$count")
	assert_eq "$traced" "$bare" "sockets made before EMFILE"
	[[ $bare == "sockets "*" 24" ]]
	assert_count 1 '.call=="socket" and .errno=="EMFILE"' t.jsonl
	# without the runner the shim holds the trace file's descriptor: one less
	legacy=$(ulimit -n 40; LD_PRELOAD=$SHIM SOCKTRACE_OUTPUT=l.jsonl python3 -c "$count")
	read -r _ nb eb <<<"$bare"
	assert_eq "$legacy" "sockets $((nb - 1)) $eb" "without the runner"
}
