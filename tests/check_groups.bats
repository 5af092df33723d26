#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# socktrace check on programs that make the same finding hundreds of times
# (a forking server whose children each leak their connection, the
# children of one program each refused): one line per program and kind of
# finding, with the exact count, a few examples and the rest counted, in
# the text, the GitHub annotations and the JUnit report; the exit status
# as for one finding.

load helpers
bats_require_minimum_version 1.5.0

GH=$BATS_TEST_DIRNAME/scripts/gh_annotations.py
JC=$BATS_TEST_DIRNAME/scripts/junit_check.py

# A forking server (python3's socketserver) whose children each exit
# holding the connection they serve, and a client process that connects N
# times, one connection after the other.
FORKING='import os, socket, socketserver, sys
n = int(sys.argv[1])
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"x")
class S(socketserver.ForkingTCPServer):
    allow_reuse_address = True
    def shutdown_request(self, request):
        pass            # the child exits holding its connection
srv = S(("127.0.0.1", 0), H)
port = srv.server_address[1]
print("listen port=%d pid=%d" % (port, os.getpid()), flush=True)
kid = os.fork()
if kid == 0:
    srv.socket.close()
    for i in range(n):
        c = socket.create_connection(("127.0.0.1", port)); c.recv(1); c.close()
    os._exit(0)
for i in range(n):
    srv.handle_request()
os.waitpid(kid, 0)
srv.server_close()'

# the pids of the server's children: those that accepted nothing and
# exited holding a socket it accepted
children() {
	jq -r "select(.call == \"start\" and .ppid == $1) | .pid" "$TRACE" | sort -n
}

