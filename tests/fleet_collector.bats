#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Traces of several machines collected by a log collector people already
# run, with docs/fleet.md's own configuration: rsyslog on each machine follows its
# trace file (imfile) and forwards every line over TCP (omfwd, RFC 5424)
# to a collecting rsyslog (imtcp) that writes the lines as they came into
# one file and parses each as JSON (mmjsonparse), taking the event's own
# time from "ts".  The two "machines" are real runs of the traced
# tcp_server and tcp_client, each in its own UTS and pid namespace (so
# another host name and the same pids, as two machines have); everything
# is on loopback and in the test's scratch directory.  `socktrace show`
# and `check` must render the collected file exactly as they render the
# two original traces.

load helpers

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)

setup() {
	st_setup
	[[ -x $RSYSLOGD ]] || skip "rsyslog is not installed (quickstart installs it)"
	unshare -u -p -f --mount-proc true 2>/dev/null ||
		skip "cannot make UTS and pid namespaces here (unshare needs root or user namespaces)"
}

# doc_block HEADING: the first code block after the line of docs/fleet.md
# that starts with HEADING (the configurations this file runs are the
# document's own, so the two cannot drift apart)
doc_block() {
	awk -v h="$1" 'index($0, h) == 1 { c = 1 } c && /^```/ { if (n++) exit; next } c && n' \
		"$top_srcdir/docs/fleet.md"
}

# collector: the document's collecting rsyslogd, on 127.0.0.1 at a port of
# its own choice (written to coll/port), writing into coll/ instead of
# /srv/socktrace: all.jsonl, the lines as they came, and HOST.index, one
# line per event: its time from "ts", its pid and its call
start_collector() {
	mkdir -p coll
	{
		echo "global(workDirectory=\"$SCRATCH/coll\")"
		doc_block "On the collector:" | sed \
			-e "s|input(type=\"imtcp\" port=\"6514\"|input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"$SCRATCH/coll/port\"|" \
			-e "s|/srv/socktrace/|$SCRATCH/coll/|g"
	} >coll/rsyslog.conf
	grep -q listenPortFileName coll/rsyslog.conf
	"$RSYSLOGD" -N1 -f coll/rsyslog.conf >coll/check.out 2>&1 || { cat coll/check.out >&2; return 1; }
	bg_start collector "$RSYSLOGD" -n -f "$SCRATCH/coll/rsyslog.conf" -i "$SCRATCH/coll/pid"
	wait_until 30 test -s coll/port
}

# shipper NAME FILE: the document's rsyslogd of one machine, following FILE
# (which need not exist yet) instead of /var/log/socktrace/*.jsonl and
# forwarding each line to the collector
start_shipper() {
	local name=$1 file=$2
	mkdir -p "$name"
	{
		echo "global(workDirectory=\"$SCRATCH/$name\")"
		doc_block 'On each machine (`' | sed \
			-e "s|/var/log/socktrace/\*.jsonl|$file|" \
			-e "s|target=\"collector.example\" port=\"6514\"|target=\"127.0.0.1\" port=\"$(cat coll/port)\"|"
	} >"$name/rsyslog.conf"
	grep -qF "$file" "$name/rsyslog.conf"
	grep -qF 'target="127.0.0.1"' "$name/rsyslog.conf"
	bg_start "$name" "$RSYSLOGD" -n -f "$SCRATCH/$name/rsyslog.conf" -i "$SCRATCH/$name/pid"
}

# machine NAME TRACE: a real traced run of tcp_server and tcp_client (two
# connections) under the runner, in new UTS and pid namespaces whose host
# name is NAME, written to TRACE.  The shell waits for the server's listen
# line with builtins only, so both machines' processes get the same pids.
machine() {
	local name=$1 trace=$2
	mkdir -p "$SCRATCH/$name"
	mkfifo "$SCRATCH/$name/srv.out"
	unshare -u -p -f --mount-proc sh -c '
		hostname "$1" && cd "$2" && exec "$3" -o "$4" -- sh -c "
			\"\$0\" -n 2 >srv.out &
			exec 3<srv.out
			while read -r w a b c <&3; do [ \"\$w\" = listen ] && break; done
			for kv in \$a \$b \$c; do case \$kv in port=*) port=\${kv#port=};; esac; done
			\"\$1\" -p \$port -n 2 >/dev/null
			wait" "$5" "$6"' \
		sh "$name" "$SCRATCH/$name" "$SOCKTRACE" "$trace" "$(prog tcp_server)" "$(prog tcp_client)"
}

# lines FILE: the number of lines in FILE (0 when it does not exist)
lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }

collected() { [[ $(lines coll/all.jsonl) -eq $(($(lines a.jsonl) + $(lines b.jsonl))) ]]; }

