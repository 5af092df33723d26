#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# --strict streams: `check --strict` judges each socket as it ends and
# keeps the results to the end, `show --strict` renders into an unlinked
# temporary file; both decide "the whole program or nothing" at the end,
# as of a trace read whole, whatever --hold let go of before then.

load helpers
bats_require_minimum_version 1.5.0

FORMATS=(text json timeline summary lifecycle mermaid connections chrome)

# a real trace: a forking server whose odd children leak their
# connection (tests/scripts/forkleak.py); $1 connections, $2 the runner's
# output (%p: a file per process), default the one trace
forkleak() {
	if [[ -n ${2:-} ]]; then
		"$SOCKTRACE" -o "$2" -- "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/forkleak.py" "$1" >"$SCRATCH/forkleak.out"
	else
		traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/forkleak.py" "$1" >"$SCRATCH/forkleak.out"
	fi
	grep -q "^done $1" "$SCRATCH/forkleak.out"
}

# cmd ARGS...: socktrace ARGS, into $status, $out (stdout) and $err
cmd() {
	status=0
	"$SOCKTRACE" "$@" >"$SCRATCH/cmd.out" 2>"$SCRATCH/cmd.err" || status=$?
	out=$(cat "$SCRATCH/cmd.out")
	err=$(cat "$SCRATCH/cmd.err")
	[[ $status -lt 128 ]] || { echo "socktrace crashed: status $status: $err" >&2; return 1; }
}

@test "strict stream: a forking server's children writing files of their own (%p) not given are refused past the hold exactly as whole; all files given, judged as they end" {
	forkleak 6 'fk_%p.jsonl'
	parent=$(grep -l '"call":"listen"' fk_*.jsonl)
	[[ $(wc -w <<<"$parent") == 1 && $(ls fk_*.jsonl | wc -l) == 7 ]]
	# the parent's file alone: six children held sockets, their events absent
	cmd check --strict --rule no-leaks "$parent"
	assert_eq "$status" 2 "check --strict: $out"
	[[ -z $out ]]
	[[ $err == "socktrace: check: the traces lack the events of 6 processes that held sockets (--strict); nothing was checked"$'\n'"socktrace: check: the first: pid "*" has no events of its own in the traces"* ]] ||
		{ echo "$err" >&2; false; }
	whole=$err
	# every socket let go of as it ends: the same refusal, word for word
	cmd check --strict --hold 1 --rule no-leaks "$parent"
	assert_eq "$status" 2 "check --strict --hold 1: $out"
	[[ -z $out && $err == "$whole" ]] || { echo "$err" >&2; false; }
	for f in "${FORMATS[@]}"; do
		cmd show --strict -f "$f" "$parent"
		assert_eq "$status" 2 "show --strict -f $f"
		[[ -z $out && $err == "socktrace: show: the traces lack the events of 6 processes that held sockets (--strict); nothing was shown"$'\n'* ]] ||
			{ echo "$f: $err" >&2; false; }
		whole=$err
		cmd show --strict --hold 1 -f "$f" "$parent"
		assert_eq "$status" 2 "show --strict --hold 1 -f $f"
		[[ -z $out && $err == "$whole" ]] || { echo "$f: $err" >&2; false; }
	done
	# with --port (text and json wait for each socket's ports): the same
	port=$(jq -r 'select(.call == "listen") | .local | sub(".*:"; "")' "$parent")
	for f in text json; do
		cmd show --strict --hold 1 --port "$port" -f "$f" "$parent"
		assert_eq "$status" 2 "show --strict --hold 1 --port -f $f"
		[[ -z $out && $err == "socktrace: show: the traces lack the events of 6 processes that held sockets (--strict); nothing was shown"$'\n'* ]] ||
			{ echo "$f: $err" >&2; false; }
	done
	# every file: the whole program; past the hold it is judged as it
	# goes, as without --strict (the leaking children's connections)
	cmd check --hold 1 --rule no-leaks fk_*.jsonl
	assert_eq "$status" 1 "check --hold 1: $out"
	loose_out=$out loose_err=$err
	cmd check --strict --hold 1 --rule no-leaks fk_*.jsonl
	assert_eq "$status" 1 "check --strict --hold 1: $out"
	[[ $out == "$loose_out" && $err == "$loose_err" ]] || { echo "$out"$'\n'"$err" >&2; false; }
	[[ $out == "no-leaks: "*"3 such sockets leaked from the same place in 3 processes"* ]] || { echo "$out" >&2; false; }
	grep -q 'events were held (--hold): [0-9]* sockets that had ended were judged as they ended' <<<"$err"
}