@test "no-leaks: a forking server's 40 children that each exit holding their connection are one line: the count, five examples, the rest counted" {
	printf '%s\n' "$FORKING" >fsrv.py
	"$SOCKTRACE" -o "$TRACE" -- "$PYTHON3" fsrv.py 40 >out
	PORT=$(fact out listen port)
	server=$(fact out listen pid)
	assert_eq "$(jq -c 'select(.call == "accept4" or .call == "accept")' "$TRACE" | wc -l)" 40 "connections accepted"
	run "$SOCKTRACE" check --rule no-leaks "$TRACE"
	assert_eq "$status" 1 "exit status: $output"
	# one line for the 40 connections; one for the listener, which every
	# child inherited and held to its exit (socketserver's children never
	# close it), whichever exited before or after the server's close
	assert_eq "${#lines[@]}" 2 "one line for the 40, one for the listener: $output"
	lline=$(grep -F "tcp 127.0.0.1:$PORT (last seen " <<<"$output")
	[[ $lline == *", nor by pids "*" and 31 more, which also held copies to their exit; it was made by socket() in pid $server "* ]] ||
		{ echo "the listener's line: $output" >&2; false; }
	line=$(grep -F -- "tcp 127.0.0.1:$PORT -> " <<<"$output")
	[[ $line == "no-leaks: pid "*" (python3 fsrv.py 40): tcp 127.0.0.1:$PORT -> 127.0.0.1:"*" was never closed before exit; it was made by accept"*"() in pid $server (python3 fsrv.py 40) (fd "*"), which closed its copy or handed it on; 40 such sockets leaked from the same place in 40 processes of python3 fsrv.py 40: pid "*", and 35 more" ]] ||
		{ echo "$line" >&2; false; }
	# five examples, each a child of the server with its descriptor and ends
	examples=${line#*in 40 processes of python3 fsrv.py 40: }
	examples=${examples%, and 35 more}
	mapfile -t named < <(tr ',' '\n' <<<"$examples" | sed 's/^ //')
	assert_eq "${#named[@]}" 5 "examples: $examples"
	kids=$(children "$server")
	for ex in "${named[@]}"; do
		[[ $ex =~ ^pid\ ([0-9]+)\ fd\ ([0-9]+)\ 127\.0\.0\.1:$PORT\ -\>\ 127\.0\.0\.1:([0-9]+)$ ]] || { echo "example '$ex'" >&2; false; }
		grep -qx "${BASH_REMATCH[1]}" <<<"$kids" || { echo "pid ${BASH_REMATCH[1]} is not a child of $server" >&2; false; }
		# the child's exit held that very connection
		jq -e -s --argjson p "${BASH_REMATCH[1]}" --arg r "127.0.0.1:${BASH_REMATCH[3]}" \
			'any(.[]; .pid == $p and .call == "start") and any(.[]; .remote == $r and (.call | startswith("accept")))' \
			"$TRACE" >/dev/null || { echo "example '$ex' is not in the trace" >&2; false; }
	done
}

@test "no-leaks grouped: GitHub gets one annotation counting all 40 (and one for the listener they held), JUnit one failure with the exact count and the grouped line" {
	printf '%s\n' "$FORKING" >fsrv.py
	"$SOCKTRACE" -o "$TRACE" -- "$PYTHON3" fsrv.py 40 >out
	run "$SOCKTRACE" check --rule no-leaks --rule reuseaddr --format=github --junit report.xml "$TRACE"
	assert_eq "$status" 1 "exit status: $output"
	printf '%s\n' "$output" | "$PYTHON3" "$GH" >gh.json
	# the 40 connections, and the listener all 40 children held to their exit
	assert_eq "$(jq -r 'select(.command == "error") | .properties.title' gh.json | sort | paste -sd,)" \
		"socktrace no-leaks,socktrace no-leaks (×40)" "the annotations: $output"
	[[ $(jq -r 'select(.command == "error" and .properties.title == "socktrace no-leaks (×40)") | .data' gh.json) == *"; 40 such sockets leaked from the same place in 40 processes of python3 fsrv.py 40: pid "*", and 35 more" ]]
	"$PYTHON3" "$JC" report.xml >junit.json
	assert_eq "$(jq -c '[.tests, .failures, .errors]' junit.json)" "[2,1,0]"
	assert_eq "$(jq -r '.cases[0] | .name + " " + .result' junit.json)" "no-leaks failure"
	[[ $(jq -r '.cases[0].message' junit.json) == "41 violations: pid "*" was never closed before exit"* ]]
	[[ $(jq -r '.cases[0].text' junit.json) == *"; 40 such sockets leaked from the same place in 40 processes of python3 fsrv.py 40: "*", and 35 more"* ]]
	assert_eq "$(jq -r '.cases[0].text' junit.json | grep -c .)" 2 "lines in the failure"
	assert_eq "$(jq -r '.cases[1] | .name + " " + .result' junit.json)" "reuseaddr ok"
}

@test "handshakes and no-eaddrinuse: 30 children of one program each refused and each failing to bind are one line each, with the exact count" {
	cat >many.py <<'PY'
import os, socket, sys
n = int(sys.argv[1])
b = socket.socket(); b.bind(("127.0.0.1", 0))      # bound, never listening
port = b.getsockname()[1]
print("bound port=%d" % port, flush=True)
kids = []
for i in range(n):
    pid = os.fork()
    if pid == 0:
        b.close()
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))       # refused
        except ConnectionRefusedError:
            pass
        s.close()
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))          # EADDRINUSE: b holds it
        except OSError:
            pass
        t.close()
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
b.close()
PY
	"$SOCKTRACE" -o "$TRACE" -- "$PYTHON3" many.py 30 >out
	PORT=$(fact out bound port)
	assert_eq "$(jq -c 'select(.call == "connect" and .errno == "ECONNREFUSED")' "$TRACE" | wc -l)" 30 "refused connects"
	assert_eq "$(jq -c 'select(.call == "bind" and .errno == "EADDRINUSE")' "$TRACE" | wc -l)" 30 "failed binds"
	run "$SOCKTRACE" check --rule handshakes --rule no-eaddrinuse --junit report.xml "$TRACE"
	assert_eq "$status" 1 "exit status: $output"
	assert_eq "${#lines[@]}" 2 "one line a rule: $output"
	[[ ${lines[0]} == "handshakes: pid "*" (python3 many.py 30): connect to 127.0.0.1:$PORT failed with ECONNREFUSED (fd "*"); 30 such connects failed the same way in 30 processes of python3 many.py 30: pid "*" -> 127.0.0.1:$PORT, "*", and 25 more" ]] ||
		{ echo "${lines[0]}" >&2; false; }
	[[ ${lines[1]} == "no-eaddrinuse: pid "*" (python3 many.py 30): bind("*", 127.0.0.1:$PORT) failed with EADDRINUSE"*"; 30 such binds failed in 30 processes of python3 many.py 30: pid "*" fd "*", and 25 more" ]] ||
		{ echo "${lines[1]}" >&2; false; }
	"$PYTHON3" "$JC" report.xml >junit.json
	assert_eq "$(jq -r '.cases[] | .message | split(":")[0]' junit.json | tr '\n' ' ')" "30 violations 30 violations "
}

