#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The start event never cuts the command line or the program's path
# without saying so: "argc" is the program's real argument count, always;
# "argv_cut" names each argument kept only in part with its whole length;
# "exe_cut" says the path is longer than the kernel tells.  An argument is
# cut on a UTF-8 character's boundary.  The text format says it too.
# It also says where the process ran: host, boot, run, cgroup, pid
# namespace, by both sink paths (the runner's shared memory, the shim's own
# file), and one run id for every process of a run.

load helpers

TRUE=$(type -P true)

# start [FILE]: the start event of the trace
start() { one '.call=="start"' "${1:-$TRACE}"; }

@test "start: 3000 arguments: argv keeps 512, argc says 3001, the text says so" {
	# shellcheck disable=SC2046
	traced "$TRUE" $(seq 1 3000)
	e=$(start)
	assert_field "$e" .argc 3001
	assert_field "$e" '.argv | length' 512
	assert_field "$e" '.argv[511]' 511
	assert_field "$e" .argv_cut null
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qF '"510", "511", ... /* 3001 args */])'
}

@test "start: an argument of 20000 bytes is kept in part, and argv_cut says how long it was" {
	traced "$TRUE" "$(head -c 20000 /dev/zero | tr '\0' A)" last
	e=$(start)
	assert_field "$e" .argc 3
	assert_field "$e" '.argv | length' 3
	assert_field "$e" '.argv[1] | length' 16384
	assert_field "$e" .argv[2] last
	assert_field "$e" '.argv_cut | tostring' '[{"index":1,"bytes":20000}]'
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qE '"A{16384}"\.\.\. /\* 20000 bytes \*/, "last"\]\)'
}

@test "start: an argument cut inside a UTF-8 character is cut before it" {
	arg=$(for ((i = 0; i < 9000; i++)); do printf '\303\251'; done)
	traced "$TRUE" "$arg"
	# no half character written as \u00c3 in the trace
	! grep -q 'u00c3' "$TRACE"
	e=$(start)
	assert_field "$e" '.argv[1] | length' 8192
	assert_field "$e" '.argv[1] | utf8bytelength' 16384
	assert_field "$e" '.argv_cut | tostring' '[{"index":1,"bytes":18000}]'
}

@test "start: six long arguments: 64 KiB kept, the first ones in part, the rest counted" {
	a=$(head -c 20000 /dev/zero | tr '\0' B)
	traced "$TRUE" "$a" "$a" "$a" "$a" "$a" "$a"
	e=$(start)
	assert_field "$e" .argc 7
	n=$(get "$e" '.argv | length')
	(( n >= 4 && n < 7 )) || { echo "argv has $n entries" >&2; false; }
	assert_field "$e" '[.argv[] | utf8bytelength] | add <= 65536' true
	# every argument kept but argv[0] is kept in part, and said so
	assert_field "$e" '[.argv_cut[].index] | tostring' "$(seq 1 $((n - 1)) | jq -sc .)"
	assert_field "$e" '[.argv_cut[].bytes] | unique | tostring' '[20000]'
	# the line stays far below what a reader takes, and reads back
	(( $(head -n 1 "$TRACE" | wc -c) < 200000 ))
	"$SOCKTRACE" show -f text "$TRACE" >/dev/null
}

@test "start: empty arguments and a short command line are kept whole, argc equal to argv's length" {
	traced "$TRUE" a "" b
	e=$(start)
	assert_field "$e" .argc 4
	assert_field "$e" '.argv | tostring' "[\"$TRUE\",\"a\",\"\",\"b\"]"
	assert_field "$e" .argv_cut null
	assert_field "$e" .exe_cut null
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qF "[\"$TRUE\", \"a\", \"\", \"b\"])"
}

@test "start: a program whose path is longer than the kernel tells: exe_cut, exe absent" {
	mkdir deep
	(
		cd deep || exit 1
		for ((i = 0; i < 20; i++)); do
			d=$(printf 'd%.0s' {1..250})
			mkdir "$d" && cd "$d" || exit 1
		done
		cp "$TRUE" ./prog
		LD_PRELOAD=$SHIM SOCKTRACE_OUTPUT=$TRACE ./prog
	)
	rm -rf deep
	e=$(start)
	assert_field "$e" .exe_cut true
	assert_field "$e" .exe null
	assert_field "$e" '.argv | tostring' '["./prog"]'
	"$SOCKTRACE" show -f text "$TRACE" | head -n 1 | grep -qF 'start(? /* longer than the kernel tells */, ["./prog"])'
}

