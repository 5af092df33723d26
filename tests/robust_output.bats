#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Output that cannot be written: /dev/full, a read-only directory, a FIFO
# nobody reads.  One warning on stderr; the program's output and exit
# status are what they are without the shim, and it never hangs.  In
# runner mode (ST_TRACE_MODE=runner) the runner opens the output: /dev/full
# costs one warning when the program ends; a FIFO nobody reads is waited
# for (as strace -o does); a read-only directory is refused before the
# program runs (exit status 2).
# (shim_output.bats covers a symlink and a path under a regular file.)

load helpers

# unwritable PATH [RUNNER...]: errcheck and sockexit traced into PATH (run
# through RUNNER, e.g. setpriv): one warning, nothing else changed.  (In
# runner mode the runner's watcher writes PATH, and says so when the
# program has ended: trace_settle waits for it.)
unwritable() {
	local path=$1 status=0 TRACED
	shift
	SOCKTRACE_OUTPUT=$path traced_prefix
	"$@" "$(prog errcheck)" >bare.out
	timeout -k 5 60 "$@" "${TRACED[@]}" "$(prog errcheck)" >traced.out 2>err || status=$?
	trace_settle "$path"
	[[ $status != 124 ]] || { echo "errcheck hung with the trace going to $path" >&2; return 1; }
	assert_eq "$status" 0 "errcheck's exit status"
	diff -u bare.out traced.out
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q '^socktrace: ' err
	status=0
	timeout -k 5 60 "$@" "${TRACED[@]}" "$(prog sockexit)" -n 50 status 9 >out 2>err || status=$?
	trace_settle "$path"
	assert_eq "$status" 9 "sockexit's exit status"
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q '^made n=50 ' out
}

# refused PATH [RUNNER...]: in runner mode socktrace -o opens PATH before
# the program runs, and a path it cannot write is refused there: exit
# status 2, one message naming PATH, and the program does not run (nothing
# of its output).  Returns 1 (not for the caller's `||`) when it fails.
refused() {
	local path=$1 status=0 TRACED
	shift
	SOCKTRACE_OUTPUT=$path traced_prefix
	timeout -k 5 60 "$@" "${TRACED[@]}" "$(prog errcheck)" >traced.out 2>err || status=$?
	[[ $status != 124 ]] || { echo "socktrace hung with the trace going to $path" >&2; return 1; }
	assert_eq "$status" 2 "socktrace's exit status"
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -qF "socktrace: " err
	grep -qF "$path" err
	assert_empty traced.out
}

# unwritable_or_refused PATH [RUNNER...]: the shim's case (unwritable) in
# preload mode, the runner's (refused) in runner mode.
unwritable_or_refused() {
	if [[ $ST_TRACE_MODE == runner ]]; then
		refused "$@"
	else
		unwritable "$@"
	fi
}

@test "output: /dev/full (every write fails with ENOSPC): one warning, nothing else changed" {
	unwritable /dev/full
	grep -qi 'space' err
}

@test "output: a FIFO nobody reads: no hang, one warning, nothing else changed (the runner waits for a reader)" {
	mkfifo fifo
	if [[ $ST_TRACE_MODE != runner ]]; then
		unwritable "$SCRATCH/fifo"
		return
	fi
	# the runner opens its output before the program runs and, as strace
	# -o does, waits for the FIFO's reader; after a second it says so
	local status=0 TRACED
	SOCKTRACE_OUTPUT=$SCRATCH/fifo traced_prefix
	timeout -k 5 60 "${TRACED[@]}" "$(prog errcheck)" >traced.out 2>err &
	local runner=$!
	wait_until 10 grep -q 'waiting for a reader of the FIFO' err
	assert_empty traced.out
	cat fifo >got.jsonl
	wait "$runner" || status=$?
	assert_eq "$status" 0 "errcheck's exit status"
	"$(prog errcheck)" >bare.out
	diff -u bare.out traced.out
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	assert_valid_jsonl got.jsonl
	assert_count 1 '.call=="end" and .by=="runner"' got.jsonl
}

@test "output: a read-only directory (mode 0555, as an unprivileged user): one warning, nothing else changed" {
	if [[ $EUID == 0 ]]; then
		command -v setpriv >/dev/null || skip "running as root and setpriv (util-linux) is missing: root ignores mode bits"
		# the user needs a path to the programs and the shim: copies in a
		# world-readable directory of their own
		D=$(mktemp -d /tmp/socktrace-ro.XXXXXX)
		chmod 755 "$D"
		mkdir "$D/tests" "$D/ro"
		cp "$(prog errcheck)" "$(prog sockexit)" "$D/tests/"
		cp "$SHIM" "$D/libsocktrace.so"
		cp "$SOCKTRACE" "$D/socktrace"
		chmod 555 "$D/ro"
		TESTPROGS=$D/tests SHIM=$D/libsocktrace.so SOCKTRACE=$D/socktrace \
			unwritable_or_refused "$D/ro/trace.jsonl" setpriv --reuid=nobody --regid=nogroup --clear-groups
		[[ ! -e $D/ro/trace.jsonl ]]
		rm -rf "$D"
	else
		mkdir ro
		chmod 555 ro
		unwritable_or_refused "$SCRATCH/ro/trace.jsonl"
		[[ ! -e ro/trace.jsonl ]]
	fi
}
