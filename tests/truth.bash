# SPDX-License-Identifier: MIT
# truth.bash - helpers of the truth_*.bats files (load helpers, then load
# truth): what a trace says about a socket's end and a process's end,
# compared with what the kernel showed.

# ends_once INODE [FILE]: exactly one event ends the socket (the one with
# last true) and no later event of that process carries its inode; the
# event is left in $END.  Call it as a command, not inside $(...), so that
# a failed assertion stops the test.
ends_once() {
	local ino=$1 f=${2:-$TRACE} seq pid
	END=$(one ".inode==$ino and .last==true" "$f")
	seq=$(get "$END" .seq)
	pid=$(get "$END" .pid)
	assert_count 0 ".inode==$ino and .pid==$pid and .seq>$seq" "$f"
}

# rule_holds RULE [FILE...]: socktrace check --rule RULE exits 0.
rule_holds() {
	local rule=$1
	shift
	run "$SOCKTRACE" check --rule "$rule" "${@:-$TRACE}"
	if [[ $status != 0 ]]; then
		echo "check --rule $rule exited $status, expected 0:" >&2
		echo "$output" >&2
		return 1
	fi
}

# rule_fails RULE PATTERN [FILE...]: check --rule RULE exits 1 and its
# output matches PATTERN (a bash glob).
rule_fails() {
	local rule=$1 pat=$2
	shift 2
	run "$SOCKTRACE" check --rule "$rule" "${@:-$TRACE}"
	if [[ $status != 1 || $output != $pat ]]; then
		echo "check --rule $rule exited $status, expected 1 with output like '$pat':" >&2
		echo "$output" >&2
		return 1
	fi
}

# view FORMAT [FILE...]: socktrace show -f FORMAT into $VIEW (exit 0).
view() {
	local f=$1
	shift
	VIEW=$("$SOCKTRACE" show -f "$f" "${@:-$TRACE}") || {
		echo "show -f $f failed" >&2
		return 1
	}
}

# view_has TEXT / view_lacks TEXT: $VIEW contains (or not) TEXT.
view_has() {
	[[ $VIEW == *"$1"* ]] || { echo "expected '$1' in:" >&2; echo "$VIEW" >&2; return 1; }
}
view_lacks() {
	[[ $VIEW != *"$1"* ]] || { echo "did not expect '$1' in:" >&2; echo "$VIEW" >&2; return 1; }
}

# view_line ERE: a line of $VIEW matches the extended regex ERE.
view_line() {
	grep -qE -- "$1" <<<"$VIEW" || { echo "expected a line matching /$1/ in:" >&2; echo "$VIEW" >&2; return 1; }
}

# conn_block TEXT: in $VIEW (a timeline), the connection blocks whose
# header line contains TEXT: their number in NCONN, the first one (up to
# its blank line) in BLOCK.
conn_block() {
	NCONN=$(grep -c -F -- "$1" <<<"$(grep '^connection #' <<<"$VIEW")" || true)
	BLOCK=$(awk -v t="$1" '/^connection #/ && index($0, t) { on = 1 } on && /^$/ { exit } on' <<<"$VIEW")
}

# one_end_per_process [FILE]: every pid that started has exactly one end:
# an exit event or an end event (a parent's wait, daemon, the runner).
one_end_per_process() {
	local bad
	bad=$(jq -s -r '
		(map(select(.call=="start") | .pid) | unique) as $pids
		| $pids[] as $p
		| [ .[] | select(.pid==$p and (.call=="exit" or .call=="end")) ] as $ends
		| ([ $ends[] | select(.call=="exit") ] | length) as $x
		| select($x > ([ .[] | select(.pid==$p and .call=="start") ] | length)
			or ($ends | length) == 0)
		| "pid \($p): \($ends | length) ends (\($x) exit events)"' "${1:-$TRACE}")
	[[ -z $bad ]] || { echo "processes without their one end: $bad" >&2; return 1; }
}
