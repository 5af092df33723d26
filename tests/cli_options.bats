#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The command line as people type it: options after the traces (as jq,
# grep and ss take them), `--stack N` with a space, NO_COLOR as
# no-color.org defines it, check taking --color like show, and a --help
# that explains every option of the runner; a command that names no
# build directory (reproducible).  On real traced runs.

load helpers
bats_require_minimum_version 1.5.0

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

# socktrace OPTIONS -- touch ran: refused (exit 2) before the program
# runs, which would have made the file ran.
refused_before_run() {
	run "$SOCKTRACE" "$@" -- touch ran
	assert_eq "$status" 2 "socktrace $*: $output"
	[[ ! -e ran ]] || { echo "the program ran: socktrace $*"; false; }
}

@test "--families refuses a word that names no family, and a list that names none, naming the accepted words" {
	refused_before_run --families=bogus
	[[ $output == "socktrace: --families: unknown family 'bogus' (it takes inet, inet6, unix (or local), netlink, packet, vsock or all, comma-separated)" ]]
	refused_before_run --families=inet,,Packets
	[[ $output == *"unknown family 'Packets'"* ]]
	refused_before_run --families=
	[[ $output == "socktrace: --families names no family (it takes "*"or all, comma-separated)" ]]
	refused_before_run --families=,
	[[ $output == *"names no family"* ]]
	# the accepted spellings still record
	run "$SOCKTRACE" -o t.jsonl --families=AF_INET,local -- "$(prog tconnect)" refused
	assert_eq "$status" 0 "$output"
	one '.call=="connect"' t.jsonl >/dev/null
	# without the runner the shim only warns: the program runs on
	run env LD_PRELOAD="$SHIM" SOCKTRACE_FAMILIES=bogus touch ran2
	assert_eq "$status" 0 "$output"
	[[ -e ran2 && $output == *"SOCKTRACE_FAMILIES must list inet, inet6, unix (or local), netlink, packet, vsock or all"* ]]
}

@test "-A without -o, an empty -o, -o given twice and bad values of the other options are refused before the program runs" {
	refused_before_run -A
	[[ $output == "socktrace: -A appends to the trace file of -o, and no -o was given" ]]
	refused_before_run -o ''
	[[ $output == "socktrace: -o takes a file name, and this one is empty" ]]
	refused_before_run -o a.jsonl -o b.jsonl
	[[ $output == "socktrace: -o given twice"* ]]
	[[ ! -e a.jsonl && ! -e b.jsonl ]]
	# each message names the value, escaped
	refused_before_run --probe=$'\e[31m'
	assert_eq "$output" "socktrace: --probe takes exit, close or off, not '\\x1b[31m'"
	refused_before_run -f xml
	[[ $output == "socktrace: -f takes text or jsonl, not 'xml' (for other formats: "* ]]
	refused_before_run --backend=both
	assert_eq "$output" "socktrace: --backend takes auto, shim or ptrace, not 'both'"
	refused_before_run --stack=65
	assert_eq "$output" "socktrace: --stack takes a number of frames from 0 to 64, not '65'"
	refused_before_run -o fd:x
	assert_eq "$output" "socktrace: -o fd:N takes a descriptor number, not 'x'"
	refused_before_run --no-such-option
	[[ ${lines[-1]} == "Try 'socktrace --help'." ]]
}

@test "check --junit: a file that cannot be written stops it before any result, and twice is refused" {
	traced "$(prog tconnect)" refused >out
	run --separate-stderr "$SOCKTRACE" check --junit "$BATS_TEST_TMPDIR/none/r.xml" "$TRACE"
	assert_eq "$status" 2
	assert_eq "$output" "" "nothing on stdout"
	[[ $stderr == "socktrace: check: cannot write "*"/none/r.xml: No such file or directory" ]]
	run --separate-stderr "$SOCKTRACE" check --junit a.xml --junit b.xml "$TRACE"
	assert_eq "$status" 2
	assert_eq "$output" ""
	[[ $stderr == *"--junit given twice"* ]]
	# nor is one of the traces emptied for the report
	cp "$TRACE" same.jsonl
	run --separate-stderr "$SOCKTRACE" check --junit same.jsonl same.jsonl
	assert_eq "$status" 2
	assert_eq "$output" ""
	assert_eq "$stderr" "socktrace: check: --junit same.jsonl is one of the traces: the report would empty it"
	cmp same.jsonl "$TRACE"
	# a rule given twice is judged once, in the report too
	run "$SOCKTRACE" check --junit r.xml --rule handshakes --rule handshakes --rule all "$TRACE"
	assert_eq "$status" 1 "$output"
	assert_eq "$(grep -c '<testcase' r.xml)" 5 "one testcase per rule: $(cat r.xml)"
	assert_eq "$(grep -c '^handshakes: ' <<<"$output")" 1 "$output"
}

