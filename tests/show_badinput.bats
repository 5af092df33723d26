#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show` on bad input: a message naming the file and line on
# stderr, the rest still shown where that makes sense, exit status 2, and
# never a crash.  --strict makes any bad line fatal, and a trace of part
# of the program too.

load helpers
bats_require_minimum_version 1.5.0

GOOD=$BATS_TEST_DIRNAME/data/restart.jsonl

# show_run ARGS...: run show; $status, $out (stdout) and $err (stderr)
show_run() {
	status=0
	"$SOCKTRACE" show "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || status=$?
	out=$(cat "$SCRATCH/out")
	err=$(cat "$SCRATCH/err")
	# a crash is a signal: 128+N
	[[ $status -lt 128 ]] || { echo "show crashed: status $status" >&2; cat "$SCRATCH/err" >&2; return 1; }
}

# the lifecycle of the good trace, for comparing what is still shown
good_lines() { "$SOCKTRACE" show -f lifecycle "$GOOD" | wc -l; }

@test "bad input: a truncated last line is named, the rest is shown, exit 2" {
	head -c -40 "$GOOD" >cut.jsonl
	n=$(wc -l <cut.jsonl)
	show_run -f lifecycle cut.jsonl
	[[ $status == 2 ]]
	grep -q "^socktrace: cut.jsonl:$((n + 1)): truncated last line" <<<"$err"
	[[ $(wc -l <<<"$out") == $(good_lines) ]]
}

@test "bad input: an empty file" {
	: >empty.jsonl
	show_run empty.jsonl
	[[ $status == 2 ]]
	[[ $err == "socktrace: empty.jsonl: empty file: no events" ]]
	[[ -z $out ]]
	# empty stdin too
	run "$SOCKTRACE" show </dev/null
	[[ $status == 2 ]]
	[[ $output == *"<stdin>: empty file"* ]]
}

@test "bad input: a file that is not JSON at all, messages capped" {
	printf 'line %s of a foreign file\n' $(seq 20) >foreign.txt
	show_run -f timeline foreign.txt
	[[ $status == 2 ]]
	grep -q '^socktrace: foreign.txt:1: not JSON: ' <<<"$err"
	grep -q '^socktrace: foreign.txt:5: not JSON: ' <<<"$err"
	! grep -q '^socktrace: foreign.txt:6:' <<<"$err"
	grep -q '^socktrace: foreign.txt: 15 more bad lines not shown$' <<<"$err"
	# JSON that is not an event
	printf '[1,2]\n{"hello":"world"}\n' >other.json
	show_run other.json
	[[ $status == 2 ]]
	grep -q '^socktrace: other.json:1: an array where an event object was expected' <<<"$err"
	grep -q '^socktrace: other.json:2: missing key "v"' <<<"$err"
}

@test "bad input: a missing key and a wrongly typed key, the other lines shown" {
	{
		sed -n 1,3p "$GOOD"
		sed -n 4p "$GOOD" | jq -c 'del(.call)'
		sed -n 5p "$GOOD" | jq -c '.fd = "3"'
		sed -n 6p "$GOOD" | jq -c '.opts.SO_REUSEADDR = 1'
		sed -n '7,$p' "$GOOD"
	} >typed.jsonl
	show_run -f json typed.jsonl
	[[ $status == 2 ]]
	grep -q '^socktrace: typed.jsonl:4: missing key "call"$' <<<"$err"
	grep -q '^socktrace: typed.jsonl:5: "fd" is a string, expected an integer$' <<<"$err"
	grep -q '^socktrace: typed.jsonl:6: opts: "SO_REUSEADDR" is an integer, expected true or false$' <<<"$err"
	[[ $(wc -l <<<"$out") == $(($(wc -l <"$GOOD") - 3)) ]]
}

@test "bad input: a newer schema is said once per file" {
	jq -c '.v = 2' "$GOOD" >v2.jsonl
	show_run v2.jsonl
	[[ $status == 2 ]]
	grep -q '^socktrace: v2.jsonl:1: schema version 2 is newer than this socktrace reads (1)$' <<<"$err"
	[[ $(grep -c 'schema version' <<<"$err") == 1 ]]
	grep -q "^socktrace: v2.jsonl: $(($(wc -l <"$GOOD") - 1)) more lines of a newer schema skipped$" <<<"$err"
	# mixed with a good trace, the good one is still shown
	show_run -f lifecycle v2.jsonl "$GOOD"
	[[ $status == 2 ]]
	[[ $(wc -l <<<"$out") == $(good_lines) ]]
}

@test "bad input: a 10 MB line is skipped without reading it into memory whole" {
	{
		sed -n 1,2p "$GOOD"
		printf '{"v":1,"pad":"'
		head -c 10485760 /dev/zero | tr '\0' x
		printf '"}\n'
		sed -n '3,$p' "$GOOD"
	} >big.txt
	show_run -f lifecycle big.txt
	[[ $status == 2 ]]
	grep -q '^socktrace: big.txt:3: line of 10485776 bytes, longer than the 1048576 bytes a trace line may have: skipped$' <<<"$err"
	[[ $(wc -l <<<"$out") == $(good_lines) ]]
}

