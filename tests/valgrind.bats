#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The formatters under valgrind memcheck: `socktrace show` in every format
# and `socktrace check --rule all` on every recorded trace of tests/data/
# and on traces recorded here, with --leak-check=full: no error, no leak.
# (show exits 0 or 2, so --error-exitcode=1 is memcheck's alone; check exits
# 1 on a violation, so for it memcheck says 99.)

load helpers

FORMATS=(text timeline summary lifecycle json mermaid)

setup() {
	st_setup
	command -v valgrind >/dev/null || skip "valgrind is not installed (Debian: apt-get install valgrind)"
	[[ ${SOCKTRACE_SANITIZED:-} != 1 ]] ||
		skip "valgrind cannot run a program built with AddressSanitizer; the normal build runs this"
}

# memcheck TRACE: every format and check on TRACE, one line per failure
memcheck() {
	local t=$1 f rc bad=0
	for f in "${FORMATS[@]}"; do
		rc=0
		valgrind -q --error-exitcode=1 --leak-check=full --log-file="$SCRATCH/vg.log" \
			"$SOCKTRACE" show -f "$f" "$t" >/dev/null 2>"$SCRATCH/err" || rc=$?
		if ((rc == 1)) || [[ -s $SCRATCH/vg.log ]]; then
			echo "memcheck: show -f $f $t (exit $rc):"
			cat "$SCRATCH/vg.log"
			bad=1
		fi
	done
	rc=0
	valgrind -q --error-exitcode=99 --leak-check=full --log-file="$SCRATCH/vg.log" \
		"$SOCKTRACE" check --rule all --rule max-time-wait=0 --rule max-open=1 \
		--expect 'tcp * socket bind listen accept+ close' "$t" >/dev/null 2>&1 || rc=$?
	if ((rc == 99)) || [[ -s $SCRATCH/vg.log ]]; then
		echo "memcheck: check --rule all $t (exit $rc):"
		cat "$SCRATCH/vg.log"
		bad=1
	fi
	return "$bad"
}

@test "valgrind: show (every format) and check on every trace of tests/data: no memcheck error or leak" {
	local t n=0
	for t in "$top_srcdir"/tests/data/*.jsonl; do
		memcheck "$t"
		n=$((n + 1))
	done
	((n >= 1))
}

@test "valgrind: show and check on traces recorded here (stacks, fork, unix, udp, refused, dup aliases)" {
	local line port
	SOCKTRACE_STACK=8 bg_start server traced "$(prog tcp_server)" -r -n 2 -c server
	line=$(wait_line server '^listen ')
	port=$(sed -n 's/.* port=\([0-9]*\).*/\1/p' <<<"$line")
	SOCKTRACE_STACK=8 traced "$(prog tcp_client)" -p "$port" -n 2 >/dev/null
	bg_wait server
	traced "$(prog unixsock)" pair stream >/dev/null
	traced "$(prog udp)" connected >/dev/null
	traced "$(prog tconnect)" refused >/dev/null
	traced "$(prog dupfd)" dup2-over >/dev/null
	[ "$(nev '.call == "start"')" -ge 6 ]
	[ "$(nev '.stack')" -ge 1 ]
	memcheck "$TRACE"
	# the bad-input paths too: a truncated line and a foreign one
	{ head -c 150 "$TRACE"; echo; echo 'not json'; head -n 3 "$TRACE"; } >"$SCRATCH/bad.jsonl"
	memcheck "$SCRATCH/bad.jsonl"
}
