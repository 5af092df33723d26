#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f chrome` as a stream, on the traces of several
# machines and with --port:
# - each process, told apart by its host, boot, pid namespace and pid, is
#   a track of its own, numbered apart from the others and named with its
#   host, so that two machines' same pids never share a track (nor push
#   each other's calls); the same events on each track whether the output
#   is held to the end or written as sockets end (--hold).  The second
#   machine is the same real run as the first, its start events given
#   another host and boot with jq: the same pids, tids and times;
# - --port streams as the other filters do: each event is written (or left
#   out) once its socket has retired, its ports final; the whole trace's
#   events (--strict reads it whole), and its bytes while nothing retired.

load helpers
bats_require_minimum_version 1.5.0

chrome_check() { "$PYTHON3" "$top_srcdir/tests/scripts/chrome_check.py" "$@"; }

# chrome's events (not the tracks' names), each as one sorted line of JSON,
# with what a retiring stream names otherwise set aside: the socket track
# a life is on, the connection numbers, a life's final state and end
chrome_events() {
	jq -c '.traceEvents[] | select(.ph != "M")
		| if .tid >= 1000000000 then .tid = "lane" else . end
		| if .cat == "connection" then .name |= sub("^conn [0-9]+ "; "conn N ")
		  | del(.args.final_state, .args.end) else . end' "$1" | sort
}

# the events of the tracks of process number PID (as chrome_events), put
# on the tracks of process AS (its threads' numbers moved alike), the
# sockets' ids (numbered across both machines) set aside
events_of() {
	jq -c --argjson p "$2" --argjson to "$3" '.traceEvents[] | select(.ph != "M" and .pid == $p)
		| .pid = $to | if .tid >= 1000000000 then .tid = "lane" else .tid += $to - $p end
		| if .cat == "connection" then .name |= sub("^conn [0-9]+ "; "conn N ")
		  | del(.args.final_state, .args.end) else . end
		| del(.args.socket)' "$1" | sort
}

# a real trace: one listener, one connection open from first to last,
# N short connections 0.4 s apart (tests/scripts/pauses.py)
pauses() {
	traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/pauses.py" "$1" >"$SCRATCH/pauses.out"
	grep -q "^done $1" "$SCRATCH/pauses.out"
}

# as_machine HOST <IN >OUT: the same run, as another machine's
as_machine() {
	jq -c --arg h "$1" 'if .call == "start" then .host = $h | .boot = "00000000-0000-4000-8000-00000000000b"
		else . end'
}

@test "chrome: two machines' processes with the same pids are two tracks, numbered apart, named with their host" {
	pauses 4
	as_machine machine-b <"$TRACE" >b.jsonl
	pid=$(jq -r 'select(.call == "start") | .pid' "$TRACE")
	host=$(jq -r 'select(.call == "start") | .host' "$TRACE")
	[[ -n $host && $host != machine-b ]]
	"$SOCKTRACE" show -f chrome --strict "$TRACE" >alone.json
	"$SOCKTRACE" show -f chrome --strict "$TRACE" b.jsonl >whole.json
	chrome_check whole.json >summary.json
	# two processes, each named with its real pid and its host
	assert_eq "$(jq .processes summary.json)" 2 "processes"
	jq -r '.traceEvents[] | select(.name == "process_name") | "\(.pid) \(.args.name)"' whole.json >names
	assert_eq "$(wc -l <names)" 2 "process names"
	grep -q "^$pid python3 .*(pid $pid on $host)\$" names
	other=$(awk -v p="$pid" '$1 != p { print $1 }' names)
	[[ -n $other && $other != "$pid" ]]
	grep -q "^$other python3 .*(pid $pid on machine-b)\$" names
	# each main thread is named by its real tid
	assert_eq "$(jq -r --argjson p "$other" '.traceEvents[] | select(.name == "thread_name" and .pid == $p
		and .tid < 1000000000) | .args.name' whole.json)" "main thread $pid"
	# each machine's tracks hold that machine's events, as its trace alone
	# shows them: the other's calls at the same times push none of them
	[[ $(events_of alone.json "$pid" "$pid" | wc -l) -gt 50 ]]
	diff <(events_of alone.json "$pid" "$pid") <(events_of whole.json "$pid" "$pid")
	diff <(events_of alone.json "$pid" "$pid") <(events_of whole.json "$other" "$pid")
	# held to the end (the default), the stream is the whole trace's
	run --separate-stderr "$SOCKTRACE" show -f chrome "$TRACE" b.jsonl
	[[ $status == 0 && -z $stderr ]]
	diff whole.json <(printf '%s\n' "$output")
	# written as sockets end: the same events on the same tracks
	run --separate-stderr "$SOCKTRACE" show -f chrome --hold 1 "$TRACE" b.jsonl
	[[ $status == 0 ]]
	grep -q "sockets that had ended were written as they ended" <<<"$stderr"
	printf '%s\n' "$output" >held.json
	chrome_check held.json >held-summary.json
	diff <(chrome_events whole.json) <(chrome_events held.json)
	diff <(jq -c 'del(.tracks)' summary.json) <(jq -c 'del(.tracks)' held-summary.json)
}

