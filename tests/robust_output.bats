#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Output that cannot be written: /dev/full, a read-only directory, a FIFO
# nobody reads.  One warning on stderr; the program's output and exit
# status are what they are without the shim, and it never hangs.
# (shim_output.bats covers a symlink and a path under a regular file.)

load helpers

# unwritable PATH [RUNNER...]: errcheck and sockexit with SOCKTRACE_OUTPUT=PATH
# (run through RUNNER, e.g. setpriv): one warning, nothing else changed.
unwritable() {
	local path=$1 status=0
	shift
	"$@" "$(prog errcheck)" >bare.out
	timeout -k 5 60 "$@" env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$path" "$(prog errcheck)" >traced.out 2>err || status=$?
	[[ $status != 124 ]] || { echo "errcheck hung with the trace going to $path" >&2; return 1; }
	assert_eq "$status" 0 "errcheck's exit status"
	diff -u bare.out traced.out
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q '^socktrace: ' err
	status=0
	timeout -k 5 60 "$@" env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$path" "$(prog sockexit)" -n 50 status 9 >out 2>err || status=$?
	assert_eq "$status" 9 "sockexit's exit status"
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q '^made n=50 ' out
}

@test "output: /dev/full (every write fails with ENOSPC): one warning, nothing else changed" {
	unwritable /dev/full
	grep -qi 'space' err
}

@test "output: a FIFO nobody reads: no hang, one warning, nothing else changed" {
	mkfifo fifo
	unwritable "$SCRATCH/fifo"
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
		chmod 555 "$D/ro"
		TESTPROGS=$D/tests SHIM=$D/libsocktrace.so unwritable "$D/ro/trace.jsonl" setpriv --reuid=nobody --regid=nogroup --clear-groups
		[[ ! -e $D/ro/trace.jsonl ]]
		rm -rf "$D"
	else
		mkdir ro
		chmod 555 ro
		unwritable "$SCRATCH/ro/trace.jsonl"
		[[ ! -e ro/trace.jsonl ]]
	fi
}
