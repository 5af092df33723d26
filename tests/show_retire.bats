#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f lifecycle`, `-f connections`, `-f timeline`,
# `-f summary` and `-f chrome` hold only what is alive: once more than --hold events are
# held, each socket (and each connection, with both its ends) that has
# ended is printed (or, for summary, counted) and let go as the trace
# goes, in the order they end; the rest at the end.  The lines
# are those of the whole trace (as --strict under the default --hold, which
# holds all of these traces, gives them), the order and
# the connections' numbers are what changes.  Below the limit the output
# is the whole trace's, in its order.

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

# a real trace: one listener, one connection open from first to last,
# N short connections 0.4 s apart (tests/scripts/pauses.py)
pauses() {
	traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/pauses.py" "$1" >"$SCRATCH/pauses.out"
	grep -q "^done $1" "$SCRATCH/pauses.out"
}

@test "retire: lifecycle --hold 1 prints what ended first, the whole trace's lines" {
	pauses 5
	"$SOCKTRACE" show -f lifecycle --strict "$TRACE" >whole.txt
	# the whole trace: in the order the sockets were made, the listener first
	[[ $(wc -l <whole.txt) == 13 ]]
	head -n 1 whole.txt | grep -q ' bind listen accept4×6 close$'
	run --separate-stderr "$SOCKTRACE" show -f lifecycle --hold 1 "$TRACE"
	[[ $status == 0 ]]
	diff <(sort whole.txt) <(sort <<<"$output")
	grep -q "events were held (--hold): [4-8] sockets that had ended were printed as they ended" <<<"$stderr"
	# the short connections that ended long before the end came first, as
	# they ended: each client, then its accepted end
	head -n 6 <<<"$output" | awk 'NR % 2 == 1 && !/ socket connect close$/ { exit 1 }
				       NR % 2 == 0 && !/ accept4 close$/ { exit 1 }'
	! head -n 6 <<<"$output" | grep -q ' listen '
	# by default (100 000 events) nothing retires: the whole trace's order
	run --separate-stderr "$SOCKTRACE" show -f lifecycle "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff whole.txt <(echo "$output")
}

@test "retire: connections --hold 1 are the whole trace's, numbered in the order printed" {
	pauses 4
	"$SOCKTRACE" show -f connections --strict "$TRACE" >whole.jsonl
	[[ $(wc -l <whole.jsonl) == 5 ]]
	# the whole trace numbers them by start: the long one first
	[[ $(jq -s -c 'map(.id)' whole.jsonl) == '[1,2,3,4,5]' ]]
	[[ $(jq -s '.[0].duration_us > 1000000' whole.jsonl) == true ]]
	"$SOCKTRACE" show -f connections --hold 1 "$TRACE" >retired.jsonl 2>retired.err
	run cat retired.jsonl
	# what the exit event's table said (TIME_WAIT) is given to those still
	# held at the exit only, and said so
	grep -q "events were held (--hold): [23] connections that had ended were printed as they ended" retired.err
	grep -q "state_at_exit" retired.err
	[[ $(jq -s 'map(select(.client.state_at_exit == "TIME_WAIT")) | length' whole.jsonl) == 5 ]]
	[[ $(jq -s '.[-1].client.state_at_exit' retired.jsonl) == '"TIME_WAIT"' ]]
	nowait='del(.id, .client.state_at_exit, .client.final_state)'
	diff <(jq -c "$nowait" whole.jsonl | sort) <(jq -c "$nowait" retired.jsonl | sort)
	[[ $(jq -s -c 'map(.id)' <<<"$output") == '[1,2,3,4,5]' ]]
	# both ends joined, as in the whole trace
	[[ $(jq -s 'map(select(.client.traced and .server.traced)) | length' <<<"$output") == 5 ]]
	# printed as they ended: short ones first, the long one (ended last)
	# among those left at the end, in time order
	[[ $(jq -s '.[0].duration_us < 1000000 and .[1].duration_us < 1000000' <<<"$output") == true ]]
	[[ $(jq -s 'map(select(.duration_us > 1000000)) | length' <<<"$output") == 1 ]]
	run --separate-stderr "$SOCKTRACE" show -f connections "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff whole.jsonl <(echo "$output")
}