@test "two programs are two lines, even when their command lines differ only past the 40 bytes a line shows of them" {
	cat >many.py <<'PY'
import os, socket, sys
b = socket.socket(); b.bind(("127.0.0.1", int(sys.argv[1])))   # bound, never listening
for i in range(3):
    pid = os.fork()
    if pid == 0:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", int(sys.argv[1])))
        except ConnectionRefusedError:
            pass
        s.close()
        os._exit(0)
    os.waitpid(pid, 0)
PY
	local port long=--a-long-option-that-the-line-cuts-short
	port=$(free_port)
	# the same refused connects, to the same port, by two programs whose
	# command lines differ at their end only
	"$SOCKTRACE" -o "$TRACE" -- "$PYTHON3" many.py "$port" "$long=1" >/dev/null
	"$SOCKTRACE" -A -o "$TRACE" -- "$PYTHON3" many.py "$port" "$long=2" >/dev/null
	assert_eq "$(jq -c 'select(.call == "connect" and .errno == "ECONNREFUSED")' "$TRACE" | wc -l)" 6 "refused connects"
	run "$SOCKTRACE" check --rule handshakes "$TRACE"
	assert_eq "$status" 1
	assert_eq "${#lines[@]}" 2 "a line a program: $output"
	for i in 0 1; do
		[[ ${lines[i]} == *"; 3 such connects failed the same way in 3 processes of python3 many.py $port --a-long-opt"*"...: "* ]] ||
			{ echo "${lines[i]}" >&2; false; }
	done
}

@test "check: a finding's group keeps sides and ends apart: a server's resets from its clients', sockets bound to two ports" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	# the parent resets half the connections it accepts, the children (its
	# clients) the other half: two lines, each of four
	"$SOCKTRACE" -o rs.jsonl -- "$PYTHON3" -c 'import os, socket, struct
L = struct.pack("ii", 1, 0)
l = socket.create_server(("127.0.0.1", 0))
port = l.getsockname()[1]
for i in range(8):
    if os.fork() == 0:
        l.close()
        c = socket.create_connection(("127.0.0.1", port))
        if i % 2 == 0:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, L)
        else:
            try:
                c.recv(10)
            except OSError:
                pass
        c.close()
        os._exit(0)
    a, _ = l.accept()
    if i % 2 == 1:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, L)
    else:
        try:
            a.recv(10)
        except OSError:
            pass
    a.close()
    os.wait()
l.close()' >rs.out 2>rs.err
	assert_empty rs.err
	run "$SOCKTRACE" check --rule no-resets rs.jsonl
	assert_eq "$status" 1 "check's status"
	assert_eq "$(grep -c '^no-resets: ' <<<"$output")" 2 "one line per side"
	assert_eq "$(grep -c '4 such sockets were reset' <<<"$output")" 2 "each of four"
	# children that each bind a socket to one of two ports and exit
	# holding it, never listening: one line per port
	"$SOCKTRACE" -o bd.jsonl -- "$PYTHON3" -c 'import os, socket
s0 = socket.socket(); s0.bind(("127.0.0.1", 0))
s1 = socket.socket(); s1.bind(("127.0.0.1", 0))
ports = [s0.getsockname()[1], s1.getsockname()[1]]
s0.close(); s1.close()
for i in range(6):
    if os.fork() == 0:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", ports[i % 2]))
        os._exit(0)
    os.wait()' >bd.out 2>bd.err
	assert_empty bd.err
	run "$SOCKTRACE" check --rule no-leaks bd.jsonl
	assert_eq "$status" 1 "check's status"
	assert_eq "$(grep -c '^no-leaks: ' <<<"$output")" 2 "one line per port"
	assert_eq "$(grep -c '3 such sockets leaked from the same place' <<<"$output")" 2 "each of three"
}

