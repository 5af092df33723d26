#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Where the trace is written, when another user may have prepared the
# path: in a sticky directory others write to (/tmp), another user's file
# or FIFO, a hard link, a symbolic link (last component, or a directory
# on the way) are refused with one warning naming the path and the
# reason, the program runs on, and nothing of theirs is touched; the shim
# creates its file with O_EXCL and the mode asked (SOCKTRACE_MODE, 0600
# by default) whatever the umask; a FIFO never makes the program wait
# more than about a second.  (Cases with another user need root: they run
# that user's side with setpriv as nobody.)

load helpers

# a sticky, world-writable directory of our own (as /tmp is), removed at the end
sticky_dir() {
	STICKY=$(mktemp -d /tmp/socktrace-sticky.XXXXXX)
	chmod 1777 "$STICKY"
}

teardown() {
	[[ -z ${HOLDER:-} ]] || kill "$HOLDER" 2>/dev/null || true
	[[ -z ${STICKY:-} ]] || rm -rf "$STICKY"
	[[ -z ${OTHER:-} ]] || rm -rf "$OTHER"
	st_teardown
}

need_nobody() {
	[[ $EUID == 0 ]] || skip "needs root to act as another user (nobody)"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# refused PATH WHY [MORE_ENV...]: sockexit traced into PATH keeps its exit
# status and output, says one line on stderr naming PATH and WHY, and
# ends in time
refused() {
	local path=$1 why=$2 status=0
	shift 2
	timeout -k 5 60 env "$@" LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$path" "$(prog sockexit)" -n 5 status 7 >out 2>err || status=$?
	[[ $status != 124 ]] || { echo "the traced program hung writing to $path" >&2; return 1; }
	assert_eq "$status" 7 "exit status"
	grep -q '^made n=5 ' out
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -qF "socktrace: warning: cannot write the trace to $path: $why; recording nothing" err || {
		cat err >&2
		return 1
	}
}

@test "output safety: SOCKTRACE_MODE sets the mode of a new trace exactly, whatever the umask; a bad one gets 0600" {
	(umask 077 && SOCKTRACE_MODE=0640 traced "$(prog sockexit)" status 0 >/dev/null)
	assert_eq "$(stat -c %a "$TRACE")" 640 "mode with SOCKTRACE_MODE=0640 under umask 077"
	rm -f "$TRACE"
	(umask 000 && traced "$(prog sockexit)" status 0 >/dev/null)
	assert_eq "$(stat -c %a "$TRACE")" 600 "default mode under umask 000"
	rm -f "$TRACE"
	for bad in 0755 0400 abc 10644 ""; do
		status=0
		SOCKTRACE_MODE=$bad traced "$(prog sockexit)" status 3 >/dev/null 2>err || status=$?
		assert_eq "$status" 3 "exit status with SOCKTRACE_MODE='$bad'"
		assert_eq "$(wc -l <err)" 1 "warnings for SOCKTRACE_MODE='$bad'"
		grep -q '^socktrace: warning: SOCKTRACE_MODE must be an octal mode' err
		assert_eq "$(stat -c %a "$TRACE")" 600 "mode with SOCKTRACE_MODE='$bad'"
		rm -f "$TRACE"
	done
	# an existing file keeps its mode: appended to, never chmod'ed
	: >"$TRACE"
	chmod 644 "$TRACE"
	SOCKTRACE_MODE=0600 traced "$(prog sockexit)" status 0 >/dev/null
	assert_eq "$(stat -c %a "$TRACE")" 644 "mode of an existing trace"
	assert_valid_jsonl
}

@test "output safety: another user's file in a sticky directory is refused, left as it was" {
	need_nobody
	sticky_dir
	as_nobody sh -c "umask 0; : >'$STICKY/t.jsonl'"
	refused "$STICKY/t.jsonl" "owned by another user, in a sticky directory"
	assert_eq "$(stat -c '%U %a %s' "$STICKY/t.jsonl")" "nobody 666 0" "owner, mode and size of their file"
	# the same through %p: a name another user made for a pid they guessed
	# (the shell's pid is the program's: it execs it)
	STICKY=$STICKY SHIM=$SHIM PROG=$(prog sockexit) sh -c '
		setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "umask 0; : >$STICKY/p.$$.jsonl"
		exec env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$STICKY/p.%p.jsonl" "$PROG" status 0' >out 2>err
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q "cannot write the trace to $STICKY/p\.[0-9]*\.jsonl: owned by another user, in a sticky directory" err
	assert_eq "$(find "$STICKY" -name 'p.*.jsonl' -size +0 | wc -l)" 0 "their %p files written to"
	# the directory's owner's file is not another user's (the kernel's rule)
	# in a sticky directory of theirs, their file is not another user's: the
	# directory's owner could replace it anyway (the kernel's rule too)
	as_nobody mkdir -m 1777 "$STICKY/theirs"
	as_nobody sh -c "umask 0; : >'$STICKY/theirs/t.jsonl'"
	SOCKTRACE_OUTPUT=$STICKY/theirs/t.jsonl traced "$(prog sockexit)" status 0 >/dev/null 2>err
	[[ ! -s err ]]
	[[ -s $STICKY/theirs/t.jsonl ]]
	# root's own new trace there: created, root's, 0600
	SOCKTRACE_OUTPUT=$STICKY/mine.jsonl traced "$(prog sockexit)" status 0 >/dev/null 2>err
	[[ ! -s err ]]
	assert_eq "$(stat -c '%U %a' "$STICKY/mine.jsonl")" "root 600" "owner and mode of a new trace"
}

@test "output safety: another user's FIFO in a sticky directory, held open and never read: refused at once, not opened" {
	need_nobody
	sticky_dir
	as_nobody mkfifo -m 0666 "$STICKY/fifo"
	# (setpriv itself in the background, not a subshell: $! is the holder)
	setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "exec 3<>'$STICKY/fifo'; exec sleep 30" &
	HOLDER=$!
	wait_until 5 sh -c "ls -l /proc/$HOLDER/fd 2>/dev/null | grep -q fifo"
	SECONDS=0
	refused "$STICKY/fifo" "owned by another user, in a sticky directory"
	[[ $SECONDS -lt 3 ]] || { echo "took ${SECONDS}s" >&2; false; }
}

@test "output safety: a FIFO with a reader that never reads: the program waits a second at most, once, and runs on" {
	mkfifo fifo
	exec {held}<>fifo
	status=0
	SECONDS=0
	timeout -k 5 60 env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$SCRATCH/fifo" "$(prog sockexit)" -n 600 status 4 >out 2>err || status=$?
	exec {held}>&-
	[[ $status != 124 ]] || { echo "the traced program hung on the FIFO" >&2; false; }
	assert_eq "$status" 4 "exit status"
	grep -q '^made n=600 ' out
	[[ $SECONDS -le 5 ]] || { echo "took ${SECONDS}s" >&2; false; }
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q '^socktrace: warning: cannot write the trace, events are being lost: its reader has not read for a second$' err
}

@test "output safety: a FIFO with a reader that reads gets every event, each line whole" {
	mkfifo fifo
	# a reader for certain before the program starts (the shim never
	# waits for one): held open here until the program has ended
	exec {keep}<>fifo
	cat fifo >got.jsonl {keep}>&- &
	reader=$!
	SOCKTRACE_OUTPUT=$SCRATCH/fifo traced "$(prog sockexit)" -n 600 status 0 >out 2>err
	exec {keep}>&-
	wait "$reader"
	[[ ! -s err ]]
	TRACE=$SCRATCH/got.jsonl
	assert_valid_jsonl
	# start, the first socket, 600 x (socket, setsockopt, bind), exit
	assert_eq "$(wc -l <got.jsonl)" 1803 "events through the FIFO"
	assert_seq_ok
}

@test "output safety: a symbolic link as the trace path is refused, in a sticky directory or not" {
	echo precious >target
	ln -s target link.jsonl
	refused "$SCRATCH/link.jsonl" "a symbolic link"
	assert_eq "$(cat target)" precious "the link's target"
	need_nobody
	sticky_dir
	as_nobody ln -s "$SCRATCH/target" "$STICKY/t.jsonl"
	refused "$STICKY/t.jsonl" "a symbolic link"
	assert_eq "$(cat target)" precious "the link's target"
}

@test "output safety: a directory on the way that is another user's symbolic link in a sticky directory is not followed" {
	need_nobody
	sticky_dir
	OTHER=$(mktemp -d /var/tmp/socktrace-rootdir.XXXXXX)
	as_nobody ln -s "$OTHER" "$STICKY/dl"
	refused "$STICKY/dl/t.jsonl" "it goes through a symbolic link of another user in a sticky directory"
	assert_eq "$(find "$OTHER" -mindepth 1 | wc -l)" 0 "files made in the link's target"
	# one's own link there is followed, as the kernel would
	ln -s "$OTHER" "$STICKY/mine"
	SOCKTRACE_OUTPUT=$STICKY/mine/t.jsonl traced "$(prog sockexit)" status 0 >/dev/null 2>err
	[[ ! -s err ]]
	[[ -s $OTHER/t.jsonl ]]
}

@test "output safety: a hard link in a sticky directory is refused, the linked file untouched" {
	need_nobody
	sticky_dir
	echo precious >"$STICKY/root-file"
	ln "$STICKY/root-file" "$STICKY/t.jsonl"
	refused "$STICKY/t.jsonl" "a file with other hard links, in a sticky directory"
	assert_eq "$(cat "$STICKY/root-file")" precious "the linked file"
	# another user's hard link to a file of ours, where the kernel lets
	# them make one (fs.protected_hardlinks=0)
	old=$(sysctl -n fs.protected_hardlinks 2>/dev/null) || skip "cannot read fs.protected_hardlinks"
	echo precious >"$SCRATCH/secret"
	chmod 600 "$SCRATCH/secret"
	mv "$SCRATCH/secret" "$STICKY/secret"
	sysctl -qw fs.protected_hardlinks=0 2>/dev/null || skip "cannot set fs.protected_hardlinks"
	as_nobody ln "$STICKY/secret" "$STICKY/t2.jsonl" || true
	sysctl -qw fs.protected_hardlinks="$old"
	[[ -e $STICKY/t2.jsonl ]] || skip "nobody could not make the link"
	refused "$STICKY/t2.jsonl" "a file with other hard links, in a sticky directory"
	assert_eq "$(cat "$STICKY/secret")" precious "the linked file"
}

# junit PATH: check --junit PATH on a good trace; $status, stderr in err
junit() {
	status=0
	timeout -k 5 60 "$SOCKTRACE" check --rule no-leaks --junit "$1" "$BATS_TEST_DIRNAME/data/restart.jsonl" >/dev/null 2>err || status=$?
	[[ $status != 124 ]] || { echo "check --junit hung on $1" >&2; return 1; }
}

@test "output safety: check --junit creates its report 0600, and refuses a symbolic link or a FIFO nobody reads" {
	mask=$(umask)
	umask 0
	junit report.xml
	umask "$mask"
	[[ $status == 0 || $status == 1 ]]
	assert_eq "$(stat -c %a report.xml)" 600 "mode of the report"
	grep -q '<testsuites' report.xml
	# an existing report of ours is emptied and written again
	echo "old report, longer than the new one$(head -c 4000 /dev/zero | tr '\0' x)" >report.xml
	junit report.xml
	[[ $status == 0 || $status == 1 ]]
	! grep -q 'old report' report.xml
	tail -n 1 report.xml | grep -q '^</testsuites>$'
	echo precious >target
	ln -s target link.xml
	junit link.xml
	assert_eq "$status" 2 "exit status"
	assert_eq "$(cat err)" "socktrace: check: cannot write link.xml: a symbolic link"
	assert_eq "$(cat target)" precious "the link's target"
	mkfifo fifo.xml
	junit fifo.xml
	assert_eq "$status" 2 "exit status"
	assert_eq "$(cat err)" "socktrace: check: cannot write fifo.xml: a FIFO nobody reads"
}

@test "output safety: check --junit refuses another user's file or link in a sticky directory, left as it was" {
	need_nobody
	sticky_dir
	as_nobody sh -c "umask 0; echo theirs >'$STICKY/r.xml'"
	junit "$STICKY/r.xml"
	assert_eq "$status" 2 "exit status"
	assert_eq "$(cat err)" "socktrace: check: cannot write $STICKY/r.xml: owned by another user, in a sticky directory"
	assert_eq "$(cat "$STICKY/r.xml")" theirs "their file"
	echo precious >"$SCRATCH/target"
	as_nobody ln -s "$SCRATCH/target" "$STICKY/l.xml"
	junit "$STICKY/l.xml"
	assert_eq "$status" 2 "exit status"
	assert_eq "$(cat "$SCRATCH/target")" precious "the link's target"
}

@test "output safety: socktrace -o refuses another user's file, FIFO or link in a sticky directory before the program runs, and leaves it as it was" {
	need_nobody
	sticky_dir
	as_nobody sh -c "umask 0; echo theirs >'$STICKY/t.jsonl'; mkfifo -m 666 '$STICKY/f'; ln -s /etc/hostname '$STICKY/l'"
	cp /etc/hostname before
	for what in "t.jsonl:owned by another user, in a sticky directory" \
		"f:owned by another user, in a sticky directory" \
		"l:a symbolic link"; do
		name=${what%%:*} why=${what#*:}
		status=0
		timeout -k 5 60 "$SOCKTRACE" -o "$STICKY/$name" -- "$(prog sockexit)" status 0 >out 2>err || status=$?
		assert_eq "$status" 2 "exit status for $name"
		[[ ! -s out ]] || { echo "the program ran" >&2; return 1; }
		assert_eq "$(wc -l <err)" 1 "lines on stderr for $name"
		grep -qF "socktrace: cannot write the trace to $STICKY/$name: $why" err
	done
	assert_eq "$(stat -c '%U %a %s' "$STICKY/t.jsonl")" "nobody 666 7" "owner, mode and size of their file"
	assert_eq "$(cat "$STICKY/t.jsonl")" theirs "their file"
	cmp before /etc/hostname
	# -A neither: appending is writing
	status=0
	"$SOCKTRACE" -A -o "$STICKY/t.jsonl" -- "$(prog sockexit)" status 0 >out 2>err || status=$?
	assert_eq "$status" 2 "exit status with -A"
	assert_eq "$(cat "$STICKY/t.jsonl")" theirs "their file after -A"
}

@test "output safety: socktrace -o creates the trace with SOCKTRACE_MODE (0600) whatever the umask, and empties only its user's own" {
	(umask 077 && SOCKTRACE_MODE=0640 "$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" status 0 >/dev/null)
	assert_eq "$(stat -c %a "$TRACE")" 640 "mode with SOCKTRACE_MODE=0640 under umask 077"
	assert_valid_jsonl
	rm -f "$TRACE"
	(umask 000 && "$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" status 0 >/dev/null)
	assert_eq "$(stat -c %a "$TRACE")" 600 "default mode under umask 000"
	# a second run empties it first (its user's own file), keeping its mode
	chmod 644 "$TRACE"
	"$SOCKTRACE" -o "$TRACE" -- "$(prog sockexit)" status 0 >/dev/null
	assert_eq "$(stat -c %a "$TRACE")" 644 "mode of an existing trace"
	assert_eq "$(jq -c 'select(.call == "start")' "$TRACE" | wc -l)" 1 "runs in the trace"
}