@test "retire: summary --hold 1 counts what ended as it goes, to the whole trace's totals" {
	pauses 5
	"$SOCKTRACE" show -f summary --color=never --strict "$TRACE" >whole.txt
	run --separate-stderr "$SOCKTRACE" show -f summary --color=never --hold 1 "$TRACE"
	[[ $status == 0 ]]
	grep -q "events were held (--hold): [4-8] sockets that had ended were counted as they ended" <<<"$stderr"
	# every count the same (calls, durations, sockets, connections, bytes,
	# the most open at once, errors, endpoints in the same order); only
	# the final states of the sockets counted before the exit are those
	# right after their close, not the exit's TIME_WAIT
	diff <(grep -v "final states" whole.txt) <(grep -v "final states" <<<"$output")
	grep -q "^  final states  TIME_WAIT 6$" whole.txt
	grep -q "^  final states  FIN_WAIT1 [3-5], TIME_WAIT [1-3]$" <<<"$output"
	grep -q "^all endpoints" <<<"$output"
	run --separate-stderr "$SOCKTRACE" show -f summary --color=never "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff whole.txt <(echo "$output")
}

@test "retire: timeline --hold 1 prints the blocks as they end, then the processes" {
	pauses 5
	"$SOCKTRACE" show -f timeline --color=never --utc --strict "$TRACE" >whole.txt
	run --separate-stderr "$SOCKTRACE" show -f timeline --color=never --utc --hold 1 "$TRACE"
	[[ $status == 0 ]]
	grep -q "events were held (--hold): [4-8] sockets that had ended were printed as they ended" <<<"$stderr"
	# the whole trace: the process first, then the blocks in time order
	# (the listener first); here the connections that ended first come
	# first and the process last
	head -n 1 whole.txt | grep -q "^process "
	[[ $(grep -c "^connection #" whole.txt) == 6 ]]
	head -n 2 <<<"$output" | grep -q "^connection #1 "
	tail -n 1 <<<"$output" | grep -q "^process "
	# the same blocks, but for the connections' numbers and what the
	# exit's table said of those printed before it (TIME_WAIT)
	blocks() { sed 's/#[0-9]*/#/g' | grep -v "kernel at exit" | grep -v '^$' | sort; }
	diff <(blocks <whole.txt) <(blocks <<<"$output")
	[[ $(grep -c "kernel at exit (client end):.*TIME_WAIT" whole.txt) == 6 ]]
	# the listener names every connection it accepted, printed before it or not
	grep -q "^  accepted   6 connections: #1 #2 #3 #4 #5 #6$" <<<"$output"
	run --separate-stderr "$SOCKTRACE" show -f timeline --color=never --utc "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff whole.txt <(echo "$output")
}

