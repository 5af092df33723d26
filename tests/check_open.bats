#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# check --rule max-open=N and summary's "at most N open at once" against
# the kernel: real programs whose processes share sockets print the most
# sockets their /proc/self/fd named at once (each socket once), and the
# trace must say the same.  A copy a process closed (or let go of in any
# other way) stops counting in that process while another still holds the
# socket; a child counts what it inherited from its fork on.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	st_setup
}

HOLDPEAK=$top_srcdir/tests/scripts/holdpeak.py

# every "parent|child pid=P n=K" line of out (the peak of each image, the
# larger per pid) is said by check: each process over the bound is named on
# a line with its peak, or counted on the line of the processes of its
# program with the same peak ("; N such processes: pid A at T, ..., and M
# more"), so that for each peak K the lines count as many processes as
# /proc had with K, and every pid they name had K in /proc
same_as_proc() {
	local out=$1 role pid n line k count named p
	declare -A peak=() want=() got=()
	while read -r role pid n; do
		[[ $role == parent || $role == child ]] || continue
		pid=${pid#pid=} n=${n#n=}
		((n > ${peak[$pid]:-0})) && peak[$pid]=$n
	done <"$out"
	((${#peak[@]} > 1)) || { echo "no processes in $out:" >&2; cat "$out" >&2; return 1; }
	for pid in "${!peak[@]}"; do
		want[${peak[$pid]}]=$((${want[${peak[$pid]}]:-0} + 1))
	done
	run "$SOCKTRACE" check --rule max-open=0 "$TRACE"
	assert_eq "$status" 1 "every process held a socket: $output"
	for line in "${lines[@]}"; do
		[[ $line =~ ^max-open=0:\ pid\ ([0-9]+)\ .*:\ ([0-9]+)\ sockets\ open\ at\ once ]] ||
			{ echo "not a line of max-open: $line" >&2; return 1; }
		pid=${BASH_REMATCH[1]} k=${BASH_REMATCH[2]} count=1 named=
		if [[ $line =~ \;\ ([0-9]+)\ such\ processes:\ (.*)$ ]]; then
			count=${BASH_REMATCH[1]} named=${BASH_REMATCH[2]}
		fi
		got[$k]=$((${got[$k]:-0} + count))
		for p in $pid $(grep -o 'pid [0-9]*' <<<"$named" | cut -d' ' -f2); do
			assert_eq "${peak[$p]:-none}" "$k" "pid $p: /proc against check's line: $line"
		done
	done
	for k in "${!want[@]}" "${!got[@]}"; do
		assert_eq "${got[$k]:-0}" "${want[$k]:-0}" "processes with a peak of $k: $output"
	done
}

@test "max-open: a server that forks a child per connection counts its own copies, not the children's" {
	traced "$PYTHON3" "$HOLDPEAK" fork 5 >out
	same_as_proc out
	# the parent's peak is 3 (listener, its client end, the accepted one
	# before its close), however many connections there were
	assert_eq "$(fact out parent n)" 3 "the parent's peak in /proc"
	run "$SOCKTRACE" check --rule max-open=3 "$TRACE"
	assert_eq "$status" 0 "$output"
	run "$SOCKTRACE" check --rule max-open=2 "$TRACE"
	assert_eq "$status" 1
	[[ ${lines[0]} == "max-open=2: pid $(fact out parent pid) (python3 "*"): 3 sockets open at once"* ]]
}

@test "summary: a forking server's sockets end with the child that held them last" {
	traced "$PYTHON3" "$HOLDPEAK" fork 5 >out
	run "$SOCKTRACE" show -f summary "$TRACE"
	assert_eq "$status" 0 "$output"
	# each child exits holding its connection: the socket ends there, it
	# does not stay open for the rest of the trace.  The parent waits for
	# each child, so no two connections overlap: at most the listener,
	# one connection's two ends
	# "sockets" line of each block: the server's endpoint, then everything
	server=$(awk '/\(server side\)$/ { s = 1 } s && $1 == "sockets" { print; exit }' <<<"$output")
	all=$(awk '/^all endpoints$/ { s = 1 } s && $1 == "sockets" { print; exit }' <<<"$output")
	[[ $all == *", at most $(fact out parent n) open at once, "* ]] || { echo "$output" >&2; return 1; }
	[[ $server == *", at most 2 open at once, "* ]] || { echo "$output" >&2; return 1; }
}

@test "max-open: copies let go of by close, dup2 over, close_range, SCM_RIGHTS then close, and exec's close-on-exec" {
	traced "$PYTHON3" "$HOLDPEAK" copies >out
	same_as_proc out
	# the parent's peak is its new image's (sp kept through the exec, and
	# eight more); the child's, five more after it closed its four copies
	assert_eq "$(fact out parent n 2)" 9 "the parent's new image in /proc"
	assert_eq "$(fact out child n)" 8 "the child in /proc"
}

@test "max-open names the image that held the sockets at the peak, not the one the pid exec'd later (nor the one before)" {
	cat >opens.py <<'PY'
import os, socket, sys
# argv: how many sockets this image holds at once, then the next image's
# count, and so on: each image holds its own and execs the next
n = int(sys.argv[1])
keep = [socket.socket() for i in range(n)]
print("image n=%d pid=%d" % (n, os.getpid()), flush=True)
if len(sys.argv) > 2:
    os.execv(sys.executable, [sys.executable, "opens.py"] + sys.argv[2:])
PY
	# the peak in the first image, then in the last
	for counts in "5 1" "1 5"; do
		rm -f "$TRACE"
		# shellcheck disable=SC2086 # the counts are words on purpose
		traced "$PYTHON3" opens.py $counts >opens.out
		peak=$(tr ' ' '\n' <<<"$counts" | sort -n | tail -n 1)
		assert_eq "$(jq -r 'select(.call == "start") | .pid' "$TRACE" | sort -u | wc -l)" 1 "one pid: $counts"
		# python's sockets are close-on-exec: the images never hold each other's
		run "$SOCKTRACE" check --rule max-open=3 "$TRACE"
		assert_eq "$status" 1 "$counts: $output"
		assert_eq "${#lines[@]}" 1 "$counts: $output"
		[[ ${lines[0]} == "max-open=3: pid "*" (python3 opens.py $peak"*"): $peak sockets open at once (at "*"), more than 3" ]] ||
			{ echo "$counts: $output" >&2; false; }
	done
}
