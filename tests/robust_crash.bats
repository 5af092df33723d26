#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A program that dies right after N calls (SIGKILL by itself or from
# outside, SIGSEGV, abort()): all N events are in the trace, whole.
# (shim_output.bats checks a death after one call.)

load helpers

N=300

# made_all: the trace holds every call sockexit -n $N made, and nothing torn.
made_all() {
	assert_valid_jsonl
	assert_seq_ok
	assert_count $((N + 1)) '.call=="socket" and .ret>=0'
	assert_count "$N" '.call=="setsockopt" and .ret==0'
	assert_count "$N" '.call=="bind" and .ret==0'
	# the last call before the end, with the port the program saw
	e=$(jq -c 'select(.call=="bind")' "$TRACE" | tail -n 1)
	assert_field "$e" .fd "$(fact out made last_fd)"
	assert_field "$e" .local "127.0.0.1:$(fact out made last_port)"
}

@test "crash: SIGKILL, SIGSEGV (raised and real), abort() right after $N sockets: all 3N+1 calls recorded" {
	for how in "signal KILL" "signal SEGV" segv abort; do
		rm -f "$TRACE"
		status=0
		# shellcheck disable=SC2086
		traced "$(prog sockexit)" -n "$N" $how >out 2>/dev/null || status=$?
		[[ $status -gt 128 ]] || { echo "$how: exit status $status" >&2; false; }
		made_all
		assert_count 0 '.call=="exit"'
	done
}

@test "crash: SIGKILL from another process while the program waits: all calls recorded" {
	bg_start victim traced "$(prog sockexit)" -n "$N" signal 19	# SIGSTOP: it stops, alive, until killed
	wait_line victim '^made ' >/dev/null
	pid=${BG[victim]}
	wait_until 10 grep -q '^State:.*T (stopped)' "/proc/$pid/status"
	kill -KILL "$pid"
	status=0
	bg_wait victim || status=$?
	assert_eq "$status" 137 "exit status"
	cp "$SCRATCH/victim.out" out
	made_all
}
