#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Traces of several machines merged by `socktrace show` and `check`:
# processes are told apart by the host and boot their start names (two
# machines have the same pids), an event given twice is dropped and
# counted, and the two ends of a connection are joined across machines
# only when the tuple is unambiguous.  The second machine is the same
# real run as the first, its start events given another host and boot
# with jq (and, where said, its pids and times those of the first).

load helpers

BOOT_B=00000000-0000-4000-8000-00000000000b

# as_machine HOST [PIDS_OF TRACE] [AT TRACE] <IN >OUT: the start events
# say HOST (boot BOOT_B); with PIDS_OF, the server's and the client's
# pids become those of that trace's; with AT, the times move to start
# where that trace starts
as_machine() {
	local host=$1 pids=${2:-} at=${3:-} map='{}' shift=0 mine theirs i
	if [[ $pids ]]; then
		mapfile -t mine < <(jq -r 'select(.call=="start").pid' "$IN")
		mapfile -t theirs < <(jq -r 'select(.call=="start").pid' "$pids")
		for i in "${!mine[@]}"; do
			map=$(jq -c --arg k "${mine[$i]}" --argjson v "${theirs[$i]}" '.[$k] = $v' <<<"$map")
		done
	fi
	[[ -z $at ]] || shift=$(jq -n "$(head -n 1 "$IN" | jq .ts) - $(head -n 1 "$at" | jq .ts)")
	jq -c --argjson map "$map" --argjson d "$shift" --arg host "$host" --arg boot "$BOOT_B" '
		.ts -= $d |
		.pid = ($map[.pid | tostring] // .pid) |
		if .call == "start" then .host = $host | .boot = $boot else . end' "$IN"
}

# one real client/server run into $SCRATCH/runN.jsonl (server and client)
record_run() {
	tcp_pair "-n 3" "-n 3"
	cat "$S" "$C" >"$SCRATCH/run$1.jsonl"
}

@test "merge: two machines with the same pids at the same time stay two sets of processes" {
	record_run 1
	record_run 2
	IN=run2.jsonl as_machine machine-b run1.jsonl run1.jsonl >run2b.jsonl
	# the same pids, the same times (50 us apart at most)
	assert_eq "$(jq -r 'select(.call=="start").pid' run2b.jsonl | sort)" \
		"$(jq -r 'select(.call=="start").pid' run1.jsonl | sort)" "pids"
	cat run1.jsonl run2b.jsonl >both.jsonl
	"$SOCKTRACE" show -f lifecycle both.jsonl >both.txt 2>err
	assert_empty err
	{ "$SOCKTRACE" show -f lifecycle run1.jsonl; "$SOCKTRACE" show -f lifecycle run2b.jsonl; } >apart.txt
	# 2 listeners, 6 accepted, 6 connecting: each machine's own picture
	assert_eq "$(wc -l <both.txt)" 14 "sockets"
	assert_eq "$(sort both.txt)" "$(sort apart.txt)" "the merged picture"
	# every connection joined to its own machine's other end
	"$SOCKTRACE" show -f connections both.jsonl >conns.jsonl
	assert_eq "$(wc -l <conns.jsonl)" 6 "connections"
	assert_eq "$(jq -c 'select(.client.traced and .server.traced) | .id' conns.jsonl | wc -l)" 6 "joined"
	"$SOCKTRACE" check --rule no-leaks --rule handshakes both.jsonl
}

@test "merge: an event given twice is dropped, counted once on stderr; the output is the trace's own" {
	record_run 1
	"$SOCKTRACE" show -f lifecycle run1.jsonl >once.txt
	n=$(wc -l <run1.jsonl)
	# a collector that shipped the first half of the trace again
	head -n $((n / 2)) run1.jsonl >half.jsonl
	"$SOCKTRACE" show -f lifecycle run1.jsonl half.jsonl >twice.txt 2>err
	assert_eq "$(cat twice.txt)" "$(cat once.txt)" "lifecycle"
	assert_eq "$(grep -c . err)" 1 "one warning"
	grep -qE "^socktrace: $((n / 2)) events repeat one already read \(the same process, image and seq\): dropped; the first at half\.jsonl:1\$" err
	"$SOCKTRACE" check --rule all run1.jsonl half.jsonl >/dev/null 2>err2 || true
	grep -qF "$((n / 2)) events repeat" err2
}

# to_addr TRACE_IN: 127.0.0.1:$PORT as 192.0.2.20 (the server), any other
# 127.0.0.1 as 192.0.2.10 (the client): two machines' addresses
two_addrs() {
	jq -c --arg p "$PORT" 'walk(if type == "string" and startswith("127.0.0.1:") then
		(if . == "127.0.0.1:" + $p then "192.0.2.20:" + $p else sub("^127\\.0\\.0\\.1:"; "192.0.2.10:") end)
		else . end)' "$1"
}

@test "merge: a client on one machine and its server on another are joined when the tuple is unambiguous, never on loopback" {
	tcp_pair "-n 2" "-n 2"
	IN=$S as_machine server-b >srv-b.jsonl
	IN=$C as_machine client-a >cli-a.jsonl
	# on loopback addresses the two machines' ends are not one connection
	"$SOCKTRACE" show -f connections srv-b.jsonl cli-a.jsonl >lo.jsonl
	assert_eq "$(wc -l <lo.jsonl)" 4 "unjoined loopback ends"
	# with the two machines' own addresses they are
	two_addrs srv-b.jsonl >srv-b2.jsonl
	two_addrs cli-a.jsonl >cli-a2.jsonl
	"$SOCKTRACE" show -f connections srv-b2.jsonl cli-a2.jsonl >net.jsonl
	assert_eq "$(wc -l <net.jsonl)" 2 "connections"
	assert_eq "$(jq -r '[.client.addr, .server.addr] | join(" ")' net.jsonl | sed 's/:[0-9]*//g' | sort -u)" \
		"192.0.2.10 192.0.2.20"
	# a third machine that accepted the same tuples (NAT): ambiguous, not joined
	IN=srv-b2.jsonl as_machine server-c >srv-c2.jsonl
	"$SOCKTRACE" show -f connections srv-b2.jsonl srv-c2.jsonl cli-a2.jsonl >nat.jsonl
	assert_eq "$(wc -l <nat.jsonl)" 6 "unjoined ends"
	assert_eq "$(jq -c 'select(.client.traced and .server.traced)' nat.jsonl | wc -l)" 0 "joined"
}