@test "chrome --port streams: the whole trace's events of that port, written as sockets end" {
	pauses 5
	lport=$(jq -r 'select(.call == "listen") | .local' "$TRACE" | sed 's/.*://')
	# a short connection's client port, and the long one's
	cport=$(jq -r 'select(.call == "connect") | .local' "$TRACE" | sed -n 3p | sed 's/.*://')
	kport=$(jq -r 'select(.call == "connect") | .local' "$TRACE" | sed -n 1p | sed 's/.*://')
	for port in "$lport" "$cport" "$kport"; do
		"$SOCKTRACE" show -f chrome --strict --port "$port" "$TRACE" >whole.json
		# held to the end (the default): the whole trace's bytes
		run --separate-stderr "$SOCKTRACE" show -f chrome --port "$port" "$TRACE"
		[[ $status == 0 && -z $stderr ]]
		diff whole.json <(printf '%s\n' "$output")
		# written as sockets end: the same events
		run --separate-stderr "$SOCKTRACE" show -f chrome --hold 1 --port "$port" "$TRACE"
		[[ $status == 0 ]]
		grep -q "sockets that had ended were written as they ended" <<<"$stderr"
		printf '%s\n' "$output" >held.json
		chrome_check held.json >/dev/null
		diff <(chrome_events whole.json) <(chrome_events held.json)
	done
	# a client's port: its connection's two ends, nothing of the others
	assert_eq "$(jq '[.traceEvents[] | select(.cat == "connection")] | length' held.json)" 2 "lives"
	# the listener's port: every connection's server end (and their
	# clients), the listener
	"$SOCKTRACE" show -f chrome --hold 1 --port "$lport" "$TRACE" >held.json 2>/dev/null
	assert_eq "$(jq '[.traceEvents[] | select(.cat == "connection")] | length' held.json)" 12 "lives"
	# from a pipe: a short connection's events and lives are out while the
	# writer still holds it
	cut=$(jq -n '[inputs] | (map(select(.call == "connect"))[0].fd) as $k
		| to_entries | map(select(.value.call == "close" and .value.fd == $k))[0].key' "$TRACE")
	[[ $cut -gt 20 ]]
	head -n "$cut" "$TRACE" >part.jsonl
	mkfifo in.fifo
	bg_start show "$SOCKTRACE" show -f chrome --hold 1 --port "$lport" in.fifo
	exec 4>in.fifo
	cat part.jsonl >&4
	wait_line show '"cat":"connection"' 30 >/dev/null
	wait_line show '"name":"accept4"' 30 >/dev/null
	kill -0 "${BG[show]}"
	exec 4>&-
	bg_wait show
	chrome_check "$SCRATCH/show.out" >/dev/null
}
