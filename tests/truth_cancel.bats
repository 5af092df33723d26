#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# pthread cancellation inside the socket calls (connects cancel-close,
# cancel-connect): glibc acts on a pending cancel inside close() before the
# system call (the descriptor stays open and is closed later, for real); a
# thread cancelled while blocked in connect() leaves the handshake to the
# kernel, which completes it.  One connection each, with both ends.

load helpers
load truth

@test "cancel: a close() on which a pending cancel acted is not recorded; the later real close is, and nothing leaks" {
	traced "$(prog connects)" cancel-close >c.out 2>c.err
	assert_empty c.err
	assert_valid_jsonl
	assert_seq_ok
	fd=$(fact c.out client fd)
	assert_eq "$(fact c.out still_open open)" 1 "the descriptor after the cancelled close"
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .tid "$(fact c.out main tid)"
	assert_field "$e" .ret 0
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .last true
	assert_field "$(one '.call=="exit"')" .open 0
	rule_holds no-leaks
	view timeline
	conn_block "$(fact c.out client local) ->"
	assert_eq "$NCONN" 1 "connection blocks"
	[[ $BLOCK == *"  client "* && $BLOCK == *"  server "* ]] || { echo "$BLOCK" >&2; false; }
	[[ $BLOCK == *"client close(): ESTABLISHED -> FIN_WAIT1  [active close]"* ]] || { echo "$BLOCK" >&2; false; }
}

@test "cancel: a thread cancelled inside a blocking connect(): the connect says cancelled, the kernel's handshake is one connection with both ends" {
	need_tw_room
	traced "$(prog connects)" cancel-connect >c.out 2>c.err
	assert_empty c.err
	assert_valid_jsonl
	assert_seq_ok
	fd=$(fact c.out client fd)
	local_=$(fact c.out client local)
	server=127.0.0.1:$(fact c.out listen port)
	assert_eq "$(fact c.out completed so_error)" 0 "SO_ERROR after the cancelled connect"
	assert_eq "$(fact c.out completed peer)" 1 "getpeername named the listener"
	e=$(one ".call==\"connect\" and .fd==$fd")
	assert_field "$e" .cancelled true
	assert_field "$e" .remote "$server"
	[[ $(get "$e" .tid) != "$(fact c.out main tid)" ]]
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .local "$local_"
	assert_field "$e" .remote "$server"
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .tcp.bytes_sent 1
	e=$(one '.call=="exit"')
	assert_field "$e" "[.lingering[] | select(.local==\"$local_\" and .remote==\"$server\") | .state] | join(\",\")" TIME_WAIT
	rule_holds handshakes
	rule_holds no-leaks
	view timeline
	conn_block "$local_ ->"
	assert_eq "$NCONN" 1 "connection blocks"
	[[ $BLOCK == *"  client "* && $BLOCK == *"  server "* ]] || { echo "$BLOCK" >&2; false; }
	[[ $BLOCK == *"client close(): ESTABLISHED -> FIN_WAIT1  [active close]"* ]] || { echo "$BLOCK" >&2; false; }
}
