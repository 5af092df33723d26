#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace check` reads the traces as a stream: past --hold events
# held, each socket that has ended is judged and let go as the trace
# goes.  The verdicts, the exit status and each rule's count of
# violations are the whole trace's (the default --hold holds all of these
# traces, --strict or not: the whole trace's report); the order
# of a rule's lines and the examples a grouped line names are what
# change, said on stderr.  Below the limit the report is the whole
# trace's, byte for byte.  (max-time-wait: check_tw_stream.bats.)

load helpers
bats_require_minimum_version 1.5.0

# a real trace: a forking server whose odd children leak their connection,
# an early peak of open sockets and an early failed bind
# (tests/scripts/forkleak.py)
forkleak() {
	traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/forkleak.py" "$1" >"$SCRATCH/forkleak.out"
	grep -q "^done $1" "$SCRATCH/forkleak.out"
}

# "rule=count ..." of a JUnit report: the violations of each testcase
counts() {
	"$PYTHON3" -c '
import re, sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    f = tc.find("failure")
    n = int(re.match(r"(\d+) violation", f.get("message")).group(1)) if f is not None else 0
    print("%s=%d" % (tc.get("name"), n))' "$1"
}

@test "check stream: a forking server's leaks judged as they end, the whole trace's verdicts" {
	forkleak 8
	run --separate-stderr "$SOCKTRACE" check --strict --rule all --junit whole.xml "$TRACE"
	[[ $status == 1 ]]
	whole=$output
	# the four leaking children: one line, counted
	grep -q '^no-leaks: .*; 4 such sockets leaked from the same place in 4 processes' <<<"$whole"
	run --separate-stderr "$SOCKTRACE" check --hold 1 --rule all --junit held.xml "$TRACE"
	[[ $status == 1 ]]
	grep -q 'events were held (--hold): [0-9]* sockets that had ended were judged as they ended' <<<"$stderr"
	grep -q '^no-leaks: .*; 4 such sockets leaked from the same place in 4 processes' <<<"$output"
	diff <(counts whole.xml) <(counts held.xml)
	[[ $(counts held.xml | grep -c '=0$') == 3 ]]
	# below the limit: the whole trace's report, byte for byte
	run --separate-stderr "$SOCKTRACE" check --rule all "$TRACE"
	[[ $status == 1 && -z $stderr ]]
	[[ $output == "$whole" ]]
}

@test "check stream: max-open past the hold is the whole trace's peak, of sockets long let go" {
	forkleak 6
	"$SOCKTRACE" check --strict --rule max-open=3 "$TRACE" >whole.txt || [[ $? == 1 ]]
	# the listener and three UDP sockets, at the start
	grep -q '^max-open=3: pid [0-9]* (python3 .*): 4 sockets open at once (at [0-9:.]*), more than 3$' whole.txt
	[[ $(wc -l <whole.txt) == 1 ]]
	run --separate-stderr "$SOCKTRACE" check --hold 1 --rule max-open=3 "$TRACE"
	[[ $status == 1 ]]
	grep -q 'events were held (--hold)' <<<"$stderr"
	diff whole.txt <(echo "$output")
	run --separate-stderr "$SOCKTRACE" check --hold 1 --rule max-open=4 "$TRACE"
	[[ $status == 0 ]]
}

@test "check stream: a failed bind (EADDRINUSE) early in the trace is judged past the hold" {
	forkleak 6
	"$SOCKTRACE" check --strict --rule no-eaddrinuse "$TRACE" >whole.txt || [[ $? == 1 ]]
	grep -q '^no-eaddrinuse: pid [0-9]* .*: bind([0-9]*, 127\.0\.0\.1:[0-9]*) failed with EADDRINUSE' whole.txt
	run --separate-stderr "$SOCKTRACE" check --hold 1 --rule no-eaddrinuse --rule no-leaks "$TRACE"
	[[ $status == 1 ]]
	grep -q 'events were held (--hold)' <<<"$stderr"
	diff whole.txt <(grep '^no-eaddrinuse: ' <<<"$output")
}

