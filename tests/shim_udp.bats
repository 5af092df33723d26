#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# UDP sockets, connected and bound: type, protocol, endpoints at each call,
# and no TCP state.

load helpers

@test "udp connected: connect gives the remote and the kernel-chosen local port" {
	traced "$(prog udp)" connected >out
	sfd=$(fact out server fd)
	cfd=$(fact out client fd)
	slocal=$(fact out server local)
	clocal=$(fact out client local)

	e=$(one ".call==\"socket\" and .fd==$sfd")
	assert_field "$e" .family AF_INET
	assert_field "$e" .type SOCK_DGRAM
	assert_field "$e" .proto udp
	assert_field "$e" .inode "$(fact out server ino)"
	e=$(one ".call==\"bind\" and .fd==$sfd")
	assert_field "$e" .addr 127.0.0.1:0
	assert_field "$e" .local "$slocal"
	e=$(one '.call=="connect"')
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .ret 0
	assert_field "$e" .addr "$slocal"
	assert_field "$e" .remote "$slocal"
	assert_field "$e" .local "$clocal"
	assert_field "$e" .state null
	e=$(one ".call==\"close\" and .fd==$cfd")
	assert_field "$e" .proto udp
	assert_field "$e" .local "$clocal"
	assert_field "$e" .remote "$slocal"
	assert_field "$e" .state null
	assert_field "$e" .tcp null
	e=$(one ".call==\"close\" and .fd==$sfd")
	assert_field "$e" .local "$slocal"
	assert_field "$e" .remote null
}

@test "udp bound: two bound sockets, sendto only: locals and no remote" {
	traced "$(prog udp)" bound >out
	sfd=$(fact out server fd)
	cfd=$(fact out client fd)
	assert_count 0 '.call=="connect"'
	assert_count 2 '.call=="bind" and .ret==0 and .proto=="udp"'
	e=$(one ".call==\"close\" and .fd==$cfd")
	assert_field "$e" .local "$(fact out client local)"
	assert_field "$e" .remote null
	e=$(one ".call==\"close\" and .fd==$sfd")
	assert_field "$e" .local "$(fact out server local)"
	assert_field "$e" .inode "$(fact out server ino)"
}
