#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The bats helper (lib/socktrace.bash, installed as socktrace.bash), used
# as a project's own tests use it: loaded in one line, running this tree's
# test programs (a TCP server and client, a leaking client) under
# socktrace_run, and asserting on their recorded lifecycles.  The failing
# assertions run under `run` (a subshell) or in a nested bats, so that
# this file stays green while showing what a user sees when they fail.
#
# make check exports SOCKTRACE_BATS (the build tree's socktrace.bash),
# SOCKTRACE and TESTPROGS.  By hand, from a build directory B:
#   SOCKTRACE_BATS=B/lib/socktrace.bash SOCKTRACE=B/src/socktrace TESTPROGS=B/tests bats tests/bats_helper.bats

bats_require_minimum_version 1.5.0
load "${SOCKTRACE_BATS:?run me through make check, or set SOCKTRACE_BATS}"

setup() {
	export LC_ALL=C
	: "${TESTPROGS:?run me through make check, or set TESTPROGS}"
	cd "$BATS_TEST_TMPDIR" || return
}

teardown() {
	socktrace_teardown
}

# serve_one [SERVER-ARGS]: tcp_server in the background, traced, serving
# one connection; sets PORT from its ready line.
serve_one() {
	local ready
	socktrace_run_bg server -- "$TESTPROGS/tcp_server" -n 1 "$@"
	ready=$(socktrace_wait_line server '^listen ')
	[[ $ready =~ port=([0-9]+) ]]
	PORT=${BASH_REMATCH[1]}
}

@test "bats helper: a server and its client, traced into one set, keep the rules and match their lifecycles" {
	serve_one -r
	socktrace_run -- "$TESTPROGS/tcp_client" -p "$PORT"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "socket fd="* ]]
	[[ $output == *"connect fd="*" remote=127.0.0.1:$PORT state=ESTABLISHED"* ]]
	socktrace_wait server
	[ "$status" -eq 0 ]
	[[ $output == *"accept fd="* ]]

	# both processes' traces, one file each
	run socktrace_trace
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == "$BATS_TEST_TMPDIR/socktrace."*".jsonl" ]]

	assert_socktrace no-leaks reuseaddr no-eaddrinuse handshakes no-resets closed-by=client
	assert_lifecycle "tcp 127.0.0.1:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept close" \
		"tcp * -> 127.0.0.1:$PORT socket connect close"
	refute_lifecycle "tcp *:$PORT socket bind listen accept+ close"
}

@test "bats helper: a leaking client fails assert_socktrace, which shows the violation and the lifecycles" {
	socktrace_run -- "$TESTPROGS/leaky"
	[ "$status" -eq 0 ]
	run assert_socktrace no-leaks
	[ "$status" -eq 1 ]
	[[ ${lines[0]} == "assert_socktrace no-leaks: socktrace check found violations:" ]]
	[[ ${lines[1]} == "  no-leaks: pid "*" (leaky): tcp 127.0.0.1:"*"was never closed before exit; 3 such sockets leaked from the same place: pid "*" fd "*", pid "*" fd "*", pid "*" fd "* ]]
	[[ $output == *"-- lifecycles (socktrace show -f lifecycle) --"* ]]
	[[ $output == *" tcp 127.0.0.1:"*" -> 127.0.0.1:"*" socket connect"* ]]
	# the rules it keeps still pass on the same trace
	assert_socktrace reuseaddr handshakes
}

@test "bats helper: assert_lifecycle and refute_lifecycle fail with the closest lifecycles" {
	serve_one
	socktrace_run -- "$TESTPROGS/tcp_client" -p "$PORT"
	[ "$status" -eq 0 ]
	socktrace_wait server
	run assert_lifecycle "tcp *:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept close"
	[ "$status" -eq 1 ]
	[[ $output == *"expect: tcp *:$PORT socket setsockopt(SO_REUSEADDR) bind listen accept close: no socket matches"*"closest: pid="*" tcp 127.0.0.1:$PORT socket bind listen accept"* ]]
	run refute_lifecycle "tcp *:$PORT socket bind listen accept close"
	[ "$status" -eq 1 ]
	[[ ${lines[0]} == "refute_lifecycle 'tcp *:$PORT socket bind listen accept close': a socket's lifecycle matches it" ]]
	# a bad pattern is not a pass
	run refute_lifecycle "tcp * socket accept×0"
	[ "$status" -eq 1 ]
	[[ $output == *"could not judge (exit 2)"* ]]
	# the server that forgot SO_REUSEADDR
	run assert_socktrace reuseaddr
	[ "$status" -eq 1 ]
	[[ $output == *"reuseaddr: pid "*": tcp 127.0.0.1:$PORT listens without SO_REUSEADDR"* ]]
}

@test "bats helper: socktrace_run keeps the command's status; later runs add to the set (a refused connect fails handshakes)" {
	serve_one -r
	socktrace_run -- "$TESTPROGS/tcp_client" -p "$PORT"
	[ "$status" -eq 0 ]
	socktrace_wait server
	# the server is gone: its port refuses
	socktrace_run -1 -- "$TESTPROGS/tcp_client" -p "$PORT"
	[[ $output == *"connect fd="*" ret=-1 errno=ECONNREFUSED"* ]]
	run socktrace_trace
	[ "${#lines[@]}" -eq 3 ]
	run assert_socktrace handshakes
	[ "$status" -eq 1 ]
	[[ $output == *"handshakes: pid "*": connect to 127.0.0.1:$PORT failed with ECONNREFUSED"* ]]
	assert_socktrace reuseaddr no-resets
}

