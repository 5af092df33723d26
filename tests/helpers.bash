# SPDX-License-Identifier: MIT
# helpers.bash - shared helpers of the bats tests (load 'helpers').
#
# Owns: where the built shim, CLI and test programs are; a scratch
# directory per test; running a program under the shim into a JSON Lines
# trace; background servers and waiting for their ready line (never a
# fixed sleep, never a fixed port: servers bind port 0 and print it);
# selecting events with jq; assertions that say what differed.
#
# make check exports top_builddir, SHIM, SOCKTRACE and TESTPROGS.  To run
# one file by hand from a build directory B:
#   top_builddir=B bats tests/shim_tcp.bats

export LC_ALL=C
: "${top_builddir:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${SHIM:=$top_builddir/shim/.libs/libsocktrace.so}"
: "${SOCKTRACE:=$top_builddir/src/socktrace}"
: "${TESTPROGS:=$top_builddir/tests}"
export top_builddir SHIM SOCKTRACE TESTPROGS

# --- set-up and tear-down -------------------------------------------------

# Every test: its own scratch directory, the default trace file, and the
# background processes it started (killed at the end, by pid).
st_setup() {
	SCRATCH=$BATS_TEST_TMPDIR
	TRACE=$SCRATCH/trace.jsonl
	declare -gA BG=() BG_TRACE=()
	cd "$SCRATCH" || return 1
	[[ -f $SHIM ]] || { echo "shim not built: $SHIM" >&2; return 1; }
	[[ -x $TESTPROGS/tcp_server ]] || { echo "test programs not built in $TESTPROGS (make check builds them)" >&2; return 1; }
	unset SOCKTRACE_OUTPUT SOCKTRACE_FORMAT SOCKTRACE_STACK SOCKTRACE_PROBE SOCKTRACE_FAMILIES
}

