#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# SO_REUSEADDR: the setsockopt, the option as bind/listen/close see it, and
# the restart of a server whose port a TIME_WAIT connection still holds:
# without the option bind fails with EADDRINUSE, with it bind succeeds.

load helpers

@test "SO_REUSEADDR: setsockopt recorded with its value, and true in opts at bind, listen and close" {
	tcp_pair "-r -n 1" ""
	lfd=$(fact srv.out listen fd)
	e=$(one '.call=="setsockopt"' "$S")
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .ret 0
	assert_field "$e" .level SOL_SOCKET
	assert_field "$e" .optname SO_REUSEADDR
	assert_field "$e" .optval 1
	assert_field "$e" .opts.SO_REUSEADDR true
	for call in bind listen; do
		e=$(one ".call==\"$call\"" "$S")
		assert_field "$e" .opts.SO_REUSEADDR true
		assert_field "$e" .opts.SO_REUSEPORT false
		assert_field "$e" .opts.SO_LINGER null
	done
	e=$(one ".call==\"close\" and .fd==$lfd" "$S")
	assert_field "$e" .opts.SO_REUSEADDR true
	# the accepted socket inherits the listener's option (the kernel's
	# getsockopt(SO_REUSEADDR) on it says 1)
	e=$(one ".call==\"close\" and .fd==$(fact srv.out accept fd)" "$S")
	assert_field "$e" .opts.SO_REUSEADDR true
}

@test "without SO_REUSEADDR, bind and listen say false" {
	tcp_pair "-n 1" ""
	assert_count 0 '.call=="setsockopt"' "$S"
	e=$(one '.call=="bind"' "$S")
	assert_field "$e" .opts.SO_REUSEADDR false
	e=$(one '.call=="listen"' "$S")
	assert_field "$e" .opts.SO_REUSEADDR false
}

@test "restart over TIME_WAIT: bind EADDRINUSE without SO_REUSEADDR, success with it" {
	# 1: the server closes first, so its end of the connection is in
	#    TIME_WAIT on the server's port
	tcp_pair "-r -n 1 -c server" "-c server"
	port=$PORT
	e=$(one ".call==\"close\" and .fd==$(fact srv.out accept fd)" "$S")
	assert_field "$e" .state FIN_WAIT1

	# 2: a new server on that port without the option
	run traced "$(prog tcp_server)" -p "$port" -n 1
	[ "$status" -eq 1 ]
	[[ $output == *"bind fd="*" ret=-1 errno=EADDRINUSE"* ]]
	e=$(one '.call=="bind"')
	assert_field "$e" .ret -1
	assert_field "$e" .errno EADDRINUSE
	assert_field "$e" .addr "127.0.0.1:$port"
	assert_field "$e" .opts.SO_REUSEADDR false
	assert_count 0 '.call=="listen"'

	# 3: with the option the same bind succeeds
	mv srv.out srv1.out
	tcp_pair "-r -p $port -n 1" ""
	e=$(one '.call=="bind"' "$S")
	assert_field "$e" .ret 0
	assert_field "$e" .errno null
	assert_field "$e" .local "127.0.0.1:$port"
	assert_field "$e" .opts.SO_REUSEADDR true
}
