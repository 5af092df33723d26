#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Real servers, traced whole, their records compared with what the kernel
# and the clients saw: node's http (libuv closes with syscall(SYS_close)),
# nginx (a master, two workers, channels passed with SCM_RIGHTS), a
# threaded python http.server under concurrent requests.  No false leak,
# no leak verdict that hangs on the order the processes exit, no false
# teardown, every socket ended once.  (The channel nginx's master
# passes to a worker is tested by truth_rights.bats with passfd pair.)

load helpers
load truth

# no_false_teardown: no close that left the connection ESTABLISHED is
# drawn as the teardown
no_false_teardown() {
	view timeline
	if grep -E 'close\(\): ESTABLISHED -> ESTABLISHED +\[active close\]' <<<"$VIEW"; then
		echo "a close of a copy drawn as the teardown:" >&2
		echo "$VIEW" >&2
		return 1
	fi
}

# every_inode_ends_once [FILE]: each socket inode that was closed has one
# close-like end with last true in each process that ended it, and no
# socket was left without an end at its process's exit
every_inode_ends_once() {
	local bad
	bad=$(jq -s -r '[.[] | select(.inode and .last==true)] | group_by([.pid, .inode])[]
		| select(length > 1) | "pid \(.[0].pid) inode \(.[0].inode): \(map(.call) | join(","))"' "${1:-$TRACE}")
	[[ -z $bad ]] || { echo "sockets ended more than once: $bad" >&2; return 1; }
}

@test "servers: node http server and client in one process (socktrace -o): every close recorded, no false leak or teardown" {
	command -v node >/dev/null || skip "node is not installed"
	"$SOCKTRACE" -o "$TRACE" -- node -e '
const http = require("http");
const srv = http.createServer((req, res) => res.end("hi\n"));
srv.listen(0, "127.0.0.1", () => {
  const port = srv.address().port;
  console.log(`listen port=${port} pid=${process.pid}`);
  let n = 0;
  const get = () => http.get({ host: "127.0.0.1", port, path: "/" }, (r) => {
    let body = "";
    r.on("data", (d) => (body += d));
    r.on("end", () => {
      console.log(`got body=${body.trim()} n=${++n}`);
      if (n < 3) get(); else srv.close(() => console.log("closed all=1"));
    });
  });
  get();
});' >n.out 2>n.err
	assert_empty n.err
	assert_eq "$(fact n.out got n 3)" 3 "replies"
	assert_eq "$(fact n.out closed all)" 1 "the server closed"
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	every_inode_ends_once
	port=$(fact n.out listen port)
	# libuv closes with syscall(SYS_close): every socket node made is closed
	made=$(jq -s '[.[] | select((.call=="socket" or .call=="accept4") and .ret >= 0 and (.family=="AF_INET"))] | length' "$TRACE")
	closed=$(jq -s '[.[] | select(.call=="close" and .family=="AF_INET" and .last==true)] | length' "$TRACE")
	assert_eq "$closed" "$made" "TCP sockets closed (of those made)"
	assert_count 0 '.call=="close" and .family=="AF_INET" and .syscall!=true'
	assert_field "$(one '.call=="exit"')" .open 0
	e=$(one ".call==\"close\" and .local==\"127.0.0.1:$port\" and .state_before==\"LISTEN\"")
	assert_field "$e" .state CLOSE
	rule_holds no-leaks
	rule_holds handshakes
	no_false_teardown
}

# nginx_run: nginx (master, 2 workers) on a free port, traced into $TRACE,
# fetched 4 times by curl (untraced), then stopped gracefully (QUIT).
# Sets PORT, MASTER, CPORTS (curl's local ports).
nginx_run() {
	command -v nginx >/dev/null || skip "nginx is not installed"
	command -v curl >/dev/null || skip "curl is not installed"
	PORT=$(free_port)
	mkdir -p www logs tmp
	echo hello >www/index.html
	# as root the workers would run as nobody, who cannot read $SCRATCH
	cat >nginx.conf <<-EOF
		$([[ $EUID == 0 ]] && echo "user root;")
		worker_processes 2;
		daemon off;
		master_process on;
		error_log $SCRATCH/logs/error.log;
		pid $SCRATCH/logs/nginx.pid;
		events { worker_connections 64; }
		http {
		  access_log $SCRATCH/logs/access.log;
		  client_body_temp_path $SCRATCH/tmp;
		  proxy_temp_path $SCRATCH/tmp;
		  fastcgi_temp_path $SCRATCH/tmp;
		  uwsgi_temp_path $SCRATCH/tmp;
		  scgi_temp_path $SCRATCH/tmp;
		  server { listen 127.0.0.1:$PORT; root $SCRATCH/www; }
		}
	EOF
	bg_start nginx traced nginx -p "$SCRATCH" -c "$SCRATCH/nginx.conf"
	wait_until 10 test -s logs/nginx.pid
	wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/"
	CPORTS=
	for _ in 1 2 3 4; do
		CPORTS+=" $(curl -sS -o body -w '%{local_port}' "http://127.0.0.1:$PORT/")"
		assert_eq "$(cat body)" hello "the page"
	done
	MASTER=$(cat logs/nginx.pid)
	kill -QUIT "$MASTER"
	bg_wait nginx
}

@test "servers: nginx, a master and two workers: each connection accepted and closed once in a worker, no TCP leak, each worker's two channel sockets held to its exit whichever exits first" {
	nginx_run
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	every_inode_ends_once
	for p in $CPORTS; do
		e=$(one ".call==\"accept4\" and .remote==\"127.0.0.1:$p\"")
		worker=$(get "$e" .pid)
		[[ $worker != "$MASTER" ]]
		e=$(one ".call==\"close\" and .remote==\"127.0.0.1:$p\"")
		assert_field "$e" .pid "$worker"
		assert_field "$e" .last true
	done
	# the master passes the second worker's channel to the first
	e=$(one ".call==\"sendmsg\" and .pid==$MASTER")
	ino=$(get "$e" .rights[0].inode)
	[[ $ino =~ ^[0-9]+$ ]] || { echo "sendmsg without the channel's inode: $e" >&2; false; }
	e=$(one ".call==\"recvmsg\" and .pid!=$MASTER")
	assert_field "$e" .rights[0].inode "$ino"
	# no TCP socket leaked (the connections, the listener).  Each worker
	# holds two channel sockets (socketpair ends made by the master: its
	# own, inherited at fork, and another worker's, inherited or received)
	# to its exit, as /proc/PID/fd shows before the QUIT and strace -f at
	# exit_group; the master closes its copies after each worker's exit or
	# before it, as the race goes.  Both workers are named, for two
	# sockets each (the one line of a leak repeated alike), in every run:
	# never one channel in one run and none in the next.
	run "$SOCKTRACE" check --rule no-leaks "$TRACE"
	if grep '^no-leaks:' <<<"$output" | grep -q ' tcp '; then
		echo "$output" >&2
		false
	fi
	workers=$(jq -r "select(.call==\"start\" and .ppid==$MASTER) | .pid" "$TRACE")
	assert_eq "$(wc -w <<<"$workers")" 2 "workers"
	# When one worker is reaped while the other still runs, the master
	# tells the other to close that worker's channel (NGX_CMD_CLOSE_CHANNEL):
	# that worker then holds one channel to its exit, not two.  Its close
	# must come after the first worker's exit: an earlier one is no
	# message of the master's, and would be a false teardown
	want=4
	receiver=$(one ".call==\"recvmsg\" and .pid!=$MASTER" | jq -r .pid)
	for w in $workers; do
		held[$w]=2
		for o in $workers; do
			[[ $o == "$w" ]] && continue
			gone=$(one ".call==\"exit\" and .pid==$o" | jq -r .ts)
			closes=$(jq -c "select(.call==\"close\" and .pid==$w and .family==\"AF_UNIX\" and .shared==true and .ts > $gone)" "$TRACE" | grep -c . || true)
			early=$(jq -c "select(.call==\"close\" and .pid==$w and .family==\"AF_UNIX\" and .shared==true and .ts <= $gone and (.inode | tostring) == \"$ino\")" "$TRACE" | grep -c . || true)
			[[ $w != "$receiver" ]] || assert_eq "$early" 0 "worker $w's closes of the received channel before worker $o exited"
			if ((closes > 0)); then
				held[$w]=1
				want=$((want - 1))
			fi
		done
	done
	line=$(grep '^no-leaks: .*: unix stream ' <<<"$output")
	[[ $line == *": unix stream (last seen open) was never closed before exit; it was made by socketpair() in pid $MASTER "*"; $want such sockets leaked from the same place in 2 processes of "* ]] ||
		{ echo "the channels not one line of $want in 2 processes:" >&2; echo "$output" >&2; false; }
	for w in $workers; do
		assert_eq "$(grep -o "pid $w fd [0-9]*" <<<"${line#*such sockets}" | wc -l)" "${held[$w]}" "worker $w's channel sockets named"
	done
	assert_eq "$(grep -c '^no-leaks:' <<<"$output")" 1 "lines of leaks"
	rule_holds handshakes
	no_false_teardown
}

@test "servers: a threaded python http.server, 12 concurrent requests: one end each, its TIME_WAITs as ss counts them" {
	need_tw_room
	command -v curl >/dev/null || skip "curl is not installed"
	bg_start srv traced "$PYTHON3" -u -c 'import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"hi\n")
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for every request
srv = S(("127.0.0.1", 0), H)
print("listen port=%d pid=%d" % (srv.server_address[1], os.getpid()), flush=True)
for _ in range(12):
    srv.handle_request()
srv.server_close()
print("done", flush=True)'
	wait_line srv '^listen ' >/dev/null
	port=$(fact srv.out listen port)
	pids=()
	for _ in $(seq 12); do
		curl -sS --max-time 20 -o /dev/null "http://127.0.0.1:$port/" 2>>curl.err &
		pids+=($!)
	done
	wait "${pids[@]}"
	assert_empty curl.err
	bg_wait srv
	assert_valid_jsonl
	assert_seq_ok
	one_end_per_process
	every_inode_ends_once
	assert_count 12 ".call==\"accept4\" and .local==\"127.0.0.1:$port\""
	assert_count 12 ".call==\"close\" and .local==\"127.0.0.1:$port\" and .remote!=null and .last==true"
	# the server closed first (shutdown, close): its ends are in TIME_WAIT
	tw=$(ss -Htan state time-wait src "127.0.0.1:$port" | wc -l)
	e=$(one '.call=="exit"')
	assert_field "$e" .time_wait "$tw"
	assert_field "$e" .open 0
	rule_holds no-leaks
	no_false_teardown
}

@test "servers: a forking server whose children never close the listener: check names every child that held it to its exit, not only the last" {
	traced "$PYTHON3" -c 'import os, socket, time
l = socket.create_server(("127.0.0.1", 0))
print("listen port=%d" % l.getsockname()[1], flush=True)
cs = [socket.create_connection(l.getsockname()) for i in range(3)]
kids = []
for i in range(3):
    s, _ = l.accept()
    pid = os.fork()
    if pid == 0:
        cs[i].close()
        time.sleep(0.2 + 0.1 * i)
        s.sendall(b"hi")
        s.close()
        os._exit(0)
    print("child pid=%d" % pid, flush=True)
    kids.append(pid)
    s.close()
l.close()
print("closed listener pid=%d" % os.getpid(), flush=True)
for c in cs:
    c.recv(10)
    c.close()
for k in kids:
    os.waitpid(k, 0)' >f.out 2>f.err
	assert_empty f.err
	port=$(fact f.out listen port)
	parent=$(fact f.out closed pid)
	mapfile -t kids < <(sed -n 's/^child pid=//p' f.out)
	assert_eq "${#kids[@]}" 3 "children forked"
	run "$SOCKTRACE" check --rule no-leaks "$TRACE"
	assert_eq "$status" 1 "check's exit status"
	line=$(grep -F "tcp 127.0.0.1:$port (last seen LISTEN)" <<<"$output")
	# each child held the listener to its exit; the last one ended it
	for k in "${kids[@]}"; do
		[[ $line == *"$k"* ]] || { echo "pid $k not named: $line" >&2; false; }
	done
	last=$(sed -n 's/^no-leaks: pid \([0-9]*\) .*/\1/p' <<<"$line")
	[[ " ${kids[*]} " == *" $last "* ]] || { echo "not a child: $line" >&2; false; }
	[[ $line == *"made by socket() in pid $parent "* ]] || { echo "$line" >&2; false; }
	view timeline
	view_line "^  close      \+[0-9.]+s close\([0-9]+\): its copy only, another process held it, still LISTEN$"
	view_has "  close      never: held by pid $last when it exited (a leak)"
}

@test "servers: accept and fork (as postgres and rsync serve), the child exits holding the connection: summary's lifetime ends at the child's exit, its bytes unknown" {
	traced "$PYTHON3" -c 'import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
port = s.getsockname()[1]
for i in range(3):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = s.accept()
    pid = os.fork()
    if pid == 0:
        s.close(); c.close(); a.sendall(b"y" * 1000); os._exit(0)
    a.close()
    os.waitpid(pid, 0)
    got = 0
    while got < 1000:
        got += len(c.recv(4096))
    c.close()
time.sleep(1.5)   # the parent lives on: the connections do not
s.close()
print("done", flush=True)' >srv.out
	grep -qx done srv.out
	"$SOCKTRACE" show -f summary "$TRACE" >summary.txt
	line=$(grep -m1 '^  connections' summary.txt)
	# each lived until its child exited (milliseconds), not until the parent did
	[[ $line =~ max\ ([0-9.]+)(us|ms)[,\ ] ]] || { echo "$line: not under a second" >&2; false; }
	# the counters the parent's close read are not the end's: the child sent
	# 1000 B after it.  Unless the child had sent and exited before it (a
	# loaded machine): then the parent's close was the kernel's last (its
	# FIN went out: FIN_WAIT1), and its counters are the end's
	parent=$(jq -r 'select(.call == "accept4" or .call == "accept") | .pid' "$TRACE" | sort -u)
	[[ $parent =~ ^[0-9]+$ ]]
	known=$(jq -s --argjson p "$parent" '[.[] | select(.call == "accept4" or .call == "accept") | .inode] as $acc
		| [.[] | select(.call == "close" and .pid == $p and .state == "FIN_WAIT1") | select(.inode as $i | $acc | index($i))]
		| length' "$TRACE")
	unknown=$((3 - known))
	if ((unknown > 0)); then
		them=them
		((unknown == 1)) && them=it
		[[ $line == *"(bytes of $unknown unknown: no close ended $them in the trace)"* ]] ||
			{ echo "$line ($known known)" >&2; jq -c 'select(.call == "close" or .call == "exit" or .call == "fork" or .call == "start") | [.ts, .dur_ns, .pid, .call, .fd, .inode, .state, .shared, .last, .open]' "$TRACE" >&2; false; }
	else
		[[ $line != *unknown* ]] || { echo "$line ($known known)" >&2; false; }
	fi
	[[ $line == *"sent $((known * 1000)) B"* ]] || { echo "$line ($known known)" >&2; false; }
}
