#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# AF_UNIX sockets: stream and datagram on a path and on an abstract name,
# unnamed ends, and socketpair.  Endpoints: "/path", "@name", absent when
# unnamed.

load helpers

@test "unix stream on a path: bind/listen/connect/accept4 with the path, unnamed client, inodes" {
	path=$SCRATCH/srv.sock
	# --probe=close: the accept asks the kernel for its peer (peer_inode)
	SOCKTRACE_PROBE=close traced "$(prog unixsock)" stream "$path" >out
	lfd=$(fact out listen fd)
	cfd=$(fact out connect fd)
	afd=$(fact out accept fd)

	e=$(one ".call==\"socket\" and .fd==$lfd")
	assert_field "$e" .family AF_UNIX
	assert_field "$e" .type SOCK_STREAM
	assert_field "$e" .proto null
	assert_field "$e" .inode "$(fact out listen ino)"
	e=$(one '.call=="bind"')
	assert_field "$e" .ret 0
	assert_field "$e" .addr "$path"
	assert_field "$e" .local "$path"
	e=$(one '.call=="listen"')
	assert_field "$e" .local "$path"
	e=$(one '.call=="connect"')
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .ret 0
	assert_field "$e" .addr "$path"
	assert_field "$e" .remote "$path"
	assert_field "$e" .local null
	assert_field "$e" .inode "$(fact out connect ino)"
	e=$(one '.call=="accept4"')
	assert_field "$e" .fd "$afd"
	assert_field "$e" .listen_fd "$lfd"
	assert_field "$e" .family AF_UNIX
	assert_field "$e" .local "$path"
	assert_field "$e" .remote null
	assert_field "$e" .inode "$(fact out accept ino)"
	# the client's end, as the kernel's sock_diag names it
	assert_field "$e" .peer_inode "$(fact out connect ino)"
	assert_count 0 'has("peer_inode") and .call!="accept4"'
	# without it (the default, exit), or off: the accept asks nothing
	# (the query walks every unix socket of the host)
	for probe in exit off; do
		SOCKTRACE_OUTPUT=$probe.jsonl SOCKTRACE_PROBE=$probe traced "$(prog unixsock)" stream "$path.$probe" >/dev/null
		assert_count 1 '.call=="accept4" and (has("peer_inode")|not)' $probe.jsonl
	done
	for fd in "$cfd" "$afd" "$lfd"; do
		e=$(one ".call==\"close\" and .fd==$fd")
		assert_field "$e" .ret 0
		assert_field "$e" .family AF_UNIX
		assert_field "$e" .last true
	done
	e=$(one ".call==\"close\" and .fd==$cfd")
	assert_field "$e" .remote "$path"
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
}

@test "unix stream on an abstract name: @name endpoints" {
	name=@socktrace-test-$$-$RANDOM
	traced "$(prog unixsock)" stream "$name" >out
	e=$(one '.call=="bind"')
	assert_field "$e" .addr "$name"
	assert_field "$e" .local "$name"
	e=$(one '.call=="connect"')
	assert_field "$e" .addr "$name"
	assert_field "$e" .remote "$name"
	e=$(one '.call=="accept4"')
	assert_field "$e" .local "$name"
	assert_count 3 '.call=="close" and .family=="AF_UNIX"'
}

@test "unix datagram on a path: bound client connected to the server" {
	path=$SCRATCH/dg.sock
	traced "$(prog unixsock)" dgram "$path" >out
	sfd=$(fact out server fd)
	cfd=$(fact out client fd)
	e=$(one ".call==\"socket\" and .fd==$sfd")
	assert_field "$e" .type SOCK_DGRAM
	assert_field "$e" .family AF_UNIX
	e=$(one ".call==\"bind\" and .fd==$sfd")
	assert_field "$e" .local "$path"
	e=$(one ".call==\"bind\" and .fd==$cfd")
	assert_field "$e" .local "$path.c"
	e=$(one '.call=="connect"')
	assert_field "$e" .fd "$cfd"
	assert_field "$e" .ret 0
	assert_field "$e" .local "$path.c"
	assert_field "$e" .remote "$path"
	e=$(one ".call==\"close\" and .fd==$cfd")
	assert_field "$e" .local "$path.c"
	assert_field "$e" .remote "$path"
	assert_field "$e" .inode "$(fact out client ino)"
	assert_field "$e" .state null
}

@test "unix datagram on an abstract name" {
	name=@socktrace-dg-$$-$RANDOM
	traced "$(prog unixsock)" dgram "$name" >out
	e=$(one '.call=="connect"')
	assert_field "$e" .addr "$name"
	assert_field "$e" .local "$name.c"
	assert_field "$e" .remote "$name"
}

@test "socketpair (stream): one event with both descriptors, each closed with its own inode" {
	traced "$(prog unixsock)" pair stream >out
	fds=$(fact out pair fds)
	inos=$(fact out pair ino)
	a=${fds%,*} b=${fds#*,}
	e=$(one '.call=="socketpair"')
	assert_field "$e" '.fds|map(tostring)|join(",")' "$fds"
	assert_field "$e" .ret 0
	assert_field "$e" .family AF_UNIX
	assert_field "$e" .type SOCK_STREAM
	assert_field "$e" .flags SOCK_CLOEXEC
	# the first end's inode, and its peer: the second end's
	assert_field "$e" .inode "${inos%,*}"
	assert_field "$e" .peer_inode "${inos#*,}"
	e=$(one ".call==\"close\" and .fd==$a")
	assert_field "$e" .inode "${inos%,*}"
	assert_field "$e" .type SOCK_STREAM
	assert_field "$e" .last true
	e=$(one ".call==\"close\" and .fd==$b")
	assert_field "$e" .inode "${inos#*,}"
	assert_count 0 '.call=="socket"'
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
}

@test "socketpair (datagram)" {
	traced "$(prog unixsock)" pair dgram >out
	fds=$(fact out pair fds)
	e=$(one '.call=="socketpair"')
	assert_field "$e" .type SOCK_DGRAM
	assert_field "$e" '.fds|map(tostring)|join(",")' "$fds"
	assert_count 2 '.call=="close" and .type=="SOCK_DGRAM" and .family=="AF_UNIX"'
}
