#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The runner becomes the program: `socktrace [-o FILE] -- PROGRAM` execs
# PROGRAM in the process the caller started, so $! is PROGRAM, and every
# signal, stop and continue, the exit status and the core flag are its
# own, as bare; a watcher apart from it records how it ended (an `end` by
# "runner").  Each test runs one scenario bare and traced and compares
# what the caller and the program see.  The last tests are about the
# fallback (SOCKTRACE_RUNNER=parent: a parent that passes signals on).

load helpers

setup() {
	st_setup
	PROBE=$(prog sigprobe)
	ulimit -S -c 0
}

# probe_start NAME bare|traced|parent [ARGS...]: sigprobe in the
# background, bare or under the runner (the trace in NAME.jsonl;
# parent: the fallback), stdout in NAME.out, stderr in NAME.err; PID=$!,
# once it printed its start line.
probe_start() {
	local name=$1 mode=$2
	shift 2
	# the previous run's start line must not be taken for this one's (the
	# background job truncates NAME.out only once it runs)
	rm -f "$name.out" "$name.err"
	case $mode in
	bare) "$PROBE" "$@" >"$name.out" 2>"$name.err" 3>&- & ;;
	traced) "$SOCKTRACE" -o "$SCRATCH/$name.jsonl" -- "$PROBE" "$@" >"$name.out" 2>"$name.err" 3>&- & ;;
	parent) SOCKTRACE_RUNNER=parent "$SOCKTRACE" -o "$SCRATCH/$name.jsonl" -- "$PROBE" "$@" \
		>"$name.out" 2>"$name.err" 3>&- & ;;
	esac
	PID=$!
	wait_until 10 grep -q '^start ' "$name.out"
}

# probe_wait: RC is how $PID ended, as the shell's wait says it.
probe_wait() {
	RC=0
	wait "$PID" || RC=$?
}

# got NAME SIG: how many times the probe reported SIG
got() { grep -c "^got sig=$2 " "$1.out" || true; }

# signal_probe NAME MODE SIG: probe_start NAME MODE, send SIG to $!, wait;
# RC is how it ended; fails unless the probe got SIG exactly once.
signal_probe() {
	probe_start "$1" "$2"
	kill -"$3" "$PID"
	probe_wait
	assert_eq "$(got "$1" "SIG$3")" 1 "$2: deliveries of SIG$3"
}

# start_facts NAME: the probe's start line without its pid
start_facts() { sed -n 's/^start pid=[0-9]* //p' "$1.out"; }

# the end record of pid $2 in trace $1, once the watcher wrote it
end_of() {
	wait_until 5 grep -q "\"pid\":$2,\"call\":\"end\"" "$1"
	one ".call==\"end\" and .pid==$2" "$1"
}

@test "signals: INT QUIT TERM HUP USR1 USR2 WINCH sent to \$! reach the program once, and it ends as bare" {
	for sig in INT QUIT TERM HUP USR1 USR2 WINCH; do
		signal_probe bare bare "$sig"
		bare_rc=$RC
		signal_probe traced traced "$sig"
		assert_eq "$RC" "$bare_rc" "wait \$! after SIG$sig"
		# $! is the program itself, started as bare: parent, group, session,
		# descriptors, signal mask and ignored signals
		assert_eq "$(fact traced.out start pid)" "$PID" "the program's pid"
		assert_eq "$(start_facts traced)" "$(start_facts bare)" "what the program started with"
		e=$(end_of traced.jsonl "$PID")
		assert_field "$e" .by runner
		if [[ $sig == WINCH ]]; then
			assert_field "$e" .status 0
			assert_field "$e" .signal null
		else
			assert_eq "$bare_rc" "$((128 + $(kill -l "$sig")))" "bare status for SIG$sig"
			assert_field "$e" .signal "SIG$sig"
			assert_field "$e" .status null
		fi
		assert_valid_jsonl traced.jsonl
	done
}