@test "check stream: max-time-wait and --strict stream too; bad --hold and --window" {
	forkleak 4
	run --separate-stderr "$SOCKTRACE" check --hold 1 --strict --rule no-leaks "$TRACE"
	[[ $status == 1 ]]
	grep -q 'events were held' <<<"$stderr"
	run --separate-stderr "$SOCKTRACE" check --hold 1 --rule=max-time-wait=100 --rule no-leaks "$TRACE"
	[[ $status == 1 ]]
	grep -q 'events were held' <<<"$stderr"
	run --separate-stderr "$SOCKTRACE" check --hold 0 "$TRACE"
	[[ $status == 2 ]]
	grep -q "bad --hold '0' (events, 1-1000000000)" <<<"$stderr"
	# digits only, as show takes them: no sign, no blank
	for v in +5 " 5"; do
		run --separate-stderr "$SOCKTRACE" check --hold "$v" "$TRACE"
		[[ $status == 2 ]]
		grep -q "bad --hold '$v'" <<<"$stderr"
		run --separate-stderr "$SOCKTRACE" show -f lifecycle --hold "$v" "$TRACE"
		[[ $status == 2 ]]
	done
	run --separate-stderr "$SOCKTRACE" check --window=-1 "$TRACE"
	[[ $status == 2 ]]
	grep -q "bad --window '-1' (milliseconds, 0-3600000)" <<<"$stderr"
}

@test "check stream: --expect judges each socket as it ends: a match that ended early, and the closest three of a pattern none matches, as the whole trace gives them" {
	forkleak 8
	pats=(--expect 'tcp * socket bind(EADDRINUSE) close' --expect 'udp * socket connect close')
	run --separate-stderr "$SOCKTRACE" check --strict "${pats[@]}" "$TRACE"
	[[ $status == 1 ]]
	whole=$output
	grep -q "^expect: udp \* socket connect close: no socket matches 'udp \* socket connect close'; closest: pid=[0-9]* fd=[0-9]* udp socket close | " <<<"$whole"
	! grep -q '^expect: tcp' <<<"$whole"
	run --separate-stderr "$SOCKTRACE" check --hold 1 "${pats[@]}" "$TRACE"
	[[ $status == 1 ]]
	# judged as the sockets ended, the failed bind's among the first
	grep -q 'events were held (--hold): [0-9]* sockets that had ended were judged as they ended' <<<"$stderr"
	[[ $output == "$whole" ]]
}

@test "check stream: SIGTERM while the input still comes judges nothing, says so, exits 143 and leaves a JUnit error, not an empty report" {
	forkleak 4
	mkfifo feed
	# the trace, then a writer that never ends (a --follow pipe, a stalled collector)
	{ cat "$TRACE"; sleep 30; } >feed &
	writer=$!
	"$SOCKTRACE" check --rule all --junit cut.xml feed >cut.out 2>cut.err &
	checker=$!
	# the whole trace is read (and held) before the signal
	sleep 1.5
	kill -TERM "$checker"
	rc=0
	wait "$checker" || rc=$?
	kill "$writer" 2>/dev/null || true
	[[ $rc == 143 ]]
	grep -q '^socktrace: check: stopped by SIGTERM before the end of the input ([1-9][0-9]* events read); nothing was judged$' cut.err
	# no verdict: the sockets still open where it stopped are not leaks
	[[ ! -s cut.out ]]
	"$PYTHON3" -c '
import sys, xml.etree.ElementTree as ET
tcs = list(ET.parse(sys.argv[1]).iter("testcase"))
assert len(tcs) == 1 and tcs[0].get("name") == "input", tcs
e = tcs[0].find("error")
assert e is not None and e.get("type") == "interrupted", e
assert "stopped by SIGTERM" in e.get("message")' cut.xml
}