@test "start: a forged argv_cut of the wrong shape is a bad line, named" {
	printf '{"v":1,"ts":1,"pid":1,"call":"start","argv":["a"],"argc":1,"argv_cut":[{"index":"x"}]}\n' >bad.jsonl
	status=0
	"$SOCKTRACE" show bad.jsonl >out 2>err || status=$?
	assert_eq "$status" 2 "exit status"
	grep -qF 'bad.jsonl:1: argv_cut[0]: expected the keys "index" and "bytes"' err
	printf '{"v":1,"ts":1,"pid":1,"call":"start","argv":["a"],"argc":-1}\n' >bad2.jsonl
	status=0
	"$SOCKTRACE" show bad2.jsonl >out 2>err || status=$?
	assert_eq "$status" 2 "exit status"
	grep -qF 'bad2.jsonl:1: "argc" is -1, out of range' err
}

# the identity a start event must carry here, as the kernel tells it
expect_identity() {
	local e=$1
	assert_field "$e" .host "$(uname -n)"
	assert_field "$e" .boot "$(cat /proc/sys/kernel/random/boot_id)"
	assert_field "$e" .pidns "$(stat -L -c %i /proc/self/ns/pid)"
	cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[[ -n $cg ]] || cg=$(head -n 1 /proc/self/cgroup | cut -d: -f3-)
	# a test's shell and its program may sit in one cgroup or in two
	# siblings (systemd's scopes): the path is the kernel's either way
	[[ $(get "$e" .cgroup) == /* ]] || { echo "cgroup: $(get "$e" .cgroup), the test's: $cg"; false; }
}

@test "start: the runner's processes (shared memory) name host, boot, cgroup, pid namespace and one run id, new each run" {
	"$SOCKTRACE" -o "$TRACE" -- "$(prog procs)" vfork-dup2 >out 2>err
	assert_count 2 '.call=="start"'	# the server, and echo that its vfork child exec'd
	while read -r e; do expect_identity "$e"; done < <(ev '.call=="start"')
	run1=$(jq -r 'select(.call=="start") | .run' "$TRACE" | sort -u)
	assert_eq "$(wc -l <<<"$run1")" 1 "one run id for every process"
	[[ $run1 =~ ^[0-9a-f]{32}$ ]] || { echo "run id: $run1"; false; }
	"$SOCKTRACE" -o t2.jsonl -- "$TRUE"
	run2=$(start t2.jsonl | jq -r .run)
	[[ $run2 =~ ^[0-9a-f]{32}$ && $run2 != "$run1" ]] || { echo "second run's id: $run2"; false; }
	# an id from the environment is another run's: the runner replaces it
	SOCKTRACE_RUN=ci-job-7 "$SOCKTRACE" -o t3.jsonl -- "$TRUE"
	[[ $(start t3.jsonl | jq -r .run) != ci-job-7 ]]
}

@test "start: without the runner, the run is SOCKTRACE_RUN's, else unknown; the environment the program sees is unchanged" {
	traced "$(prog procs)" vfork-dup2 >out 2>err
	assert_count 2 '.call=="start"'
	while read -r e; do expect_identity "$e"; done < <(ev '.call=="start"')
	assert_count 0 '.call=="start" and has("run")'
	# the program's environment, bare and traced, is the same
	SOCKTRACE_OUTPUT=t1.jsonl traced env | grep -v '^LD_PRELOAD=\|^SOCKTRACE_OUTPUT=\|^SOCKTRACE_FORMAT=' | sort >env.traced
	env | grep -v '^LD_PRELOAD=\|^SOCKTRACE_OUTPUT=\|^SOCKTRACE_FORMAT=' | sort >env.bare
	diff -u env.bare env.traced
	SOCKTRACE_RUN=ci-job-7 SOCKTRACE_OUTPUT=t2.jsonl traced "$(prog procs)" vfork-dup2 >out2 2>err2
	assert_eq "$(jq -r 'select(.call=="start") | .run' t2.jsonl | sort -u)" ci-job-7 "every process's run"
	# a bad one: one warning, and the run unknown
	SOCKTRACE_RUN='bad id' SOCKTRACE_OUTPUT=t3.jsonl traced "$TRUE" 2>err3
	grep -qF "SOCKTRACE_RUN must be 1 to 64 letters" err3
	assert_eq "$(start t3.jsonl | jq -r .run)" null "run of a refused id"
}
