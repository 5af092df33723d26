#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# 8 threads x 200 connections in one traced process (plus an acceptor
# thread): every call recorded exactly once, every line whole JSON, seq
# 1..N without gaps, each event on the thread that made the call.

load helpers

@test "threads: 8 x 200 connections give exact event counts per call" {
	traced "$(prog threads)" -t 8 -n 200 >out
	assert_eq "$(fact out done connections)" 1600 "connections made"
	assert_valid_jsonl
	assert_count 1 '.call=="start"'
	assert_count 1601 '.call=="socket" and .ret>=0'
	assert_count 1 '.call=="bind" and .ret==0'
	assert_count 1 '.call=="listen" and .ret==0'
	assert_count 1600 '.call=="accept4" and .ret>=0'
	assert_count 1600 '.call=="connect" and .ret==0'
	assert_count 3201 '.call=="close" and .ret==0'
	assert_count 1 '.call=="exit"'
	assert_eq "$(wc -l <"$TRACE")" 8006 "lines in the trace"
	assert_count 0 '.errno!=null'
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
}

@test "threads: seq runs 1..N without gaps; each event carries its thread's tid" {
	traced "$(prog threads)" -t 8 -n 200 >out
	assert_seq_ok
	assert_eq "$(jq -s 'map(.seq) | max' "$TRACE")" 8006 "the last seq"
	pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
	assert_count 0 ".pid!=$pid"
	# the connects came from the 8 client threads the program named
	threads=$(grep '^thread ' out | sed 's/.*tid=//' | sort -n | tr '\n' ' ')
	ctids=$(jq -r 'select(.call=="connect") | .tid' "$TRACE" | sort -n | uniq | tr '\n' ' ')
	assert_eq "$ctids" "$threads" "tids of the connect events"
	for tid in $threads; do
		assert_count 200 ".call==\"connect\" and .tid==$tid"
		assert_count 200 ".call==\"socket\" and .tid==$tid"
	done
	# one acceptor thread, neither the main thread nor a client
	atids=$(jq -r 'select(.call=="accept4") | .tid' "$TRACE" | sort -u)
	assert_eq "$(wc -l <<<"$atids")" 1 "acceptor threads"
	[[ " $threads " != *" $atids "* && $atids != "$pid" ]]
}

@test "threads: every connection's two ends are in the trace: accept4 remotes = connect locals" {
	traced "$(prog threads)" -t 8 -n 200 >out
	port=$(fact out listen port)
	jq -r 'select(.call=="connect") | .local' "$TRACE" | sort >locals
	jq -r 'select(.call=="accept4") | .remote' "$TRACE" | sort >remotes
	assert_eq "$(sort -u locals | wc -l)" 1600 "distinct client endpoints"
	diff -u locals remotes
	# ESTABLISHED, or already CLOSE_WAIT when the acceptor thread closed
	# its end before the shim looked
	assert_count 1600 ".call==\"connect\" and .remote==\"127.0.0.1:$port\" and (.state==\"ESTABLISHED\" or .state==\"CLOSE_WAIT\")"
	# each client socket is closed once, by the thread that made it
	assert_eq "$(jq -r 'select(.call=="close" and .remote=="127.0.0.1:'"$port"'") | "\(.tid) \(.inode)"' "$TRACE" | sort | uniq | wc -l)" 1600 "client closes"
	jq -r 'select(.call=="socket" and .tid!=.pid) | "\(.tid) \(.inode)"' "$TRACE" | sort >made
	jq -r 'select(.call=="close" and .remote=="127.0.0.1:'"$port"'") | "\(.tid) \(.inode)"' "$TRACE" | sort >closed
	diff -u made closed
}

@test "threads: no descriptor is ever aliased, so every close is the last one and makes the kernel's transition" {
	traced "$(prog threads)" -t 8 -n 200 >out
	assert_count 3201 '.call=="close"'
	# descriptor numbers are reused at once by other threads: that must not
	# make a socket look held by another descriptor
	assert_count 3201 '.call=="close" and .last==true'
	assert_count 1 '.call=="close" and .state_before=="LISTEN" and .state=="CLOSE"'
	assert_count 3200 '.call=="close" and (
		(.state_before=="ESTABLISHED" and .state=="FIN_WAIT1") or
		(.state_before=="CLOSE_WAIT" and .state=="LAST_ACK"))'
}
