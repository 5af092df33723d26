#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Socket calls at the edges of a process's life: in another library's
# constructor (which may run before the shim's), in atexit handlers and
# destructors (which may run after the shim's exit event).  Recorded or
# passed through, never a crash; the program's output and exit status are
# what they are without the shim.

load helpers

# paired: every socket the program says it made at an edge is either in the
# trace with its close, or not in the trace at all (passed through).
paired() {
	local where fd pid
	pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
	assert_count 1 '.call=="start"'
	assert_count 1 '.call=="exit"'
	assert_valid_jsonl
	assert_seq_ok
	e=$(one '.call=="start"')
	assert_field "$e" .seq 1
	assert_count 0 '.errno!=null'
	assert_eq "$(nev '.call=="socket"')" "$(nev '.call=="close"')" "sockets made and closed by the edges (the main one stays open)" ||
		assert_eq "$(nev '.call=="socket"')" "$(($(nev '.call=="close"') + 1))" "sockets and closes"
}

@test "edges: a linked library's constructor, atexit handlers and destructors: recorded or passed through, nothing changed" {
	for how in "" return; do
		rm -f "$TRACE"
		status=0
		"$(prog lateexit)" 3 $how >bare.out 2>bare.err || status=$?
		assert_eq "$status" 3 "bare exit status"
		status=0
		traced "$(prog lateexit)" 3 $how >traced.out 2>traced.err || status=$?
		assert_eq "$status" 3 "traced exit status"
		diff -u bare.out traced.out
		assert_empty traced.err
		grep -q '^early where=ctor .* ok=1' traced.out
		grep -q '^early where=dtor .* ok=1' traced.out
		grep -q '^late where=atexit .* ok=1' traced.out
		paired
		# the constructor's socket, made before main: recorded, bound, closed
		e=$(ev '.call=="bind"' | head -n 1)
		assert_field "$e" .ret 0
		# the constructor's socket and main's
		assert_count 2 '.call=="socket" and .type=="SOCK_STREAM"'
		assert_some ".call==\"socket\" and .fd==$(fact traced.out main fd)"
		e=$(one '.call=="exit"')
		assert_field "$e" .open 1
	done
}

@test "edges: libearly.so preloaded before and after the shim: recorded or passed through, nothing changed" {
	# preload mode only, in either ST_TRACE_MODE: the case is about the
	# order of LD_PRELOAD itself, which the runner fixes (the shim first)
	early=$top_builddir/tests/progs/.libs/libearly.so
	[[ -f $early ]]
	LD_PRELOAD=$early "$(prog sockexit)" status 5 >bare.out 2>/dev/null || true
	for order in "$early $SHIM" "$SHIM $early"; do
		rm -f "$TRACE"
		status=0
		LD_PRELOAD=$order SOCKTRACE_OUTPUT=$TRACE "$(prog sockexit)" status 5 >traced.out 2>traced.err || status=$?
		assert_eq "$status" 5 "exit status with LD_PRELOAD='$order'"
		diff -u <(sed 's/ino=[0-9]* pid=[0-9]* ppid=[0-9]*//' bare.out) <(sed 's/ino=[0-9]* pid=[0-9]* ppid=[0-9]*//' traced.out)
		assert_empty traced.err
		paired
		one ".call==\"socket\" and .inode==$(fact traced.out socket ino)" >/dev/null
	done
}
