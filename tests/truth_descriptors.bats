#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The record stays true when a socket's descriptor leaves by a door a
# wrapper of close() does not see: libc's own close (fclose, freopen,
# daemon), syscall(SYS_close), the __close alias, code reaching libc through
# its own handle or through RTLD_DEEPBIND.  Then /dev/null reuses the
# number.  Each socket ends exactly once, the close of /dev/null is never
# the socket's, and the exit event's count of open sockets is the kernel's
# (the program counts /proc/self/fd just before it returns).

load helpers
load truth

# oos MODE [ARG]: run `outofsight MODE [ARG]` traced; its facts in oos.out.
# Sets FD and INO (the target: the accepted end).
oos() {
	traced "$(prog outofsight)" "$@" >oos.out 2>oos.err
	FD=$(fact oos.out accept fd)
	INO=$(fact oos.out accept ino)
	assert_valid_jsonl
	assert_seq_ok
}

# open_as_kernel: the exit event's open equals the sockets /proc listed.
open_as_kernel() {
	local e
	e=$(one '.call=="exit"')
	assert_field "$e" .open "$(fact oos.out exit sockets)"
}

# the number reused by /dev/null: no close of it is recorded at all
reuse_unrecorded() {
	assert_eq "$(fact oos.out reused fd)" "$FD" "the number /dev/null got"
	assert_count 0 "(.call==\"close\" or .call==\"fclose\") and .fd==$FD and .inode!=$INO"
}

@test "descriptors: fdopen()+fclose() of a connection is its close: ESTABLISHED -> FIN_WAIT1, one end, no leak" {
	oos fdopen
	assert_eq "$(fact oos.out peer read)" 3 "bytes the client read"
	ends_once "$INO"
	e=$END
	assert_field "$e" .call fclose
	assert_field "$e" .fd "$FD"
	assert_field "$e" .ret 0
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	reuse_unrecorded
	open_as_kernel
	rule_holds no-leaks
	view lifecycle
	view_line "^pid=[0-9]+ fd=$FD tcp .* accept fclose$"
}

@test "descriptors: fclose() of a socket stream: its counters count the bytes its own flush sent" {
	# fputs() left "hi\n" in the stream's buffer; fclose() flushed it, then
	# closed: the client read 3 bytes, all sent by this socket
	oos fdopen
	assert_eq "$(fact oos.out peer read)" 3 "bytes the client read"
	e=$(one ".call==\"fclose\" and .inode==$INO")
	assert_field "$e" .tcp.bytes_sent 3
	assert_field "$e" .tcp.unsent 0
}

@test "descriptors: freopen() over a socket stream closes the socket; the stream's later fclose of /dev/null is not its" {
	oos freopen
	ends_once "$INO"
	e=$END
	assert_field "$e" .call freopen
	assert_field "$e" .fd "$FD"
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_eq "$(fact oos.out peer eof)" 1 "the client saw EOF"
	reuse_unrecorded
	open_as_kernel
	rule_holds no-leaks
}

@test "descriptors: syscall(SYS_close) is recorded as the close, with syscall true" {
	oos syscall
	ends_once "$INO"
	e=$END
	assert_field "$e" .call close
	assert_field "$e" .syscall true
	assert_field "$e" .fd "$FD"
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	reuse_unrecorded
	open_as_kernel
	rule_holds no-leaks
}

@test "descriptors: the __close alias is recorded as __close" {
	oos __close
	ends_once "$INO"
	e=$END
	assert_field "$e" .call __close
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	reuse_unrecorded
	open_as_kernel
	rule_holds no-leaks
}

