#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show` renders the golden traces (tests/data/NAME.jsonl,
# recorded from real runs by tests/data/record.sh) exactly as
# tests/data/NAME.FORMAT.expected says, and `socktrace check --rule all`
# judges them as tests/data/NAME.check.expected says (its stdout and stderr,
# then "exit N").  When a format or a rule changes on purpose:
# `make regen-golden` in the build directory, and review the diff.

load helpers

DATA=$BATS_TEST_DIRNAME/data

golden() {
	local fmt=$1 t name out rc=0 n=0
	for t in "$DATA"/*.jsonl; do
		name=${t%.jsonl}
		out=$BATS_TEST_TMPDIR/$(basename "$name").$fmt
		"$SOCKTRACE" show --utc --color=never -f "$fmt" "$t" >"$out" 2>"$out.err" || {
			echo "show -f $fmt $t exited $?" >&2
			cat "$out.err" >&2
			return 1
		}
		assert_empty "$out.err"
		if ! diff -u "$name.$fmt.expected" "$out" >&2; then
			echo "show -f $fmt $t differs from $name.$fmt.expected (make regen-golden if on purpose)" >&2
			rc=1
		fi
		n=$((n + 1))
	done
	[[ $n -ge 6 ]] || { echo "only $n golden traces in $DATA" >&2; return 1; }
	return "$rc"
}

@test "golden: text" { golden text; }
@test "golden: timeline" { golden timeline; }
@test "golden: summary" { golden summary; }
@test "golden: lifecycle" { golden lifecycle; }
@test "golden: json" { golden json; }
@test "golden: mermaid" { golden mermaid; }
@test "golden: connections" { golden connections; }
@test "golden: chrome" { golden chrome; }

@test "golden: check --rule all" {
	local t name out rc=0 n=0 code
	for t in "$DATA"/*.jsonl; do
		name=${t%.jsonl}
		out=$BATS_TEST_TMPDIR/$(basename "$name").check
		code=0
		"$SOCKTRACE" check --rule all "$t" >"$out" 2>&1 || code=$?
		echo "exit $code" >>"$out"
		if ! diff -u "$name.check.expected" "$out" >&2; then
			echo "check --rule all $t differs from $name.check.expected (make regen-golden if on purpose)" >&2
			rc=1
		fi
		n=$((n + 1))
	done
	[[ $n -ge 6 ]] || { echo "only $n golden traces in $DATA" >&2; return 1; }
	return "$rc"
}

@test "golden traces are valid schema v1 recordings of real runs" {
	for t in "$DATA"/*.jsonl; do
		assert_valid_jsonl "$t"
		# every process of a recording started under the shim and says so
		[[ $(nev '.call=="start" and (.version|type)=="string"' "$t") -ge 1 ]]
	done
}

@test "golden: the http.server trace joins all three curl connections to their accepts" {
	run "$SOCKTRACE" show --utc -f timeline "$DATA/http3.jsonl"
	[[ $status == 0 ]]
	[[ $(grep -c '^connection #[0-9]*  tcp ' <<<"$output") == 3 ]]
	! grep -q 'not traced' <<<"$output"
	# who closed first is a race between curl and the server: each is named
	[[ $(grep -Ec '^  teardown   (client|server) closed first' <<<"$output") == 3 ]]
	# each curl's own socketpair (its wakeup pair) is a connection too,
	# numbered in time order with the TCP ones
	[[ $(grep -c '^connection #[0-9]*  unix socketpair ' <<<"$output") == 3 ]]
	grep -q '^  accepted   3 connections: #2 #4 #6$' <<<"$output"
}

@test "golden: the restart trace explains EADDRINUSE and the reuse of TIME_WAIT" {
	run "$SOCKTRACE" show --utc -f timeline "$DATA/restart.jsonl"
	[[ $status == 0 ]]
	grep -q 'bind 127.0.0.1:[0-9]* failed: EADDRINUSE (Address already in use)' <<<"$output"
	grep -q 'held by 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* TIME_WAIT' <<<"$output"
	grep -q 'SO_REUSEADDR would have let the bind succeed' <<<"$output"
	grep -q 'SO_REUSEADDR let it reuse the port of 1 connection in TIME_WAIT' <<<"$output"
	run "$SOCKTRACE" show -f summary "$DATA/restart.jsonl"
	grep -q 'errors        EADDRINUSE 1 (bind)' <<<"$output"
}
