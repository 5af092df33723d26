#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Real servers under the shim behave as without it: nginx (a master and two
# workers, each writing its own trace file) under 10 000 ab requests, and
# redis-server (one shared trace file) under redis-benchmark and redis-cli.
# Each server runs twice on a free loopback port, bare and traced: the
# replies must be the same and the load tools must report no error.  In the
# traced run the clients are traced too, into their own file: the server's
# successful accepts must be exactly the connections the clients made,
# joined by the client's endpoint.  (ab makes up to -c - 1 connections more
# than its requests: it opens the next one before it knows it is not needed.)

load helpers

if [[ -z ${NGINX:-} ]]; then
	NGINX=/usr/sbin/nginx
	[[ -x $NGINX ]] || NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

setup() {
	st_setup
	DOCROOT=
	CLIENTS=
}

teardown() {
	local pid
	# nginx workers whose master was killed: TERM to the master stops
	# them, but not when the master is gone already
	for pid in ${WORKERS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	st_teardown
	if [[ -n $DOCROOT && $DOCROOT == /tmp/socktrace-www.* ]]; then
		rm -rf "$DOCROOT"
	fi
}

# --- helpers --------------------------------------------------------------

# alive_until NAME SECONDS CMD...: poll CMD (every 10 ms) until it succeeds;
# 2 at once when the background process NAME has exited, 1 after SECONDS.
alive_until() {
	local name=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 100; i++)); do
		"$@" && return 0
		if ! kill -0 "${BG[$name]}" 2>/dev/null; then
			"$@" && return 0
			return 2
		fi
		sleep 0.01
	done
	echo "alive_until: '$*' still false after $secs s" >&2
	return 1
}

# client CMD ARGS...: run a client of the server under test, bounded by
# 60 s, traced into $CLIENTS when it is set (timeout is not; in runner mode
# each client run appends to $CLIENTS).
client() {
	if [[ -n $CLIENTS ]]; then
		local TRACED st=0
		SOCKTRACE_OUTPUT=$CLIENTS traced_prefix
		timeout 60 "${TRACED[@]}" "$@" || st=$?
		trace_settle "$CLIENTS"
		return "$st"
	else
		timeout 60 "$@"
	fi
}

# n_accepted FILE...: successful accept/accept4 events in the files.
n_accepted() {
	cat "$@" | grep -E '"call":"accept4?",' | grep -vc '"errno":' || true
}

# accepted_remotes PORT FILE...: the clients' endpoints of the connections
# accepted on 127.0.0.1:PORT, sorted.
accepted_remotes() {
	local port=$1
	shift
	cat "$@" | jq -r "select((.call == \"accept\" or .call == \"accept4\") and .ret >= 0
		and .local == \"127.0.0.1:$port\") | .remote" | sort
}