# gone_then_devnull: the target was closed out of sight; /dev/null's close
# is where the shim noticed, and is recorded as nothing else.
gone_then_devnull() {
	ends_once "$INO"
	e=$END
	assert_field "$e" .call gone
	assert_field "$e" .fd "$FD"
	assert_field "$e" .noticed close
	assert_field "$e" .local "127.0.0.1:$(fact oos.out listen port)"
	# the end of a socket closed out of sight has no state: unknown
	assert_field "$e" .state null
	assert_field "$e" .tcp null
	reuse_unrecorded
	assert_count 1 ".inode==$INO and (.call==\"close\" or .call==\"gone\")"
	open_as_kernel
	rule_holds no-leaks
	view lifecycle
	view_line "^pid=[0-9]+ fd=$FD tcp .* accept gone$"
	# the server end made no close of its own: no teardown is drawn on it
	view timeline
	view_has "server never closed it: closed out of sight (noticed at close())"
	view_lacks "server close()"
}

@test "descriptors: a close through code's own dlsym handle on libc: a gone end, not /dev/null's close" {
	oos dlsym
	gone_then_devnull
}

@test "descriptors: a plugin dlopen()ed with RTLD_DEEPBIND closes the socket: a gone end, not /dev/null's close" {
	plugin=$(prog progs/.libs/closer_plugin.so)
	[[ -f $plugin ]]
	oos deepbind "$plugin"
	gone_then_devnull
}

@test "descriptors: daemon() with a connection on 0 and 1: the child's are gone, no false leak in the parent" {
	traced "$(prog outofsight)" daemon "$SCRATCH/daemon.out" >oos.out 2>oos.err
	wait_until 10 grep -qx done daemon.out
	parent=$(jq -r 'select(.call=="start") | .pid' "$TRACE" | head -n 1)
	child=$(fact daemon.out daemon pid)
	INO=$(fact oos.out accept ino)
	assert_valid_jsonl
	assert_seq_ok
	# the parent left with _exit inside daemon(): its end, told by the child
	# (under the runner, which records its program's end, a second one)
	e=$(one ".call==\"end\" and .pid==$parent and .by==\"daemon\"")
	assert_field "$e" .status 0
	# libc's own dup2 of /dev/null onto 0 and 1 closed the child's copies
	e=$(one ".call==\"gone\" and .pid==$child and .fd==0")
	assert_field "$e" .inode "$INO"
	assert_field "$e" .noticed daemon
	e=$(one ".call==\"gone\" and .pid==$child and .fd==1")
	assert_field "$e" .inode "$INO"
	# the child's closes of /dev/null at 0 and 1 are not recorded
	assert_count 0 ".pid==$child and .call==\"close\" and (.fd==0 or .fd==1)"
	e=$(one ".call==\"exit\" and .pid==$child")
	assert_field "$e" .open "$(fact daemon.out exit sockets)"
	assert_eq "$(fact daemon.out peer eof)" 1 "the client saw EOF"
	# the child closed the listener and the client it inherited: nothing leaked
	rule_holds no-leaks
}

@test "descriptors: every mode runs as it does bare: same facts, exit status 0, nothing on stderr" {
	plugin=$(prog progs/.libs/closer_plugin.so)
	for mode in fdopen fclose-reset freopen freopen-fail syscall __close dlsym "deepbind $plugin"; do
		# shellcheck disable=SC2086
		"$(prog outofsight)" $mode >bare.out 2>bare.err
		rm -f "$TRACE"
		# shellcheck disable=SC2086
		traced "$(prog outofsight)" $mode >traced.out 2>traced.err
		assert_empty traced.err
		diff -u <(sed -E 's/(port|ino|local|pid)=[^ ]*//g' bare.out) \
			<(sed -E 's/(port|ino|local|pid)=[^ ]*//g' traced.out)
	done
}

@test "descriptors: freopen() onto a path that cannot be opened still closed the socket: no leak, as exit.open says" {
	oos freopen-fail
	# glibc closes the stream's descriptor before it opens the new path
	assert_eq "$(fact oos.out freopen errno)" ENOENT "freopen's errno"
	assert_eq "$(fact oos.out freopen open)" 0 "the socket's descriptor after the failed freopen"
	assert_eq "$(fact oos.out peer eof)" 1 "the client saw EOF"
	ends_once "$INO"
	e=$END
	assert_field "$e" .call freopen
	assert_field "$e" .errno ENOENT
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	open_as_kernel
	rule_holds no-leaks
	view lifecycle
	view_lacks "(open at exit)"
}