@test "strict stream: a trace with a gap, or a bad line, is refused with nothing rendered, past the hold as whole" {
	forkleak 4
	# the parent's fourth event lost on its way (a collector that lost a line)
	pid=$(jq -r 'select(.call == "listen") | .pid' "$TRACE")
	jq -c "select(.pid != $pid or .seq != 4)" "$TRACE" >gap.jsonl
	[[ $(wc -l <gap.jsonl) == $(($(wc -l <"$TRACE") - 1)) ]]
	for hold in 100000 1; do
		cmd check --strict --hold "$hold" --rule all gap.jsonl
		assert_eq "$status" 2 "check --strict --hold $hold: $out"
		[[ -z $out ]]
		# the loader's line, then the refusal: nothing more
		[[ $err == "socktrace: the trace lacks at least 1 event (numbers missing from seq, "*"; the first, pid $pid, lacks 1 between seq "*$'\n'"socktrace: check: the trace lacks at least 1 event (--strict); nothing was checked" ]] ||
			{ echo "$err" >&2; false; }
		for f in "${FORMATS[@]}"; do
			cmd show --strict --hold "$hold" -f "$f" gap.jsonl
			assert_eq "$status" 2 "show --strict --hold $hold -f $f"
			[[ -z $out && $err == "socktrace: the trace lacks at least 1 event "*$'\n'"socktrace: show: the trace lacks at least 1 event (--strict); nothing was shown" ]] ||
				{ echo "$f: $err" >&2; false; }
		done
	done
	# a bad line in the middle: the reading stops there, and what was read
	# says nothing of the rest (no gap, no late event named)
	{ head -n 20 "$TRACE"; echo '{"schema":'; sed -n '21,$p' "$TRACE"; } >bad.jsonl
	for f in "${FORMATS[@]}"; do
		cmd show --strict --hold 1 -f "$f" bad.jsonl
		assert_eq "$status" 2 "show --strict -f $f on a bad line"
		[[ -z $out && $err == "socktrace: bad.jsonl:21: "*$'\n'"socktrace: show: stopped at the first bad line (--strict)" ]] ||
			{ echo "$f: $err" >&2; false; }
	done
	cmd check --strict --hold 1 bad.jsonl
	assert_eq "$status" 2 "check --strict on a bad line"
	[[ -z $out && $err == "socktrace: bad.jsonl:21: "*$'\n'"socktrace: check: the trace is not usable as it is (1 problem); nothing was checked" ]] ||
		{ echo "$err" >&2; false; }
}

