#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A forking server (a child per connection): the parent's fork events, each
# child's own start (with ppid) and seq, the sockets the two processes
# share, and their states at close.  The child serves only after the parent
# closed its copy of the connection, so the child's close is the last one.

load helpers

# forking_pair [CLIENT ARGS]: a forking server for 2 connections, traced
# into $TRACE (all processes in one file), and a bare client.
forking_pair() {
	bg_start srv traced "$(prog tcp_server)" -F -n 2
	wait_line srv '^listen ' >/dev/null
	PORT=$(fact srv.out listen port)
	"$(prog tcp_client)" -p "$PORT" -n 2 "$@" >cli.out
	bg_wait srv
	PARENT=$(fact srv.out listen pid)
	CHILD1=$(fact srv.out child pid 1)
	CHILD2=$(fact srv.out child pid 2)
}

@test "fork: the parent records each fork with the child's pid; each child starts with ppid and its own seq" {
	forking_pair
	assert_valid_jsonl
	assert_seq_ok
	assert_eq "$(jq -r 'select(.call=="fork") | .ret' "$TRACE" | tr '\n' ' ')" "$CHILD1 $CHILD2 " "fork results"
	assert_count 2 ".call==\"fork\" and .pid==$PARENT"
	for child in "$CHILD1" "$CHILD2"; do
		e=$(one ".call==\"start\" and .pid==$child")
		assert_field "$e" .seq 1
		assert_field "$e" .ppid "$PARENT"
		assert_field "$e" .exe "$TESTPROGS/tcp_server"
		e=$(one ".call==\"exit\" and .pid==$child")
		assert_field "$e" .open 0
		# a child's events come after its fork in the parent
		[[ $(get "$(one ".call==\"start\" and .pid==$child")" .ts) > $(get "$(one ".call==\"fork\" and .ret==$child")" .ts) ]] ||
			[[ $(get "$(one ".call==\"start\" and .pid==$child")" .ts) == $(get "$(one ".call==\"fork\" and .ret==$child")" .ts) ]]
	done
	assert_count 3 '.call=="start"'
	assert_count 3 '.call=="exit"'
}

@test "fork: the parent's close of a connection the child holds is shared and changes nothing" {
	forking_pair
	afd=$(fact srv.out accept fd 1)
	ino=$(fact srv.out accept ino 1)
	e=$(ev ".call==\"close\" and .pid==$PARENT and .fd==$afd" | head -n 1)
	assert_field "$e" .inode "$ino"
	assert_field "$e" .ret 0
	assert_field "$e" .shared true
	assert_field "$e" .state_before ESTABLISHED
	# the child still holds it: no FIN, the connection stays ESTABLISHED
	assert_field "$e" .state ESTABLISHED
}

@test "fork: the child closes the inherited listener (shared, still LISTEN) and ends the connection" {
	forking_pair
	lfd=$(fact srv.out listen fd)
	for n in 1 2; do
		child=$(fact srv.out child pid $n)
		e=$(one ".call==\"close\" and .pid==$child and .fd==$lfd")
		assert_field "$e" .ret 0
		assert_field "$e" .shared true
		assert_field "$e" .inode "$(fact srv.out listen ino)"
		assert_field "$e" .state_before LISTEN
		assert_field "$e" .state LISTEN
	done
	e=$(one ".call==\"close\" and .pid==$CHILD1 and .fd==$(fact srv.out accept fd 1)")
	assert_field "$e" .inode "$(fact srv.out accept ino 1)"
	assert_field "$e" .remote "$(fact cli.out connect local 1)"
	assert_field "$e" .state_before CLOSE_WAIT
	# the parent closed its copy before the child served: the child's
	# close is the connection's last, the kernel goes LAST_ACK
	assert_field "$e" .state LAST_ACK
}

@test "fork: the parent's last close of the listener, after the children exited, is LISTEN->CLOSE" {
	forking_pair
	lfd=$(fact srv.out listen fd)
	e=$(one ".call==\"close\" and .pid==$PARENT and .fd==$lfd")
	assert_field "$e" .state_before LISTEN
	assert_field "$e" .state CLOSE
}

@test "fork: SOCKTRACE_OUTPUT with %p gives each process its own file" {
	SOCKTRACE_OUTPUT=$SCRATCH/t.%p.jsonl forking_pair
	[[ ! -e $TRACE ]]
	for pid in "$PARENT" "$CHILD1" "$CHILD2"; do
		f=$SCRATCH/t.$pid.jsonl
		[[ -f $f ]] || { ls "$SCRATCH" >&2; false; }
		assert_valid_jsonl "$f"
		assert_seq_ok "$f"
		# an end event is written where its writer writes: the parent's file
		# holds its children's ends, under their pids
		assert_count 0 ".pid!=$pid and .call!=\"end\"" "$f"
		assert_count 1 '.call=="start"' "$f"
	done
	assert_eq "$(find "$SCRATCH" -name 't.*.jsonl' | wc -l)" 3 "files"
	assert_count 2 '.call=="fork"' "$SCRATCH/t.$PARENT.jsonl"
	assert_count 1 ".call==\"end\" and .pid==$CHILD1 and .status==0 and .by==\"parent\"" "$SCRATCH/t.$PARENT.jsonl"
	assert_count 2 '.call=="accept4"' "$SCRATCH/t.$PARENT.jsonl"
	assert_count 0 '.call=="accept4"' "$SCRATCH/t.$CHILD1.jsonl"
}
