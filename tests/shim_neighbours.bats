#!/usr/bin/env bats
# Non-interference and exact kernel facts (#13): the traced program gets
# what it would get bare (its arguments reach the kernel as given, its
# threads keep their descriptors), other processes lose no datagram and no
# bind to a measurement, and what the trace says about the kernel's table
# (holders, reuse_verdict, options, lingering) is what the kernel holds -
# or says it is unknown.  Each scenario is a mode of tests/progs/neighbours.c.

load helpers

nb() { "$(prog neighbours)" "$@"; }

# bare_traced MODE: run the mode bare into bare.out and traced into
# traced.out; both must exit 0 and print the same (compared after the sed
# expression $NORM, for what differs from run to run, such as a port).
bare_traced() {
	local rc=0
	nb "$@" >bare.out 2>bare.err || rc=$?
	assert_eq "$rc" 0 "bare $* exit status" || return 1
	traced "$(prog neighbours)" "$@" >traced.out 2>traced.err || rc=$?
	assert_eq "$rc" 0 "traced $* exit status" || return 1
	diff -u <(sed -e "${NORM:-}" bare.out) <(sed -e "${NORM:-}" traced.out) ||
		{ echo "traced output differs from bare" >&2; return 1; }
	assert_empty traced.err
}

@test "accept with an address but a NULL or unreadable length: EFAULT and the connection dropped, traced as bare" {
	bare_traced accept-badlen
	# the kernel said EFAULT each time, and took the connection from the
	# queue: the client saw it closed, the next accept found nothing
	assert_eq "$(grep -c '^accept len=.* ret=-1 errno=EFAULT$' traced.out)" 2 "accepts that failed with EFAULT"
	assert_eq "$(grep -c '^client read ret=0 errno=0$' traced.out)" 2 "clients that saw the connection closed"
	assert_eq "$(grep -c '^accept again ret=-1 errno=EAGAIN$' traced.out)" 2 "empty queues after"
	assert_count 2 ".call==\"accept\" and .ret==-1 and .errno==\"EFAULT\" and .listen_fd==$(fact traced.out listen fd)"
	assert_count 0 '.call=="accept" and .ret>=0'
}
