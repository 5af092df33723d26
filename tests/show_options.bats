#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show` options: formats, --pid, --port, --color, merging of
# several traces, usage errors.

load helpers

DATA=$BATS_TEST_DIRNAME/data

@test "options: --pid keeps one process, --port one port" {
	t=$DATA/restart.jsonl
	pid=$(jq -r 'select(.call=="bind" and .errno=="EADDRINUSE") | .pid' "$t")
	run "$SOCKTRACE" show -f lifecycle --pid "$pid" "$t"
	[[ $status == 0 ]]
	[[ $output == "pid=$pid fd=3 tcp 127.0.0.1:"*" socket bind(EADDRINUSE) (open at exit)" ]]
	run "$SOCKTRACE" show -f json --pid "$pid" "$t"
	[[ $(jq -r .pid <<<"$output" | sort -u) == "$pid" ]]
	port=$(jq -r 'select(.call=="connect") | .local' "$t" | head -n 1 | sed 's/.*://')
	run "$SOCKTRACE" show -f lifecycle --port "$port" "$t"
	[[ $(wc -l <<<"$output") == 2 ]]	# the client and the accepted end
}

@test "options: --color=always colours failures, never and a pipe do not" {
	t=$DATA/restart.jsonl
	run "$SOCKTRACE" show --color=always "$t"
	grep -q $'\033\\[1;31mbind(.*EADDRINUSE' <<<"$output"
	run "$SOCKTRACE" show --color=never "$t"
	! grep -q $'\033' <<<"$output"
	run "$SOCKTRACE" show "$t"	# auto, not a terminal
	! grep -q $'\033' <<<"$output"
}

@test "options: several traces are merged by time, as one file would be" {
	t=$DATA/http3.jsonl
	for p in $(jq -r .pid "$t" | sort -u); do
		jq -c "select(.pid==$p)" "$t" >"p$p.trace"
	done
	diff <("$SOCKTRACE" show -f json "$t") <("$SOCKTRACE" show -f json p*.trace)
	diff <("$SOCKTRACE" show -f timeline "$t") <("$SOCKTRACE" show -f timeline p*.trace)
	# stdin when no file
	diff <("$SOCKTRACE" show -f summary "$t") <("$SOCKTRACE" show -f summary <"$t")
	# json is normalized, sorted by time and jq-ready
	"$SOCKTRACE" show -f json p*.trace | jq -s -e 'map(.ts) == (map(.ts) | sort)'
}

@test "options: usage errors exit 2" {
	run "$SOCKTRACE" show -f nosuch "$DATA/http3.jsonl"
	[[ $status == 2 ]]
	[[ $output == *"unknown format 'nosuch'"* ]]
	run "$SOCKTRACE" show --color=sometimes "$DATA/http3.jsonl"
	[[ $status == 2 ]]
	run "$SOCKTRACE" show --port 70000 "$DATA/http3.jsonl"
	[[ $status == 2 ]]
	run "$SOCKTRACE" show --bogus
	[[ $status == 2 ]]
	run "$SOCKTRACE" show -Q "$DATA/http3.jsonl"
	[[ $status == 2 && $output == *"unknown option '-Q'"* ]]
	run "$SOCKTRACE" show --help
	[[ $status == 0 && $output == *"timeline"* ]]
}