@test "bats helper: socktrace options pass on; SOCKTRACE_TRACE names the set" {
	export SOCKTRACE_TRACE=$BATS_TEST_TMPDIR/traces/leaky.jsonl
	socktrace_run --stack=6 -- "$TESTPROGS/leaky" -n 2
	[ "$status" -eq 0 ]
	run socktrace_trace
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} =~ ^"$BATS_TEST_TMPDIR"/traces/leaky\.[0-9]+\.jsonl$ ]]
	run assert_socktrace no-leaks
	[ "$status" -eq 1 ]
	[[ $output == *"made by socket() at fetch_once"* ]]
	run socktrace_run --colour -- "$TESTPROGS/leaky"
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option '--colour'"* ]]
}

@test "bats helper: finds socktrace from \$SOCKTRACE, else PATH, else the install prefix" {
	local built=$SOCKTRACE
	[ -x "$built" ]
	mkdir bin
	ln -s "$built" bin/socktrace
	# from PATH
	SOCKTRACE='' PATH=$BATS_TEST_TMPDIR/bin:$PATH socktrace_run -- "$TESTPROGS/leaky" -n 1
	[ "$status" -eq 0 ]
	assert_socktrace no-leaks
	# a bad $SOCKTRACE is an error, not a fallback
	SOCKTRACE=$BATS_TEST_TMPDIR/nowhere run assert_socktrace no-leaks
	[ "$status" -eq 1 ]
	[[ $output == *"SOCKTRACE=$BATS_TEST_TMPDIR/nowhere is not an executable file"* ]]
	# neither: the install prefix, named in the message when it is not there
	if [[ -x $_SOCKTRACE_INSTALLED ]]; then
		skip "socktrace is installed as $_SOCKTRACE_INSTALLED"
	fi
	SOCKTRACE='' PATH=/usr/bin:/bin run -127 socktrace_run -- "$TESTPROGS/leaky"
	[[ $output == *"socktrace not found: set SOCKTRACE, put it on PATH, or install it as $_SOCKTRACE_INSTALLED"* ]]
	[[ $_SOCKTRACE_INSTALLED == /*/socktrace ]]
}

@test "bats helper: a user's test file, run by bats, passes and fails as it should" {
	local bats_bin
	bats_bin=${BATS_ROOT:+$BATS_ROOT/bin/}bats
	command -v "$bats_bin" >/dev/null || skip "no bats command to nest"
	# (written as "TEST", which sed makes @test: bats would take an @test
	# line in this file for one of its own, even inside a here-document)
	sed 's/^TEST /@test /' >user.bats <<-EOF
	load "$SOCKTRACE_BATS"
	teardown() { socktrace_teardown; }
	TEST "clean client" {
	    socktrace_run -- "$TESTPROGS/leaky" -n 1
	    [ "\$status" -eq 0 ]
	    assert_socktrace no-leaks
	}
	TEST "leaky client" {
	    socktrace_run -- "$TESTPROGS/leaky"
	    assert_socktrace no-leaks
	}
	EOF
	# a clean environment (no variable of this bats run) and not its fd 3
	run env -i PATH="$PATH" LC_ALL=C TMPDIR="$BATS_TEST_TMPDIR" SOCKTRACE="$SOCKTRACE" \
		"$bats_bin" --tap user.bats 3>&-
	[ "$status" -eq 1 ]
	[[ ${lines[0]} == "1..2" ]]
	[[ ${lines[1]} == "ok 1 clean client" ]]
	[[ ${lines[2]} == "not ok 2 leaky client" ]]
	[[ $output == *"# assert_socktrace no-leaks: socktrace check found violations:"* ]]
	[[ $output == *"#   no-leaks: pid "*"3 such sockets leaked from the same place"* ]]
}

@test "installed, the helper loads with bats_load_library socktrace (PREFIX/lib/bats/socktrace/load.bash)" {
	: "${top_builddir:?run me through make check}"
	make -s -C "$top_builddir" install-batslibDATA DESTDIR="$BATS_TEST_TMPDIR/root" >/dev/null
	lib=$(find "$BATS_TEST_TMPDIR/root" -path '*/lib/bats/socktrace/load.bash')
	[ -n "$lib" ]
	# (TEST, not the word bats would take for this file's own test)
	sed 's/^TEST /@test /' >lib.bats <<-EOF
	bats_load_library socktrace
	teardown() { socktrace_teardown; }
	TEST "traced through the library" {
	    socktrace_run -- "$TESTPROGS/leaky" -n 1
	    [ "\$status" -eq 0 ]
	    assert_socktrace no-leaks
	}
	EOF
	bats_bin=${BATS_ROOT:+$BATS_ROOT/bin/}bats
	run env -i PATH="$PATH" LC_ALL=C TMPDIR="$BATS_TEST_TMPDIR" SOCKTRACE="$SOCKTRACE" \
		BATS_LIB_PATH="${lib%/socktrace/load.bash}" "$bats_bin" --tap lib.bats 3>&-
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ ${lines[1]} == "ok 1 traced through the library" ]] || { echo "$output"; false; }
}
