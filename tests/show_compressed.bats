#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# What is given to `socktrace show` (and check) as a trace may not be one
# as it is: a directory gets one message; a trace compressed with gzip is
# read as it is (with zlib), from a file or stdin; one compressed
# otherwise gets one message naming the format and how to decompress it -
# never a flood of "not JSON" lines or a "truncated last line" that
# blames a killed program.

load helpers

GOOD=$BATS_TEST_DIRNAME/data/restart.jsonl

have_zlib() {
	grep -q '^#define HAVE_ZLIB 1' "$top_builddir/config.h"
}

# show_run ARGS...: $status, stdout in out, stderr in err
show_run() {
	status=0
	"$SOCKTRACE" show "$@" >out 2>err || status=$?
	[[ $status -lt 128 ]] || { echo "show crashed: status $status" >&2; return 1; }
}

@test "input: a directory given as a trace: one message, exit 2" {
	mkdir d
	show_run d
	assert_eq "$status" 2 "exit status"
	assert_eq "$(cat err)" "socktrace: d: a directory, not a trace"
	[[ ! -s out ]]
	status=0
	"$SOCKTRACE" check --rule no-leaks d >out 2>err || status=$?
	assert_eq "$status" 2 "exit status of check"
	assert_eq "$(head -n 1 err)" "socktrace: d: a directory, not a trace"
	# the other traces given are still read
	show_run -f json d "$GOOD"
	assert_eq "$status" 2 "exit status"
	assert_eq "$(wc -l <out)" "$(wc -l <"$GOOD")" "events of the good trace"
}

@test "input: a trace compressed with gzip reads as the plain one, from a file, from stdin, in several members" {
	have_zlib || skip "built without zlib: gzip is refused with a hint (tested below)"
	"$SOCKTRACE" show -f text --utc "$GOOD" >plain.txt
	gzip -c "$GOOD" >t.jsonl.gz
	show_run -f text --utc t.jsonl.gz
	assert_eq "$status" 0 "exit status"
	[[ ! -s err ]]
	diff -u plain.txt out
	status=0
	"$SOCKTRACE" show -f text --utc <t.jsonl.gz >out 2>err || status=$?
	assert_eq "$status" 0 "exit status from stdin"
	diff -u plain.txt out
	# two members (a rotated log appended to): both read; the second
	# repeats the first event for event, so its events are dropped and
	# counted as repeats (show_merge.bats)
	cat t.jsonl.gz t.jsonl.gz >twice.gz
	show_run -f json twice.gz
	assert_eq "$(wc -l <out)" "$(wc -l <"$GOOD")" "events of two members"
	grep -qF "socktrace: $(wc -l <"$GOOD") events repeat one already read" err
	# check too
	"$SOCKTRACE" check --rule no-leaks "$GOOD" >plain.check 2>&1 || true
	"$SOCKTRACE" check --rule no-leaks t.jsonl.gz >gz.check 2>&1 || true
	diff -u plain.check gz.check
}

@test "input: a gzip stream cut short: the whole lines before the cut are shown, one message, exit 2" {
	have_zlib || skip "built without zlib"
	gzip -c "$GOOD" >t.jsonl.gz
	head -c $(( $(stat -c %s t.jsonl.gz) / 2 )) t.jsonl.gz >cut.gz
	show_run -f json cut.gz
	assert_eq "$status" 2 "exit status"
	assert_eq "$(wc -l <err)" 1 "lines on stderr"
	grep -q '^socktrace: cut.gz:[0-9]*: read error: the gzip stream is cut short' err
	n=$(wc -l <out)
	(( n > 0 && n < $(wc -l <"$GOOD") ))
	# what is shown is the beginning of the trace, whole
	diff <(head -n "$n" "$GOOD" | jq -c '[.pid, .seq]' | sort) <(jq -c '[.pid, .seq]' out | sort)
}

@test "input: zstd, xz, bzip2, lz4 and zip are named, with the command that decompresses them" {
	declare -A magic=(
		[zstd]='\x28\xb5\x2f\xfd' [xz]='\xfd7zXZ\x00' [bzip2]='BZh9' [lz4]='\x04\x22\x4d\x18'
		[zip]='PK\x03\x04'
	)
	declare -A cat=([zstd]=zstdcat [xz]=xzcat [bzip2]=bzcat [lz4]=lz4cat [zip]='unzip -p')
	have_zlib || { magic[gzip]='\x1f\x8b\x08'; cat[gzip]=zcat; }
	for kind in "${!magic[@]}"; do
		{ printf "${magic[$kind]}"; head -c 3000 /dev/urandom; } >"t.$kind"
		show_run "t.$kind"
		assert_eq "$status" 2 "exit status for $kind"
		assert_eq "$(cat err)" "socktrace: t.$kind: compressed with $kind, not a trace as it is: decompress it first (${cat[$kind]} FILE | socktrace show)"
		status=0
		"$SOCKTRACE" show <"t.$kind" >out 2>err || status=$?
		assert_eq "$status" 2 "exit status for $kind from stdin"
		assert_eq "$(cat err)" "socktrace: <stdin>: compressed with $kind, not a trace as it is: decompress it first (${cat[$kind]} FILE | socktrace show)"
	done
	# real compressors, where installed
	for tool in zstd xz bzip2; do
		command -v "$tool" >/dev/null || continue
		"$tool" -c "$GOOD" >"real.$tool"
		show_run "real.$tool"
		assert_eq "$status" 2 "exit status for $tool"
		assert_eq "$(wc -l <err)" 1 "lines on stderr for $tool"
		grep -q "compressed with $tool" err
	done
}
