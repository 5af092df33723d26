#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Inputs that once crashed, leaked or hung a formatter, found by the fuzz
# targets (make fuzz) and kept in fuzz/corpus/regress/: `socktrace show` in
# every format and `socktrace check` must read each and exit 0, 1 or 2 with
# no sanitizer report (in the --enable-sanitizers build these run under
# AddressSanitizer and UBSan).

load helpers

FORMATS=(text timeline summary lifecycle json mermaid)

# sane CMD...: CMD exits 0, 1 or 2 and says nothing of a sanitizer
sane() {
	local rc=0
	timeout 60 "$@" >/dev/null 2>"$SCRATCH/err" || rc=$?
	if ((rc > 2)) || grep -qE 'Sanitizer|runtime error' "$SCRATCH/err"; then
		echo "$* exited $rc:"
		cat "$SCRATCH/err"
		return 1
	fi
}

@test "fuzz regressions: show (every format) and check read every saved input" {
	local f fmt n=0
	for f in "$top_srcdir"/fuzz/corpus/regress/*; do
		for fmt in "${FORMATS[@]}"; do
			sane "$SOCKTRACE" show -f "$fmt" "$f"
		done
		# check-* inputs: the first line is an --expect pattern, the rest the trace
		if [[ $(basename "$f") == check-* ]]; then
			tail -n +2 "$f" >"$SCRATCH/trace"
			sane "$SOCKTRACE" check --rule all --expect "$(head -n 1 "$f")" "$SCRATCH/trace"
		else
			sane "$SOCKTRACE" check --rule all "$f"
		fi
		n=$((n + 1))
	done
	((n >= 3))
}

@test "fuzz regressions: an empty trace is exit 2 with a message, in every format, and nothing rendered" {
	: >"$SCRATCH/empty.jsonl"
	for fmt in "${FORMATS[@]}"; do
		run "$SOCKTRACE" show -f "$fmt" "$SCRATCH/empty.jsonl"
		[ "$status" -eq 2 ]
		[[ $output == *"empty file"* ]]
		# not a summary of nothing, an empty timeline...: no output at all
		"$SOCKTRACE" show -f "$fmt" "$SCRATCH/empty.jsonl" 2>/dev/null >out || true
		[[ ! -s out ]] || { echo "-f $fmt printed:"; cat out; false; }
	done
}

@test "fuzz regressions: a stack frame naming a FIFO is not waited on" {
	mkfifo "$SCRATCH/fifo"
	printf '%s\n' '{"v":1,"ts":1.5,"pid":7,"call":"socket","fd":3,"ret":3,"stack":[{"ip":"0x10","obj":"'"$SCRATCH"'/fifo","off":"0x10"}]}' \
		>"$SCRATCH/t.jsonl"
	run timeout 60 "$SOCKTRACE" show "$SCRATCH/t.jsonl"
	[ "$status" -eq 0 ]
	[[ $output == *"socket("*"= 3"* ]]
	[[ $output == *"/fifo+0x10"* ]]
}

@test "fuzz regressions: check with a bad pattern or rule exits 2 (and frees what it parsed)" {
	traced "$(prog udp)" connected >/dev/null
	run "$SOCKTRACE" check --rule all --expect '' "$TRACE"
	[ "$status" -eq 2 ]
	[[ $output == *"bad pattern"* ]]
	run "$SOCKTRACE" check --rule all --rule nonsense "$TRACE"
	[ "$status" -eq 2 ]
	[[ $output == *"unknown rule"* ]]
}
