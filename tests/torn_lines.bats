#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Torn lines: a writer of a shared trace cut short inside write(2) (killed
# by SIGKILL, which stops a write between pages; or out of disk space,
# where a write comes back short) leaves part of an event.  The shim never
# writes the rest of a short write (another writer's line could land in
# between) and starts its next event on a new line; a fragment another
# process left is glued to the next writer's line.  Either way every line
# of the file parses or is a fragment `socktrace show` names (file, line,
# bytes), and no whole event after a fragment is lost.  --strict stops at
# the first fragment.

load helpers

PIECES=$BATS_TEST_DIRNAME/scripts/pieces.py

teardown() {
	if [[ -n ${FS:-} ]] && mountpoint -q "$FS"; then
		umount "$FS" || umount -l "$FS"
	fi
	st_teardown
}

# check_pieces FILE: what the file holds (read by pieces.py, apart from
# socktrace) is what show reads: the same whole events, each fragment
# named with its line and size.  Sets WHOLE and FRAGMENTS.
check_pieces() {
	local f=$1 p n line bytes shown
	p=$("$PYTHON3" "$PIECES" "$f")
	WHOLE=$(jq .whole <<<"$p")
	FRAGMENTS=$(jq '.fragments | length' <<<"$p")
	status=0
	"$SOCKTRACE" show -f json "$f" >shown.jsonl 2>shown.err || status=$?
	shown=$(wc -l <shown.jsonl)
	assert_eq "$shown" "$WHOLE" "events shown of $f (pieces: $p)"
	if [[ $FRAGMENTS == 0 ]]; then
		assert_eq "$status" 0 "exit status of show on $f"
		# nothing said, but (a process SIGKILLed while its threads
		# wrote) the events it had numbered and not yet written, and (a
		# thread held off the CPU between its clock and its write, on a
		# loaded machine) events that came later than the window
		! grep -Ev '^socktrace: (the trace lacks at least [0-9]* events? .*; the first, pid [0-9]*, lacks|[0-9]* events came more than the window \([0-9]* ms\)(, or more than the [0-9]* events the window holds,)? after a later one)' shown.err ||
			{ cat shown.err >&2; return 1; }
		return 0
	fi
	assert_eq "$status" 2 "exit status of show on $f"
	# each fragment named (the first five: then they are counted)
	while read -r line bytes; do
		grep -qF "socktrace: $f:$line: an event cut short ($bytes bytes" shown.err ||
			grep -qF "socktrace: $f:$line: truncated last line" shown.err || {
			echo "fragment of $bytes bytes on line $line not named:" >&2
			cat shown.err >&2
			return 1
		}
	done < <(jq -r '.fragments[:5][] | "\(.[0]) \(.[1])"' <<<"$p")
	# and --strict stops there
	status=0
	"$SOCKTRACE" show --strict -f json "$f" >/dev/null 2>&1 || status=$?
	assert_eq "$status" 2 "exit status of show --strict on $f"
}

