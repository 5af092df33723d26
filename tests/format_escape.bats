#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Every format of `show` and every report of `check` escapes what it did
# not write itself: a real program's hostile names (an argv with ESC and a
# newline, an abstract address, a unix path, a port holder's comm set with
# PR_SET_NAME) reach timeline, lifecycle, summary and mermaid, the text
# report, GitHub annotations and JUnit XML as \xNN, \n, \uXXXX - never as
# raw control bytes nor as a line of their own; mermaid writes what its
# syntax reads (; # < > & " %) as entity codes; the XML stays well-formed.

load helpers

FORMATS="timeline lifecycle summary mermaid"

# no line of FILE starts (after blanks) with the word a hostile string put
# after its newline
assert_no_forged() {
	if LC_ALL=C grep -n -E '^[[:space:]]*FORGED' "$1" >&2; then
		echo "$1: a string of the trace started a line of its own" >&2
		return 1
	fi
}

# mermaid FILE: the diagram's shape holds - a header, then participants,
# messages and notes only, and none of ; # < > " % & left bare in a text
assert_mermaid_shape() {
	local bad
	assert_eq "$(head -n 1 "$1")" "sequenceDiagram" "first line of $1"
	bad=$(tail -n +2 "$1" | LC_ALL=C grep -c -v -E \
		'^    (participant P[0-9]+ as .*|P[0-9]+-?-?(>>|x)P[0-9]+: .*|Note over P[0-9]+(,P[0-9]+)?: .*)$' || true)
	assert_eq "$bad" 0 "lines of $1 that are no statement"
	bad=$(tail -n +2 "$1" | sed -E 's/^    P[0-9]+-?-?(>>|x)P[0-9]+:/    M:/; s/#[0-9a-z]+;//g' |
		LC_ALL=C grep -c '[;#<>"%&]' || true)
	assert_eq "$bad" 0 "lines of $1 with a bare ; # < > \" % or &"
}

# assert_xml FILE: well-formed XML
assert_xml() {
	"$PYTHON3" -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1"
}

# hostile_trace: trace a python program whose names are hostile into
# $TRACE: its argv, an abstract unix listener and its client, a unix path,
# a bind that fails with EADDRINUSE against a holder whose comm is set
# with PR_SET_NAME, a refused connect; it leaves every socket open (leaks)
hostile_trace() {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	cat >holder.py <<-'PY'
	import ctypes, socket, time
	ctypes.CDLL(None).prctl(15, b'\x1b[2J\x1b[31mEV\nFORGED', 0, 0, 0)
	s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
	print('port', s.getsockname()[1], flush=True)
	time.sleep(60)
	PY
	cat >hostile.py <<-'PY'
	import os, socket, sys
	d, port = sys.argv[2], int(sys.argv[3])
	name = b'\0\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\nFORGED abstract;#<b>"%%&\xe2\x80\xae'
	a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind(name); a.listen(1)
	c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(name)
	s, _ = a.accept()
	p = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	p.bind(os.path.join(d.encode(), b'\x1b[31mp\nFORGED path'))
	t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	try:
	    t.bind(('127.0.0.1', port))
	except OSError:
	    pass
	k = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	try:
	    k.connect(('127.0.0.1', 1))
	except OSError:
	    pass
	os._exit(0)
	PY
	bg_start holder "$PYTHON3" holder.py
	port=$(wait_line holder '^port' | awk '{ print $2 }')
	"$SOCKTRACE" -o "$TRACE" -- "$PYTHON3" hostile.py "$(printf 'arg\033[31m\nFORGED argv')" \
		"$SCRATCH" "$port"
	kill "${BG[holder]}"
	# the trace holds them as JSON escapes
	grep -qF '\u001b]0;PWNED\u0007\u001b[2J\u009b\nFORGED abstract' "$TRACE"
	grep -qF '\u001b[2J\u001b[31mEV\nFOR' "$TRACE"
}

