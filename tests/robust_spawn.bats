#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# New processes: posix_spawn, vfork + exec, exec, a shell pipeline of traced
# programs, a forking server under more connections, and AT_SECURE
# (setuid) processes, where the shim stays silent.  (shim_fork.bats covers
# the forking server's details.)

load helpers

# by_start [FILE]: each run of a program (a pid, cut at each start event,
# as exec starts a new program in the same pid) has seq 1..N in file order.
# (An end event, written by the parent about its child, has no seq.)
by_start() {
	local bad
	bad=$(jq -r 'select(has("seq")) | "\(.pid) \(.seq) \(.call)"' "${1:-$TRACE}" | awk '
		$3 == "start" { next_seq[$1] = 1 }
		{ if ($2 != next_seq[$1]) { print "pid " $1 ": seq " $2 " where " next_seq[$1] " was due"; exit }
		  next_seq[$1]++ }')
	[[ -z $bad ]] || { echo "$bad" >&2; return 1; }
}

@test "spawn: posix_spawn and vfork+exec of a traced child: each has its own start with pid and ppid" {
	for how in posix_spawn vfork; do
		rm -f "$TRACE"
		status=0
		traced "$(prog spawn)" "$how" "$(prog sockexit)" status 4 >out || status=$?
		assert_eq "$status" 4 "$how: the child's exit status, passed on"
		parent=$(fact out socket pid 1)
		child=$(fact out spawned pid)
		assert_eq "$(fact out socket pid 2)" "$child" "the child's pid"
		assert_valid_jsonl
		assert_seq_ok
		e=$(one ".call==\"start\" and .pid==$parent")
		assert_field "$e" .exe "$TESTPROGS/spawn"
		e=$(one ".call==\"start\" and .pid==$child")
		assert_field "$e" .exe "$TESTPROGS/sockexit"
		assert_field "$e" .ppid "$parent"
		assert_field "$e" .seq 1
		e=$(one ".call==\"socket\" and .pid==$child")
		assert_field "$e" .inode "$(fact out socket ino 2)"
		one ".call==\"exit\" and .pid==$child" >/dev/null
		e=$(one ".call==\"close\" and .pid==$parent")
		assert_field "$e" .inode "$(fact out socket ino 1)"
		one ".call==\"exit\" and .pid==$parent" >/dev/null
		assert_count 2 '.call=="start"'
	done
}

@test "spawn: exec: the same pid starts again as the new program, seq from 1" {
	traced "$(prog spawn)" exec "$(prog sockexit)" status 0 >out
	pid=$(fact out exec pid)
	assert_valid_jsonl
	by_start
	assert_eq "$(jq -r "select(.call==\"start\" and .pid==$pid) | .exe" "$TRACE" | tr '\n' ' ')" \
		"$TESTPROGS/spawn $TESTPROGS/sockexit " "the two programs of pid $pid"
	assert_count 2 ".call==\"socket\" and .pid==$pid"
	assert_count 1 '.call=="exit"'
}

@test "spawn: a shell pipeline of traced programs: every process starts with its pid and the shell as parent" {
	se=$(prog sockexit)
	# the first program's facts go to /dev/null too: the second does not read
	# the pipe, and a write into it after the second exited would be a SIGPIPE
	traced sh -c "\"$se\" status 0 >/dev/null | \"$se\" status 0 >/dev/null; \"$se\" status 0 >/dev/null" >/dev/null
	assert_valid_jsonl
	by_start
	# the shell: the start of sh whose parent is no traced process (the
	# shell's forked children start as sh too; under the runner the lines of
	# different processes need not come in time order)
	sh=$(jq -s -r '(map(select(.call=="start")) | map(.pid)) as $traced
		| .[] | select(.call=="start" and (.exe | test("/(da|ba)?sh$")) and (.ppid as $p | $traced | index($p) | not))
		| .pid' "$TRACE" | head -n 1)
	[[ -n $sh ]] || { echo "no start of the shell" >&2; false; }
	assert_count 3 ".call==\"start\" and .exe==\"$se\""
	for pid in $(jq -r "select(.call==\"start\" and .exe==\"$se\") | .pid" "$TRACE"); do
		[[ $pid != "$sh" ]]
		e=$(one ".call==\"start\" and .pid==$pid and .exe==\"$se\"")
		assert_field "$e" .ppid "$sh"
		assert_field "$e" .seq 1
		one ".call==\"socket\" and .pid==$pid and .ret>=0" >/dev/null
		one ".call==\"exit\" and .pid==$pid and .open==1" >/dev/null
	done
}

@test "spawn: a forking server, 20 connections: no parent close of a connection a child holds ends it" {
	bg_start srv traced "$(prog tcp_server)" -F -n 20
	wait_line srv '^listen ' >/dev/null
	"$(prog tcp_client)" -p "$(fact srv.out listen port)" -n 20 >cli.out
	bg_wait srv
	parent=$(fact srv.out listen pid)
	assert_valid_jsonl
	assert_seq_ok
	assert_count 21 '.call=="start"'
	assert_count 20 ".call==\"fork\" and .pid==$parent and .ret>0"
	for n in $(seq 1 20); do
		fd=$(fact srv.out accept fd "$n")
		ino=$(fact srv.out accept ino "$n")
		e=$(one ".call==\"close\" and .pid==$parent and .inode==$ino")
		assert_field "$e" .fd "$fd"
		assert_field "$e" .shared true
		# the child still holds it: the state it had, no FIN
		assert_field "$e" '.state == .state_before' true
		child=$(fact srv.out child pid "$n")
		e=$(one ".call==\"close\" and .pid==$child and .inode==$ino")
		assert_field "$e" .state_before CLOSE_WAIT
		assert_field "$e" .state LAST_ACK
	done
}

@test "spawn: an AT_SECURE (setuid) process that loads the shim: silent, no file, the program unchanged" {
	[[ $EUID == 0 ]] || skip "needs root to make a setuid-root copy (running as uid $EUID)"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing: cannot run the setuid copy as nobody"
	D=$(mktemp -d /tmp/socktrace-secure.XXXXXX)
	chmod 1777 "$D"
	cp "$(prog secure)" "$D/secure"
	cp "$SHIM" "$D/libsocktrace.so"
	chmod 755 "$D/secure" "$D/libsocktrace.so"
	# preload mode only, in either ST_TRACE_MODE: the case is about what
	# the loader does with LD_PRELOAD in an AT_SECURE process, and the
	# runner would only set the same LD_PRELOAD
	run_as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env LD_PRELOAD="$D/libsocktrace.so" SOCKTRACE_OUTPUT="$D/$1.jsonl" "$D/secure" "$D/libsocktrace.so"
	}
	# not setuid: the shim is preloaded and records
	run_as_nobody plain >plain.out 2>plain.err
	grep -q '^secure at_secure=0 ' plain.out
	assert_count 2 '.call=="socket" and .ret>=0' "$D/plain.jsonl"
	# setuid root: the loader drops LD_PRELOAD, the program loads the shim
	# itself; the shim must notice AT_SECURE and do nothing but pass through
	chmod u+s "$D/secure"
	status=0
	run_as_nobody suid >suid.out 2>suid.err || status=$?
	rm -rf "$D/secure" "$D/libsocktrace.so"
	assert_eq "$status" 0 "the setuid program's exit status"
	grep -q '^secure at_secure=1 uid=[1-9][0-9]* euid=0$' suid.out
	assert_eq "$(grep -c '^close fd=' suid.out)" 2 "closes done"
	assert_empty suid.err
	[[ ! -e $D/suid.jsonl ]] || { echo "the setuid run wrote a trace" >&2; false; }
	rm -rf "$D"
}
