#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Signal handlers that make and close sockets while the main thread is
# inside wrapped calls, thousands of times: no deadlock (the run is bounded
# by a timeout), no lost event (exact counts), no torn line.

load helpers

# storm MODE: run sigstorm MODE traced, bounded by 120 s, and check the
# trace against the counts the program printed.  A signal every 50 us; under
# the sanitizers every 200 us: there a handler can take longer than the
# interval on a loaded machine, and the program then does little but run
# handlers (a livelock the timeout would take for a deadlock).
storm() {
	local status=0 us=50
	[[ ${SOCKTRACE_SANITIZED:-} != 1 ]] || us=200
	traced_prefix
	timeout -k 5 120 "${TRACED[@]}" "$(prog sigstorm)" "$1" -n 5000 -u "$us" >out 2>err || status=$?
	trace_settle "$TRACE"
	[[ $status != 124 && $status != 137 ]] || { echo "sigstorm $1: deadlocked (killed by the timeout)" >&2; return 1; }
	assert_eq "$status" 0 "sigstorm's exit status"
	assert_empty err
	local loops handled pooled
	loops=$(fact out done loops)
	handled=$(fact out done handled)
	pooled=$(fact out done pool_closed)
	# the handler must really have run, many times
	[[ $handled -ge 100 ]] || { echo "only $handled signals handled" >&2; return 1; }
	assert_valid_jsonl
	assert_seq_ok
	# in runner mode the runner adds the program's end
	assert_count "$(runner_ends 1)" '.call=="end" and .by=="runner" and .status==0'
	jq -r 'select(.by != "runner") | "\(.call) \(if .errno then "fail" else "ok" end)"' "$TRACE" | sort | uniq -c | awk '{ print $2, $3, $1 }' >counts
	cat >want <<-END
	bind ok $loops
	close ok $((5 * loops + handled + pooled))
	connect ok $loops
	dup ok $loops
	exit ok 1
	listen ok $loops
	setsockopt ok $loops
	socket ok $((64 + 2 * loops + handled))
	socketpair ok $loops
	start ok 1
	END
	diff -u want counts
	e=$(one '.call=="exit"')
	assert_field "$e" .open $((64 - pooled))
	echo "# $1: $(wc -l <"$TRACE") events, $handled signals handled" >&3
}

@test "signals: SIGALRM every 50 us (setitimer), the handler makes and closes sockets: exact counts" {
	storm alarm
}

@test "signals: SIGUSR1 from another thread (pthread_kill), the handler makes and closes sockets: exact counts" {
	storm thread
}
