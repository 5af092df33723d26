#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The program's behaviour is unchanged under the shim: every wrapped call
# returns the same value and leaves errno as it would without the shim
# (untouched on success), descriptor numbers included; and each failure is
# recorded with its symbolic errno.

load helpers

@test "errno and return values: the same output with and without the shim" {
	"$(prog errcheck)" >bare.out 2>bare.err
	traced "$(prog errcheck)" >traced.out 2>traced.err
	diff -u bare.out traced.out
	assert_empty traced.err
	# the program did exercise what it says
	grep -q '^connect(r, not listening) *ret=-1 errno=ECONNREFUSED$' traced.out
	grep -q '^so_error value=ECONNREFUSED len=4$' traced.out
	assert_valid_jsonl
	assert_seq_ok
}

@test "errno and return values: the same with the human log on stderr" {
	"$(prog errcheck)" >bare.out
	LD_PRELOAD=$SHIM "$(prog errcheck)" >traced.out 2>traced.err
	diff -u bare.out traced.out
	grep -q 'ECONNREFUSED' traced.err
}

@test "errno and return values: the same with stacks on and the close probe" {
	"$(prog errcheck)" >bare.out
	SOCKTRACE_STACK=8 SOCKTRACE_PROBE=close traced "$(prog errcheck)" >traced.out 2>traced.err
	diff -u bare.out traced.out
	assert_empty traced.err
	# the extra work did happen: stacks on every call, the probe at close
	assert_count 0 '.call!="start" and .call!="exit" and .stack==null'
	assert_some '.call=="close" and .state_after!=null'
}

@test "failures are recorded with their errno: one event per failing call on a socket" {
	traced "$(prog errcheck)" >out
	assert_count 1 '.call=="socket" and .errno=="EAFNOSUPPORT" and .ret==-1'
	assert_count 1 '.call=="socket" and .errno=="EPROTONOSUPPORT"'
	assert_count 1 '.call=="socket" and .errno=="EINVAL"'
	assert_count 1 '.call=="socketpair" and .errno=="EOPNOTSUPP"'
	assert_count 1 '.call=="bind" and .errno=="EAFNOSUPPORT" and .addr=="[::1]:0"'
	assert_count 2 '.call=="bind" and .errno=="EINVAL"'
	assert_count 1 '.call=="listen" and .errno=="EOPNOTSUPP" and .type=="SOCK_DGRAM"'
	assert_count 1 '.call=="accept" and .errno=="EINVAL"'
	assert_count 1 '.call=="accept4" and .errno=="EINVAL"'
	assert_count 1 '.call=="accept" and .errno=="EAGAIN"'
	assert_count 1 '.call=="connect" and .errno=="ECONNREFUSED" and .ret==-1'
	assert_count 1 '.call=="connect" and .errno=="EINPROGRESS"'
	assert_count 1 '.call=="connect" and .errno=="EISCONN"'
	assert_count 1 '.call=="shutdown" and .errno=="ENOTCONN"'
	assert_count 1 '.call=="shutdown" and .errno=="EINVAL"'
	assert_count 1 '.call=="setsockopt" and .errno=="ENOPROTOOPT"'
	assert_count 1 '.call=="setsockopt" and .errno=="EINVAL" and .optname=="SO_REUSEADDR"'
	assert_count 2 '.call=="dup3" and .errno=="EINVAL"'
	assert_count 1 '.call=="dup2" and .errno=="EBADF"'
	assert_count 1 '.call=="fcntl" and .cmd=="F_DUPFD" and .errno=="EINVAL"'
	s=$(fact out 'socket(AF_INET,' ret)
	assert_count 3 ".listen_fd==$s and .errno!=null and (.call==\"accept\" or .call==\"accept4\")"
	# successes carry no errno, failures always do
	assert_count 0 '.ret==-1 and .errno==null'
	assert_count 0 '.ret!=-1 and .errno!=null'
	# the SO_ERROR the program read after a wrapped call on that socket
	e=$(ev '.call=="getsockopt" and .so_error=="ECONNREFUSED"')
	[[ -n $e ]]
}
