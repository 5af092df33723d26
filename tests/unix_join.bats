#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# AF_UNIX stream connections joined: the shim records an accepted unix
# socket's peer_inode (sock_diag UNIX_DIAG_PEER) and each socketpair end's
# peer, and show/check join a unix client with the accepted socket whose
# peer_inode is the client's inode, into one connection.

load helpers

setup() {
	st_setup || return 1
	[[ -n $PYTHON3 ]] || skip "needs python3"
	# the accept asks the kernel for its peer with --probe=close only
	export SOCKTRACE_PROBE=close
	# a server that accepts N clients with libc's accept() (errno set to
	# EEXIST before: the shim must leave it so), prints what each sent
	# with the accepted descriptor, the errno after the call and the
	# lowest free descriptor after it; once PATH.go exists it answers
	# each, waits for the client's close (end of file) and closes
	cat >usrv.py <<'PY'
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
path, n = sys.argv[1], int(sys.argv[2])
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(path)
l.listen(8)
print("ready", flush=True)
conns = []
for _ in range(n):
    ctypes.set_errno(17)
    fd = libc.accept(l.fileno(), None, None)
    err = ctypes.get_errno()
    low = os.open("/dev/null", os.O_RDONLY)
    os.close(low)
    c = socket.socket(fileno=fd)
    name = c.recv(100).decode()
    print("accepted %s fd=%d errno=%d next=%d" % (name, fd, err, low), flush=True)
    conns.append((c, name))
while not os.path.exists(path + ".go"):
    time.sleep(0.01)
for c, name in conns:
    c.sendall(b"bye " + name.encode())
for c, name in conns:
    c.recv(100)
    c.close()
l.close()
PY
	# a client: connects, says its name, waits for the answer, closes
	cat >ucli.py <<'PY'
import os, socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])
print("connected %s inode=%d" % (sys.argv[2], os.fstat(c.fileno()).st_ino), flush=True)
c.sendall(sys.argv[2].encode())
print(c.recv(100).decode(), flush=True)
c.close()
PY
}

# serve N NAME...: a traced server for N clients on $SCRATCH/s.sock (its
# trace srv.jsonl), each NAME a traced client (trace NAME.jsonl) kept
# connected until all are accepted; then $SS holds `ss -x` of that moment
serve() {
	local n=$1 name
	shift
	SOCK=$SCRATCH/s.sock
	SOCKTRACE_OUTPUT=srv.jsonl bg_start srv traced "$PYTHON3" usrv.py "$SOCK" "$n"
	wait_line srv '^ready' >/dev/null
	for name in "$@"; do
		SOCKTRACE_OUTPUT=$name.jsonl bg_start "$name" traced "$PYTHON3" ucli.py "$SOCK" "$name"
		wait_line srv "^accepted $name " >/dev/null
	done
	SS=$(ss -x -H 2>/dev/null || true)
	touch "$SOCK.go"
	bg_wait srv
	for name in "$@"; do
		bg_wait "$name"
	done
}

