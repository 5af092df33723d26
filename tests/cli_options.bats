#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The command line as people type it: options after the traces (as jq,
# grep and ss take them), `--stack N` with a space, NO_COLOR as
# no-color.org defines it, check taking --color like show, and a --help
# that explains every option of the runner; a command that names no
# build directory (reproducible).  On real traced runs.

load helpers

@test "show and check take options after the trace names, and -- ends them" {
	tcp_pair "-r -n 2" "-n 2"
	before=$("$SOCKTRACE" show -f summary "$S" "$C")
	run "$SOCKTRACE" show "$S" "$C" -f summary
	assert_eq "$status" 0 "$output"
	assert_eq "$output" "$before" "options after the traces"
	run "$SOCKTRACE" show "$S" --format=lifecycle --pid "$(jq -r 'select(.call=="start") | .pid' "$S")"
	assert_eq "$status" 0 "$output"
	[[ $output == "pid="*" tcp 127.0.0.1:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept"* ]]
	run "$SOCKTRACE" check "$S" --rule reuseaddr --format=github
	assert_eq "$status" 0 "$output"
	run "$SOCKTRACE" check "$S" "$C" --rule closed-by=server
	assert_eq "$status" 1 "the client closes first: $output"
	[[ ${lines[0]} == "closed-by=server: connection "* ]]
	# after --, a word that looks like an option is a trace name
	run "$SOCKTRACE" show -- "$S" -f
	assert_eq "$status" 2
	[[ $output == *"-f: No such file"* ]]
}

@test "--stack N takes N as the number of frames, as --stack=N does" {
	run "$SOCKTRACE" -o all.jsonl --stack -- "$(prog tconnect)" refused
	assert_eq "$status" 0 "$output"
	all=$(one '.call=="connect"' all.jsonl | jq '.stack | length')
	((all >= 3)) || { echo "frames without N: $all"; false; }
	run "$SOCKTRACE" -o two.jsonl --stack 2 -- "$(prog tconnect)" refused
	assert_eq "$status" 0 "$output"
	assert_eq "$(one '.call=="connect"' two.jsonl | jq '.stack | length')" 2 "frames with --stack 2"
	run "$SOCKTRACE" -o eight.jsonl --stack 8 -- "$(prog tconnect)" refused
	assert_eq "$status" 0 "$output"
	assert_eq "$(one '.call=="connect"' eight.jsonl | jq '.stack | length')" "$all" "frames with --stack 8"
	run "$SOCKTRACE" --stack 99 -- true
	assert_eq "$status" 2
	[[ $output == *"--stack takes a number of frames from 0 to 64"* ]]
}

@test "NO_COLOR: an empty value keeps colour on a terminal, a non-empty one turns it off" {
	traced "$(prog tconnect)" refused >out
	on_tty() { script -qec "$(printf '%q ' "$@")" /dev/null; }
	NO_COLOR= TERM=xterm on_tty "$SOCKTRACE" show "$TRACE" >empty.out
	grep -q $'\033\\[1;31mconnect(.*ECONNREFUSED' empty.out
	NO_COLOR=1 TERM=xterm on_tty "$SOCKTRACE" show "$TRACE" >set.out
	grep -q 'ECONNREFUSED' set.out
	! grep -q $'\033' set.out
}

@test "check takes --color=never|always|auto like show, and refuses other values" {
	traced "$(prog tconnect)" refused >out
	for w in never always auto; do
		run "$SOCKTRACE" check --color=$w --rule handshakes "$TRACE"
		assert_eq "$status" 1 "--color=$w: $output"
		[[ ${lines[0]} == "handshakes: pid "*"ECONNREFUSED"* ]]
	done
	run "$SOCKTRACE" check --color=sometimes "$TRACE"
	assert_eq "$status" 2
	[[ $output == *"--color is auto, always or never, not 'sometimes'"* ]]
}

@test "--help explains -A, --probe, --families and --stack" {
	run "$SOCKTRACE" --help
	assert_eq "$status" 0
	for o in "-A, --append " "--stack[=N] " "--probe=WHEN " "--families=LIST " "-o, --output=FILE " "-f, --format=FMT "; do
		line=$(grep -F -e "  $o" <<<"$output") || { echo "no line for $o"; false; }
		# each says something after the option's name
		[[ $(sed 's/^ *[^ ]* *[^ ]* *//' <<<"$line" | wc -w) -ge 3 ]] || { echo "unexplained: $line"; false; }
	done
}

@test "build: the command carries no path of its build tree, and still finds the tree's shim from where it runs" {
	command -v objcopy >/dev/null || skip "needs objcopy (binutils)"
	# its code and data (the debug info may name the tree: -ffile-prefix-map is the packager's)
	objcopy --strip-debug "$SOCKTRACE" stripped
	if grep -qaF "$top_builddir" stripped; then
		echo "the command names its build tree: $(strings stripped | grep -F "$top_builddir" | head -n 3)"
		false
	fi
	# from its build tree it traces with the tree's shim (no install needed)
	run "$SOCKTRACE" -o t.jsonl -- "$(prog sockexit)" status 0
	assert_eq "$status" 0 "$output"
	one '.call=="start"' t.jsonl >/dev/null
}