@test "bad input: a NUL byte" {
	{
		sed -n 1,2p "$GOOD"
		printf '{"v":1,\0"ts":1}\n'
		sed -n '3,$p' "$GOOD"
	} >nul.jsonl
	show_run -f lifecycle nul.jsonl
	[[ $status == 2 ]]
	grep -q '^socktrace: nul.jsonl:3: NUL byte at column 8: not a text line$' <<<"$err"
	[[ $(wc -l <<<"$out") == $(good_lines) ]]
}

@test "bad input: --strict makes the first bad line fatal and shows nothing" {
	head -c -40 "$GOOD" >cut.jsonl
	show_run --strict -f timeline cut.jsonl
	[[ $status == 2 ]]
	[[ -z $out ]]
	grep -q 'truncated last line' <<<"$err"
	grep -q 'stopped at the first bad line (--strict)' <<<"$err"
	show_run --strict -f timeline "$GOOD"
	[[ $status == 0 ]]
}

@test "--strict refuses a trace of part of the program as check --strict does: an untraced image, a lost exit event, a process absent from the files given" {
	# a shell running a program the shim cannot enter (env -i: no LD_PRELOAD)
	"$SOCKTRACE" -o untraced.jsonl -- sh -c 'env -i true'
	# a child whose exit event is lost on the way (a collector, a cut copy)
	traced "$PYTHON3" -c 'import os, socket
pid = os.fork()
if pid == 0:
    socket.socket().close()
    os._exit(0)
os.waitpid(pid, 0)'
	kid=$(jq -r 'select(.call == "fork") | .ret' "$TRACE")
	jq -c "select(.pid != $kid or .call != \"exit\")" "$TRACE" >noexit.jsonl
	# a child that held a socket, its own file (%p) not given
	"$SOCKTRACE" -o 'pf_%p.jsonl' -- "$PYTHON3" -c 'import os, socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0); l.close()'
	parent=$(grep -l '"call":"fork"' pf_*.jsonl)
	for t in untraced noexit absent; do
		case $t in
		untraced) file=untraced.jsonl why="part of the program ran untraced: 1 image the trace does not follow" ;;
		noexit) file=noexit.jsonl why="the trace lacks at least 1 event" ;;
		absent) file=$parent why="the traces lack the events of 1 process that held sockets" ;;
		esac
		for f in text json lifecycle summary timeline; do
			show_run --strict -f "$f" "$file"
			assert_eq "$status" 2 "$t, -f $f: $err"
			assert_empty "$out"
			[[ $err == *"socktrace: show: $why (--strict); nothing was shown"* ]] || { echo "$t -f $f: $err" >&2; false; }
		done
		[[ $t == noexit ]] || [[ $err == *$'\n'"socktrace: show: the first: pid "* ]] || { echo "$t: $err" >&2; false; }
		# check --strict says the same
		run --separate-stderr "$SOCKTRACE" check --strict "$file"
		assert_eq "$status" 2 "$t: check"
		[[ $stderr == *"socktrace: check: $why (--strict); nothing was checked"* ]] || { echo "$t: $stderr" >&2; false; }
		# without it, shown, with a warning
		show_run -f text "$file"
		assert_eq "$status" 0 "$t, without --strict: $err"
		[[ -n $out ]]
	done
	# a whole trace is shown
	show_run --strict -f lifecycle "$TRACE"
	assert_eq "$status" 0 "$err"
}

@test "bad input: a missing file and random bytes" {
	show_run nosuch.jsonl "$GOOD"
	[[ $status == 2 ]]
	grep -q '^socktrace: nosuch.jsonl: No such file or directory$' <<<"$err"
	head -c 200000 /dev/urandom >random.bin
	for f in text timeline summary lifecycle json mermaid; do
		show_run -f "$f" random.bin
		[[ $status == 2 ]]
		[[ -n $err ]]
	done
}

@test "bad input: events that contradict each other do not crash any format" {
	# closes of unknown descriptors, accepts on nothing, a fork to itself,
	# duplicated and out-of-order lines: all still rendered
	{
		cat "$GOOD"
		tac "$GOOD"
		jq -c '.fd = 7 | .listen_fd = 7' "$GOOD"
		jq -c 'select(.call=="close") | .last = false' "$GOOD"
		echo '{"v":1,"ts":1,"pid":5,"call":"fork","ret":5}'
		echo '{"v":1,"ts":2,"pid":5,"call":"close_range","range":[0,4294967295]}'
		echo '{"v":1,"ts":3,"pid":5,"call":"dup2","fd":3,"newfd":3}'
	} >weird.jsonl
	for f in text timeline summary lifecycle json mermaid; do
		show_run -f "$f" weird.jsonl
		[[ $status == 0 ]]
	done
}