@test "signals: a parent's waitpid sees death by the signal, the core flag and stops, as bare" {
	for case in INT TERM USR1 STOP "--core QUIT" "--core SEGV"; do
		# shellcheck disable=SC2086
		bare=$("$PYTHON3" "$BATS_TEST_DIRNAME/scripts/parentview.py" $case "$PROBE")
		rm -f core core.*
		# shellcheck disable=SC2086
		traced=$("$PYTHON3" "$BATS_TEST_DIRNAME/scripts/parentview.py" $case "$SOCKTRACE" -o "$TRACE" -- "$PROBE")
		rm -f core core.*
		assert_eq "$traced" "$bare" "what the parent saw for $case"
		sig=${case#--core }
		pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
		e=$(end_of "$TRACE" "$pid")
		case $bare in
		killed*core=1) assert_field "$e" .core true ;;
		killed*) assert_field "$e" '.core // false' false ;;
		esac
		if [[ $sig == STOP ]]; then
			assert_field "$e" .status 0
		else
			assert_field "$e" .signal "SIG$sig"
		fi
	done
}

@test "signals: kill -KILL \$! leaves no program running; the trace and the text log say killed by SIGKILL" {
	ms=$((60000 + RANDOM))
	for mode in bare traced; do
		probe_start "$mode" "$mode" "$ms"
		kill -KILL "$PID"
		probe_wait
		assert_eq "$RC" 137 "$mode: wait \$!"
		run pgrep -f -x "$PROBE $ms"
		[[ $status == 1 ]] || { echo "$mode: still running: $output" >&2; false; }
	done
	e=$(end_of traced.jsonl "$PID")
	assert_field "$e" .signal SIGKILL
	assert_field "$e" .by runner
	# without -o: the human log on stderr, as strace says it
	"$SOCKTRACE" -- "$PROBE" "$ms" >text.out 2>text.err 3>&- &
	PID=$!
	wait_until 10 grep -q '^start ' text.out
	kill -KILL "$PID"
	probe_wait
	assert_eq "$RC" 137 "text log: wait \$!"
	wait_until 5 grep -q "\[$PID\] +++ killed by SIGKILL +++  (seen by runner)$" text.err
}

@test "signals: kill -STOP \$! stops the program itself (state T), CONT resumes it" {
	for mode in bare traced; do
		probe_start "$mode" "$mode"
		kill -STOP "$PID"
		wait_until 5 bash -c "ps -o stat= -p $PID | grep -q '^T'"
		[[ $(ps -o comm= -p "$PID") == sigprobe ]]
		kill -CONT "$PID"
		probe_wait
		assert_eq "$RC" 0 "$mode: status after CONT"
		assert_eq "$(got "$mode" SIGCONT)" 1 "$mode: deliveries of SIGCONT"
	done
	e=$(end_of traced.jsonl "$PID")
	assert_field "$e" .status 0
}

# timeout(1) sends its signal to its child, then to its own group: the
# kernel delivers it once when the second send finds the first pending,
# twice when the handler already ran, bare as traced.  What must hold: every
# delivery comes from timeout itself (the program's parent), none is added.
@test "signals: timeout -s TERM 1 socktrace -- PROGRAM gets SIGTERM from timeout itself, as bare" {
	for mode in bare traced; do
		pre=()
		[[ $mode == traced ]] && pre=("$SOCKTRACE" -o "$TRACE" --)
		rc=0
		timeout -s TERM 1 "${pre[@]}" "$PROBE" 5000 >"$mode.out" 3>&- || rc=$?
		assert_eq "$rc" 124 "$mode: timeout's status"
		n=$(got "$mode" SIGTERM)
		[[ $n == 1 || $n == 2 ]] || { echo "$mode: $n deliveries of SIGTERM" >&2; false; }
		assert_eq "$(grep -c "^got sig=SIGTERM code=SI_USER from=$(fact "$mode.out" start ppid)$" "$mode.out")" \
			"$n" "$mode: deliveries of SIGTERM from timeout"
	done
	e=$(end_of "$TRACE" "$(fact traced.out start pid)")
	assert_field "$e" .signal SIGTERM
}

# eof_after MODE: ms from the start until a reader of the program's stdout
# sees EOF; the program (sigprobe -C 2000) closes it at once, lives 2 s.
eof_after() {
	local t0 pre=()
	[[ $1 == traced ]] && pre=("$SOCKTRACE" -o "$SCRATCH/$1.jsonl" --)
	rm -f eof.t
	t0=$(date +%s%N)
	{ "${pre[@]}" "$PROBE" -C 2000 | { cat >/dev/null; date +%s%N >eof.t; }; } 3>&- &
	wait_until 10 test -s eof.t
	echo $((($(<eof.t) - t0) / 1000000))
	wait $!
}