@test "strict stream: a whole trace past the hold is shown and judged as without --strict, byte for byte, and the temporary file is gone" {
	forkleak 8
	mkdir tmp
	export TMPDIR=$SCRATCH/tmp
	for f in "${FORMATS[@]}"; do
		cmd show --hold 1 -f "$f" "$TRACE"
		assert_eq "$status" 0 "show --hold 1 -f $f: $err"
		loose_out=$out loose_err=$err
		cmd show --strict --hold 1 -f "$f" "$TRACE"
		assert_eq "$status" 0 "show --strict --hold 1 -f $f: $err"
		[[ -n $out && $out == "$loose_out" && $err == "$loose_err" ]] ||
			{ diff <(echo "$loose_out") <(echo "$out") >&2; echo "$f: $err" >&2; false; }
		[[ -z $(ls -A tmp) ]]
	done
	# --port streams under --strict too: each event waits for its
	# socket's ports, the output still goes through the temporary file
	port=$(jq -r 'select(.call == "listen") | .local | sub(".*:"; "")' "$TRACE")
	for f in text json chrome; do
		cmd show --hold 1 --port "$port" -f "$f" "$TRACE"
		assert_eq "$status" 0 "show --hold 1 --port -f $f: $err"
		loose_out=$out loose_err=$err
		cmd show --strict --hold 1 --port "$port" -f "$f" "$TRACE"
		assert_eq "$status" 0 "show --strict --hold 1 --port -f $f: $err"
		[[ -n $out && $out == "$loose_out" && $err == "$loose_err" ]] ||
			{ diff <(echo "$loose_out") <(echo "$out") >&2; echo "$f: $err" >&2; false; }
		[[ -z $(ls -A tmp) ]]
	done
	# what --hold let go of, printed as it ended, and said
	cmd show --strict --hold 1 -f lifecycle "$TRACE"
	grep -q '^socktrace: show: more than 1 events were held (--hold): [0-9]* sockets that had ended were printed as they ended' <<<"$err"
	cmd check --hold 1 --rule all "$TRACE"
	assert_eq "$status" 1 "check --hold 1: $out"
	loose_out=$out loose_err=$err
	cmd check --strict --hold 1 --rule all "$TRACE"
	assert_eq "$status" 1 "check --strict --hold 1: $out"
	[[ $out == "$loose_out" && $err == "$loose_err" ]] || { echo "$out"$'\n'"$err" >&2; false; }
	grep -q 'events were held (--hold): [0-9]* sockets that had ended were judged as they ended' <<<"$err"
}

@test "strict stream: a temporary file that cannot be made or written is said, nothing shown, exit 2" {
	forkleak 4
	# no such directory
	TMPDIR=$SCRATCH/none cmd show --strict -f summary "$TRACE"
	assert_eq "$status" 2 "TMPDIR a missing directory: $out"
	[[ -z $out ]]
	assert_eq "$err" "socktrace: show: --strict renders into a temporary file first (in \$TMPDIR, else /tmp), and none could be made in $SCRATCH/none: No such file or directory; nothing was shown"
	# a file, not a directory
	: >plain
	TMPDIR=$SCRATCH/plain cmd show --strict -f text "$TRACE"
	assert_eq "$status" 2 "TMPDIR a file: $out"
	[[ -z $out && $err == *"none could be made in $SCRATCH/plain: Not a directory; nothing was shown" ]] || { echo "$err" >&2; false; }
	# written past the file size limit (EFBIG, SIGXFSZ ignored): the
	# output cut short is not shown.  A trace of 3 000 events more, so
	# that the write fails long before the end of the reading
	SOCKTRACE_OUTPUT=$SCRATCH/big.jsonl traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/twclose.py" loop 500 >/dev/null
	(($(wc -l <big.jsonl) > 3000))
	mkdir tmp
	for f in text json chrome; do
		(($("$SOCKTRACE" show -f "$f" big.jsonl | wc -c) > 2048))
		(trap '' XFSZ; ulimit -f 1; TMPDIR=$SCRATCH/tmp exec "$SOCKTRACE" show --strict --window 0 -f "$f" big.jsonl) 2>err | cat >out
		status=${PIPESTATUS[0]}
		assert_eq "$status" 2 "-f $f past the file size limit: $(cat err)"
		[[ ! -s out ]]
		# that alone: the events not read after the failure are not
		# "missing from the trace"
		assert_eq "$(cat err)" "socktrace: show: --strict renders into a temporary file first, and writing it in $SCRATCH/tmp failed: File too large (it needs about the size of the output); nothing was shown"
	done
	# without --strict the same output fits: it goes to standard output
	(trap '' XFSZ; ulimit -f 1; TMPDIR=$SCRATCH/tmp exec "$SOCKTRACE" show -f text "$TRACE") 2>err | cat >out
	[[ -s out && ! -s err ]]
	# --follow stays refused with --strict
	cmd show --strict --follow "$TRACE"
	assert_eq "$status" 2
	[[ $err == "socktrace: show: --follow is for -f text and -f json, without --strict"* ]]
}
