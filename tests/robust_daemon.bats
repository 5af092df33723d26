#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Daemons sweep descriptors: close() on every number, close_range(),
# closefrom(), dup2() onto every high number.  The program runs as it
# would without the shim, and the trace goes on: the TCP exchange made
# after the sweep is recorded.  The shim's own descriptor is invisible:
# fcntl() and close() on it fail with EBADF, as on a closed number.

load helpers

# sweep MODE...: run `daemon MODE` with 1024 descriptors, traced and bare;
# same facts (ports aside), exit 0, and the exchange after the sweep traced.
sweep() {
	local status=0
	(ulimit -n 1024 && "$(prog daemon)" "$SCRATCH/bare.facts" "$@") || status=$?
	assert_eq "$status" 0 "bare run's exit status"
	(ulimit -n 1024 && traced "$(prog daemon)" "$SCRATCH/traced.facts" "$@") 2>err || status=$?
	assert_eq "$status" 0 "traced run's exit status"
	assert_empty err
	diff -u <(sed 's/port=[0-9]*//' bare.facts) <(sed 's/port=[0-9]*//' traced.facts)
	assert_valid_jsonl
	assert_seq_ok
	local l c a port
	l=$(fact traced.facts after listen)
	c=$(fact traced.facts after client)
	a=$(fact traced.facts after accepted)
	port=$(fact traced.facts after port)
	e=$(one ".call==\"listen\" and .fd==$l")
	assert_field "$e" .local "127.0.0.1:$port"
	one ".call==\"connect\" and .fd==$c and .ret==0 and .remote==\"127.0.0.1:$port\"" >/dev/null
	one ".call==\"accept4\" and .fd==$a and .listen_fd==$l" >/dev/null
	for fd in "$c" "$a" "$l"; do
		e=$(ev ".call==\"close\" and .fd==$fd" | tail -n 1)
		assert_field "$e" .ret 0
	done
	assert_count 1 '.call=="exit"'
}

@test "daemon: close() of every descriptor 0..1023, then 0-2 on /dev/null: the trace goes on" {
	sweep loop
}

@test "daemon: close_range(3, ~0U, 0): the trace goes on" {
	sweep close_range
}

@test "daemon: closefrom(3): the trace goes on" {
	sweep closefrom
}

@test "daemon: dup2() of a socket onto every descriptor from 64 up, then close them: same descriptors, the trace goes on" {
	sweep dup2 64
	# the shim's own descriptor takes one of the 960 numbers and gives up
	# that dup2's event (counted in "dropped"); under the runner the
	# processes write into shared memory and hold no such descriptor: all
	if [[ $ST_TRACE_MODE == runner ]]; then
		assert_count 960 '.call=="dup2" and .ret>=0'
	else
		assert_count 959 '.call=="dup2" and .ret>=0'
	fi
}

@test "daemon: dup2() of a socket onto every free descriptor (3..1023), then close them: the trace goes on" {
	sweep dup2 3
	# while the program holds every descriptor the trace could use (the
	# high ones too) nothing can be written: the dup2 that takes the
	# trace's number, and the closes until a high descriptor is free again,
	# are counted in "dropped" on the next event written
	n=$(nev '.call=="dup2" and .ret>=0')
	d=$(jq -s '[.[].dropped // 0] | add' "$TRACE")
	if [[ $ST_TRACE_MODE == runner ]]; then
		# under the runner the events go to shared memory, which needs no
		# descriptor: every dup2 recorded, nothing dropped
		assert_eq "$n" 1020 "dup2 events recorded"
		assert_eq "$d" 0 "events dropped"
		return 0
	fi
	[[ $n -ge 1018 && $n -le 1019 ]] || { echo "dup2 events recorded: $n" >&2; false; }
	[[ $d -ge $((1020 - n)) ]] || { echo "dropped: $d" >&2; false; }
}

@test "daemon: fcntl() and close() on every descriptor give what they give without the shim (its own is EBADF)" {
	sweep probe
	grep -q '^probe close=.*EBADF' traced.facts
}