@test "format escape: a real program's hostile names reach timeline, lifecycle, summary, mermaid and chrome escaped, no line forged" {
	hostile_trace
	for f in $FORMATS; do
		"$SOCKTRACE" show -f "$f" "$TRACE" >"$f.txt"
		assert_clean "$f.txt"
		assert_no_forged "$f.txt"
	done
	# each shows the strings escaped, visibly
	grep -qF '@\x1b]0;PWNED\x07\x1b[2J\u009b\nFORGED abstract;#<b>"%%&\u202e' timeline.txt
	grep -qF '/\x1b[31mp\nFORGED path' timeline.txt
	grep -qF '(python3 hostile.py arg\x1b[31m FORGED' timeline.txt
	grep -qF 'held by 127.0.0.1:' timeline.txt
	grep -qF '(\x1b[2J\x1b[31mEV\nFOR)' timeline.txt
	grep -qE '^pid=[0-9]+ fd=[0-9]+ unix @\\x1b\]0;PWNED\\x07\\x1b\[2J\\u009b\\nFORGED abstract;#<b>"%%&\\u202e socket bind listen accept4? \(open at exit\)$' lifecycle.txt
	grep -qF '/\x1b[31mp\nFORGED path socket bind (open at exit)' lifecycle.txt
	grep -qF 'unix /' summary.txt
	grep -qF '\x1b[31mp\nFORGED path (bound)' summary.txt
	# mermaid: entity codes for what its syntax reads
	assert_mermaid_shape mermaid.txt
	grep -qF 'Note over P1: listen @\x1b]0#59;PWNED\x07\x1b[2J\u009b\nFORGED abstract#59;#35;#60;b#62;#quot;#37;#37;#38;\u202e (backlog ' mermaid.txt
	grep -qF 'as python3 hostile.py arg\x1b[31m FORGED' mermaid.txt
	# chrome: JSON in ASCII, socket slices named as a screen shows them
	"$SOCKTRACE" show -f chrome "$TRACE" >chrome.json
	assert_clean chrome.json
	assert_eq "$(LC_ALL=C grep -cP '[\x80-\xff]' chrome.json || true)" 0 "lines with bytes above ASCII"
	"$PYTHON3" "$top_srcdir/tests/scripts/chrome_check.py" chrome.json >/dev/null
	jq -e '[.traceEvents[] | select(.cat == "socket") | .name] |
		index("unix listen @\\x1b]0;PWNED\\x07\\x1b[2J\\u009b\\nFORGED abstract;#<b>\"%%&\\u202e")' chrome.json >/dev/null
	# and lifecycle is what check --expect compares: the escaped text matches
	"$SOCKTRACE" check --expect 'unix @\\x1b]0;PWNED* socket bind listen accept' "$TRACE"
}

@test "format escape: check's text report, GitHub annotations and JUnit XML of hostile names: escaped, one line per violation, well-formed XML" {
	hostile_trace
	status=0
	"$SOCKTRACE" check --rule all --expect 'unix nothing' --junit report.xml "$TRACE" >text.txt || status=$?
	assert_eq "$status" 1 "check's exit status"
	assert_clean text.txt
	assert_no_forged text.txt
	# one line per violation: each starts with its rule
	assert_eq "$(LC_ALL=C grep -c -v -E '^(no-leaks|no-eaddrinuse|handshakes|expect: unix nothing): ' text.txt || true)" 0 \
		"lines of the text report that are no violation"
	grep -qF 'no-leaks: pid ' text.txt
	grep -qF '(python3 hostile.py arg\x1b[31m FORGED...): unix stream @\x1b]0;PWNED\x07\x1b[2J\u009b\nFORGED abstract;#<b>"%%&\u202e (fd ' text.txt
	grep -qF 'unix dgram /' text.txt
	grep -qF '/\x1b[31mp\nFORGED path (fd ' text.txt
	grep -qF "closest: pid=" text.txt

	status=0
	"$SOCKTRACE" check --rule all --expect 'unix nothing' --format=github "$TRACE" >gh.txt || status=$?
	assert_eq "$status" 1 "check --format=github's exit status"
	assert_clean gh.txt
	assert_no_forged gh.txt
	assert_eq "$(LC_ALL=C grep -c -v '^::error title=socktrace [^:,]*::' gh.txt || true)" 0 \
		"lines that are no annotation"
	grep -qF '::error title=socktrace expect%3A unix nothing::' gh.txt
	grep -qF 'FORGED abstract;#<b>"%25%25&\u202e' gh.txt

	assert_clean report.xml
	assert_xml report.xml
	grep -qF 'FORGED abstract;#&lt;b&gt;&quot;%%&amp;\u202e' report.xml
	"$PYTHON3" - report.xml <<-'PY'
	import sys, xml.dom.minidom
	d = xml.dom.minidom.parse(sys.argv[1])
	cases = d.getElementsByTagName('testcase')
	assert len(cases) == 6, len(cases)
	f = [c for c in cases if c.getAttribute('name') == 'no-leaks'][0].getElementsByTagName('failure')[0]
	assert '\\x1b[31mp\\nFORGED path' in f.firstChild.data, f.firstChild.data
	PY
}