@test "descriptors: fclose() whose flush fails (the peer reset) still closed the socket: no leak, as exit.open says" {
	oos fclose-reset
	assert_eq "$(fact oos.out fclose ret)" -1 "fclose's result"
	assert_eq "$(fact oos.out fclose open)" 0 "the socket's descriptor after fclose"
	ends_once "$INO"
	e=$END
	assert_field "$e" .call fclose
	assert_field "$e" .errno "$(fact oos.out fclose errno)"
	open_as_kernel
	rule_holds no-leaks
	view lifecycle
	view_lacks "(open at exit)"
}

@test "descriptors: daemon() under the runner, its end seen before the child's start (a recorded race): the sockets live on in the child, no untraced end, no leak" {
	# recorded with `socktrace -o T -- tests/outofsight daemon OUT` in a
	# run where the runner's end of the parent came before the start of
	# the child that daemon() forked (about one run in two)
	t=$BATS_TEST_DIRNAME/data/race/daemon-runner-first.jsonl
	assert_eq "$(jq -r 'select(.call == "end" or (.call == "start" and .seq == 1)) | .call + ":" + (.by // "start")' "$t" | sed -n 2,4p | tr '\n' ' ')" \
		"end:runner start:start end:daemon " "the order of the recorded race"
	run "$SOCKTRACE" show -f lifecycle "$t"
	assert_eq "$status" 0 "show's status"
	[[ $output != *untraced* ]] || { echo "$output" >&2; false; }
	# every socket ends at the child's close (or its gone, noticed at daemon())
	assert_eq "$(grep -c '@[0-9]*$' <<<"$output")" 3 "sockets ended by the child"
	run "$SOCKTRACE" check --rule no-leaks "$t"
	assert_eq "$status" 0 "check's status"
}

@test "descriptors: a close in one thread frees the number an accept in another returns, the accept having begun first (a recorded race): every close ends its own socket" {
	# recorded with `socktrace --backend=ptrace -o T -- ./tsrv PORT 300`
	# (a blocking accept in the main thread, a thread per connection that
	# reads, sleeps 20 ms, writes and closes) and `ab -n 300 -c 4`; the
	# runner stamps a call when it stops at its entry, and the kernel took
	# the number after that, when the other thread's close had freed it
	t=$BATS_TEST_DIRNAME/data/race/ptrace-threads-accept-close.jsonl
	# the race is in it: an accept returned the number of a close of
	# another socket that began after the accept and before it returned
	assert_eq "$(jq -s '[.[] | select(.call == "accept" and .ret >= 0)] as $a | [.[] | select(.call == "close")] as $c |
		[$a[] as $x | $c[] | select(.fd == $x.ret and .tid != $x.tid and .inode != $x.inode and
			.ts > $x.ts and .ts < $x.ts + $x.dur_ns / 1e9)] | length > 0' "$t")" true "the recorded race"
	run "$SOCKTRACE" show -f summary "$t"
	[[ $output == *"sockets       301 opened, 301 closed, 0 leaked, at most 5 open at once, 1 listening"* ]] ||
		{ echo "$output" >&2; false; }
	assert_eq "$("$SOCKTRACE" show -f connections "$t" | jq -s -c '[length, ([.[] | select(.duration_us < 0)] | length)]')" \
		"[300,0]" "connections, and those with a negative duration"
	run "$SOCKTRACE" show -f lifecycle "$t"
	[[ $output != *"open at end"* && $output != *inherited* ]] || { echo "$output" >&2; false; }
	run "$SOCKTRACE" check --rule no-leaks --rule max-open=5 "$t"
	assert_eq "$status" 0 "check's status"
}
