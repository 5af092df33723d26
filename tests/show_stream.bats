#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f text` and `-f json` stream: events are read a line at
# a time and merged by time through a window (--window), shown as they
# come (a pipe before its writer ends, a file followed with --follow while
# a traced program appends to it), late events are shown and counted, and
# repeats are dropped by process (host, boot, pid) as in the whole-trace
# path.  The order is compared with --strict of the traces apart (each in
# time order, merged through a window that holds every event of them), and
# checked with jq.

load helpers

# has_lines FILE N: FILE has N lines now (asked anew at each call)
has_lines() { [[ $(wc -l <"$1") -eq $2 ]]; }

# shown_while_serving PATTERN [SHOW-COMMAND...]: with the background job
# srv (tcp_server -n 1) started, and show started too or started here by
# SHOW-COMMAND once srv listens: waits until show's output has a line
# matching PATTERN while both still run, then one client connects ($PORT)
# and srv ends.
shown_while_serving() {
	local pattern=$1
	shift
	wait_line srv '^listen ' >/dev/null
	PORT=$(fact "$SCRATCH/srv.out" listen port)
	(($#)) && bg_start show "$@"
	wait_line show "$pattern" 30 >/dev/null
	kill -0 "${BG[srv]}"
	kill -0 "${BG[show]}"
	"$(prog tcp_client)" -p "$PORT" >/dev/null
	bg_wait srv
}
bats_require_minimum_version 1.5.0

# out of file order: the server's whole trace, then the client's (their
# events interleave in time)
concat_pair() {
	tcp_pair "-n 2" "-n 2"
	cat "$S" "$C" >both.jsonl
	# the file is not in time order (else the test could not fail)
	! jq -s -e '[.[].ts] == ([.[].ts] | sort)' both.jsonl >/dev/null
}

@test "stream: events of several processes out of file order within the window come out in time order" {
	concat_pair
	"$SOCKTRACE" show -f json --strict "$S" "$C" >sorted.jsonl
	run "$SOCKTRACE" show -f json --window=60000 both.jsonl
	[[ $status == 0 ]]
	diff <(echo "$output") sorted.jsonl
	# in the order they took effect: a call that made a descriptor (an
	# accept blocked for the client) at its return, the others at their
	# start; in microseconds, exact
	jq -s -e 'def effect: (.ts * 1e6 | round) +
		(if (.call | test("^(socket|socketpair|accept4?|dup[23]?|fcntl(64)?)$")) and (.dur_ns // 0) > 0
		 then (.dur_ns / 1000 | floor) else 0 end);
		[.[] | effect] == ([.[] | effect] | sort)' <<<"$output" >/dev/null
	[[ $(wc -l <<<"$output") == $(cat "$S" "$C" | wc -l) ]]
	# the text format, from stdin, in the same order
	"$SOCKTRACE" show -f text --color=never --utc --strict "$S" "$C" >sorted.txt
	"$SOCKTRACE" show -f text --color=never --utc --window=60000 <both.jsonl >streamed.txt
	diff streamed.txt sorted.txt
}

@test "stream: two traces merged by time; an event later than the window is shown and counted once" {
	tcp_pair "-n 1" "-n 1"
	"$SOCKTRACE" show -f json --strict "$S" "$C" >sorted.jsonl
	run "$SOCKTRACE" show -f json "$C" "$S"
	[[ $status == 0 ]]
	diff <(echo "$output") sorted.jsonl
	# the client's events, 10 s earlier, written after the server's: late
	# (with no window: the server's are shown as they are read)
	cp "$S" late.jsonl
	jq -c '.ts -= 10' "$C" >>late.jsonl
	n=$(wc -l <"$C")
	run --separate-stderr "$SOCKTRACE" show -f json --window=0 late.jsonl
	[[ $status == 0 ]]
	[[ $(wc -l <<<"$output") == $(wc -l <late.jsonl) ]]
	[[ $(grep -c 'events came more than the window' <<<"$stderr") == 1 ]]
	grep -q "^socktrace: $n events came more than the window (0 ms) after a later one: .*the first at late.jsonl:$(($(wc -l <"$S") + 1))\$" <<<"$stderr"
	# shown where they came: after the server's
	diff <(head -n "$(wc -l <"$S")" <<<"$output") <("$SOCKTRACE" show -f json "$S")
	# a window that holds them puts them in place, without a word
	run --separate-stderr "$SOCKTRACE" show -f json --window=20000 late.jsonl
	[[ $status == 0 && -z $stderr ]]
	jq -s -e '[.[].ts] == ([.[].ts] | sort)' <<<"$output" >/dev/null
	# a bad window is a usage error
	run "$SOCKTRACE" show --window=-1 late.jsonl
	[[ $status == 2 ]]
	grep -q "bad --window '-1'" <<<"$output"
}

@test "stream: a trace given twice drops its repeats with one warning; another host's same pids are kept" {
	tcp_pair "-n 1" "-n 1"
	cat "$S" "$C" >one.jsonl
	n=$(wc -l <one.jsonl)
	run --separate-stderr "$SOCKTRACE" show -f json one.jsonl one.jsonl
	[[ $status == 0 ]]
	[[ $(wc -l <<<"$output") == "$n" ]]
	grep -q "^socktrace: $n events repeat one already read (the same process, image and seq): dropped; the first at one.jsonl:1$" <<<"$stderr"
	# the same run as another machine's: same pids and seqs, other host
	jq -c 'if .call == "start" then .host = "other" | .boot = "00000000-0000-4000-8000-00000000000b" else . end' \
		one.jsonl >other.jsonl
	run --separate-stderr "$SOCKTRACE" show -f json one.jsonl other.jsonl
	[[ $status == 0 && -z $stderr ]]
	[[ $(wc -l <<<"$output") == $((2 * n)) ]]
}

@test "stream: a pipe on stdin is rendered while its writer still runs" {
	mkfifo fifo
	bg_start show bash -c 'exec "$0" show -f text --color=never <fifo' "$SOCKTRACE"
	# the runner writes the server's events into the FIFO as they happen
	bg_start srv "$SOCKTRACE" -o fifo -- "$(prog tcp_server)" -n 1
	# the listen is shown while the server waits for its client
	shown_while_serving ' listen\('
	bg_wait show
	grep -q ' accept4\?(' show.out
	grep -q ' close(' show.out
}

@test "stream: --follow shows a file as a traced program appends to it, and ends with the run" {
	: >f.jsonl
	bg_start srv "$SOCKTRACE" -o f.jsonl -A -- "$(prog tcp_server)" -n 1
	shown_while_serving '"call":"listen"' "$SOCKTRACE" show -f json --follow f.jsonl
	# ends by itself once the runner has written how the server ended
	bg_wait show
	[[ $BG_STATUS == 0 ]]
	diff show.out <("$SOCKTRACE" show -f json f.jsonl)
	[[ $(jq -r 'select(.call == "end") | .by' show.out) == runner ]]
	# without a runner's end, SIGTERM ends it cleanly
	head -n 3 f.jsonl >g.jsonl
	bg_start show2 "$SOCKTRACE" show -f json --follow g.jsonl
	wait_until 30 has_lines show2.out 3
	kill -TERM "${BG[show2]}"
	bg_wait show2
	diff show2.out g.jsonl
	# --follow is for the per-event formats
	run "$SOCKTRACE" show -f summary --follow f.jsonl
	[[ $status == 2 ]]
	grep -q -- '--follow is for -f text and -f json' <<<"$output"
}

@test "stream: show | head -1 ends at once on an endless producer" {
	tcp_pair "-n 1" "-n 1"
	cat "$S" "$C" >one.jsonl
	# an endless trace: the run over and over, as new processes each time
	gen() {
		"$PYTHON3" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
k = 0
while True:
    k += 1
    for e in lines:
        e = dict(e)
        e["pid"] = e["pid"] + 1000 * (k % 4000)
        e["ts"] = e["ts"] + k
        sys.stdout.write(json.dumps(e, separators=(",", ":")) + "\n")
' one.jsonl 2>/dev/null
	}
	export PYTHON3 SOCKTRACE
	# before streaming, show read its input to the end: here, never
	run timeout 60 bash -c "$(declare -f gen)"'; gen | "$SOCKTRACE" show -f text --color=never | head -n 1'

	[[ $status == 0 ]]
	[[ $(wc -l <<<"$output") == 1 ]]
	# the first event of the first round: the earliest start, a new pid
	first=$("$SOCKTRACE" show -f json one.jsonl | head -n 1 | jq .pid)
	grep -q "\[$((first + 1000))[]/].* start(" <<<"$output"
}

@test "identity: two pid namespaces of one machine with the same pids are two processes, each with its own command line" {
	tcp_pair "-n 1" "-n 1"
	spid=$(jq -r 'select(.call == "start").pid' "$S")
	cpid=$(jq -r 'select(.call == "start").pid' "$C")
	# the client as if run in a container of the same machine: its pid is
	# the server's, its pid namespace another
	jq -c --argjson s "$spid" --argjson c "$cpid" '.pid = $s | .tid = (if .tid == $c then $s else .tid end) |
		if .call == "start" then .pidns = 4026532999 else . end' "$C" >c2.jsonl
	run "$SOCKTRACE" show --color=never -f timeline "$S" c2.jsonl
	[[ $status == 0 ]]
	grep -q "^  client     pid $spid fd [0-9]* (tcp_client .*)" <<<"$output"
	grep -q "^  server     pid $spid fd [0-9]* (tcp_server .*)" <<<"$output"
	# one machine: the ends are joined over loopback
	[[ $(grep -c '^connection #' <<<"$output") == 1 ]]
	! grep -q 'not traced' <<<"$output"
	# in the same pid namespace, the two would be one process
	jq -c 'if .call == "start" then .pidns = 4026532999 else . end' "$S" >s2.jsonl
	run "$SOCKTRACE" show --color=never -f timeline s2.jsonl c2.jsonl
	! grep -q "^  client     pid $spid fd [0-9]* (tcp_client .*)" <<<"$output" ||
		! grep -q "^  server     pid $spid fd [0-9]* (tcp_server .*)" <<<"$output"
	# the text and json formats keep every event of both
	run --separate-stderr "$SOCKTRACE" show -f json "$S" c2.jsonl
	[[ $status == 0 && -z $stderr ]]
	[[ $(wc -l <<<"$output") == $(cat "$S" c2.jsonl | wc -l) ]]
	# check finds no leak in either (their descriptors do not mix)
	run "$SOCKTRACE" check --rule no-leaks "$S" c2.jsonl
	[[ $status == 0 ]]
}

@test "stream: a call that blocked longer than the window (a server waiting in accept) is shown, not counted late" {
	# the client comes 1.5 s after the server started waiting: the accept's
	# event, written when it returned, begins 1.5 s before the events around it
	"$SOCKTRACE" -o wait.jsonl -- sh -c '"$0" -n 1 >srv.out & until grep -q ^listen srv.out 2>/dev/null; do sleep 0.01; done
		sleep 1.5; "$1" -p "$(sed -n "s/^listen.* port=\([0-9]*\).*/\1/p" srv.out)" -n 1 >/dev/null; wait' \
		"$(prog tcp_server)" "$(prog tcp_client)"
	local dur
	dur=$(jq -r 'select(.call == "accept4") | .dur_ns' wait.jsonl)
	((dur > 1000000000)) || { echo "accept4 blocked $dur ns" >&2; false; }
	"$SOCKTRACE" show --window=500 wait.jsonl >out 2>err
	assert_empty err
	assert_eq "$(grep -c 'accept4(' out)" 1 "the accept"
	# a trace that lags behind by more than the window is still told
	# (the accept said to have returned at once, yet written last)
	jq -c 'select(.call != "accept4")' wait.jsonl >moved.jsonl
	jq -c 'select(.call == "accept4") | .dur_ns = 1000' wait.jsonl >>moved.jsonl
	"$SOCKTRACE" show --window=500 moved.jsonl >out2 2>err2 || true
	grep -q 'events came more than the window (500 ms) after a later one' err2 ||
		{ cat err2 >&2; false; }
}
