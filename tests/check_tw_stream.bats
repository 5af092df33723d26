#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `check --rule max-time-wait=N` reads the traces as a stream, as every
# other rule does: past --hold events held, each TCP end is judged as it
# is let go, and what the kernel's table at a later exit says of it (its
# closer's exit, or another's that lists its tuple) is matched to it as
# the whole trace matches it.  The verdict, the sentence and the note are
# the whole trace's (--hold 200000: nothing let go); the connections end
# long before the exits (tests/scripts/twclose.py makes 9 000 events
# after them, more than the look-ahead window holds).

load helpers
bats_require_minimum_version 1.5.0

setup() {
	st_setup
	need_tw_room
}

# twclose MODE N: the connections of twclose.py MODE traced; the server's
# port in $PORT, the kernel's TIME_WAIT sockets of it in $KERNEL, and in
# $TUPLES the tuples the trace's connections used (the kernel keeps one
# TIME_WAIT a tuple: a new connection on a tuple takes over the old one's)
twclose() {
	traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/twclose.py" "$1" "$2" >tw.out || true
	grep -q '^done' tw.out
	PORT=$(awk '/^port/ { print $2 }' tw.out)
	KERNEL=$(ss -Htan state time-wait "( sport = :$PORT or dport = :$PORT )" | wc -l)
	TUPLES=$("$SOCKTRACE" show -f lifecycle "$TRACE" |
		grep -o " tcp 127\.0\.0\.1:$PORT -> 127\.0\.0\.1:[0-9]* accept" | sort -u | wc -l)
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

# same RULE...: check with --hold 1 lets the sockets go as they end (said
# on stderr) and gives the whole trace's lines and exit status
# (--hold 200000, which lets nothing go); the lines in $output, the
# status in $status
same() {
	run --separate-stderr "$SOCKTRACE" check --hold 200000 --junit whole.xml "$@" "$TRACE"
	whole=$output wstatus=$status
	[[ -z $stderr ]] || { echo "whole: $stderr" >&2; false; }
	run --separate-stderr "$SOCKTRACE" check --hold 1 --junit held.xml "$@" "$TRACE"
	grep -q 'more than 1 events were held (--hold): [0-9]* sockets that had ended were judged as they ended' <<<"$stderr" ||
		{ echo "held: $stderr" >&2; false; }
	assert_eq "$status" "$wstatus" "exit status"
	assert_eq "$output" "$whole" "the lines"
	diff <(counts whole.xml) <(counts held.xml)
}

@test "check max-time-wait streams: a client that closes first 50 times, its sockets let go long before its exit, is counted by that exit's table, as the kernel says" {
	twclose loop 50
	assert_eq "$KERNEL" "$TUPLES" "TIME_WAIT in the kernel's table"
	assert_eq "$TUPLES" 50 "tuples"
	same --rule max-time-wait=0
	assert_eq "$status" 1
	[[ $output == "max-time-wait=0: 50 closed connections in TIME_WAIT at exit (pid "*" (python3 "*"): 50), more than 0: "* ]]
	same --rule max-time-wait=50
	assert_eq "$status" 0 "$output"
	same --rule all --rule max-time-wait=2
	grep -q '^max-time-wait=2: 50 closed connections in TIME_WAIT at exit' <<<"$output"
}

@test "check max-time-wait streams: a client killed by SIGKILL reads no table; its 50 active closes, let go long before, are each counted once, the first by it" {
	twclose killed 50
	assert_eq "$KERNEL" "$TUPLES" "TIME_WAIT in the kernel's table"
	assert_eq "$TUPLES" 50 "tuples"
	pid=$("$SOCKTRACE" show -f lifecycle "$TRACE" | awk '/ tcp .* listen / { sub("pid=", "", $1); print $1; exit }')
	same --rule max-time-wait=49
	assert_eq "$status" 1
	[[ $output == "max-time-wait=49: 50 closed connections in TIME_WAIT (0 in the kernel's table at exit; 50 closed actively, the other end closing too, where no exit read the kernel's table after: the first by pid $pid (python3 "*")), more than 49: "* ]]
	same --rule max-time-wait=50
	assert_eq "$status" 0 "$output"
}

@test "check max-time-wait streams: a forking server's children close first and exit; each child's exit counts its own, the sockets let go before" {
	twclose fork 30
	# (a client port used again by chance takes over its TIME_WAIT)
	assert_eq "$KERNEL" "$TUPLES" "TIME_WAIT in the kernel's table"
	same --rule max-time-wait=5
	assert_eq "$status" 1
	[[ $output == "max-time-wait=5: 30 closed connections in TIME_WAIT at exit (pid "*": 1, "*", and 25 more processes: 25), more than 5: "* ]]
	same --rule max-time-wait=30
	assert_eq "$status" 0 "$output"
}

@test "check max-time-wait streams: children killed after their close read no table: their 30 active closes, let go long before the end, are counted by TCP's rules" {
	twclose forkkill 30
	assert_eq "$KERNEL" "$TUPLES" "TIME_WAIT in the kernel's table"
	same --rule max-time-wait=1
	assert_eq "$status" 1
	[[ $output == "max-time-wait=1: 30 closed connections in TIME_WAIT (0 in the kernel's table at exit; 30 closed actively, the other end closing too, where no exit read the kernel's table after: the first by pid "*"), more than 1: "* ]] ||
		{ echo "$output" >&2; false; }
	same --rule max-time-wait=30
	assert_eq "$status" 0 "$output"
}

@test "check max-time-wait streams: one tuple used by 30 connections (a client port bound again): each end of it, let go before the later ones ended, is decided as the whole trace decides it" {
	twclose reuse 30
	# one kernel socket: each connection took over the last one's TIME_WAIT
	assert_eq "$TUPLES" 1 "tuples"
	assert_eq "$KERNEL" 1 "TIME_WAIT in the kernel's table"
	[[ $("$SOCKTRACE" show -f lifecycle "$TRACE" | grep -c " tcp 127\.0\.0\.1:$PORT -> .* accept") == 30 ]]
	# by TCP's rules (no exit read the table after them), each of the 30
	# active closes waits in TIME_WAIT
	same --rule max-time-wait=0
	assert_eq "$status" 1
	[[ $output == "max-time-wait=0: 30 closed connections in TIME_WAIT (0 in the kernel's table at exit; 30 closed actively, "* ]] ||
		{ echo "$output" >&2; false; }
	same --rule max-time-wait=0 --rule max-time-wait=5 --rule closed-by=client
}
