#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The runner: `socktrace -o FILE -- PROGRAM ARGS` runs PROGRAM under the
# shim it was built with, in its own place, so it ends as PROGRAM does (the
# shell says 128+signal when a signal killed it), truncates FILE first, and
# leaves PROGRAM's own stdout, stderr and arguments alone.  Signals, stops
# and the end record: run_signals.bats.

load helpers

setup() {
	st_setup
	[[ -x $SOCKTRACE ]] || { echo "socktrace not built: $SOCKTRACE" >&2; return 1; }
}

@test "runner: exit statuses 0, 3 and 255 pass through, and the trace records the run" {
	for code in 0 3 255; do
		rm -f "$TRACE"
		status=0
		"$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" status "$code" >out || status=$?
		assert_eq "$status" "$code" "socktrace's exit status"
		pid=$(fact out socket pid)
		e=$(one '.call=="start"')
		assert_field "$e" .pid "$pid"
		assert_field "$e" .exe "$TESTPROGS/sockexit"
		assert_field "$e" '.argv|join(" ")' "$TESTPROGS/sockexit status $code"
		e=$(one '.call=="socket"')
		assert_field "$e" .fd "$(fact out socket fd)"
		assert_field "$e" .inode "$(fact out socket ino)"
		e=$(one '.call=="exit"')
		assert_field "$e" .open 1
		assert_valid_jsonl
	done
}

@test "runner: a program killed by a signal gives 128+signal, and what it did is in the trace" {
	for pair in TERM:143 KILL:137 SEGV:139 INT:130; do
		sig=${pair%:*} want=${pair#*:}
		rm -f "$TRACE"
		status=0
		"$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" signal "$sig" >out 2>err || status=$?
		assert_eq "$status" "$want" "socktrace's exit status for SIG$sig"
		e=$(one '.call=="socket"')
		assert_field "$e" .pid "$(fact out socket pid)"
	done
	rm -f "$TRACE"
	status=0
	"$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" abort >out 2>err || status=$?
	assert_eq "$status" 134 "socktrace's exit status for abort()"
}

@test "runner: -o truncates the file first" {
	printf 'stale line from an earlier run\n' >"$TRACE"
	"$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" status 0 >/dev/null
	! grep -q stale "$TRACE"
	assert_valid_jsonl
	assert_count 1 '.call=="start"'
}

@test "runner: -A appends, so two runs make one trace; the file stays 0600" {
	"$SOCKTRACE" -o both.jsonl -- "$(prog sockexit)" status 0 >/dev/null
	"$SOCKTRACE" -o both.jsonl -A -- "$(prog sockexit)" status 0 >/dev/null
	assert_count 2 '.call=="start"' both.jsonl
	assert_count 2 '.call=="exit"' both.jsonl
	assert_eq "$(jq -s '[.[].pid] | unique | length' both.jsonl)" 2 "processes"
	assert_eq "$(stat -c %a both.jsonl)" 600 "mode"
	"$SOCKTRACE" -o both.jsonl -- "$(prog sockexit)" status 0 >/dev/null
	assert_count 1 '.call=="start"' both.jsonl
}

@test "runner: a whole TCP exchange under the runner, each end traced into its own file" {
	bg_start srv "$SOCKTRACE" -o "$SCRATCH/srv.jsonl" -- "$(prog tcp_server)" -n 1
	wait_line srv '^listen ' >/dev/null
	port=$(fact srv.out listen port)
	"$SOCKTRACE" -o "$SCRATCH/cli.jsonl" -- "$(prog tcp_client)" -p "$port" >cli.out
	bg_wait srv
	e=$(one '.call=="accept4"' srv.jsonl)
	assert_field "$e" .remote "$(fact cli.out connect local)"
	e=$(one '.call=="connect"' cli.jsonl)
	assert_field "$e" .remote "127.0.0.1:$port"
	assert_field "$e" .state ESTABLISHED
	e=$(one ".call==\"close\" and .fd==$(fact cli.out connect fd)" cli.jsonl)
	assert_field "$e" .state FIN_WAIT1
}

@test "runner: the program's arguments after -- are its own, stdout is untouched" {
	"$(prog errcheck)" >bare.out
	"$SOCKTRACE" -o "$TRACE" -- "$(prog errcheck)" >traced.out
	diff -u bare.out traced.out
	status=0
	"$SOCKTRACE" -o "$TRACE" -- "$(prog tcp_server)" -o x >out 2>err || status=$?
	assert_eq "$status" 99 "tcp_server's status on a bad option"
	grep -q "usage: tcp_server" err
}

@test "runner: without -o a human log goes to stderr; -f jsonl makes it JSON Lines" {
	"$SOCKTRACE" -- "$(prog tconnect)" refused >out 2>err
	port=$(fact out bound port)
	grep -q ECONNREFUSED err
	grep -q "127.0.0.1:$port" err
	run jq -e . err
	[ "$status" -ne 0 ]
	"$SOCKTRACE" -f jsonl -- "$(prog tconnect)" refused >out 2>err
	assert_valid_jsonl err
	assert_count 1 '.call=="connect" and .errno=="ECONNREFUSED"' err
}

@test "runner: -f text -o FILE writes the human log into FILE" {
	"$SOCKTRACE" -f text -o "$TRACE" -- "$(prog tconnect)" refused >out 2>err
	assert_empty err
	grep -q ECONNREFUSED "$TRACE"
	run jq -e . "$TRACE"
	[ "$status" -ne 0 ]
}

@test "runner: a program that cannot be run gives an error naming it and a non-zero status" {
	run "$SOCKTRACE" -o "$TRACE" -- "$SCRATCH/no-such-program"
	[ "$status" -ne 0 ]
	[[ $output == *no-such-program* ]]
}