# One program that leaks sockets of many kinds made by the same calls
# (without stacks, a finding's place is its call and its end): a unix
# stream pair and a unix datagram pair, an unbound udp socket over IPv4
# and one over IPv6, three udp sockets each bound to 127.0.0.1 port 0 (a
# port of their own each), a netlink socket of each type; then a tcp bind
# and a udp bind of one port that both fail with EADDRINUSE.
KINDS='import os, socket
keep = []
keep += socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
keep += socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
keep.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
keep.append(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
for i in range(3):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    keep.append(u)
keep.append(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
keep.append(socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0))
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen()
port = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port))
print("bound port=%d" % port, flush=True)
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        pass
    s.close()
t.close(); u.close()
os._exit(0)'

@test "grouping: the kind of a finding is its family, type and protocol (unix stream vs dgram, udp vs udp6, netlink types, a udp vs a tcp bind); port 0 bound in a loop is one place" {
	printf '%s\n' "$KINDS" >kinds.py
	traced "$PYTHON3" kinds.py >kinds.out
	PORT=$(fact kinds.out bound port)
	run "$SOCKTRACE" check --rule no-leaks "$TRACE"
	assert_eq "$status" 1 "$output"
	assert_eq "$(jq -c 'select(.call == "socketpair") | .type' "$TRACE" | tr '\n' ' ')" '"SOCK_STREAM" "SOCK_DGRAM" ' "the pairs"
	printf '%s\n' "$output" >leaks.out
	# one line per kind, each naming it
	for want in "unix stream (fd * made by socketpair() was never closed before exit; 2 such sockets leaked from the same place: *" \
		"unix dgram (fd * made by socketpair() was never closed before exit; 2 such sockets leaked from the same place: *" \
		"udp (fd * made by socket() was never closed before exit" \
		"udp6 (fd * made by socket() was never closed before exit" \
		"udp 127.0.0.1:* made by socket() was never closed before exit; 3 such sockets leaked from the same place: *" \
		"NETLINK raw (fd * made by socket() was never closed before exit" \
		"NETLINK dgram (fd * made by socket() was never closed before exit"; do
		n=0
		for line in "${lines[@]}"; do
			# shellcheck disable=SC2053 # the pattern is a glob on purpose
			[[ ${line#no-leaks: pid * (python3 kinds.py): } == $want ]] && n=$((n + 1))
		done
		assert_eq "$n" 1 "lines like '$want' in: $output"
	done
	assert_eq "${#lines[@]}" 7 "$output"
	# the exit status counts every leak: 2 + 2 + 1 + 1 + 3 + 1 + 1
	run "$SOCKTRACE" check --rule no-leaks --junit report.xml "$TRACE"
	assert_eq "$("$PYTHON3" "$JC" report.xml | jq -r '.cases[0].message | split(":")[0]')" "11 violations"
	# a tcp and a udp bind of one port that fail: two findings, the udp one named
	run "$SOCKTRACE" check --rule no-eaddrinuse "$TRACE"
	assert_eq "$status" 1
	assert_eq "${#lines[@]}" 2 "$output"
	[[ ${lines[0]} == *": bind("*", 127.0.0.1:$PORT) failed with EADDRINUSE; held by 127.0.0.1:$PORT LISTEN"* ]] || { echo "$output" >&2; false; }
	[[ ${lines[1]} == *": bind("*", 127.0.0.1:$PORT) of a udp socket failed with EADDRINUSE; held by 127.0.0.1:$PORT "* ]] || { echo "$output" >&2; false; }
}

@test "notes: 30 runs of one exec the trace cannot follow are one note with the count, in the text, GitHub's notices and the JUnit system-out" {
	"$SOCKTRACE" -o "$TRACE" -- sh -c 'for i in $(seq 30); do env -i true; done'
	assert_eq "$(jq -c 'select(.call == "untraced")' "$TRACE" | wc -l)" 30 "untraced events"
	first=$(jq -r 'select(.call == "untraced") | .pid' "$TRACE" | head -n 1)
	run --separate-stderr "$SOCKTRACE" check "$TRACE"
	assert_eq "$status" 0 "$output"
	assert_eq "${#lines[@]}" 2 "the summary and one note: $output"
	[[ ${lines[1]} == "socktrace: check: note: untraced: pid $first (env -i true) exec'd true, an image the shim cannot enter (no LD_PRELOAD): its socket calls are not in this trace; socktrace --backend=ptrace traces it; 30 such execs in 30 processes of env -i true: pid $first, pid "*", pid "*", pid "*", pid "*", and 25 more" ]] ||
		{ echo "${lines[1]}" >&2; false; }
	run --separate-stderr "$SOCKTRACE" check --format=github --junit report.xml "$TRACE"
	assert_eq "$status" 0
	printf '%s\n' "$output" | "$PYTHON3" "$GH" >gh.json
	assert_eq "$(jq -r '.command + " " + .properties.title' gh.json)" "notice socktrace check (×30)" "$output"
	[[ $(jq -r .data gh.json) == *"; 30 such execs in 30 processes of env -i true: pid $first, "*", and 25 more" ]]
	"$PYTHON3" "$JC" report.xml >junit.json
	assert_eq "$(jq '.system_out | length' junit.json)" 1 "notes in the JUnit report"
	[[ $(jq -r '.system_out[0]' junit.json) == "note: untraced: pid $first (env -i true) exec'd true, "*"; 30 such execs in 30 processes of env -i true: "*", and 25 more" ]]
}

@test "notes: the children of one program that each lack their exit event are one note, its examples the first the trace met" {
	cat >kids.py <<'PY'
import os, socket
for i in range(12):
    pid = os.fork()
    if pid == 0:
        socket.socket().close()
        os._exit(0)
    os.waitpid(pid, 0)
PY
	traced "$PYTHON3" kids.py
	mapfile -t kids < <(jq -r 'select(.call == "fork") | .ret' "$TRACE")
	assert_eq "${#kids[@]}" 12 "children"
	# their exit events lost on the way (a collector, a cut copy)
	jq -c 'select(.call != "exit" or .pid == '"$(jq -r 'select(.call == "start") | .pid' "$TRACE" | head -n 1)"')' "$TRACE" >cut.jsonl
	run --separate-stderr "$SOCKTRACE" check --rule no-leaks cut.jsonl
	assert_eq "$status" 0 "$output"
	printf '%s\n' "$output" >notes.out
	assert_eq "$(grep -c 'note: incomplete: ' notes.out)" 1 "$output"
	[[ $output == *"note: incomplete: pid ${kids[0]} (python3 kids.py) lacks its exit event (its end was seen, a normal exit, after seq "*"): what it held at its end is unknown, and a verdict on its sockets may be wrong; 12 such processes lack their exit event: pid ${kids[0]} after seq 3, pid ${kids[1]} after seq 3, pid ${kids[2]} after seq 3, pid ${kids[3]} after seq 3, pid ${kids[4]} after seq 3, and 7 more" ]] ||
		{ echo "$output" >&2; false; }
}

@test "notes: the children whose own files (%p) were not given are one note per program, not eight and a line saying there are more" {
	cat >pk.py <<'PY'
import os, socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
for i in range(10):
    pid = os.fork()
    if pid == 0:
        os._exit(0)     # holding the listener it inherited
    os.waitpid(pid, 0)
l.close()
PY
	"$SOCKTRACE" -o 'pk_%p.jsonl' -- "$PYTHON3" pk.py
	parent=$(grep -l '"call":"fork"' pk_*.jsonl)
	assert_eq "$(ls pk_*.jsonl | wc -l)" 11 "files"
	mapfile -t kids < <(jq -r 'select(.call == "fork") | .ret' "$parent")
	run --separate-stderr "$SOCKTRACE" check --rule no-leaks "$parent"
	assert_eq "$status" 0 "$output"
	printf '%s\n' "$output" >notes.out
	assert_eq "$(grep -c 'note: absent: ' notes.out)" 1 "$output"
	[[ $output == *"note: absent: pid ${kids[0]}"*" has no events of its own in the traces "*"what it did with the 1 socket it held is unknown; 10 such processes: pid ${kids[0]} (1 socket), pid ${kids[1]} (1 socket), "*", and 5 more"* ]] ||
		{ echo "$output" >&2; false; }
	# every file: nothing absent
	run --separate-stderr "$SOCKTRACE" check --rule no-leaks pk_*.jsonl
	[[ $output != *absent* ]] || { echo "$output" >&2; false; }
}