# (each asked anew at every call of wait_until)
same_lines() { [[ $(lines "$1") -eq $(lines "$2") ]]; }
indexed_all() { [[ $(cat coll/*.index 2>/dev/null | wc -l) -eq $(lines coll/all.jsonl) ]]; }

# the collector and both shippers run before the traces exist, as on a fleet
collect_two_machines() {
	start_collector
	start_shipper machine-a "$SCRATCH/a.jsonl"
	start_shipper machine-b "$SCRATCH/b.jsonl"
	machine machine-a "$SCRATCH/a.jsonl"
	machine machine-b "$SCRATCH/b.jsonl"
	wait_until 60 collected
}

@test "fleet: two machines' traces shipped by rsyslog into one file render as the originals do" {
	collect_two_machines
	# two machines: other host names, the same pids
	assert_eq "$(jq -r 'select(.call == "start") | .host' a.jsonl | sort -u)" machine-a "host a"
	assert_eq "$(jq -r 'select(.call == "start") | .host' b.jsonl | sort -u)" machine-b "host b"
	assert_eq "$(jq -r 'select(.call == "start") | .pid' a.jsonl | sort -u)" \
		"$(jq -r 'select(.call == "start") | .pid' b.jsonl | sort -u)" "the same pids"
	# every line arrived as it was written, and the two files interleave
	assert_eq "$(sort coll/all.jsonl)" "$(sort a.jsonl b.jsonl)" "the collected lines"
	local f
	for f in text timeline lifecycle summary connections mermaid; do
		"$SOCKTRACE" show -f "$f" coll/all.jsonl >"collected.$f" 2>"collected.$f.err"
		"$SOCKTRACE" show -f "$f" a.jsonl b.jsonl >"originals.$f" 2>"originals.$f.err"
		assert_eq "$(cat "collected.$f")" "$(cat "originals.$f")" "show -f $f"
		assert_empty "collected.$f.err"
	done
	# 2 listeners, 4 accepted, 4 connecting sockets: each machine's own
	assert_eq "$(wc -l <collected.lifecycle)" 10 "sockets"
	assert_eq "$(wc -l <collected.connections)" 4 "connections"
	assert_eq "$(jq -c 'select(.client.traced and .server.traced)' collected.connections | wc -l)" 4 "joined on each machine"
	local rc_c=0 rc_o=0
	"$SOCKTRACE" check --rule all coll/all.jsonl >check.collected 2>&1 || rc_c=$?
	"$SOCKTRACE" check --rule all a.jsonl b.jsonl >check.originals 2>&1 || rc_o=$?
	assert_eq "$rc_c" "$rc_o" "check's exit status"
	assert_eq "$(cat check.collected)" "$(cat check.originals)" "check's findings"
}

@test "fleet: the collector parses each line as JSON and takes the event's time from ts" {
	collect_two_machines
	wait_until 30 indexed_all
	cat coll/*.index >index.txt
	# what rsyslog made of ts, pid and call, against the same from jq (the
	# microseconds as written: a JSON number loses its trailing zeros)
	paste -d ' ' <(jq -r '.ts | floor | todate | sub("Z$"; "")' coll/all.jsonl) \
		<(sed -E 's/^[{]"v":[0-9]+,"ts":[0-9]+[.]([0-9]{6}),.*/.\1Z/' coll/all.jsonl) \
		<(jq -r '"\(.pid) \(.call)"' coll/all.jsonl) | sed 's/ [.]/./' >expected.txt
	assert_eq "$(cat index.txt)" "$(cat expected.txt)" "time, pid and call"
	# the times are the events' own (microseconds kept), not the collector's
	grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z [0-9]+ start$' index.txt
}

@test "fleet: lines appended while the program runs are shipped as they are written" {
	start_collector
	start_shipper machine-a "$SCRATCH/live.jsonl"
	# a traced server that waits: its listen reaches the collector before it ends
	SOCKTRACE_OUTPUT=$SCRATCH/live.jsonl bg_start srv traced "$(prog tcp_server)" -n 1
	wait_line srv '^listen ' >/dev/null
	wait_until 30 grep -q '"call":"listen"' coll/all.jsonl
	kill -0 "${BG[srv]}"	# still running: nothing waited for its end
	PORT=$(fact "$SCRATCH/srv.out" listen port)
	traced "$(prog tcp_client)" -p "$PORT" -n 1 >/dev/null
	bg_wait srv
	wait_until 60 same_lines coll/all.jsonl live.jsonl
	assert_eq "$(cat coll/all.jsonl)" "$(cat live.jsonl)" "the collected lines, in order"
}
