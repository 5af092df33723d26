#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The trace file: created 0600 whatever the umask, appended to, never
# through a symlink, on a descriptor the program does not see (high,
# close-on-exec); an unwritable path costs one warning and nothing else;
# what a program did before it was killed is in the file.

load helpers
bats_require_minimum_version 1.5.0

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

# A relative SOCKTRACE_OUTPUT: one file, taken from the directory the first
# traced program started in.  A program run after a chdir (bash's subshell
# `$(cd sub && ls)`, python's subprocess with cwd= (vfork), posix_spawn
# after os.chdir) wrote its events to a new trace file in the directory it
# ran in: ls then listed that file, and the trace lacked ls's events (check
# said its exit event was missing, the pyenv shim's readlink).
preload_rel() { env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT=t.jsonl SOCKTRACE_FORMAT=jsonl "$@"; }

@test "output: a relative path names one file: programs executed after a chdir (fork+exec, vfork, posix_spawn) write to it, not where they run" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	mkdir sub
	(cd sub && ls -a) >bare.out
	# shellcheck disable=SC2016
	preload_rel bash -c 'x=$(cd sub && ls -a); echo "$x"' >fork.out
	preload_rel "$PYTHON3" -c 'import subprocess, sys
sys.stdout.write(subprocess.run(["ls", "-a"], cwd="sub", capture_output=True, text=True).stdout)' >vfork.out
	preload_rel "$PYTHON3" -c 'import os
os.chdir("sub")
pid = os.posix_spawnp("ls", ["ls", "-a"], os.environ)
os.waitpid(pid, 0)' >spawn.out
	for how in fork vfork spawn; do
		diff -u bare.out $how.out
	done
	[[ ! -e sub/t.jsonl ]] || { echo "a trace file where ls ran:" >&2; cat sub/t.jsonl >&2; false; }
	assert_valid_jsonl t.jsonl
	# each ls: its start and its exit, in the one file
	assert_count 3 '.call=="start" and (.exe|endswith("/ls"))' t.jsonl
	for pid in $(jq -r 'select(.call=="start" and (.exe|endswith("/ls"))) | .pid' t.jsonl); do
		assert_count 1 ".call==\"exit\" and .pid==$pid and .status==0" t.jsonl
	done
	run --separate-stderr "$SOCKTRACE" check --strict t.jsonl
	assert_eq "$status" 0 "check --strict: $output $stderr"
	# the programs' environment is unchanged where it did not need to be:
	# run from the same directory, a program sees the path as given
	preload_rel bash -c 'printenv SOCKTRACE_OUTPUT; cd sub && printenv SOCKTRACE_OUTPUT; echo "$SOCKTRACE_OUTPUT"' >env.out
	assert_eq "$(cat env.out)" "t.jsonl
$(pwd -P)/t.jsonl
t.jsonl" "SOCKTRACE_OUTPUT as printenv and bash see it"
}
