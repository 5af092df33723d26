#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# `socktrace show -f connections`: one JSON object per TCP connection, as
# tcplife prints one line per connection, checked against what a real
# client and server did (their fact lines) and the kernel saw.

load helpers

conns() { "$SOCKTRACE" show -f connections "$@"; }

@test "connections: a client and a server traced apart, one object per connection with both ends" {
	tcp_pair "-r -n 2 -c server" "-n 2 -c server"
	conns "$S" "$C" >conns.jsonl
	assert_eq "$(wc -l <conns.jsonl)" 2 "one line per connection"
	jq -e . conns.jsonl >/dev/null	# each line is JSON
	spid=$(fact srv.out listen pid)
	cpid=$(fact cli.out socket pid)
	for i in 1 2; do
		c=$(sed -n "${i}p" conns.jsonl)
		assert_eq "$(jq -r .id <<<"$c")" "$i"
		assert_eq "$(jq -c '[.established, .failure, .reset, .reset_by]' <<<"$c")" '[true,null,false,null]'
		assert_eq "$(jq -c '[.client.traced, .client.pid, .client.addr]' <<<"$c")" \
			"[true,$cpid,\"$(fact cli.out connect local "$i")\"]" "client end of #$i"
		assert_eq "$(jq -c '[.server.traced, .server.pid, .server.addr, .server.fd]' <<<"$c")" \
			"[true,$spid,\"127.0.0.1:$PORT\",$(fact srv.out accept fd "$i")]" "server end of #$i"
		[[ $(jq -r .client.comm <<<"$c") == "tcp_client -p $PORT -n 2 -c server" ]]
		# "ping\n" one way, "pong\n" the other
		assert_eq "$(jq -c '[.bytes_client_to_server, .bytes_server_to_client]' <<<"$c")" "[5,5]"
		# the server closed first: the client ended in LAST_ACK; the server's end
		# was in an active closer's state when it exited (TIME_WAIT once the
		# client's FIN came; the last connection's may not have come yet)
		assert_eq "$(jq -r .closed_first <<<"$c")" server
		assert_eq "$(jq -r .client.final_state <<<"$c")" LAST_ACK
		jq -e '.server.state_at_exit | IN("FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT")' <<<"$c" >/dev/null ||
			{ echo "server end at exit: $(jq -r .server.state_at_exit <<<"$c")"; false; }
		# it started at the client's connect and lasted until the first close
		start=$(jq -r 'select(.call=="connect")' "$C" | jq -s -r ".[$((i - 1))].ts")
		assert_eq "$(jq -r .start <<<"$c")" "$start"
		first_close=$(jq -r "select(.call==\"close\" and .local==\"127.0.0.1:$PORT\" and .remote==$(jq .client.addr <<<"$c")) | .ts" "$S")
		dur=$(jq -r .duration_us <<<"$c")
		assert_eq "$dur" "$("$PYTHON3" -c "print(round(($first_close - $start) * 1e6))")" "duration of #$i"
		jq -e '.rtt_us > 0 and .retransmits == 0' <<<"$c" >/dev/null
	done
}

@test "connections: a reset says who sent it; a refused connect has no server end traced and nulls for the unknown" {
	tcp_pair "-r -n 1 -L -c server" "-c server"
	conns "$S" "$C" >conns.jsonl
	assert_eq "$(wc -l <conns.jsonl)" 1
	assert_eq "$(jq -c '[.reset, .reset_by, .closed_first]' conns.jsonl)" '[true,"server","server"]'
	rm -f "$TRACE"
	traced "$(prog tconnect)" refused >out
	conns "$TRACE" >refused.jsonl
	assert_eq "$(wc -l <refused.jsonl)" 1
	assert_eq "$(jq -c '[.established, .failure, .server.traced, .server.addr, .bytes_client_to_server, .duration_us >= 0]' refused.jsonl)" \
		"[false,\"ECONNREFUSED\",false,\"$(fact out bound local)\",null,true]"
	# the filters of show apply
	assert_eq "$(conns --port 1 "$TRACE" | wc -l)" 0
}
