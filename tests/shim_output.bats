#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The trace file: created 0600 whatever the umask, appended to, never
# through a symlink, on a descriptor the program does not see (high,
# close-on-exec); an unwritable path costs one warning and nothing else;
# what a program did before it was killed is in the file.

load helpers

@test "output: the trace file is created with mode 0600 under umask 022 and 000" {
	(umask 022 && traced "$(prog sockexit)" status 0 >/dev/null)
	assert_eq "$(stat -c %a "$TRACE")" 600 "mode under umask 022"
	rm -f "$TRACE"
	(umask 000 && traced "$(prog sockexit)" status 0 >/dev/null)
	assert_eq "$(stat -c %a "$TRACE")" 600 "mode under umask 000"
	assert_valid_jsonl
}

@test "output: an existing trace is appended to, not truncated" {
	traced "$(prog sockexit)" status 0 >one.out
	traced "$(prog sockexit)" status 0 >two.out
	assert_valid_jsonl
	assert_count 2 '.call=="start"'
	assert_count 1 ".call==\"socket\" and .pid==$(fact one.out socket pid)"
	assert_count 1 ".call==\"socket\" and .pid==$(fact two.out socket pid)"
	assert_seq_ok
}

@test "output: %p in SOCKTRACE_OUTPUT becomes the pid" {
	SOCKTRACE_OUTPUT=$SCRATCH/trace.%p.jsonl traced "$(prog sockexit)" status 0 >out
	pid=$(fact out socket pid)
	[[ -f $SCRATCH/trace.$pid.jsonl ]]
	assert_count 1 ".call==\"start\" and .pid==$pid" "$SCRATCH/trace.$pid.jsonl"
}

@test "output: a symlink as the output path is refused (O_NOFOLLOW): one warning, target untouched" {
	echo "precious" >target
	ln -s target link.jsonl
	status=0
	SOCKTRACE_OUTPUT=$SCRATCH/link.jsonl traced "$(prog sockexit)" status 5 >out 2>err || status=$?
	assert_eq "$status" 5 "exit status"
	assert_eq "$(cat target)" precious "the symlink's target"
	[[ -L link.jsonl ]]
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q socktrace err
	grep -q '^socket fd=' out
}

@test "output: an unwritable path: one warning, the program's output and exit status unchanged" {
	echo "a file, not a directory" >file
	"$(prog errcheck)" >bare.out
	status=0
	SOCKTRACE_OUTPUT=$SCRATCH/file/trace.jsonl traced "$(prog errcheck)" >traced.out 2>err || status=$?
	assert_eq "$status" 0 "exit status"
	diff -u bare.out traced.out
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q socktrace err
	status=0
	SOCKTRACE_OUTPUT=$SCRATCH/file/trace.jsonl traced "$(prog sockexit)" status 9 >out 2>err || status=$?
	assert_eq "$status" 9 "exit status"
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
}

@test "output: the trace descriptor is high, close-on-exec and append-only" {
	bg_start srv traced "$(prog tcp_server)" -n 1
	wait_line srv '^listen ' >/dev/null
	pid=${BG[srv]}
	fd=$(find "/proc/$pid/fd" -lname "$TRACE" -printf '%f\n')
	[[ -n $fd ]] || { ls -l "/proc/$pid/fd" >&2; false; }
	assert_eq "$(wc -l <<<"$fd")" 1 "descriptors on the trace"
	[[ $fd -ge 100 ]] || { echo "trace on fd $fd" >&2; false; }
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/$fd")
	(( (8#$flags & 8#2000000) != 0 )) || { echo "flags $flags: no O_CLOEXEC" >&2; false; }
	(( (8#$flags & 8#2000) != 0 )) || { echo "flags $flags: no O_APPEND" >&2; false; }
	"$(prog tcp_client)" -p "$(fact srv.out listen port)" >/dev/null
	bg_wait srv
}

@test "output: the program closing every descriptor (closefrom 3) does not stop the trace" {
	traced "$(prog dupfd)" closefrom >out
	after=$(fact out close fd)
	assert_some ".call==\"close\" and .fd==$after and .ret==0"
	assert_count 1 '.call=="exit"'
}

@test "output: SIGKILL, SIGSEGV and abort lose nothing the program already did" {
	for how in "signal KILL" "signal SEGV" "abort"; do
		rm -f "$TRACE"
		status=0
		# shellcheck disable=SC2086
		traced "$(prog sockexit)" $how >out 2>/dev/null || status=$?
		[[ $status -gt 128 ]]
		e=$(one '.call=="socket"')
		assert_field "$e" .fd "$(fact out socket fd)"
		assert_field "$e" .inode "$(fact out socket ino)"
		assert_valid_jsonl
	done
}