@test "signals: a reader of the program's stdout sees EOF when the program closes it, as bare" {
	bare=$(eof_after bare)
	traced=$(eof_after traced)
	echo "EOF after: bare $bare ms, traced $traced ms" >&2
	((traced < 1500)) || { echo "the reader waited for the runner: $traced ms (bare $bare ms)" >&2; false; }
	# the text log goes to a copy of stderr: a stderr reader sees EOF when
	# the program ends, and the watcher's line is in it
	t0=$(date +%s%N)
	"$SOCKTRACE" -- "$PROBE" 300 2>&1 >/dev/null 3>&- | cat >log.txt
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms < 2000)) || { echo "stderr's reader saw EOF after $ms ms for a 300 ms program" >&2; false; }
	grep -q '+++ exited with 0 +++  (seen by runner)$' log.txt
}

@test "signals: exit statuses pass through and the end record has them" {
	for code in 0 3 255; do
		rc=0
		"$(prog sockexit)" status "$code" >bare.out || rc=$?
		assert_eq "$rc" "$code" "bare status"
		rm -f "$TRACE"
		rc=0
		"$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" status "$code" >out || rc=$?
		assert_eq "$rc" "$code" "traced status"
		pid=$(fact out socket pid)
		e=$(end_of "$TRACE" "$pid")
		assert_field "$e" .status "$code"
		assert_field "$e" .by runner
		# exit, then end: the program's own record comes first
		assert_eq "$(jq -r "select(.pid==$pid) | .call" "$TRACE" | tail -n 2 | tr '\n' ' ')" "exit end " "last records"
	done
}

@test "signals: a traced parent records its child's end, the watcher the program's; one end each" {
	"$SOCKTRACE" -o "$TRACE" -- sh -c '"$1" 5000 & p=$!; sleep 0.3; kill -USR1 $p; wait $p; exit 7' sh "$PROBE" \
		>out 3>&- || rc=$?
	assert_eq "${rc:-0}" 7 "sh's status"
	# sh: the process whose parent is not in the run (the lines of several
	# processes come in the order the runner read them, each process's in
	# its own order)
	sh=$(jq -s -r '[.[] | select(.call=="start") | .pid] as $p | map(select(.call=="start" and ((.ppid as $q | $p | index($q)) == null)))[0].pid' "$TRACE")
	probe=$(fact out start pid)
	e=$(end_of "$TRACE" "$sh")
	assert_field "$e" .status 7
	assert_field "$e" .by runner
	e=$(one ".call==\"end\" and .pid==$probe")
	assert_field "$e" .signal SIGUSR1
	assert_field "$e" .by parent
	# every process of the run (sh, the probe, sleep) ended once
	assert_eq "$(jq -s -c '[.[] | select(.call=="end") | .pid] | sort' "$TRACE")" \
		"$(jq -s -c '[.[] | select(.call=="start") | .pid] | unique' "$TRACE")" "the processes that ended"
}

@test "signals: the watcher lives apart, and show and check wait for its record only once the program ended" {
	probe_start traced traced 20000
	w=$(watcher_of "$SCRATCH/traced.jsonl")
	# its own session, no terminal, nothing of the program's stdio
	assert_eq "$(ps -o sid= -p "$w" | tr -d ' ')" "$w" "the watcher's session"
	assert_eq "$(readlink "/proc/$w/fd/1")" /dev/null "the watcher's stdout"
	[[ ! -e /proc/$PID/task/$PID/children || -z $(cat "/proc/$PID/task/$PID/children") ]]
	# a trace still being written: show does not wait for a running program
	# (once the shim's first write, within 100 ms of the start, is in)
	wait_until 5 grep -q '"call":"start"' traced.jsonl
	t0=$(date +%s%N)
	"$SOCKTRACE" show -f json traced.jsonl >live.json
	ms=$((($(date +%s%N) - t0) / 1000000))
	# a reader that waited would take the 3 s it gives the runner; a loaded
	# machine may stretch a read to a second or two
	((ms < 2500)) || { echo "show of a live trace took $ms ms" >&2; false; }
	assert_count 0 '.call=="end"' live.json
	# the program ended while its watcher is held up: check waits for it
	kill -STOP "$w"
	kill -TERM "$PID"
	probe_wait
	"$SOCKTRACE" show -f json traced.jsonl >after.json 2>after.err 3>&- &
	reader=$!
	sleep 0.5
	kill -0 "$reader"	# still waiting
	kill -CONT "$w"
	wait "$reader"
	assert_empty after.err
	e=$(one '.call=="end"' after.json)
	assert_field "$e" .signal SIGTERM
	wait_until 5 bash -c "! kill -0 $w 2>/dev/null"
}

