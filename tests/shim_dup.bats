#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Descriptor aliases: dup, dup2, dup3 and fcntl(F_DUPFD*) point at the same
# socket; closing one alias does not end it ("last":false, no transition),
# closing the last one does.  dup2 over an open socket closes that socket.
# Bulk closes: close_range and closefrom, after which the shim still writes.

load helpers

# check_alias CALL NEWFD: the listener aliased by CALL onto NEWFD, the
# original closed first (not last, still LISTEN), the alias last.
check_alias() {
	local call=$1 newfd=$2 lfd ino port e
	lfd=$(fact out socket fd)
	ino=$(fact out socket ino)
	local_addr=$(fact out socket local)
	assert_eq "$(fact out dup newfd)" "$newfd" "the alias the program got"

	e=$(one ".call==\"$call\"")
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .newfd "$newfd"
	assert_field "$e" .ret "$newfd"
	assert_field "$e" .inode "$ino"
	assert_field "$e" .local "$local_addr"

	e=$(one ".call==\"close\" and .fd==$lfd")
	assert_field "$e" .ret 0
	assert_field "$e" .last false
	assert_field "$e" .inode "$ino"
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state LISTEN

	e=$(one ".call==\"close\" and .fd==$newfd")
	assert_field "$e" .ret 0
	assert_field "$e" .last true
	assert_field "$e" .inode "$ino"
	assert_field "$e" .local "$local_addr"
	assert_field "$e" .family AF_INET
	assert_field "$e" .proto tcp
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE

	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
}

@test "dup: the alias is the same socket; first close not last, second close last" {
	traced "$(prog dupfd)" dup >out
	check_alias dup "$(fact out dup newfd)"
}

@test "dup2 onto a free descriptor (50)" {
	traced "$(prog dupfd)" dup2 >out
	check_alias dup2 50
}

@test "dup3 onto 60 with O_CLOEXEC" {
	traced "$(prog dupfd)" dup3 >out
	check_alias dup3 60
}

@test "dup2 over an open socket: that socket is closed implicitly, the alias is the listener" {
	traced "$(prog dupfd)" dup2-over >out
	lfd=$(fact out socket fd 1)
	lino=$(fact out socket ino 1)
	vfd=$(fact out socket fd 2)
	vino=$(fact out socket ino 2)
	assert_eq "$(fact out dup newfd)" "$vfd" "dup2's target"

	# the socket dup2 replaced ends, at that dup2
	e=$(one '.call=="dup2" and .implicit_close==true')
	assert_field "$e" .fd "$vfd"
	assert_field "$e" .inode "$vino"
	assert_field "$e" .ret "$vfd"
	assert_field "$e" .last true
	# and the alias is made
	e=$(one '.call=="dup2" and .implicit_close!=true')
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .newfd "$vfd"
	assert_field "$e" .ret "$vfd"
	assert_field "$e" .inode "$lino"
	assert_count 2 '.call=="dup2"'

	e=$(one ".call==\"close\" and .fd==$lfd")
	assert_field "$e" .last false
	e=$(one ".call==\"close\" and .fd==$vfd")
	assert_field "$e" .last true
	assert_field "$e" .inode "$lino"
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE
	assert_count 0 ".call==\"close\" and .inode==$vino"
	e=$(one '.call=="exit"')
	assert_field "$e" .open 0
}

@test "fcntl F_DUPFD_CLOEXEC and F_DUPFD: two aliases, only the third close is last" {
	traced "$(prog dupfd)" fcntl >out
	lfd=$(fact out socket fd)
	ino=$(fact out socket ino)
	assert_eq "$(fact out dup newfd 1)" 20 "F_DUPFD_CLOEXEC's result"
	assert_eq "$(fact out dup newfd 2)" 30 "F_DUPFD's result"

	e=$(one '.call=="fcntl" and .cmd=="F_DUPFD_CLOEXEC"')
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .newfd 20
	assert_field "$e" .ret 20
	assert_field "$e" .inode "$ino"
	e=$(one '.call=="fcntl" and .cmd=="F_DUPFD"')
	assert_field "$e" .newfd 30
	assert_field "$e" .ret 30

	assert_field "$(one ".call==\"close\" and .fd==$lfd")" .last false
	assert_field "$(one '.call=="close" and .fd==20')" .last false
	e=$(one '.call=="close" and .fd==30')
	assert_field "$e" .last true
	assert_field "$e" .inode "$ino"
	assert_field "$e" .state CLOSE
}

# check_bulk CALL: the three sockets from the program's "first" up each
# end in a CALL event of their own; what follows is still recorded.
check_bulk() {
	local call=$1 first e i fd
	first=$(fact out bulk first)
	[[ $(fact out leak fd) -lt $first ]]
	assert_count 3 ".call==\"$call\""
	for i in 0 1 2; do
		fd=$((first + i))
		e=$(one ".call==\"$call\" and .fd==$fd")
		assert_field "$e" .ret 0
		assert_field "$e" ".range[0]" "$first"
		assert_field "$e" .inode "$(fact out socket ino $((i + 2)))"
		assert_field "$e" .last true
	done
	e=$(one ".call==\"$call\" and .fd==$first")
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE
	assert_field "$e" .local "$(fact out socket local 2)"
	# the shim's own descriptor was in the range: what follows is recorded
	e=$(one ".call==\"socket\" and .seq > $(get "$e" .seq)")
	assert_field "$e" .fd "$(fact out close fd)"
	assert_field "$e" .inode "$(fact out socket ino 5)"
	assert_some ".call==\"close\" and .fd==$(fact out close fd) and .ret==0"
	e=$(one '.call=="exit"')
	assert_field "$e" .open 1
	assert_valid_jsonl
	assert_seq_ok
}

@test "close_range(first, ~0U): each socket in the range ends, those below stay open, the shim writes on" {
	traced "$(prog dupfd)" close_range >out
	check_bulk close_range
}

@test "closefrom(first): each socket from first ends, those below stay open, the shim writes on" {
	traced "$(prog dupfd)" closefrom >out
	check_bulk closefrom
}