@test "unix join: a python3 server and client are one connection, the path its server address; the accept's peer_inode is the client's inode" {
	serve 1 A
	cino=$(get "$(one '.call=="connect"' A.jsonl)" .inode)
	e=$(one '.call=="accept"' srv.jsonl)
	assert_field "$e" .family AF_UNIX
	assert_field "$e" .peer_inode "$cino"
	[[ $(get "$e" .inode) != "$cino" ]]
	# no other event names a peer
	assert_count 0 'has("peer_inode") and .call!="accept"' srv.jsonl
	assert_count 0 'has("peer_inode")' A.jsonl

	run "$SOCKTRACE" show -f connections srv.jsonl A.jsonl
	[[ $status == 0 ]]
	[[ ${#lines[@]} == 1 ]] || { echo "$output"; false; }
	c=${lines[0]}
	assert_field "$c" .kind unix
	assert_field "$c" .established true
	assert_field "$c" .client.traced true
	assert_field "$c" .client.pid "$(get "$(one '.call=="connect"' A.jsonl)" .pid)"
	assert_field "$c" .server.traced true
	assert_field "$c" .server.addr "$SOCK"
	assert_field "$c" .server.fd "$(get "$e" .fd)"
	# the client closed first: the server waited for its end of file
	assert_field "$c" .closed_first client

	run "$SOCKTRACE" show --color=never -f timeline srv.jsonl A.jsonl
	[[ $status == 0 ]]
	[[ $(grep -c '^connection #' <<<"$output") == 1 ]] || { echo "$output"; false; }
	grep -q "^connection #1  unix ? -> $SOCK " <<<"$output"
	grep -q '^  teardown   client closed first$' <<<"$output"
	! grep -q 'not traced\|SYN\|FIN' <<<"$output"
	grep -q '^  accepted   1 connection: #1$' <<<"$output"

	# the summary counts the one connection once, for both sides
	run "$SOCKTRACE" show --color=never -f summary srv.jsonl A.jsonl
	[[ $status == 0 ]]
	[[ $(sed -n '/^all endpoints/,$p' <<<"$output" | grep -c '^  connections   1, ') == 1 ]] || { echo "$output"; false; }
	[[ $(sed -n '/(client side)/,/^$/p' <<<"$output" | grep -c '^  connections   1, ') == 1 ]] || { echo "$output"; false; }

	# check judges the joined connection: the client closed first
	run "$SOCKTRACE" check --rule closed-by=server srv.jsonl A.jsonl
	[[ $status == 1 ]] || { echo "$output"; false; }
	[[ $output == *"closed-by"*"connection ? -> $SOCK: the client closed first (pid "*"), expected the server"* ]] || { echo "$output"; false; }
	"$SOCKTRACE" check --rule closed-by=client srv.jsonl A.jsonl

	# the retiring model (--hold) joins them the same way
	diff <("$SOCKTRACE" show -f connections srv.jsonl A.jsonl) \
		<("$SOCKTRACE" show -f connections --hold 1 srv.jsonl A.jsonl)
	diff <("$SOCKTRACE" show --color=never -f timeline srv.jsonl A.jsonl) \
		<("$SOCKTRACE" show --color=never -f timeline --hold 1 srv.jsonl A.jsonl)
}

@test "unix join: the shim's query changes nothing the program sees: errno after accept, the lowest free descriptor, the output" {
	SOCK=$SCRATCH/b.sock
	bg_start bare "$PYTHON3" usrv.py "$SOCK" 1
	wait_line bare '^ready' >/dev/null
	"$PYTHON3" ucli.py "$SOCK" A >bare_cli.out &
	cpid=$!
	wait_line bare '^accepted A ' >/dev/null
	touch "$SOCK.go"
	bg_wait bare
	wait "$cpid"
	serve 1 A
	grep '^accepted ' bare.out >bare
	grep '^accepted ' srv.out >traced
	diff -u bare traced
	# errno as the program left it (EEXIST), the next descriptor the one
	# after the accepted one: no descriptor of the shim's below
	grep -Eq '^accepted A fd=([0-9]+) errno=17 next=' traced
	fd=$(sed -E 's/.* fd=([0-9]+) .*/\1/' traced)
	[[ $(sed -E 's/.* next=([0-9]+)$/\1/' traced) == $((fd + 1)) ]]
	assert_count 1 '.call=="accept" and (.peer_inode|type)=="number"' srv.jsonl
	# without --probe=close (the default, exit) the accept asks the kernel
	# nothing: no peer, the same output
	rm -f "$SOCK" "$SOCK.go" srv.jsonl A.jsonl
	SOCKTRACE_PROBE=exit serve 1 A
	grep '^accepted ' srv.out >off
	diff -u bare off
	assert_count 1 '.call=="accept" and (has("peer_inode")|not)' srv.jsonl
}

@test "unix join: two clients at once, each joined to its own accepted socket, as the kernel pairs them (ss -x)" {
	serve 2 A B
	# the kernel's pairs while both were connected: accepted inode -> peer inode
	awk -v p="$SOCK" '$5 == p && $8 != "0" { print $6, $8 }' <<<"$SS" | sort >kernel
	[[ $(wc -l <kernel) == 2 ]] || { echo "$SS"; false; }
	jq -r 'select(.call=="accept") | "\(.inode) \(.peer_inode)"' srv.jsonl | sort >recorded
	diff -u kernel recorded
	for name in A B; do
		cino=$(get "$(one '.call=="connect"' "$name.jsonl")" .inode)
		grep -q " $cino\$" kernel
		# the accepted descriptor the server read NAME on is the one the
		# connection of NAME's client names as its server end
		sfd=$(sed -nE "s/^accepted $name fd=([0-9]+) .*/\1/p" srv.out)
		cpid=$(get "$(one '.call=="connect"' "$name.jsonl")" .pid)
		"$SOCKTRACE" show -f connections srv.jsonl A.jsonl B.jsonl >conns
		[[ $(wc -l <conns) == 2 ]] || { cat conns; false; }
		c=$(jq -c --argjson p "$cpid" 'select(.client.pid==$p)' conns)
		assert_field "$c" .server.fd "$sfd"
		assert_field "$c" .kind unix
		assert_field "$c" .server.addr "$SOCK"
	done
	diff <("$SOCKTRACE" show -f connections srv.jsonl A.jsonl B.jsonl) \
		<("$SOCKTRACE" show -f connections --hold 1 srv.jsonl A.jsonl B.jsonl)
}

@test "unix join: a socketpair is one connection with no path; each end's peer is the other" {
	cat >pair.py <<'PY'
import os, socket
a, b = socket.socketpair()
print("inodes %d %d" % (os.fstat(a.fileno()).st_ino, os.fstat(b.fileno()).st_ino), flush=True)
if os.fork() == 0:
    a.close(); b.sendall(b"x"); b.close(); os._exit(0)
b.close(); a.recv(10); a.recv(10); a.close(); os.wait()
PY
	traced "$PYTHON3" pair.py >pair.out
	read -r _ ia ib <pair.out
	e=$(one '.call=="socketpair"')
	assert_field "$e" .inode "$ia"
	assert_field "$e" .peer_inode "$ib"
	run "$SOCKTRACE" show -f connections "$TRACE"
	[[ $status == 0 ]]
	[[ ${#lines[@]} == 1 ]] || { echo "$output"; false; }
	assert_field "${lines[0]}" .kind socketpair
	assert_field "${lines[0]}" .client.addr null
	assert_field "${lines[0]}" .server.addr null
	assert_field "${lines[0]}" .client.traced true
	assert_field "${lines[0]}" .server.traced true
	run "$SOCKTRACE" show --color=never -f timeline "$TRACE"
	grep -q '^connection #1  unix socketpair ' <<<"$output" || { echo "$output"; false; }
	# the child's close of its end (b) came before the parent's of a (the
	# parent waits for its end of file)
	grep -q '^  teardown   the second end closed first$' <<<"$output" || { echo "$output"; false; }
	# no client and server to judge
	"$SOCKTRACE" check --rule closed-by=client --rule closed-by=server "$TRACE"
}

@test "unix join: a client whose server is not traced, and a server whose client is not, are no connection (as before)" {
	SOCK=$SCRATCH/s.sock
	# the server bare, the client traced
	bg_start srv "$PYTHON3" usrv.py "$SOCK" 1
	wait_line srv '^ready' >/dev/null
	SOCKTRACE_OUTPUT=A.jsonl bg_start A traced "$PYTHON3" ucli.py "$SOCK" A
	wait_line srv '^accepted A ' >/dev/null
	touch "$SOCK.go"
	bg_wait srv
	bg_wait A
	run "$SOCKTRACE" show -f connections A.jsonl
	[[ $status == 0 && -z $output ]] || { echo "$output"; false; }
	run "$SOCKTRACE" show --color=never -f timeline A.jsonl
	grep -q "^socket  unix -> $SOCK " <<<"$output" || { echo "$output"; false; }
	# the server traced, the client bare: its accept still names the peer
	rm -f "$SOCK" "$SOCK.go"
	SOCKTRACE_OUTPUT=srv.jsonl bg_start srv traced "$PYTHON3" usrv.py "$SOCK" 1
	wait_line srv '^ready' >/dev/null
	"$PYTHON3" ucli.py "$SOCK" B >B.out &
	cpid=$!
	wait_line srv '^accepted B ' >/dev/null
	cino=$(sed -nE 's/^connected B inode=([0-9]+)$/\1/p' B.out)
	touch "$SOCK.go"
	bg_wait srv
	wait "$cpid"
	assert_field "$(one '.call=="accept"' srv.jsonl)" .peer_inode "$cino"
	run "$SOCKTRACE" show -f connections srv.jsonl
	[[ $status == 0 && -z $output ]] || { echo "$output"; false; }
	"$SOCKTRACE" check --rule closed-by=server srv.jsonl
	"$SOCKTRACE" check --rule closed-by=server A.jsonl
}

@test "unix join: the ptrace back end records peer_inode at accept and on socketpair as the shim does" {
	SOCK=$SCRATCH/s.sock
	bg_start srv "$SOCKTRACE" --backend=ptrace --probe=close -o srv.jsonl -- "$PYTHON3" usrv.py "$SOCK" 1
	wait_line srv '^ready' >/dev/null
	SOCKTRACE_OUTPUT=A.jsonl bg_start A traced "$PYTHON3" ucli.py "$SOCK" A
	wait_line srv '^accepted A ' >/dev/null
	touch "$SOCK.go"
	bg_wait srv
	bg_wait A
	trace_settle srv.jsonl
	assert_field "$(one '.call=="start"' srv.jsonl)" .backend ptrace
	cino=$(get "$(one '.call=="connect"' A.jsonl)" .inode)
	assert_field "$(one '.call=="accept"' srv.jsonl)" .peer_inode "$cino"
	run "$SOCKTRACE" show -f connections srv.jsonl A.jsonl
	[[ ${#lines[@]} == 1 ]] || { echo "$output"; false; }
	assert_field "${lines[0]}" .kind unix
	assert_field "${lines[0]}" .server.traced true
	"$SOCKTRACE" --backend=ptrace -o pair.jsonl -- "$PYTHON3" -c '
import os, socket
a, b = socket.socketpair()
print(os.fstat(b.fileno()).st_ino)' >pair.out
	trace_settle pair.jsonl
	assert_field "$(one '.call=="socketpair"' pair.jsonl)" .peer_inode "$(cat pair.out)"
}