# connected_locals PORT FILE: the local endpoints of the connections the
# clients made to 127.0.0.1:PORT (one per socket: hiredis calls connect
# again to learn that a non-blocking connect finished), sorted.
connected_locals() {
	jq -r "select(.call == \"connect\" and .remote == \"127.0.0.1:$1\"
		and (.ret == 0 or .errno == \"EINPROGRESS\")) | \"\(.pid) \(.inode) \(.local)\"" "$2" |
		sort -u | awk '{ print $3 }' | sort
}

# same_lines WHAT FILE1 FILE2: the files hold the same lines.
same_lines() {
	if ! cmp -s "$2" "$3"; then
		echo "$1: $(wc -l <"$2") and $(wc -l <"$3") lines differ:" >&2
		diff "$2" "$3" | head -n 20 >&2
		return 1
	fi
}

# figure TEXT: a line for the TAP output, kept on success too.
figure() { echo "# $*" >&3; }

# --- nginx ----------------------------------------------------------------

# nginx_conf PORT: $SCRATCH/nginx.conf, everything nginx writes in $SCRATCH,
# serving $DOCROOT on 127.0.0.1:PORT.
nginx_conf() {
	local m temps=
	for m in client_body proxy fastcgi uwsgi scgi; do
		# only the modules this build has know their directive
		if [[ $m == client_body ]] || ! grep -q -- "--without-http_${m}_module" <<<"$NGINX_V"; then
			temps+="${m}_temp_path $SCRATCH/tmp-$m; "
		fi
	done
	cat >"$SCRATCH/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $SCRATCH/nginx.pid;
error_log $SCRATCH/nginx-error.log notice;
events { worker_connections 512; }
http {
	access_log $SCRATCH/nginx-access.log;
	$temps
	default_type text/plain;
	server {
		listen 127.0.0.1:$1;
		root $DOCROOT;
	}
}
EOF
}

# nginx_ready MODE: the master started both workers (and, traced, the
# three processes' traces begin).
nginx_ready() {
	[[ $(grep -c 'start worker process' "$SCRATCH/nginx-error.log" 2>/dev/null) -ge 2 ]] || return 1
	[[ $1 == bare ]] && return 0
	[[ $(cat "$SCRATCH"/nginx.*.jsonl 2>/dev/null | grep -c '"call":"start"') -ge 3 ]]
}

# nginx_start bare|traced: nginx on a free port (a second one when another
# program took the first meanwhile); sets PORT.
nginx_start() {
	local mode=$1 try st
	NGINX_ARGS=(-e "$SCRATCH/nginx-error.log" -c "$SCRATCH/nginx.conf" -p "$SCRATCH/")
	for try in 1 2; do
		PORT=$(free_port)
		nginx_conf "$PORT"
		rm -f "$SCRATCH"/nginx.*.jsonl "$SCRATCH/nginx-error.log"
		if [[ $mode == traced ]]; then
			SOCKTRACE_OUTPUT=$SCRATCH/nginx.%p.jsonl bg_start nginx traced "$NGINX" "${NGINX_ARGS[@]}"
		else
			bg_start nginx "$NGINX" "${NGINX_ARGS[@]}"
		fi
		st=0
		alive_until nginx 20 nginx_ready "$mode" || st=$?
		((st == 0)) && return 0
		if ((st == 2 && try == 1)) && grep -q 'Address already in use' "$SCRATCH/nginx-error.log"; then
			bg_wait nginx || true
			continue
		fi
		echo "nginx ($mode) did not start:" >&2
		cat "$SCRATCH/nginx-error.log" "$SCRATCH/nginx.err" >&2
		return 1
	done
}

# nginx_took N: the workers accepted N connections or more.
nginx_took() { [[ $(n_accepted "$SCRATCH"/nginx.*.jsonl) -ge $1 ]]; }

# nginx_quit: graceful stop (nginx -s quit) and wait for the master.
nginx_quit() {
	timeout 60 "$NGINX" "${NGINX_ARGS[@]}" -s quit
	bg_wait nginx || { echo "nginx exited $BG_STATUS" >&2; return 1; }
}

# ab_field FILE NAME: the number after "NAME:" in ab's report.
ab_field() {
	awk -F: -v k="$2" '$1 == k { split($2, w, " "); print w[1]; found = 1 } END { exit !found }' "$1" ||
		{ echo "no '$2:' in ab's report $1:" >&2; cat "$1" >&2; return 1; }
}

# nginx_load RUN: ab -n 10000 -c 16 against the file, then one curl of it;
# ab's report in RUN.ab, the body in RUN.body; both must succeed.
nginx_load() {
	local url=http://127.0.0.1:$PORT/seq.txt
	client ab -n 10000 -c 16 "$url" >"$1.ab" 2>"$1.ab.err" ||
		{ echo "ab failed:" >&2; cat "$1.ab" "$1.ab.err" >&2; return 1; }
	client curl -sS --max-time 20 -o "$1.body" "$url" ||
		{ echo "curl $url failed" >&2; return 1; }
	assert_eq "$(ab_field "$1.ab" 'Complete requests')" 10000 "$1: ab's complete requests"
	assert_eq "$(ab_field "$1.ab" 'Failed requests')" 0 "$1: ab's failed requests"
	# lines ab prints only when they are not zero
	if grep -E '^(Non-2xx responses|Write errors|Keep-Alive requests):' "$1.ab" >&2; then
		echo "$1: ab got the above:" >&2
		cat "$1.ab" >&2
		return 1
	fi
	cmp "$1.body" "$DOCROOT/seq.txt"
}

@test "servers: nginx, master and 2 workers traced, 10 000 ab requests: same answers, no errors, accepts = connections" {
	[[ -x $NGINX ]] || skip "nginx is not installed ($NGINX; Debian: nginx-light)"
	command -v ab >/dev/null || skip "ab is not installed (Debian: apache2-utils)"
	command -v curl >/dev/null || skip "curl is not installed"
	NGINX_V=$("$NGINX" -V 2>&1)
	if ((EUID == 0)); then
		# the workers run as nobody, who cannot enter the test's directory
		DOCROOT=$(mktemp -d /tmp/socktrace-www.XXXXXX)
		chmod 755 "$DOCROOT"
	else
		DOCROOT=$SCRATCH/www
		mkdir "$DOCROOT"
	fi
	seq 1 1000 >"$DOCROOT/seq.txt"
	chmod 644 "$DOCROOT/seq.txt"

	# bare
	nginx_start bare
	nginx_load bare
	nginx_quit

	# traced, clients too
	CLIENTS=$SCRATCH/clients.jsonl
	t0=$SECONDS
	nginx_start traced
	master=${BG[nginx]}
	WORKERS=$(jq -r "select(.call == \"start\" and .ppid == $master) | .pid" "$SCRATCH"/nginx.*.jsonl)
	nginx_load traced
	connected_locals "$PORT" "$CLIENTS" >connected
	# ab closes its extra connections at exit: wait until nginx took them too
	wait_until 10 nginx_took "$(wc -l <connected)"
	nginx_quit
	t_traced=$((SECONDS - t0))

	# the same answers
	assert_eq "$(ab_field traced.ab 'Document Length')" "$(ab_field bare.ab 'Document Length')" "document length, traced vs bare"
	assert_eq "$(ab_field traced.ab 'HTML transferred')" "$(ab_field bare.ab 'HTML transferred')" "body bytes, traced vs bare"
	if grep -E 'exited on signal|\[(alert|emerg|crit)\]' "$SCRATCH/nginx-error.log" >&2; then
		echo "nginx logged the above while traced" >&2
		false
	fi

	# one trace per process, each whole; the master and exactly its 2 workers
	files=("$SCRATCH"/nginx.*.jsonl)
	assert_eq "${#files[@]}" 3 "trace files (master and 2 workers)"
	for f in "${files[@]}"; do
		assert_valid_jsonl "$f"
		assert_seq_ok "$f"
	done
	e=$(one '.call == "start"' "$SCRATCH/nginx.$master.jsonl")
	assert_field "$e" .exe "$NGINX"
	assert_field "$e" .seq 1
	one '.call == "exit"' "$SCRATCH/nginx.$master.jsonl" >/dev/null
	assert_eq "$(wc -w <<<"$WORKERS")" 2 "workers started by master $master"
	for w in $WORKERS; do
		e=$(one '.call == "start"' "$SCRATCH/nginx.$w.jsonl")
		assert_field "$e" .ppid "$master"
		assert_field "$e" .pid "$w"
		one '.call == "exit"' "$SCRATCH/nginx.$w.jsonl" >/dev/null
	done
	assert_count 2 ".call == \"fork\" and .ret > 0" "$SCRATCH/nginx.$master.jsonl"

	# the listener: made by the master, accepted on by the workers
	e=$(ev ".call == \"listen\" and .ret == 0 and .local == \"127.0.0.1:$PORT\"" "$SCRATCH/nginx.$master.jsonl" | head -n 1)
	[[ -n $e ]] || { echo "no listen on 127.0.0.1:$PORT by the master" >&2; false; }
	lfd=$(get "$e" .fd)
	lino=$(get "$e" .inode)
	# one pass over the workers' traces: accepts and last closes
	cat "$SCRATCH"/nginx.*.jsonl | jq -r 'if (.call == "accept" or .call == "accept4") and .ret >= 0
		then "accept \(.pid) \(.inode) \(.listen_fd) \(.local) \(.remote)"
		elif .call == "close" and .last != false then "close \(.pid) \(.inode)"
		else empty end' >conns
	bad=$(awk -v m="$master" -v fd="$lfd" -v l="127.0.0.1:$PORT" \
		'$1 == "accept" && ($2 == m || $4 != fd || $5 != l)' conns | head -n 3)
	assert_eq "$bad" "" "accepts by the master, or not on listener fd $lfd ($lino)"

	# accepts = the connections ab and curl made, endpoint by endpoint
	awk '$1 == "accept" { print $6 }' conns | sort >accepted
	same_lines "accepted (nginx) vs connected (ab, curl)" accepted connected
	n=$(wc -l <accepted)
	((n >= 10001 && n <= 10001 + 15)) || { echo "$n accepts for 10 000 ab requests (-c 16) and a curl" >&2; false; }
	# and every accepted connection closed by the worker that took it
	awk '$1 == "accept" { print $2, $3 }' conns | sort >acc_ino
	awk '$1 == "close" { print $2, $3 }' conns | sort -u >closed_ino
	assert_eq "$(comm -23 acc_ino closed_ino | head -n 3 | tr '\n' ' ')" "" "accepted sockets (pid inode) never closed"
	rps() { ab_field "$1" 'Requests per second'; }
	figure "nginx: 10000 ab requests + 1 curl under the shim, 0 failed, $n accepts = $n client connections;" \
		"ab $(rps bare.ab)/s bare, $(rps traced.ab)/s traced (ab traced too); traced run ${t_traced}s"
}

# --- redis ----------------------------------------------------------------

# redis_start bare|traced: redis-server on a free port (a second one when
# another program took the first meanwhile); sets PORT.
redis_start() {
	local mode=$1 try st args
	for try in 1 2; do
		PORT=$(free_port)
		args=(redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
			--dir "$SCRATCH" --daemonize no)
		rm -f "$SCRATCH/redis.jsonl"
		if [[ $mode == traced ]]; then
			SOCKTRACE_OUTPUT=$SCRATCH/redis.jsonl bg_start redis traced "${args[@]}"
		else
			bg_start redis "${args[@]}"
		fi
		st=0
		alive_until redis 20 grep -q 'Ready to accept connections' "$SCRATCH/redis.out" || st=$?
		((st == 0)) && return 0
		if ((st == 2 && try == 1)) && grep -q 'Address already in use' "$SCRATCH/redis.out"; then
			bg_wait redis || true
			continue
		fi
		echo "redis-server ($mode) did not start:" >&2
		cat "$SCRATCH/redis.out" "$SCRATCH/redis.err" >&2
		return 1
	done
}

rcli() { client redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# redis_load RUN: redis-benchmark (10 000 SET, 10 000 GET, 20 clients), then
# a few commands, one redis-cli each: their replies in RUN.replies.
redis_load() {
	client redis-benchmark -h 127.0.0.1 -p "$PORT" -n 10000 -c 20 -t set,get -q >"$1.bench" 2>"$1.bench.err" ||
		{ echo "redis-benchmark failed:" >&2; cat "$1.bench" "$1.bench.err" >&2; return 1; }
	assert_empty "$1.bench.err"
	tr '\r' '\n' <"$1.bench" | grep -E '^(SET|GET): [0-9.]+ requests per second' >"$1.rps" || true
	assert_eq "$(cut -d: -f1 "$1.rps" | tr '\n' ' ')" "SET GET " "$1: redis-benchmark's results"
	if tr '\r' '\n' <"$1.bench" | grep -i 'error'; then
		echo "$1: redis-benchmark reported errors" >&2
		return 1
	fi
	{
		rcli SET greeting hello
		rcli GET greeting
		rcli INCR counter
		rcli INCR counter
		rcli DBSIZE
		rcli GET key:__rand_int__
		rcli EXISTS nosuchkey
		rcli LPUSH list a b c
		rcli LRANGE list 0 -1
	} >"$1.replies"
}

@test "servers: redis-server traced, redis-benchmark and redis-cli: same replies, no errors, accepts = connections" {
	for p in redis-server redis-benchmark redis-cli; do
		command -v "$p" >/dev/null || skip "$p is not installed (Debian: redis-server, redis-tools)"
	done

	# bare
	redis_start bare
	redis_load bare
	rcli SHUTDOWN NOSAVE
	bg_wait redis

	# traced, clients too
	CLIENTS=$SCRATCH/clients.jsonl
	t0=$SECONDS
	redis_start traced
	pid=${BG[redis]}
	redis_load traced
	rcli INFO stats | tr -d '\r' >info
	total=$(awk -F: '$1 == "total_connections_received" { print $2 }' info)
	cmds=$(awk -F: '$1 == "total_commands_processed" { print $2 }' info)
	[[ $total =~ ^[0-9]+$ ]] || { echo "no total_connections_received in INFO stats:" >&2; cat info >&2; false; }
	# the INFO connection's accept is recorded before INFO is answered; the
	# shim writes what it recorded within 100 ms (more on a loaded machine)
	for ((i = 0; i < 500; i++)); do
		(($(n_accepted "$SCRATCH/redis.jsonl") >= total)) && break
		sleep 0.01
	done
	assert_eq "$(n_accepted "$SCRATCH/redis.jsonl")" "$total" "accepts traced vs redis' total_connections_received"
	rcli SHUTDOWN NOSAVE
	bg_wait redis
	t_traced=$((SECONDS - t0))

	same_lines "redis-cli replies, traced vs bare" bare.replies traced.replies
	assert_eq "$(grep -c 'Ready to accept' redis.out)" 1 "redis started once"

	TRACE=$SCRATCH/redis.jsonl
	assert_valid_jsonl
	assert_seq_ok
	e=$(one '.call == "start"')
	assert_field "$e" .pid "$pid"
	one '.call == "exit"' >/dev/null
	e=$(one ".call == \"listen\" and .ret == 0")
	assert_field "$e" .local "127.0.0.1:$PORT"
	lfd=$(get "$e" .fd)
	assert_count 0 "(.call == \"accept\" or .call == \"accept4\") and .ret >= 0 and (.listen_fd != $lfd or .local != \"127.0.0.1:$PORT\")"

	# accepts = the connections redis-benchmark and redis-cli made
	accepted_remotes "$PORT" "$TRACE" >accepted
	connected_locals "$PORT" "$CLIENTS" >connected
	same_lines "accepted (redis) vs connected (redis-benchmark, redis-cli)" accepted connected
	n=$(wc -l <accepted)
	assert_eq "$n" "$((total + 1))" "accepts: all up to INFO, and SHUTDOWN's"
	bench=$(jq -r 'select(.call == "start" and (.exe | endswith("/redis-benchmark"))) | .pid' "$CLIENTS")
	nb=$(connected_locals "$PORT" <(jq -c "select(.pid == $bench)" "$CLIENTS") | wc -l)
	figure "redis: 20000 benchmark requests ($(tr '\n' ';' <traced.rps)) + $((n - nb)) redis-cli commands under the shim ($cmds commands processed by INFO), $n accepts = $n client connections ($nb by redis-benchmark); traced run ${t_traced}s"
}