@test "signals: a killed watcher costs the end record only; readers do not wait for it" {
	probe_start traced traced 20000
	w=$(watcher_of "$SCRATCH/traced.jsonl")
	# what it wrote before it was killed stays (it writes within 100 ms)
	wait_until 5 grep -q '"call":"close"' traced.jsonl
	kill -KILL "$w"
	wait_until 5 bash -c "! kill -0 $w 2>/dev/null"
	kill -USR2 "$PID"
	probe_wait
	assert_eq "$RC" 140 "wait \$!"
	assert_eq "$(got traced SIGUSR2)" 1 "deliveries of SIGUSR2"
	# a reader that waited for the watcher would give up after 3 s and say
	# so ("has not written how it ended"); the wall clock is not asserted
	# (a loaded machine stretches it), the reader's own account is
	"$SOCKTRACE" check traced.jsonl 2>check.err
	if grep -q 'has not written how it ended' check.err; then
		cat check.err >&2
		false
	fi
	assert_count 0 '.call=="end"' traced.jsonl
	assert_count 1 '.call=="start"' traced.jsonl
}

@test "signals: the fallback (SOCKTRACE_RUNNER=parent) passes each signal on once and ends as the program did" {
	for sig in INT TERM USR1 WINCH; do
		signal_probe bare bare "$sig"
		bare_rc=$RC
		signal_probe parent parent "$sig"
		assert_eq "$RC" "$bare_rc" "fallback: wait \$! after SIG$sig"
		e=$(end_of parent.jsonl "$(fact parent.out start pid)")
		assert_field "$e" .by runner
	done
	bare=$("$PYTHON3" "$BATS_TEST_DIRNAME/scripts/parentview.py" INT "$PROBE")
	parent=$(SOCKTRACE_RUNNER=parent "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/parentview.py" INT \
		"$SOCKTRACE" -o "$TRACE" -- "$PROBE")
	assert_eq "$parent" "$bare" "what the parent saw"
}

@test "signals: the fallback's program dies with a killed runner, and its stdout's reader is not kept waiting" {
	ms=$((60000 + RANDOM))
	probe_start parent parent "$ms"
	kill -KILL "$PID"
	probe_wait
	assert_eq "$RC" 137 "wait \$!"
	wait_until 5 bash -c "! pgrep -f -x '$PROBE $ms' >/dev/null"
	rm -f eof.t
	t0=$(date +%s%N)
	{ SOCKTRACE_RUNNER=parent "$SOCKTRACE" -o parent.jsonl -- "$PROBE" -C 2000 |
		{ cat >/dev/null; date +%s%N >eof.t; }; } 3>&- &
	wait_until 10 test -s eof.t
	ms=$((($(<eof.t) - t0) / 1000000))
	((ms < 1500)) || { echo "the reader waited for the runner: $ms ms" >&2; false; }
	wait $!
}

@test "signals: as a pid namespace's init (pid 1), socktrace stays the parent, records the end and ends as the program did" {
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "cannot make a pid namespace here"
	rc=0
	unshare --pid --fork --mount-proc "$SOCKTRACE" -o "$TRACE" -- sh -c 'sleep 0.1 & kill -TERM $$' 3>&- || rc=$?
	assert_eq "$rc" 143 "status"
	e=$(one '.call=="end" and .pid==2')
	assert_field "$e" .signal SIGTERM
	assert_field "$e" .by runner
	rc=0
	unshare --pid --fork --mount-proc "$SOCKTRACE" -o "$TRACE" -- sh -c 'exit 4' 3>&- || rc=$?
	assert_eq "$rc" 4 "status"
	e=$(one '.call=="end" and .pid==2')
	assert_field "$e" .status 4
}