@test "format escape: every string of every golden trace poisoned: every format and every report stays clean, no line forged" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	for t in "$BATS_TEST_DIRNAME"/data/*.jsonl; do
		# ESC ] (window title), BEL, C1 CSI, a newline that would start a
		# line FORGED, a bidi override, then mermaid's ; # < > " %
		jq -c --argjson p '"\u001b]0;T\u0007\u009b\nFORGED\u202e;#<>\"%"' '
			def p: if type == "object" then
				with_entries(if (.key | IN("call", "ip", "off", "sym_off")) then . else .value |= p end)
			elif type == "array" then map(p)
			elif type == "string" then $p + .
			else . end;
			p' "$t" >poisoned.jsonl
		for f in $FORMATS; do
			status=0
			"$SOCKTRACE" show --utc -f "$f" poisoned.jsonl >"$f.txt" 2>err || status=$?
			[[ $status == 0 || $status == 2 ]]
			assert_clean "$f.txt"
			assert_clean err
			assert_no_forged "$f.txt"
			assert_no_forged err
		done
		assert_mermaid_shape mermaid.txt
		status=0
		"$SOCKTRACE" check --rule all --expect 'tcp nothing' --junit report.xml poisoned.jsonl >text.txt 2>err ||
			status=$?
		[[ $status == 1 || $status == 2 ]]
		for f in text.txt err; do
			assert_clean "$f"
			assert_no_forged "$f"
		done
		if [[ -f report.xml ]]; then
			assert_clean report.xml
			assert_xml report.xml
			rm report.xml
		fi
		"$SOCKTRACE" check --rule all --format=github poisoned.jsonl >gh.txt 2>/dev/null || true
		assert_clean gh.txt
		assert_no_forged gh.txt
	done
}

@test "format escape: a backslash of a name is written doubled, so that every backslash shown starts an escape" {
	printf '{"v":1,"ts":1,"pid":7,"call":"socket","ret":3,"fd":3,"family":"AF_UNIX","type":"SOCK_DGRAM"}\n' >b.jsonl
	printf '{"v":1,"ts":1.1,"pid":7,"call":"bind","ret":0,"fd":3,"addr":"/tmp/a\\\\b","local":"/tmp/a\\\\b"}\n' >>b.jsonl
	"$SOCKTRACE" show -f lifecycle b.jsonl >out.txt
	assert_eq "$(cat out.txt)" 'pid=7 fd=3 unix /tmp/a\\b socket bind (open at end of trace)'
}

@test "format escape: check --expect against a forged \"×N\" in a name costs the name only, not N words" {
	printf '{"v":1,"ts":1,"pid":7,"call":"socket","ret":3,"fd":3,"family":"AF_INET","type":"SOCK_STREAM","proto":"tcp"}\n' >x.jsonl
	printf '{"v":1,"ts":1.1,"pid":7,"call":"setsockopt","ret":0,"fd":3,"level":"SOL_SOCKET","optname":"X\xc3\x9730000000"}\n' >>x.jsonl
	printf '{"v":1,"ts":1.2,"pid":7,"call":"setsockopt","ret":0,"fd":3,"level":"SOL_SOCKET","optname":"a \xc3\x9730000000 b"}\n' >>x.jsonl
	status=0
	timeout 60 /usr/bin/env time -f %M -o rss "$SOCKTRACE" check --expect 'tcp socket close' x.jsonl >out.txt 2>err ||
		status=$?
	assert_eq "$status" 1 "check's exit status (no match, in moments)"
	(($(tail -n 1 rss) < 100000))
	grep -qF 'setsockopt(X×30000000)' out.txt
}
