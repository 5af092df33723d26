#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Configuration from the environment: a bad value gets one warning line on
# stderr and the default, and the program runs on with its output and exit
# status unchanged; SOCKTRACE_FORMAT and SOCKTRACE_FAMILIES do what they say.

load helpers

# bad_value VAR VALUE: run errcheck (and sockexit) with VAR=VALUE, tracing
# to a file; exactly one warning naming VAR, nothing else on stderr.
bad_value() {
	local var=$1 value=$2 status=0
	"$(prog errcheck)" >bare.out
	env "$var=$value" LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$TRACE" \
		"$(prog errcheck)" >traced.out 2>traced.err || status=$?
	assert_eq "$status" 0 "errcheck's exit status"
	diff -u bare.out traced.out
	assert_eq "$(wc -l <traced.err)" 1 "lines on stderr"
	grep -q "socktrace" traced.err
	grep -q "$var" traced.err
	assert_valid_jsonl
	assert_some '.call=="connect" and .errno=="ECONNREFUSED"'

	rm -f "$TRACE"
	status=0
	env "$var=$value" LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$TRACE" \
		"$(prog sockexit)" status 7 >exit.out 2>exit.err || status=$?
	assert_eq "$status" 7 "sockexit's exit status"
	assert_eq "$(wc -l <exit.err)" 1 "lines on stderr"
	assert_some '.call=="socket" and .ret>=0'
}

@test "bad SOCKTRACE_FORMAT: one warning, the file's default (jsonl), the program runs on" {
	bad_value SOCKTRACE_FORMAT yaml
}

@test "bad SOCKTRACE_STACK: one warning, no stacks" {
	bad_value SOCKTRACE_STACK lots
	assert_count 0 '.stack!=null'
}

@test "bad SOCKTRACE_PROBE: one warning, the default" {
	bad_value SOCKTRACE_PROBE sometimes
}

@test "bad SOCKTRACE_FAMILIES: one warning, the default (all families)" {
	bad_value SOCKTRACE_FAMILIES inet,carrier-pigeon
	# errcheck, run again to look at what was recorded
	rm -f "$TRACE"
	SOCKTRACE_FAMILIES=inet,carrier-pigeon traced "$(prog errcheck)" >/dev/null 2>&1
	assert_some '.family=="AF_INET"'
	assert_some '.family=="AF_UNIX"'
}

@test "SOCKTRACE_FAMILIES=unix records only AF_UNIX sockets" {
	SOCKTRACE_FAMILIES=unix traced "$(prog errcheck)" >out 2>err
	assert_empty err
	assert_valid_jsonl
	assert_seq_ok
	assert_count 0 '.family=="AF_INET" or .family=="AF_INET6"'
	e=$(one '.call=="socketpair" and .ret==0')
	assert_field "$e" .family AF_UNIX
	assert_count 1 '.call=="socket" and .family=="AF_UNIX" and .type=="SOCK_DGRAM"'
	assert_count 3 '.call=="close" and .family=="AF_UNIX"'
	assert_count 1 '.call=="start"'
	assert_count 1 '.call=="exit"'
}

@test "SOCKTRACE_FAMILIES=inet or inet6 records only that family" {
	SOCKTRACE_FAMILIES=inet traced "$(prog unixsock)" pair stream >out
	assert_count 0 '.family=="AF_UNIX"'
	assert_count 0 '.call=="close"'
	rm -f "$TRACE"
	SOCKTRACE_FAMILIES=inet traced "$(prog udp)" -6 connected >out
	assert_count 0 '.family=="AF_INET6"'
	rm -f "$TRACE"
	SOCKTRACE_FAMILIES=inet6 traced "$(prog udp)" -6 connected >out
	assert_count 2 '.call=="close" and .family=="AF_INET6"'
}

@test "SOCKTRACE_FORMAT=text into a file: one human line per event, not JSON" {
	SOCKTRACE_FORMAT=text traced "$(prog tconnect)" refused >out
	port=$(fact out bound port)
	[[ -s $TRACE ]]
	run jq -e . "$TRACE"
	[ "$status" -ne 0 ]
	grep -q "connect" "$TRACE"
	grep -q "ECONNREFUSED" "$TRACE"
	grep -q "127.0.0.1:$port" "$TRACE"
	# one line per event: start, 2 socket, bind, connect, 2 close, exit
	assert_eq "$(wc -l <"$TRACE")" 8 "lines in the text trace"
}

@test "without SOCKTRACE_OUTPUT: text on stderr, the program's stdout untouched" {
	"$(prog tconnect)" refused >bare.out
	LD_PRELOAD=$SHIM "$(prog tconnect)" refused >traced.out 2>traced.err
	port=$(fact traced.out bound port)
	# same facts apart from the port the kernel chose
	diff <(sed 's/[0-9][0-9]*/N/g' bare.out) <(sed 's/[0-9][0-9]*/N/g' traced.out)
	grep -q "ECONNREFUSED" traced.err
	grep -q "127.0.0.1:$port" traced.err
	run jq -e . traced.err
	[ "$status" -ne 0 ]
	# one line per event: start, 2 socket, bind, connect, 2 close, exit
	assert_eq "$(wc -l <traced.err)" 8 "lines on stderr"
}

@test "SOCKTRACE_OUTPUT=stderr with SOCKTRACE_FORMAT=jsonl: JSON Lines on stderr" {
	SOCKTRACE_OUTPUT=stderr SOCKTRACE_FORMAT=jsonl LD_PRELOAD=$SHIM "$(prog tconnect)" refused >out 2>err
	assert_valid_jsonl err
	assert_count 1 '.call=="connect" and .errno=="ECONNREFUSED"' err
}