@test "retire: from a pipe, what ended is printed before the input ends" {
	pauses 5
	"$SOCKTRACE" show -f lifecycle --strict "$TRACE" >whole.txt
	# the trace up to the close of the connection held open (the fd of
	# the first connect), then the rest
	cut=$(jq -n '[inputs] | (map(select(.call == "connect"))[0].fd) as $k
		| to_entries | map(select(.value.call == "close" and .value.fd == $k))[0].key' "$TRACE")
	[[ $cut -gt 20 ]]
	head -n "$cut" "$TRACE" >part.jsonl
	tail -n "+$((cut + 1))" "$TRACE" >rest.jsonl
	mkfifo in.fifo
	bg_start show "$SOCKTRACE" show -f lifecycle --hold 1 in.fifo
	exec 4>in.fifo
	cat part.jsonl >&4
	# the short connections are out while the writer still holds the pipe
	wait_line show ' accept4 close$' 30 >/dev/null
	kill -0 "${BG[show]}"
	! grep -q ' listen ' "$SCRATCH/show.out"
	cat rest.jsonl >&4
	exec 4>&-
	bg_wait show
	diff <(sort whole.txt) <(sort "$SCRATCH/show.out")
}

@test "retire: a connection whose ends came further apart than the window is said to be split" {
	# the server's trace 3 s ahead of the client's (two machines' clocks):
	# the client ends are printed before the server ends come
	tcp_pair "-n 3" "-n 3"
	jq -c '.ts += 3' "$S" >ahead.jsonl
	"$SOCKTRACE" show -f connections --strict ahead.jsonl "$C" >whole.jsonl
	[[ $(jq -s 'map(select(.client.traced and .server.traced)) | length' whole.jsonl) == 3 ]]
	run --separate-stderr "$SOCKTRACE" show -f connections --hold 1 ahead.jsonl "$C"
	[[ $status == 0 ]]
	[[ $(wc -l <<<"$output") == 6 ]]
	grep -q "^socktrace: show: 3 connections were shown as two halves: one end came more than the window (--window=500 ms)" <<<"$stderr"
	# a window wider than the clocks are apart joins them
	run --separate-stderr "$SOCKTRACE" show -f connections --hold 1 --window 5000 ahead.jsonl "$C"
	[[ $status == 0 ]]
	diff <(jq -c 'del(.id)' whole.jsonl | sort) <(jq -c 'del(.id)' <<<"$output" | sort)
	! grep -q "two halves" <<<"$stderr"
}

@test "retire: --hold takes a count of events" {
	pauses 1
	for bad in 0 -1 x 1e3 ""; do
		run "$SOCKTRACE" show -f lifecycle --hold="$bad" "$TRACE"
		[[ $status == 2 ]]
		grep -q "bad --hold" <<<"$output"
	done
	run "$SOCKTRACE" show -f lifecycle --hold 1000000000 "$TRACE"
	[[ $status == 0 ]]
}

@test "retire: chrome --hold 1 writes lives and events as they come, the whole trace's events" {
	pauses 5
	"$SOCKTRACE" show -f chrome --strict "$TRACE" >whole.json
	run --separate-stderr "$SOCKTRACE" show -f chrome --hold 1 "$TRACE"
	[[ $status == 0 ]]
	printf '%s\n' "$output" >held.json
	"$PYTHON3" -m json.tool held.json >/dev/null
	chrome_check held.json >held-summary.json
	grep -q "events were held (--hold): [4-9] sockets that had ended were written as they ended" <<<"$stderr"
	# every call, instant and life of the whole trace, once
	[[ $(chrome_events whole.json | wc -l) -gt 60 ]]
	diff <(chrome_events whole.json) <(chrome_events held.json)
	# the calls and instants to the byte
	calls='.traceEvents[] | select(.cat != "connection" and .cat != "socket" and .ph != "M")'
	diff <(jq -c "$calls" whole.json | sort) <(jq -c "$calls" held.json | sort)
	# the same tracks, named the same
	diff <(jq -c 'del(.tracks)' <(chrome_check whole.json)) <(jq -c 'del(.tracks)' held-summary.json)
	# written as it went: the whole trace's lives come before its calls;
	# held, a short connection's calls came before its life
	jq -e '.traceEvents | (map(.cat) | index("call")) > (map(.cat) | index("connection"))' whole.json
	jq -e '.traceEvents | (map(.cat) | index("call")) < (map(.cat) | index("connection"))' held.json
	# by default (100 000 events) nothing retires: the whole trace's bytes
	run --separate-stderr "$SOCKTRACE" show -f chrome "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff whole.json <(printf '%s\n' "$output")
}

@test "retire: chrome from a pipe writes what ended before the input ends, and an interrupt closes the array" {
	pauses 5
	"$SOCKTRACE" show -f chrome --strict "$TRACE" >whole.json
	cut=$(jq -n '[inputs] | (map(select(.call == "connect"))[0].fd) as $k
		| to_entries | map(select(.value.call == "close" and .value.fd == $k))[0].key' "$TRACE")
	[[ $cut -gt 20 ]]
	head -n "$cut" "$TRACE" >part.jsonl
	mkfifo in.fifo
	bg_start show "$SOCKTRACE" show -f chrome --hold 1 in.fifo
	exec 4>in.fifo
	cat part.jsonl >&4
	# the short connections' lives are out while the writer still holds
	# the pipe
	wait_line show '"cat":"connection"' 30 >/dev/null
	kill -0 "${BG[show]}"
	kill -INT "${BG[show]}"
	bg_wait show || true
	exec 4>&-
	# cut short: said, and the status of a command SIGINT ended
	[[ $BG_STATUS == 130 ]]
	grep -q '^socktrace: show: stopped by SIGINT before the end of the input' "$SCRATCH/show.err"
	"$PYTHON3" -m json.tool "$SCRATCH/show.out" >/dev/null
	chrome_check "$SCRATCH/show.out" >/dev/null
	# what it had read, as the whole trace shows it
	[[ $(jq '[.traceEvents[] | select(.cat == "connection")] | length' "$SCRATCH/show.out") -ge 8 ]]
	comm -23 <(chrome_events "$SCRATCH/show.out" | grep -v '"cat":"connection"\|"cat":"socket"') \
		<(chrome_events whole.json) | diff /dev/null -
}

@test "retire: a reading SIGINT cut short says so, and not that a --port named nothing of the part read, nor that the events not read are missing" {
	pauses 5
	mkfifo in.fifo
	bg_start show "$SOCKTRACE" show -f text --port=1 in.fifo
	exec 4>in.fifo
	head -n 20 "$TRACE" >&4
	sleep 0.5
	kill -0 "${BG[show]}"
	kill -INT "${BG[show]}"
	bg_wait show || true
	exec 4>&-
	[[ $BG_STATUS == 130 ]]
	assert_eq "$(cat "$SCRATCH/show.err")" "socktrace: show: stopped by SIGINT before the end of the input: what was read so far was shown"
}

@test "retire: chrome --pid and --port stream, the whole trace's events of that process or port" {
	pauses 5
	pid=$(jq -r 'select(.call == "start") | .pid' "$TRACE")
	"$SOCKTRACE" show -f chrome --strict --pid "$pid" "$TRACE" >whole.json
	run --separate-stderr "$SOCKTRACE" show -f chrome --hold 1 --pid "$pid" "$TRACE"
	[[ $status == 0 ]]
	grep -q "sockets that had ended were written as they ended" <<<"$stderr"
	printf '%s\n' "$output" >held.json
	chrome_check held.json >/dev/null
	diff <(chrome_events whole.json) <(chrome_events held.json)
	run --separate-stderr "$SOCKTRACE" show -f chrome --hold 1 --pid $((pid + 1)) "$TRACE"
	[[ $status == 1 ]]
	[[ $(jq '.traceEvents | length' <<<"$output") == 0 ]]
	# --port: each event once its socket's ports are final
	# (show_chrome_stream.bats)
	port=$(jq -r 'select(.call == "listen") | .local' "$TRACE" | sed 's/.*://')
	run --separate-stderr "$SOCKTRACE" show -f chrome --hold 1 --port "$port" "$TRACE"
	[[ $status == 0 ]]
	grep -q "sockets that had ended were written as they ended" <<<"$stderr"
	printf '%s\n' "$output" >held.json
	diff <(chrome_events <("$SOCKTRACE" show -f chrome --strict --port "$port" "$TRACE")) <(chrome_events held.json)
}

@test "retire: mermaid --hold 1 draws the whole trace's first 50 connections, kept as they end" {
	traced "$PYTHON3" "$BATS_TEST_DIRNAME/scripts/burst.py" 60 5 >burst.out
	grep -q "^done 60 5" burst.out
	"$SOCKTRACE" show -f mermaid --strict "$TRACE" >whole.mmd
	# the connection held open started first: it is connection 1, and
	# 50 are drawn, the 16 others counted
	grep -q 'SYN (connection 1: ' whole.mmd
	grep -q 'SYN (connection 50: ' whole.mmd
	! grep -q 'SYN (connection 51: ' whole.mmd
	grep -q '16 more connections not drawn (the first 50 are' whole.mmd
	run --separate-stderr "$SOCKTRACE" show -f mermaid --hold 1 --window 0 "$TRACE"
	[[ $status == 0 ]]
	# the burst went before the connection held open ended
	grep -q "events were held (--hold): [0-9]* sockets that had ended were let go as they ended" <<<"$stderr"
	! grep -q "numbered in the order they ended" <<<"$stderr"
	diff whole.mmd <(printf '%s\n' "$output")
	# by default (100 000 events) nothing retires
	run --separate-stderr "$SOCKTRACE" show -f mermaid "$TRACE"
	[[ $status == 0 && -z $stderr ]]
	diff whole.mmd <(printf '%s\n' "$output")
	# with --pid, the numbers the filter's left-outs would take are not
	# known: those the connections got as they ended, and said so
	pid=$(jq -r 'select(.call == "start") | .pid' "$TRACE")
	run --separate-stderr "$SOCKTRACE" show -f mermaid --hold 1 --window 0 --pid "$pid" "$TRACE"
	[[ $status == 0 ]]
	grep -q "numbered in the order they ended (--pid or --port left some out)" <<<"$stderr"
	diff <(sed 's/connection [0-9]*:/connection N:/' whole.mmd) <(sed 's/connection [0-9]*:/connection N:/' <<<"$output")
}

@test "retire: an event written 9 000 lines late but within the window is put in place, for every format that builds the model and for check" {
	# a real run: a connection, its client closed, then 6 000 datagram
	# sockets made and closed that take the client's descriptor number
	# again and again, then the server's end closed
	traced "$PYTHON3" -c 'import socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
c.close()
for i in range(6000):
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
a.close(); l.close()'
	# the client's close written late, as a thread held off the CPU
	# writes it: 9 000 lines later, its time unchanged (more lines than
	# the 8 192 a window held at most, whatever its time)
	k=$(jq -n '[inputs] | map(.call == "close") | index(true)' "$TRACE")
	[[ $k =~ ^[0-9]+$ ]]
	awk -v k=$((k + 1)) 'NR == k { held = $0; next } { print } NR == k + 9000 { print held }' "$TRACE" >late.jsonl
	[[ $(wc -l <late.jsonl) == $(wc -l <"$TRACE") ]]
	! cmp -s late.jsonl "$TRACE"
	for f in lifecycle connections timeline summary mermaid chrome; do
		"$SOCKTRACE" show -f "$f" --strict "$TRACE" >"whole.$f"
		run --separate-stderr "$SOCKTRACE" show -f "$f" --window=60000 late.jsonl
		[[ $status == 0 ]]
		[[ -z $stderr ]] || { echo "$f: $stderr" >&2; false; }
		diff "whole.$f" <(printf '%s\n' "$output")
	done
	"$SOCKTRACE" check --rule all --strict "$TRACE" >whole.check || true
	run --separate-stderr "$SOCKTRACE" check --rule all --window=60000 late.jsonl
	[[ -z $stderr ]]
	diff whole.check <(printf '%s\n' "$output")
	# text and json hold 8 192 events: the late event is said, not placed
	run --separate-stderr "$SOCKTRACE" show -f json --window=60000 late.jsonl
	grep -q '^socktrace: 1 events came more than the window (60000 ms), or more than the 8192 events the window holds, after a later one' <<<"$stderr"
}
