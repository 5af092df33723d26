#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# connect() outcomes: refused, and non-blocking connects seen through to
# their end: EINPROGRESS with the state the kernel had, then the result
# when the program asks with getsockopt(SO_ERROR), or at the next call.

load helpers

@test "connect refused: ret -1, errno ECONNREFUSED, the address asked for" {
	traced "$(prog tconnect)" refused >out
	port=$(fact out bound port)
	fd=$(fact out connect fd)
	assert_eq "$(fact out connect errno)" ECONNREFUSED "the program's errno"

	e=$(one '.call=="connect"')
	assert_field "$e" .fd "$fd"
	assert_field "$e" .ret -1
	assert_field "$e" .errno ECONNREFUSED
	assert_field "$e" .addr "127.0.0.1:$port"
	assert_field "$e" .family AF_INET
	assert_field "$e" .proto tcp
	assert_field "$e" .state CLOSE
	assert_field "$e" .remote null
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .ret 0
	assert_field "$e" .state CLOSE
}

@test "non-blocking connect: EINPROGRESS, then getsockopt(SO_ERROR) says 0 and ESTABLISHED" {
	traced "$(prog tconnect)" nb-sockopt >out
	port=$(fact out listen port)
	fd=$(fact out connect fd)

	e=$(one '.call=="connect"')
	assert_field "$e" .fd "$fd"
	assert_field "$e" .ret -1
	assert_field "$e" .errno EINPROGRESS
	assert_field "$e" .addr "127.0.0.1:$port"
	# recorded SYN_SENT, as socktrace(7) says, even where the loopback
	# handshake already finished inside the call; its end comes later
	assert_field "$e" .state SYN_SENT
	assert_field "$e" .connect_done null

	e=$(one '.call=="getsockopt"')
	assert_field "$e" .fd "$fd"
	assert_field "$e" .ret 0
	assert_field "$e" .level SOL_SOCKET
	assert_field "$e" .optname SO_ERROR
	assert_field "$e" .so_error 0
	assert_field "$e" .state ESTABLISHED
	assert_field "$e" .local "$(get "$(one '.call=="accept"')" .remote)"
	assert_field "$e" .remote "127.0.0.1:$port"
	assert_field "$e" .connect_done ESTABLISHED
	assert_count 1 '.connect_done!=null'
}

@test "non-blocking connect closed without getsockopt: the close shows it was established" {
	traced "$(prog tconnect)" nb-close >out
	fd=$(fact out connect fd)
	assert_count 0 '.call=="getsockopt"'
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .remote "127.0.0.1:$(fact out listen port)"
	assert_field "$e" .connect_done ESTABLISHED
	assert_count 1 '.connect_done!=null'
}

@test "non-blocking connect to a full listener: SYN_SENT, still SYN_SENT at the first SO_ERROR, ESTABLISHED at the second" {
	traced "$(prog tconnect)" nb-synsent >out
	fd=$(fact out connect fd 2)
	assert_eq "$(fact out connect state 2)" SYN_SENT "the kernel's state after connect"
	assert_eq "$(fact out so_error state 1)" SYN_SENT "the kernel's state at the first SO_ERROR"

	e=$(one ".call==\"socket\" and .fd==$fd")
	assert_field "$e" .flags SOCK_NONBLOCK
	e=$(one ".call==\"connect\" and .fd==$fd")
	assert_field "$e" .ret -1
	assert_field "$e" .errno EINPROGRESS
	assert_field "$e" .state SYN_SENT
	assert_field "$e" .connect_done null

	assert_count 2 ".call==\"getsockopt\" and .fd==$fd"
	first=$(ev ".call==\"getsockopt\" and .fd==$fd" | head -n 1)
	second=$(ev ".call==\"getsockopt\" and .fd==$fd" | tail -n 1)
	assert_field "$first" .so_error 0
	assert_field "$first" .state SYN_SENT
	assert_field "$first" .connect_done null
	assert_field "$second" .so_error 0
	assert_field "$second" .state ESTABLISHED
	assert_field "$second" .connect_done ESTABLISHED
	# the filler connection (blocking) is not mistaken for this one
	assert_count 1 '.connect_done!=null'
}

@test "non-blocking connect from SYN_SENT, no getsockopt: its close reports the completion" {
	traced "$(prog tconnect)" nb-synsent-close >out
	fd=$(fact out connect fd 2)
	assert_eq "$(fact out connect state 2)" SYN_SENT "the kernel's state after connect"

	e=$(one ".call==\"connect\" and .fd==$fd")
	assert_field "$e" .state SYN_SENT
	e=$(one ".call==\"close\" and .fd==$fd")
	assert_field "$e" .connect_done ESTABLISHED
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_count 1 '.connect_done!=null'
}

@test "non-blocking connect refused: EINPROGRESS, then SO_ERROR ECONNREFUSED" {
	traced "$(prog tconnect)" nb-refused >out
	port=$(fact out bound port)
	fd=$(fact out connect fd)
	assert_eq "$(fact out so_error value)" ECONNREFUSED "what the program was told"

	e=$(one '.call=="connect"')
	assert_field "$e" .ret -1
	assert_field "$e" .errno EINPROGRESS
	assert_field "$e" .addr "127.0.0.1:$port"
	e=$(one '.call=="getsockopt"')
	assert_field "$e" .fd "$fd"
	assert_field "$e" .ret 0
	assert_field "$e" .so_error ECONNREFUSED
	assert_field "$e" .state CLOSE
	# the state the attempt ended in
	assert_field "$e" .connect_done CLOSE
	assert_count 1 '.connect_done!=null'
}

@test "IPv6 connect refused: errno ECONNREFUSED, address [::1]:port" {
	traced "$(prog tconnect)" -6 refused >out
	port=$(fact out bound port)
	e=$(one '.call=="connect"')
	assert_field "$e" .errno ECONNREFUSED
	assert_field "$e" .family AF_INET6
	assert_field "$e" .addr "[::1]:$port"
}
