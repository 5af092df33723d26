#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# 32 client threads x 500 connections, 4 acceptor threads and a dup per
# connection, all into one trace file: every call recorded exactly once,
# every line whole JSON, seq 1..N without gaps.  (shim_threads.bats checks
# the details of a smaller run.)  The 112006 events are read with jq once,
# into one line per event, and counted with awk.

load helpers

# count KEY: how many events have the summary line KEY (see below).
count() { awk -v k="$1" '$0 == k { n++ } END { print n + 0 }' calls; }

@test "threads: 32 x 500 connections with 4 acceptors and dups: exact counts, whole lines, seq without gaps" {
	start=$SECONDS
	traced "$(prog threads)" -t 32 -n 500 -A 4 -d >out 2>err
	assert_empty err
	assert_eq "$(fact out done connections)" 16000 "connections made"
	# the acceptors took all 16000 between them
	assert_eq "$(awk '$1 == "acceptor" { sub("accepted=", "", $3); n += $3 } END { print n }' out)" 16000 "accepted"
	assert_valid_jsonl
	# and, in runner mode, the runner's end of the program
	assert_eq "$(wc -l <"$TRACE")" $((112006 + $(runner_ends 1))) "lines in the trace"
	assert_count "$(runner_ends 1)" '.call=="end" and .by=="runner" and .status==0'
	# one pass of jq over the program's own events: seq, tid, call, success,
	# last (for closes)
	jq -r 'select(.by != "runner") | "\(.pid) \(.seq) \(.tid) \(.call) \(if .errno then "fail" else "ok" end) \(if .last == null then "-" else .last end)"' \
		"$TRACE" >events
	# one process, seq 1..112006 each once
	assert_eq "$(cut -d' ' -f1 events | sort -u | wc -l)" 1 "processes"
	assert_eq "$(cut -d' ' -f2 events | sort -n | awk '$1 != NR { bad++ } END { print NR, bad + 0 }')" "112006 0" "seq (events, out of place)"
	cut -d' ' -f4- events >calls
	awk '$4 != "start" && $4 != "exit" { print $3, $4 }' events | sort | uniq -c >per-thread
	assert_eq "$(count 'start ok -')" 1 "start"
	assert_eq "$(count 'exit ok -')" 1 "exit"
	assert_eq "$(count 'socket ok -')" 16001 "socket"
	assert_eq "$(count 'bind ok -')" 1 "bind"
	assert_eq "$(count 'listen ok -')" 1 "listen"
	assert_eq "$(count 'accept4 ok -')" 16000 "accept4"
	assert_eq "$(count 'connect ok -')" 16000 "connect"
	assert_eq "$(count 'dup ok -')" 16000 "dup"
	# a dup's close is never the last one; the socket's close after it is;
	# the accepted sockets and the listener are never aliased
	assert_eq "$(count 'close ok false')" 16000 "closes of an alias"
	assert_eq "$(count 'close ok true')" 32001 "last closes"
	assert_eq "$(grep -c ' fail ' calls)" 0 "failed calls"
	# per thread: each client thread's 500 connections
	for tid in $(grep '^thread ' out | sed 's/.*tid=//'); do
		assert_eq "$(awk -v t="$tid" '$2 == t { printf "%s=%s ", $3, $1 }' per-thread)" \
			"close=1000 connect=500 dup=500 socket=500 " "calls of thread $tid"
	done
	for a in 1 2 3 4; do
		tid=$(fact out acceptor tid "$a")
		assert_eq "$(awk -v t="$tid" '$2 == t { printf "%s=%s ", $3, $1 }' per-thread)" \
			"accept4=$(fact out acceptor accepted "$a") close=$(fact out acceptor accepted "$a") " "calls of acceptor $tid"
	done
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
	echo "# 112006 events checked in $((SECONDS - start)) s" >&3
}
