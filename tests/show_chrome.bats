#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f chrome`: the Chrome trace event JSON that Perfetto and
# chrome://tracing open, read back by scripts/chrome_check.py as a viewer
# would (json.load, the keys each event needs, slices that nest on each
# track), and held against the real runs it was made from.

load helpers

chrome_check() { "$PYTHON3" "$top_srcdir/tests/scripts/chrome_check.py" "$@"; }

@test "chrome: threads making connections: one track per thread, a slice per call and per socket, nested" {
	traced "$(prog threads)" -t 3 -n 4 -A 2 -d >out
	"$SOCKTRACE" show -f chrome "$TRACE" >trace.json
	chrome_check trace.json >summary.json
	pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
	# every client thread and every acceptor that made a call has a track
	# named for its tid (an acceptor another one beat to every connection
	# made none)
	jq -r '.tid // empty' "$TRACE" | sort -u >tids
	n=0
	for tid in $(awk '$1 == "thread" || $1 == "acceptor" { sub("tid=", "", $2); print $2 }' out); do
		[[ $tid != "$pid" ]]
		grep -qx "$tid" tids || continue
		n=$((n + 1))
		jq -e --arg n "thread $tid" '.thread_names | index($n)' summary.json >/dev/null ||
			{ echo "no track for thread $tid"; cat summary.json; false; }
	done
	((n >= 4)) || { echo "only $n of the program's threads made calls" >&2; false; }
	jq -e --arg n "main thread $pid" '.thread_names | index($n)' summary.json >/dev/null
	assert_eq "$(jq .processes summary.json)" 1
	# a slice per call the shim timed, one per socket's life (lifecycle
	# prints a line per socket), a connection's slice for each TCP end
	assert_eq "$(jq .cat.call summary.json)" "$(jq -s '[.[] | select(.dur_ns != null)] | length' "$TRACE")"
	assert_eq "$(($(jq '.cat.socket // 0' summary.json) + $(jq .cat.connection summary.json)))" \
		"$("$SOCKTRACE" show -f lifecycle "$TRACE" | wc -l)"
	assert_eq "$(jq .cat.connection summary.json)" 24 "12 connections, both ends traced"
	# every socket's state changes form one chain: each starts where the
	# last one ended, the first from nothing
	assert_eq "$(jq '[.traceEvents[] | select(.cat == "state")] | group_by(.args.socket) |
		map(. as $g | $g[0].args.from == null and
		    all(range(1; length); $g[.].args.from == $g[. - 1].args.to and $g[.].args.from != $g[.].args.to)) |
		"\(length) \(all)"' trace.json)" "\"$("$SOCKTRACE" show -f lifecycle "$TRACE" | wc -l) true\""
	# 12 connects reached ESTABLISHED (or CLOSE_WAIT when the server was quick)
	assert_eq "$(jq '[.traceEvents[] | select(.cat == "state" and .args.call == "connect")] | length' trace.json)" 12
	assert_eq "$(jq .instants.start summary.json)" 1
	# the calls of one thread are on its track, in the order it made them
	tid=$(awk '$1 == "thread" { sub("tid=", "", $2); print $2; exit }' out)
	jq -c --argjson t "$tid" '.traceEvents[] | select(.tid == $t and .ph == "X") | .name' trace.json |
		tr -d '"' | head -4 | paste -sd' ' >calls
	assert_eq "$(cat calls)" "socket connect dup close"
}

@test "chrome: times are microseconds from the first event; errors, resets and two processes" {
	tcp_pair "-r -n 1 -L -c server" "-c server"
	rm -f "$TRACE"
	traced "$(prog tconnect)" refused >out
	"$SOCKTRACE" show -f chrome "$S" "$C" "$TRACE" >trace.json
	chrome_check trace.json >summary.json
	assert_eq "$(jq .processes summary.json)" 3
	assert_eq "$(jq .instants.ECONNREFUSED summary.json)" 1
	assert_eq "$(jq .instants.RST summary.json)" 1
	# otherData.t0_us is the first event's ts; a call's ts and dur are its
	# start after t0 and its duration, in microseconds
	first=$(cat "$S" "$C" "$TRACE" | jq -s 'map(.ts) | min')
	assert_eq "$(jq .otherData.t0_us trace.json)" "$("$PYTHON3" -c "print(round($first * 1e6))")"
	lis=$(ev '.call=="listen"' "$S")
	want=$("$PYTHON3" -c "import json; e = json.loads('$lis'); print(round(e['ts'] * 1e6) - round($first * 1e6), e['dur_ns'] / 1000)")
	got=$(jq -r '.traceEvents[] | select(.ph == "X" and .name == "listen") | "\(.ts) \(.dur)"' trace.json)
	assert_eq "$("$PYTHON3" -c "a, b = '$got'.split(); print(float(a), float(b))")" \
		"$("$PYTHON3" -c "a, b = '$want'.split(); print(float(a), float(b))")"
	# the process is named by its command line and pid
	spid=$(fact srv.out listen pid)
	jq -e --arg p "$spid" '.traceEvents[] | select(.name == "process_name" and .pid == ($p | tonumber)) |
		.args.name | test("^tcp_server .*\\(pid " + $p + "\\)$")' trace.json >/dev/null
	# --pid keeps one process: its tracks only
	"$SOCKTRACE" show -f chrome --pid "$spid" "$S" "$C" "$TRACE" >one.json
	assert_eq "$(jq '[.traceEvents[] | .pid] | unique | length' one.json)" 1
}