@test "torn: a fragment glued to the next event at a 4096-byte boundary costs the fragment only" {
	good=$BATS_TEST_DIRNAME/data/restart.jsonl
	n=$(wc -l <"$good")
	# lines 1-3 whole, line 4 cut where the file reaches 4096 bytes (its
	# writer killed between pages), line 5 glued on, the rest whole
	head -n 3 "$good" >torn.jsonl
	have=$(stat -c %s torn.jsonl)
	four=$(sed -n 4p "$good")
	keep=$(( (4096 - have % 4096) % 4096 ))
	(( keep > 0 && keep < ${#four} )) || keep=$(( ${#four} / 2 ))
	printf '%s' "${four:0:keep}" >>torn.jsonl
	sed -n '5,$p' "$good" >>torn.jsonl
	check_pieces torn.jsonl
	assert_eq "$WHOLE" "$((n - 1))" "whole events"
	assert_eq "$FRAGMENTS" 1 "fragments"
	grep -qx "socktrace: torn.jsonl:4: an event cut short ($keep bytes: its writer was killed, or a full disk or the file size limit cut it) with the next event glued on: the fragment is skipped" shown.err
	# every other event is there
	diff <(sed 4d "$good" | jq -c '[.pid, .seq, .call]' | sort) <(jq -c '[.pid, .seq, .call]' shown.jsonl | sort)
	# two fragments glued in one line, and a fragment that ends its line
	{
		head -n 2 "$good"
		sed -n 3p "$good" | head -c 50
		sed -n 4p "$good" | head -c 70
		sed -n 5p "$good"
		sed -n 6p "$good" | head -c 90
		echo
		sed -n '7,$p' "$good"
	} >two.jsonl
	check_pieces two.jsonl
	assert_eq "$WHOLE" "$((n - 3))" "whole events"
	grep -qx "socktrace: two.jsonl:3: an event cut short (50 bytes: .*) with the next event glued on: the fragment is skipped" shown.err
	grep -qx "socktrace: two.jsonl:3: an event cut short (70 bytes: .*) with the next event glued on: the fragment is skipped" shown.err
	grep -qx "socktrace: two.jsonl:4: an event cut short (90 bytes: its writer was killed, or a full disk or the file size limit cut it): skipped" shown.err
	# fragments shorter than an event's opening '{"v":' (a full disk cut
	# the line after its first bytes), each on a line of its own
	{
		head -n 2 "$good"
		for k in 1 2 3 4; do
			sed -n 3p "$good" | head -c "$k"
			echo
		done
		sed -n '4,$p' "$good"
	} >short.jsonl
	check_pieces short.jsonl
	assert_eq "$WHOLE" "$((n - 1))" "whole events"
	assert_eq "$FRAGMENTS" 4 "fragments"
	for k in 1 2 3 4; do
		grep -qx "socktrace: short.jsonl:$((k + 2)): an event cut short ($k bytes: its writer was killed, or a full disk or the file size limit cut it): skipped" shown.err
	done
}

@test "torn: a child SIGKILLed while its 8 threads write, its parent writing on into the same file" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	runs=12 frags=0
	for ((i = 1; i <= runs; i++)); do
		rm -f "$TRACE"
		SOCKTRACE_STACK=16 traced "$(prog torn)" kill $((RANDOM % 20 + 5)) >out
		check_pieces "$TRACE"
		frags=$((frags + FRAGMENTS))
		# the parent's events after the kill are all there
		parent=$(jq -r 'select(.call == "start") | .pid' shown.jsonl | head -n 1)
		after=$(fact out after fd)
		assert_eq "$(jq -c "select(.pid == $parent and .call == \"socket\" and .fd == $after)" shown.jsonl | wc -l)" 1 "the parent's socket after the kill (run $i)"
		assert_eq "$(jq -c "select(.pid == $parent and .call == \"close\" and .fd == $after)" shown.jsonl | wc -l)" 1 "the parent's close after the kill (run $i)"
		assert_eq "$(jq -c "select(.pid == $parent and .call == \"exit\")" shown.jsonl | wc -l)" 1 "the parent's exit (run $i)"
		# the parent's own events have no gap
		jq -c "select(.pid == $parent)" shown.jsonl >parent.jsonl
		assert_seq_ok parent.jsonl
	done
	echo "# $frags fragments in $runs runs, each named, every whole event kept" >&3
}

@test "torn: the disk fills up and frees again: one fragment at most, ended by a newline, and the events after the gap whole" {
	[[ $EUID == 0 ]] || skip "needs root to mount a small tmpfs"
	[[ -n $PYTHON3 ]] || skip "needs python3"
	FS=$SCRATCH/fs
	mkdir "$FS"
	mount -t tmpfs -o size=64k tmpfs "$FS" || skip "cannot mount a tmpfs"
	head -c 16384 /dev/zero >"$FS/filler"
	status=0
	SOCKTRACE_OUTPUT=$FS/t.jsonl bg_start torn traced "$(prog torn)" phases 1000 "$FS/filler" 5
	wait_line torn '^phase1 done' >/dev/null
	rm "$FS/filler"
	bg_wait torn || status=$?
	cp "$FS/t.jsonl" t.jsonl
	umount "$FS"
	assert_eq "$status" 0 "exit status"
	grep -q '^phase2 done ' "$SCRATCH/torn.out"
	# one warning, the program's output unchanged
	assert_eq "$(wc -l <"$SCRATCH/torn.err")" 1 "lines on stderr"
	grep -q '^socktrace: warning: cannot write the trace, events are being lost' "$SCRATCH/torn.err"
	check_pieces t.jsonl
	[[ $FRAGMENTS -le 1 ]]
	# the shim's newline keeps every event after the fragment on its own line
	assert_eq "$(grep -c '{"v":.*{"v":' t.jsonl)" 0 "lines with two events"
	# the events after the gap: the last 5 sockets and closes, and exit,
	# numbered on from those before it
	pid=$(jq -r 'select(.call == "start") | .pid' shown.jsonl)
	fd=$(fact "$SCRATCH/torn.out" 'phase2' fd)
	tail -n 11 shown.jsonl >after.jsonl
	assert_eq "$(jq -r '.call' after.jsonl | sort | uniq -c | tr -s ' ' | tr '\n' ,)" " 5 close, 1 exit, 5 socket," "events after the gap"
	assert_eq "$(jq -r 'select(.call == "close") | .fd' after.jsonl | sort -u)" "$fd" "descriptor of the last sockets"
	assert_eq "$(jq -r .pid after.jsonl | sort -u)" "$pid" "pid of the events after the gap"
	last=$(jq -r .seq after.jsonl | tail -n 1)
	first=$(jq -r .seq after.jsonl | head -n 1)
	assert_eq "$((last - first))" 10 "the events after the gap are numbered without a hole"
	(( first > 1000 )) || { echo "seq after the gap: $first" >&2; false; }
	echo "# $FRAGMENTS fragment, $WHOLE whole events of $((last)) written" >&3
}
