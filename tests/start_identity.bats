#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The start event never cuts the command line or the program's path
# without saying so: "argc" is the program's real argument count, always;
# "argv_cut" names each argument kept only in part with its whole length;
# "exe_cut" says the path is longer than the kernel tells.  An argument is
# cut on a UTF-8 character's boundary.  The text format says it too.

load helpers

TRUE=$(type -P true)

# start [FILE]: the start event of the trace
start() { one '.call=="start"' "${1:-$TRACE}"; }

@test "start: 3000 arguments: argv keeps 512, argc says 3001, the text says so" {
	# shellcheck disable=SC2046
	traced "$TRUE" $(seq 1 3000)
	e=$(start)
	assert_field "$e" .argc 3001
	assert_field "$e" '.argv | length' 512
	assert_field "$e" '.argv[511]' 511
	assert_field "$e" .argv_cut null
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qF '"510", "511", ... /* 3001 args */])'
}

@test "start: an argument of 20000 bytes is kept in part, and argv_cut says how long it was" {
	traced "$TRUE" "$(head -c 20000 /dev/zero | tr '\0' A)" last
	e=$(start)
	assert_field "$e" .argc 3
	assert_field "$e" '.argv | length' 3
	assert_field "$e" '.argv[1] | length' 16384
	assert_field "$e" .argv[2] last
	assert_field "$e" '.argv_cut | tostring' '[{"index":1,"bytes":20000}]'
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qE '"A{16384}"\.\.\. /\* 20000 bytes \*/, "last"\]\)'
}

@test "start: an argument cut inside a UTF-8 character is cut before it" {
	arg=$(for ((i = 0; i < 9000; i++)); do printf '\303\251'; done)
	traced "$TRUE" "$arg"
	# no half character written as \u00c3 in the trace
	! grep -q 'u00c3' "$TRACE"
	e=$(start)
	assert_field "$e" '.argv[1] | length' 8192
	assert_field "$e" '.argv[1] | utf8bytelength' 16384
	assert_field "$e" '.argv_cut | tostring' '[{"index":1,"bytes":18000}]'
}

@test "start: six long arguments: 64 KiB kept, the first ones in part, the rest counted" {
	a=$(head -c 20000 /dev/zero | tr '\0' B)
	traced "$TRUE" "$a" "$a" "$a" "$a" "$a" "$a"
	e=$(start)
	assert_field "$e" .argc 7
	n=$(get "$e" '.argv | length')
	(( n >= 4 && n < 7 )) || { echo "argv has $n entries" >&2; false; }
	assert_field "$e" '[.argv[] | utf8bytelength] | add <= 65536' true
	# every argument kept but argv[0] is kept in part, and said so
	assert_field "$e" '[.argv_cut[].index] | tostring' "$(seq 1 $((n - 1)) | jq -sc .)"
	assert_field "$e" '[.argv_cut[].bytes] | unique | tostring' '[20000]'
	# the line stays far below what a reader takes, and reads back
	(( $(head -n 1 "$TRACE" | wc -c) < 200000 ))
	"$SOCKTRACE" show -f text "$TRACE" >/dev/null
}

@test "start: empty arguments and a short command line are kept whole, argc equal to argv's length" {
	traced "$TRUE" a "" b
	e=$(start)
	assert_field "$e" .argc 4
	assert_field "$e" '.argv | tostring' "[\"$TRUE\",\"a\",\"\",\"b\"]"
	assert_field "$e" .argv_cut null
	assert_field "$e" .exe_cut null
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qF "[\"$TRUE\", \"a\", \"\", \"b\"])"
}

@test "start: a program whose path is longer than the kernel tells: exe_cut, exe absent" {
	mkdir deep
	(
		cd deep || exit 1
		for ((i = 0; i < 20; i++)); do
			d=$(printf 'd%.0s' {1..250})
			mkdir "$d" && cd "$d" || exit 1
		done
		cp "$TRUE" ./prog
		LD_PRELOAD=$SHIM SOCKTRACE_OUTPUT=$TRACE ./prog
	)
	rm -rf deep
	e=$(start)
	assert_field "$e" .exe_cut true
	assert_field "$e" .exe null
	assert_field "$e" '.argv | tostring' '["./prog"]'
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qF 'start(? /* longer than the kernel tells */, ["./prog"])'
}

@test "start: a forged argv_cut of the wrong shape is a bad line, named" {
	printf '{"v":1,"ts":1,"pid":1,"call":"start","argv":["a"],"argc":1,"argv_cut":[{"index":"x"}]}\n' >bad.jsonl
	status=0
	"$SOCKTRACE" show bad.jsonl >out 2>err || status=$?
	assert_eq "$status" 2 "exit status"
	grep -qF 'bad.jsonl:1: argv_cut[0]: expected the keys "index" and "bytes"' err
	printf '{"v":1,"ts":1,"pid":1,"call":"start","argv":["a"],"argc":-1}\n' >bad2.jsonl
	status=0
	"$SOCKTRACE" show bad2.jsonl >out 2>err || status=$?
	assert_eq "$status" 2 "exit status"
	grep -qF 'bad2.jsonl:1: "argc" is -1, out of range' err
}