st_teardown() {
	local name
	for name in "${!BG[@]}"; do
		kill "${BG[$name]}" 2>/dev/null || true
	done
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		# the test failed: show what was recorded
		local f
		for f in "$SCRATCH"/*.jsonl "$SCRATCH"/*.out "$SCRATCH"/*.err; do
			[[ -s $f ]] || continue
			echo "--- $f (first 40 lines)"
			head -n 40 "$f"
		done
	fi
}

setup() { st_setup; }
teardown() { st_teardown; }

# --- running programs -----------------------------------------------------

# prog NAME: the path of a test program.
prog() { echo "$TESTPROGS/$1"; }

# ST_TRACE_MODE says how `traced` and `bg_start NAME traced` trace:
#   preload (the default): the shim preloaded by hand writes the trace
#     itself (LD_PRELOAD, SOCKTRACE_OUTPUT, SOCKTRACE_FORMAT);
#   runner: through the runner, `socktrace -A -o FILE -f FORMAT -- CMD`: the
#     processes hand their events over in shared memory and the runner's
#     watcher writes the trace.  The runner execs CMD in place (the pid is
#     the program's, so is the exit status), appends (-A: a test puts
#     several programs into one trace) and adds an end event "by":"runner"
#     when CMD ends.  It uses $SHIM (SOCKTRACE_SHIM).
# `make check-runner` runs the robustness files in runner mode.  A case that
# only holds in one mode says so with `need_mode`.
: "${ST_TRACE_MODE:=preload}"
case $ST_TRACE_MODE in
preload | runner) ;;
*) echo "helpers: ST_TRACE_MODE must be preload or runner, not '$ST_TRACE_MODE'" >&2; exit 2 ;;
esac
export ST_TRACE_MODE

# need_mode MODE WHY: skip the case unless the tests run in MODE (preload
# or runner), saying WHY it holds in that mode only.
need_mode() {
	[[ $ST_TRACE_MODE == "$1" ]] || skip "$1 mode only: $2"
}

# runner_ends N: how many end events "by":"runner" N programs run with
# `traced` add to their trace: N in runner mode, 0 in preload mode.
runner_ends() {
	if [[ $ST_TRACE_MODE == runner ]]; then echo "$1"; else echo 0; fi
}

# trace_settle FILE: in runner mode, wait (at most 10 s) until no watcher
# holds FILE any more, so that its last lines (the end event) are written,
# as they are once a program ends in preload mode.  Fails after 10 s.
trace_settle() {
	[[ $ST_TRACE_MODE == runner ]] || return 0
	local f i
	f=$(realpath -m -- "$1")
	for ((i = 0; i < 1000; i++)); do
		watcher_of "$f" >/dev/null || return 0
		sleep 0.01
	done
	echo "trace_settle: a watcher still holds $f after 10 s" >&2
	return 1
}

# The runner's command line for `traced CMD...` (in ST_RUN).
st_runner_cmd() {
	ST_RUN=("$SOCKTRACE" -A -o "${SOCKTRACE_OUTPUT:-$TRACE}" -f "${SOCKTRACE_FORMAT:-jsonl}" --)
}

# traced_prefix: the words that run a command as `traced` would, in the
# array TRACED, for a command that another one starts (timeout, setpriv):
#   traced_prefix; timeout 60 "${TRACED[@]}" CMD ARGS...; trace_settle "$TRACE"
# (an env(1) command line in preload mode, the runner's in runner mode).
traced_prefix() {
	local out=${SOCKTRACE_OUTPUT:-$TRACE} fmt=${SOCKTRACE_FORMAT:-jsonl}
	if [[ $ST_TRACE_MODE == runner ]]; then
		TRACED=(env SOCKTRACE_SHIM="$SHIM" "$SOCKTRACE" -A -o "$out" -f "$fmt" --)
	else
		TRACED=(env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT="$out" SOCKTRACE_FORMAT="$fmt")
	fi
}

# traced CMD ARGS...: run CMD under the shim, events to $TRACE (or to
# $SOCKTRACE_OUTPUT when the caller set it) as JSON Lines (or as
# $SOCKTRACE_FORMAT).  Other SOCKTRACE_* variables set by the caller pass.
# In runner mode through the runner (ST_TRACE_MODE above); it returns once
# the trace is written (trace_settle).
traced() {
	if [[ $ST_TRACE_MODE == runner ]]; then
		local ST_RUN rc=0 out=${SOCKTRACE_OUTPUT:-$TRACE}
		st_runner_cmd
		SOCKTRACE_SHIM=$SHIM "${ST_RUN[@]}" "$@" || rc=$?
		[[ $out == *%p* ]] || trace_settle "$out" || true
		return "$rc"
	fi
	LD_PRELOAD=$SHIM SOCKTRACE_OUTPUT=${SOCKTRACE_OUTPUT:-$TRACE} \
		SOCKTRACE_FORMAT=${SOCKTRACE_FORMAT:-jsonl} "$@"
}

# bg_start NAME [traced] CMD ARGS...: start CMD in the background (as
# `traced` would run it when the word traced comes first), stdout in
# $SCRATCH/NAME.out, stderr in $SCRATCH/NAME.err.  CMD is exec'd by a
# child of this shell: ${BG[NAME]} is its pid and this shell its parent
# (in runner mode too: the runner execs CMD in place).  bg_wait waits for
# the trace to be written too.
bg_start() {
	local name=$1
	shift
	if [[ $1 == traced ]]; then
		BG_TRACE[$name]=${SOCKTRACE_OUTPUT:-$TRACE}
	fi
	# emptied here, before the program starts: a wait for a line of its
	# output must not find the one a previous run left there
	: >"$SCRATCH/$name.out"
	: >"$SCRATCH/$name.err"
	(
		if [[ $1 == traced ]]; then
			shift
			if [[ $ST_TRACE_MODE == runner ]]; then
				st_runner_cmd
				export SOCKTRACE_SHIM=$SHIM
				exec "${ST_RUN[@]}" "$@"
			fi
			export LD_PRELOAD=$SHIM SOCKTRACE_OUTPUT=${SOCKTRACE_OUTPUT:-$TRACE} \
				SOCKTRACE_FORMAT=${SOCKTRACE_FORMAT:-jsonl}
		fi
		exec "$@"
	) >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" 3>&- &
	BG[$name]=$!
}

# bg_wait NAME: wait for the background process; its exit status is the
# function's (and in $BG_STATUS).  Fails after 30 s.
bg_wait() {
	local name=$1 pid=${BG[$1]} i
	for ((i = 0; i < 3000; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "bg_wait: $name (pid $pid) still running after 30 s" >&2
		return 1
	fi
	BG_STATUS=0
	wait "$pid" || BG_STATUS=$?
	unset "BG[$name]"
	if [[ -n ${BG_TRACE[$name]:-} ]]; then
		[[ ${BG_TRACE[$name]} == *%p* ]] || trace_settle "${BG_TRACE[$name]}" || true
		unset "BG_TRACE[$name]"
	fi
	return "$BG_STATUS"
}

# wait_line NAME REGEX [SECONDS]: wait until the background process NAME
# printed a line matching REGEX (grep -E) and print the first such line.
# Fails when NAME exits first or after SECONDS (10).
wait_line() {
	local name=$1 re=$2 secs=${3:-10} out=$SCRATCH/$1.out i line
	for ((i = 0; i < secs * 100; i++)); do
		line=$(grep -E -m1 -- "$re" "$out" 2>/dev/null) && { echo "$line"; return 0; }
		if ! kill -0 "${BG[$name]}" 2>/dev/null; then
			line=$(grep -E -m1 -- "$re" "$out" 2>/dev/null) && { echo "$line"; return 0; }
			echo "wait_line: $name exited before printing /$re/; stdout:" >&2
			cat "$out" "$SCRATCH/$name.err" >&2
			return 1
		fi
		sleep 0.01
	done
	echo "wait_line: no /$re/ from $name within $secs s" >&2
	return 1
}

# wait_until SECONDS CMD...: poll CMD (every 10 ms) until it succeeds.
wait_until() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 100; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	echo "wait_until: '$*' still false after $secs s" >&2
	return 1
}

# watcher_of FILE: the pid of the runner's watcher (socktrace-watch) holding
# FILE, the trace it writes
watcher_of() {
	local p
	for p in $(pgrep -x socktrace-watch); do
		if ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "$1"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# free_port: a TCP port of 127.0.0.1 free right now, found by binding to
# port 0 (prefer servers that bind 0 themselves and print their port).
free_port() {
	"$PYTHON3" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The real python3 binary (not a wrapper script, which would be traced too).
PYTHON3=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)

# tcp_pair "SERVER ARGS" "CLIENT ARGS": run tcp_server traced into a new
# $SCRATCH/srv.jsonl and, once it is listening, tcp_client traced into
# $SCRATCH/cli.jsonl; both must exit 0.  Sets PORT, S and C (the traces);
# the programs' facts are in srv.out and cli.out.
tcp_pair() {
	local sargs=$1 cargs=$2 rc=0
	S=$SCRATCH/srv.jsonl
	C=$SCRATCH/cli.jsonl
	rm -f "$S" "$C"		# traces are appended to: start afresh
	# shellcheck disable=SC2086
	SOCKTRACE_OUTPUT=$S bg_start srv traced "$(prog tcp_server)" $sargs
	wait_line srv '^listen ' >/dev/null || return 1
	PORT=$(fact "$SCRATCH/srv.out" listen port) || return 1
	# shellcheck disable=SC2086
	SOCKTRACE_OUTPUT=$C traced "$(prog tcp_client)" -p "$PORT" $cargs \
		>"$SCRATCH/cli.out" 2>"$SCRATCH/cli.err" || rc=$?
	if [[ $rc != 0 ]]; then
		echo "tcp_client $cargs -p $PORT exited $rc" >&2
		cat "$SCRATCH/cli.out" "$SCRATCH/cli.err" >&2
		return 1
	fi
	bg_wait srv || { echo "tcp_server $sargs exited $BG_STATUS" >&2; cat "$SCRATCH/srv.err" >&2; return 1; }
}

# --- facts printed by the test programs -----------------------------------

# fact FILE WORD KEY [N]: the value of KEY= on the Nth (1) line of FILE
# that starts with WORD, e.g. fact srv.out listen port  ->  41234
fact() {
	local file=$1 word=$2 k=$3 n=${4:-1} v
	v=$(awk -v w="$word" -v k="$k" -v n="$n" '
		$1 == w && ++seen == n {
			for (i = 2; i <= NF; i++)
				if (index($i, k "=") == 1) { print substr($i, length(k) + 2); found = 1; exit }
		}
		END { exit !found }' "$file") || {
		echo "fact: no '$word ... $k=' (#$n) in $file:" >&2
		cat "$file" >&2
		return 1
	}
	echo "$v"
}

# --- selecting events -----------------------------------------------------

# ev FILTER [FILE]: the events (compact, one per line) for which the jq
# boolean FILTER holds, e.g.  ev '.call=="close" and .fd==3'
ev() { jq -c "select($1)" "${2:-$TRACE}"; }

# nev FILTER [FILE]: how many events match.
nev() { jq -c "select($1)" "${2:-$TRACE}" | wc -l; }

# one FILTER [FILE]: the single event matching FILTER; fails (showing the
# matches) unless there is exactly one.
one() {
	local out n
	out=$(jq -c "select($1)" "${2:-$TRACE}") || return 1
	n=$(printf '%s' "$out" | grep -c '^' || true)
	if [[ $n != 1 ]]; then
		echo "one: $n events match [$1] in ${2:-$TRACE}, expected exactly 1:" >&2
		[[ -n $out ]] && echo "$out" >&2
		return 1
	fi
	echo "$out"
}

# get EVENT PATH: a field of one event, raw (jq -r), "null" when absent.
get() { jq -r "$2" <<<"$1"; }

# --- assertions -----------------------------------------------------------

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	if [[ "$1" != "$2" ]]; then
		echo "${3:-value}: expected '$2', got '$1'" >&2
		return 1
	fi
}

# assert_field EVENT PATH EXPECTED: jq -r PATH on EVENT equals EXPECTED.
assert_field() {
	local v
	v=$(jq -r "$2" <<<"$1") || { echo "assert_field: bad event: $1" >&2; return 1; }
	if [[ "$v" != "$3" ]]; then
		echo "field $2: expected '$3', got '$v' in:" >&2
		echo "$1" >&2
		return 1
	fi
}

# assert_count N FILTER [FILE]
assert_count() {
	local n
	n=$(nev "$2" "${3:-$TRACE}")
	if [[ $n != "$1" ]]; then
		echo "expected $1 events matching [$2], got $n:" >&2
		ev "$2" "${3:-$TRACE}" | head -n 20 >&2
		return 1
	fi
}

# assert_some FILTER [FILE]: at least one event matches.
assert_some() {
	local n
	n=$(nev "$1" "${2:-$TRACE}")
	if [[ $n -lt 1 ]]; then
		echo "expected some event matching [$1], found none" >&2
		return 1
	fi
}

# assert_valid_jsonl FILE: every line is one JSON object of schema v1.
assert_valid_jsonl() {
	local f=${1:-$TRACE} lines good i
	# a runner's watcher writes the end record after the program ended:
	# read the file once it has (a slow build may still be writing)
	for ((i = 0; i < 1000; i++)); do
		watcher_of "$(realpath -m -- "$f")" >/dev/null || break
		sleep 0.01
	done
	lines=$(wc -l <"$f")
	[[ $lines -gt 0 ]] || { echo "$f is empty" >&2; return 1; }
	[[ -z $(tail -c 1 "$f") ]] || { echo "$f: last line has no newline" >&2; return 1; }
	good=$(jq -R 'try (fromjson | select(type == "object" and .v == 1) | 1) catch empty' "$f" | wc -l)
	if [[ $good != "$lines" ]]; then
		echo "$f: $((lines - good)) of $lines lines are not JSON objects with \"v\":1:" >&2
		jq -R 'try (fromjson | select(type == "object" and .v == 1) | empty) catch .' "$f" 2>&1 | head -n 5 >&2
		grep -v '^{"v":1,' "$f" | head -n 5 >&2
		return 1
	fi
}

# assert_seq_ok [FILE]: for every process image (a pid, from each start
# event on: an exec starts the count again), seq runs 1..N without gaps or
# repeats.  An end event, written by another process about this one, has no
# seq.
assert_seq_ok() {
	local bad
	bad=$(jq -s -r '[.[] | select(has("seq"))] | group_by(.pid)[]
		| [foreach .[] as $e (-1; if $e.call == "start" or . < 0 then . + 1 else . end;
			{img: ., seq: $e.seq, pid: $e.pid})]
		| group_by(.img)[] | .[0] as $f | (map(.seq) | sort) as $s
		| select($s != [range(1; ($s | length) + 1)])
		| "pid \($f.pid) (image \($f.img + 1)): \($s | length) events, seq \($s[0])..\($s[-1])"' "${1:-$TRACE}")
	if [[ -n $bad ]]; then
		echo "seq gaps or repeats: $bad" >&2
		return 1
	fi
}

# assert_clean FILE: no byte below 0x20 but the newline, no DEL, no ESC,
# no C1 control (c2 80-9f), no bidi control or line separator as UTF-8:
# text output that escaped whatever it did not write itself.
assert_clean() {
	local bad re='[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c'
	bad=$(LC_ALL=C grep -c -P "$re" "$1" || true)
	if [[ $bad != 0 ]]; then
		echo "$1: $bad lines with raw control bytes:" >&2
		LC_ALL=C grep -n -P "$re" "$1" | cat -v | head -n 5 >&2
		return 1
	fi
}

# assert_empty FILE: FILE (e.g. a program's stderr) is empty.
assert_empty() {
	if [[ -s $1 ]]; then
		echo "expected $1 to be empty, it holds:" >&2
		head -n 20 "$1" >&2
		return 1
	fi
}

# need_tw_room: skip unless the kernel can still make TIME_WAIT sockets.
# When its table is full (net.ipv4.tcp_max_tw_buckets, e.g. while a
# benchmark churns connections on the same machine) closing connections
# make none, and a test about them would test the load instead.
need_tw_room() {
	local max now
	max=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets 2>/dev/null) || return 0
	now=$(ss -Htan state time-wait 2>/dev/null | wc -l)
	if ((now > max * 9 / 10)); then
		skip "the kernel's TIME_WAIT table is nearly full ($now of $max)"
	fi
}
