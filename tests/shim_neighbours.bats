#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
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

@test "close_range(CLOSE_RANGE_UNSHARE) in one thread: the other threads' sockets keep working, traced as bare" {
	bare_traced close-range-unshare
	grep -qx 'close_range ret=0 errno=0' traced.out
	grep -qx 'send ret=5 errno=0' traced.out
	grep -qx 'recv ret=5 errno=0' traced.out
	# the pair ends where the program closes it, not at the close_range
	fds=$(jq -r 'select(.call=="socketpair") | .fds | map(tostring) | join(" ")' "$TRACE")
	for fd in $fds; do
		e=$(one ".call==\"close\" and .fd==$fd")
		assert_field "$e" .ret 0
	done
	assert_count 0 '.call=="close_range" and .ret!=0'
}

# udp_receiver_count traced|bare OPT: a bare UDP receiver (SO_REUSE$OPT) on
# 127.0.0.1:P is sent datagrams (at least $COUNT) while another program,
# bare or traced, binds P without options 400 times (EADDRINUSE each
# time).  Sets SENT and GOT (received).
COUNT=20000
udp_receiver_count() {
	local how=$1 opt=$2 port rc=0
	bg_start rx "$(prog neighbours)" udprx "$opt" "$COUNT"
	port=$(wait_line rx '^udprx port=') || return 1
	port=${port#udprx port=}
	kill -USR1 "${BG[rx]}"
	wait_line rx '^sending$' >/dev/null || return 1
	if [[ $how == traced ]]; then
		traced "$(prog neighbours)" bindloop "$port" 400 >binder.out || rc=$?
	else
		"$(prog neighbours)" bindloop "$port" 400 >binder.out || rc=$?
	fi
	kill -TERM "${BG[rx]}"
	bg_wait rx || return 1
	assert_eq "$rc" 0 "$how bindloop exit status" || return 1
	assert_eq "$(tail -n 1 binder.out)" "bindloop binds=400 inuse=400" "$how binds" || return 1
	SENT=$(fact rx.out result sent) || return 1
	GOT=$(fact rx.out result received) || return 1
	[[ $SENT -ge $COUNT ]] || { echo "sent only $SENT" >&2; return 1; }
	mv rx.out "rx-$how-$opt.out"
}

@test "failed binds on a UDP port under the shim cost its receiver no datagram (SO_REUSEADDR and SO_REUSEPORT receivers)" {
	for opt in addr port; do
		udp_receiver_count bare "$opt"
		# the machine itself delivers them all, or the test says nothing
		assert_eq "$GOT" "$SENT" "bare: datagrams received by the SO_REUSE${opt^^} receiver, of $SENT"
		udp_receiver_count traced "$opt"
		assert_eq "$GOT" "$SENT" "traced (400 failed binds meanwhile): datagrams received by the SO_REUSE${opt^^} receiver, of $SENT"
		assert_count 400 '.call=="bind" and .errno=="EADDRINUSE"'
		rm -f "$TRACE"
	done
}

@test "failed binds under the shim never make another process's bind of the port fail" {
	# K holds 127.0.0.1:P (UDP, SO_REUSEADDR and SO_REUSEPORT); X binds P
	# again and again with SO_REUSEPORT (same owner: always allowed); the
	# program binds P without options, 300 times: EADDRINUSE each time
	bg_start k "$(prog neighbours)" hold-udp
	port=$(wait_line k '^hold port=')
	port=${port#hold port=}
	bg_start x "$(prog neighbours)" bindspin "$port"
	wait_line x '^ready$' >/dev/null
	run traced "$(prog neighbours)" bindloop "$port" 300
	[ "$status" -eq 0 ]
	assert_eq "$output" "ready
bindloop binds=300 inuse=300"
	kill -TERM "${BG[x]}"
	bg_wait x
	binds=$(fact x.out bindspin binds)
	[[ $binds -ge 1 ]]
	assert_eq "$(fact x.out bindspin failed)" 0 "X's binds that failed (of $binds, errno $(fact x.out bindspin errno))"
	assert_count 300 '.call=="bind" and .errno=="EADDRINUSE"'
	# the verdict is derived, not tried: K's options are not visible to
	# this process, so it is unknown - never false, since SO_REUSEPORT
	# would have let the bind join K's group as X does
	assert_count 0 '.call=="bind" and .errno=="EADDRINUSE" and .reuse_verdict.SO_REUSEPORT==false'
}

@test "holders: an IPV6_V6ONLY [::]:P listener is not listed for a failed bind of 127.0.0.1:P, the IPv4 listener is (as ss shows them)" {
	bg_start v6 traced "$(prog neighbours)" v6only-holders
	wait_line v6 '^bind ' >/dev/null
	port=$(fact v6.out listen6 port)
	ino6=$(fact v6.out listen6 inode)
	ino4=$(fact v6.out listen4 inode)
	bfd=$(fact v6.out bind fd)
	assert_eq "$(fact v6.out bind errno)" EADDRINUSE "bind of 127.0.0.1:$port"
	# the kernel's table: both listeners on P, the IPv6 one v6only
	ss -Htlnpe "sport = :$port" >ss.out
	assert_eq "$(grep -c . ss.out)" 2 "listeners of :$port in ss"
	grep -E "^LISTEN .* \\[::\\]:$port .*ino:$ino6 .*v6only:1" ss.out
	grep -E "^LISTEN .* 127\\.0\\.0\\.1:$port .*ino:$ino4 " ss.out
	kill -TERM "${BG[v6]}"
	bg_wait v6
	e=$(one ".call==\"bind\" and .fd==$bfd")
	assert_field "$e" .errno EADDRINUSE
	assert_field "$e" '[.holders[].inode] | map(tostring) | join(" ")' "$ino4"
	assert_field "$e" .holders[0].local "127.0.0.1:$port"
	assert_field "$e" .holders[0].state LISTEN
	assert_field "$e" .holders[0].pid "$(jq -r 'select(.call=="start") | .pid' "$TRACE")"
	assert_field "$e" '.reuse_verdict | tojson' '{"SO_REUSEADDR":false,"SO_REUSEPORT":false}'
}

@test "reuse_verdict is the kernel's for the socket's owner: made as root, bound after seteuid(nobody)" {
	[[ $(id -u) == 0 ]] || skip "needs root: the program lowers its effective uid with seteuid(65534)"
	NORM='s/ port=[0-9]*//' bare_traced verdict-euid
	grep -qx 'kernel SO_REUSEADDR=false SO_REUSEPORT=true' traced.out
	bfd=$(fact traced.out bind fd)
	assert_eq "$(fact traced.out bind errno)" EADDRINUSE
	e=$(one ".call==\"bind\" and .fd==$bfd")
	assert_field "$e" .errno EADDRINUSE
	assert_field "$e" '.reuse_verdict | tojson' '{"SO_REUSEADDR":false,"SO_REUSEPORT":true}'
	# the holder is the root socket of this process
	assert_field "$e" '.holders | length' 1
	assert_field "$e" .holders[0].uid 0
}

@test "SO_REUSEADDR and SO_REUSEPORT set with optlen 8 (a long): recorded true, as getsockopt says" {
	bare_traced optlen8
	fd=$(fact traced.out kernel fd)
	assert_eq "$(fact traced.out kernel SO_REUSEADDR) $(fact traced.out kernel SO_REUSEPORT)" "true true" "getsockopt"
	assert_count 2 '.call=="setsockopt" and .ret==0'
	e=$(one '.call=="setsockopt" and .optname=="SO_REUSEADDR"')
	assert_field "$e" .opts.SO_REUSEADDR true
	e=$(one '.call=="setsockopt" and .optname=="SO_REUSEPORT"')
	assert_field "$e" .opts.SO_REUSEPORT true
	for call in bind listen close; do
		e=$(one ".call==\"$call\" and .fd==$fd")
		assert_field "$e" .opts.SO_REUSEADDR true
		assert_field "$e" .opts.SO_REUSEPORT true
	done
}

@test "a failed bind when no descriptor is free to ask the kernel: holders unknown (null, with why), never []; show says unknown" {
	NORM='s/ port=[0-9]*//; s/ holder_inode=[0-9]*//' bare_traced holders-nofd
	assert_eq "$(fact traced.out open errno)" EMFILE "open stopped with"
	bfd=$(fact traced.out bind fd)
	port=$(fact traced.out bind port)
	assert_eq "$(fact traced.out bind errno)" EADDRINUSE
	e=$(one ".call==\"bind\" and .fd==$bfd")
	assert_field "$e" .errno EADDRINUSE
	assert_field "$e" 'has("holders")' true
	assert_field "$e" .holders null
	assert_field "$e" '.holders_incomplete | type' string
	[[ $(get "$e" .holders_incomplete) == *"could not be asked"* ]]
	# a verdict needs the holders: unknown too, with why
	assert_field "$e" .reuse_verdict.SO_REUSEADDR null
	assert_field "$e" .reuse_verdict.SO_REUSEPORT null
	run "$SOCKTRACE" show "$TRACE"
	[ "$status" -eq 0 ]
	[[ $output == *"127.0.0.1:$port is held by: unknown"* ]]
	[[ $output != *"no socket"* ]]
	run "$SOCKTRACE" show -f timeline "$TRACE"
	[ "$status" -eq 0 ]
	[[ $output != *"no socket the kernel"* ]]
}

@test "with thousands of other processes' TIME_WAIT sockets on loopback: holders and lingering list only the port's and this process's" {
	need_tw_room
	n=3000
	bg_start fill "$(prog neighbours)" twfill "$n"
	wait_line fill '^twfill ' 60 >/dev/null
	port=$(fact fill.out twfill port)
	lino=$(fact fill.out twfill inode)
	tw=$(ss -Htan state time-wait "dport = :$port" | wc -l)
	[[ $tw -ge $((n * 9 / 10)) ]] || skip "only $tw of $n connections stayed in TIME_WAIT (the kernel's table is busy)"

	run traced "$(prog neighbours)" exit-tw "$port"
	[ "$status" -eq 0 ]
	echo "$output" >traced.out
	assert_eq "$(fact traced.out bind errno)" EADDRINUSE "bind of the filler's port $port"
	clocal=$(fact traced.out conn local)
	cremote=$(fact traced.out conn remote)

	# holders: the filler's listener, the one socket in the way
	e=$(one '.call=="bind" and .errno=="EADDRINUSE"')
	assert_field "$e" '.holders | length' 1
	assert_field "$e" .holders[0].inode "$lino"
	assert_field "$e" .holders[0].local "127.0.0.1:$port"
	assert_field "$e" .holders[0].state LISTEN
	# lingering: only this process's connection (its client end, which
	# closed first), none of the filler's $tw, which all end on $port
	e=$(one '.call=="exit"')
	assert_field "$e" '.lingering | length' 1
	assert_field "$e" .lingering[0].local "$clocal"
	assert_field "$e" .lingering[0].remote "$cremote"
	assert_field "$e" .lingering[0].state TIME_WAIT
	assert_field "$e" .time_wait 1
	assert_field "$e" .lingering_total null
	kill -TERM "${BG[fill]}"
	bg_wait fill
}
