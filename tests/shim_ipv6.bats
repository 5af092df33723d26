#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# IPv6 on ::1 and IPv4-mapped addresses: family, the "[addr]:port" form of
# every endpoint, and the two ends' tuples agreeing.

load helpers

@test "IPv6 ::1: AF_INET6 endpoints as [::1]:port on both ends" {
	tcp_pair "-a ::1 -n 1" "-a ::1"
	clocal=$(fact cli.out connect local)
	[[ $clocal == "[::1]:"* ]]

	e=$(one '.call=="socket"' "$S")
	assert_field "$e" .family AF_INET6
	assert_field "$e" .proto tcp
	e=$(one '.call=="bind"' "$S")
	assert_field "$e" .addr "[::1]:0"
	assert_field "$e" .local "[::1]:$PORT"
	e=$(one '.call=="accept4"' "$S")
	assert_field "$e" .family AF_INET6
	assert_field "$e" .local "[::1]:$PORT"
	assert_field "$e" .remote "$clocal"

	e=$(one '.call=="connect"' "$C")
	assert_field "$e" .family AF_INET6
	assert_field "$e" .addr "[::1]:$PORT"
	assert_field "$e" .local "$clocal"
	assert_field "$e" .remote "[::1]:$PORT"
	assert_field "$e" .state ESTABLISHED

	e=$(one ".call==\"close\" and .fd==$(fact cli.out connect fd)" "$C")
	assert_field "$e" .state_before ESTABLISHED
	assert_field "$e" .state FIN_WAIT1
	assert_field "$e" .remote "[::1]:$PORT"
}

@test "IPv4-mapped: a dual-stack listener on ::ffff:127.0.0.1 and an AF_INET6 client" {
	tcp_pair "-a ::ffff:127.0.0.1 -n 1" "-a ::ffff:127.0.0.1"
	clocal=$(fact cli.out connect local)
	[[ $clocal == "[::ffff:127.0.0.1]:"* ]]

	e=$(one '.call=="setsockopt"' "$S")
	[[ $(get "$e" .level) =~ ^(SOL_IPV6|IPPROTO_IPV6)$ ]]
	assert_field "$e" .optname IPV6_V6ONLY
	assert_field "$e" .optval 0
	e=$(one '.call=="bind"' "$S")
	assert_field "$e" .family AF_INET6
	assert_field "$e" .addr "[::ffff:127.0.0.1]:0"
	assert_field "$e" .local "[::ffff:127.0.0.1]:$PORT"
	e=$(one '.call=="accept4"' "$S")
	assert_field "$e" .remote "$clocal"
	e=$(one '.call=="connect"' "$C")
	assert_field "$e" .addr "[::ffff:127.0.0.1]:$PORT"
	assert_field "$e" .local "$clocal"
}

@test "IPv4-mapped: an AF_INET client seen as [::ffff:127.0.0.1]:port by the AF_INET6 server" {
	tcp_pair "-a ::ffff:127.0.0.1 -n 1" "-a 127.0.0.1"
	clocal=$(fact cli.out connect local)
	cport=${clocal##*:}
	e=$(one '.call=="connect"' "$C")
	assert_field "$e" .family AF_INET
	assert_field "$e" .local "127.0.0.1:$cport"
	assert_field "$e" .remote "127.0.0.1:$PORT"
	e=$(one '.call=="accept4"' "$S")
	assert_field "$e" .family AF_INET6
	assert_field "$e" .remote "[::ffff:127.0.0.1]:$cport"
	assert_field "$e" .remote "$(fact srv.out accept remote)"
}

@test "IPv6 UDP: bound sockets on [::1]" {
	traced "$(prog udp)" -6 bound >out
	e=$(one ".call==\"bind\" and .fd==$(fact out server fd)")
	assert_field "$e" .family AF_INET6
	assert_field "$e" .proto udp
	assert_field "$e" .local "$(fact out server local)"
	e=$(one ".call==\"bind\" and .fd==$(fact out client fd)")
	assert_field "$e" .local "$(fact out client local)"
	[[ $(fact out client local) == "[::1]:"* ]]
}