@test "check --expect: a malformed pattern is refused with the column where it goes wrong" {
	traced "$(prog tconnect)" refused >out
	run "$SOCKTRACE" check --expect 'tcp ((' "$TRACE"
	assert_eq "$status" 2 "$output"
	[[ $output == "socktrace: check: bad pattern 'tcp ((': at column 5: '(' in '((' is never closed"* ]]
	run "$SOCKTRACE" check --expect 'tcp socket connect) close' "$TRACE"
	assert_eq "$status" 2 "$output"
	[[ $output == *"at column 19: ')' in 'connect)' closes no '(' before it"* ]]
	run "$SOCKTRACE" check --expect 'tcp [::1 socket' "$TRACE"
	assert_eq "$status" 2 "$output"
	[[ $output == *"at column 5: '['"*"is never closed"* ]]
	run "$SOCKTRACE" check --expect 'tcp socket +' "$TRACE"
	assert_eq "$status" 2 "$output"
	[[ $output == *"at column 12: '+' is not a step"* ]]
	# a count with the letter x would match nothing: refused, with the sign
	run "$SOCKTRACE" check --expect 'tcp * -> 127.0.0.1:* socket connectx2 close' "$TRACE"
	assert_eq "$status" 2 "$output"
	[[ $output == *"'connectx2': a count is written with the multiplication sign, as lifecycle prints it: connect×2"* ]]
	# no steps: it could never match a socket, it is refused (and *+ is
	# the way to ask for any socket of that kind and address)
	run "$SOCKTRACE" check --expect 'tcp * -> 127.0.0.1:*' "$TRACE"
	assert_eq "$status" 2 "$output"
	[[ $output == *"no steps: a pattern names the socket's calls"* ]]
	run "$SOCKTRACE" check --expect 'tcp * -> 127.0.0.1:* *+' "$TRACE"
	assert_eq "$status" 0 "$output"
	# a well-formed one with brackets still matches
	run "$SOCKTRACE" check --expect 'tcp * -> 127.0.0.1:[0-9]* socket connect(ECONNREFUSED) close' "$TRACE"
	assert_eq "$status" 0 "$output"
}

@test "show: a --pid or --port that nothing of the traces has is named on stderr, exit 1" {
	traced "$(prog tconnect)" refused >out
	pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
	for f in text json lifecycle summary; do
		run --separate-stderr "$SOCKTRACE" show -f $f --pid 99999999 "$TRACE"
		assert_eq "$status" 1 "-f $f: $stderr"
		assert_eq "$stderr" "socktrace: show: --pid 99999999: no process of the traces has this pid"
	done
	# what another value matched is still shown
	run --separate-stderr "$SOCKTRACE" show -f lifecycle --pid 99999999 --pid "$pid" "$TRACE"
	assert_eq "$status" 1
	[[ $output == "pid=$pid "*"socket connect(ECONNREFUSED) close"* ]]
	run --separate-stderr "$SOCKTRACE" show -f lifecycle --port 1 "$TRACE"
	assert_eq "$status" 1
	assert_eq "$stderr" "socktrace: show: --port 1: no socket of the traces has this port"
	# values out of range, and too many of them, are usage errors
	run --separate-stderr "$SOCKTRACE" show --pid 0 "$TRACE"
	assert_eq "$status" 2
	[[ $stderr == "socktrace: show: bad --pid '0' (a process id, 1-2147483647)"* ]]
	args=()
	for i in $(seq 33); do args+=(--port "$i"); done
	run --separate-stderr "$SOCKTRACE" show "${args[@]}" "$TRACE"
	assert_eq "$status" 2
	[[ $stderr == "socktrace: show: more than 32 --port values"* ]]
	port=$(jq -r 'select(.call=="connect") | .remote // .addr' "$TRACE" | sed 's/.*://')
	run --separate-stderr "$SOCKTRACE" show -f lifecycle --pid "$pid" --port "$port" "$TRACE"
	assert_eq "$status" 0 "$stderr"
	assert_eq "$stderr" ""
}

@test "a missing option value, an unknown option and an empty trace name: one message naming it, exit 2, in each command" {
	traced "$(prog tconnect)" refused >out
	check_msg() {	# check_msg EXPECTED-FIRST-LINE EXPECTED-TRY-LINE ARGS...
		local want=$1 try=$2
		shift 2
		run --separate-stderr "$SOCKTRACE" "$@"
		assert_eq "$status" 2 "socktrace $*: $stderr"
		assert_eq "$output" "" "socktrace $*: nothing on stdout"
		assert_eq "$stderr" "$want"$'\n'"$try" "socktrace $*"
	}
	check_msg "socktrace: option '-o' needs a value" "Try 'socktrace --help'." -o
	check_msg "socktrace: option '--families' needs a value" "Try 'socktrace --help'." --families
	check_msg "socktrace: unknown option '-x'" "Try 'socktrace --help'." -x -- true
	check_msg "socktrace: unknown or incomplete option '--bogus'" "Try 'socktrace --help'." --bogus -- true
	check_msg "socktrace: show: option '-f' needs a value" "Try 'socktrace show --help'." show "$TRACE" -f
	check_msg "socktrace: show: option '--pid' needs a value" "Try 'socktrace show --help'." show "$TRACE" --pid
	check_msg "socktrace: show: a trace's name is empty" "Try 'socktrace show --help'." show "$TRACE" ''
	check_msg "socktrace: check: option '--rule' needs a value" "Try 'socktrace check --help'." check "$TRACE" --rule
	check_msg "socktrace: check: a trace's name is empty" "Try 'socktrace check --help'." check ''
	check_msg "socktrace: check: --junit takes a file name, and this one is empty" "Try 'socktrace check --help'." check --junit '' "$TRACE"
}
