#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Text output escapes what it did not write itself: a string of a trace
# (forged, or chosen by a peer or by another local user: an abstract
# address, a process's comm) reaches the terminal as \xNN, \n, \uXXXX,
# never as raw control bytes, C1 controls or bidi overrides - in the
# shim's live text log on stderr, in `show -f text`, in `show -f json`,
# and in the reader's own messages that echo input.

load helpers

# The poison put in front of every string: ESC ] (set the window title),
# BEL, C1 CSI (U+009B), a newline that would forge a line, a bidi override
# (U+202E), a byte that is not UTF-8 (0xff, as \u00ff), then plain é.
POISON='\u001b]0;T\u0007\u009b\nX\u202e\u00e9'

@test "escape: every string of a forged trace reaches show -f text escaped, one line per line" {
	for t in "$BATS_TEST_DIRNAME"/data/*.jsonl; do
		# the jq helper builds the poison from JSON escapes: write it as
		# JSON text so jq decodes \uXXXX itself
		jq -c --argjson p "\"$POISON\"" '
			def p: if type == "object" then
				with_entries(if (.key | IN("call", "ip", "off", "sym_off")) then . else .value |= p end)
			elif type == "array" then map(p)
			elif type == "string" then $p + .
			else . end;
			p' "$t" >poisoned.jsonl
		"$SOCKTRACE" show --utc -f text "$t" >plain.txt
		status=0
		"$SOCKTRACE" show --utc -f text poisoned.jsonl >poisoned.txt 2>err || status=$?
		# addresses grown past what a socket address can be are refused,
		# with their line named; the rest is shown
		[[ $status == 0 || $status == 2 ]]
		assert_clean poisoned.txt
		assert_clean err
		if [[ $status == 0 ]]; then
			assert_eq "$(wc -l <poisoned.txt)" "$(wc -l <plain.txt)" "lines of show -f text for $t"
		fi
		grep -qF '\x1b]0;T\x07\u009b\nX\u202eé' poisoned.txt
	done
}

@test "escape: show -f json writes C1 controls and bidi overrides as \\u escapes" {
	printf '{"v":1,"ts":1,"pid":1,"call":"socket","ret":3,"fd":3,"family":"AF_UNIX","local":"@%s"}\n' "$POISON" >p.jsonl
	"$SOCKTRACE" show -f json p.jsonl >out.json
	assert_clean out.json
	grep -qF '"local":"@\u001b]0;T\u0007\u009b\nX\u202eé"' out.json
	# and jq reads back the same string
	assert_eq "$(jq -r .local out.json | od -An -tx1 | tr -d ' \n')" \
		"$(jq -r .local p.jsonl | od -An -tx1 | tr -d ' \n')" "the address, byte for byte"
}

@test "escape: a byte that is not UTF-8 and a lone continuation byte show as \\xNN in the live log" {
	# the live log renders the shim's own bytes: an abstract name with 0xff
	# and 0x9b (C1 CSI in Latin-1), ESC and a newline
	status=0
	LC_ALL=C.UTF-8 LD_PRELOAD=$SHIM "$(prog unixsock)" stream "@$(printf 'a\xff\x9b[31m\033[2J\nb')" >out 2>live.txt || status=$?
	assert_eq "$status" 0 "exit status"
	assert_clean live.txt
	grep -qF ', @a\xff\x9b[31m\x1b[2J\nb) = 0' live.txt
	# the JSON trace writes a byte that is not UTF-8 as the code point of the
	# same value (\u00ff): JSON strings hold text, not bytes
	traced "$(prog unixsock)" stream "@$(printf 'a\xff\x9b[31m\033[2J\nb')" >out
	grep -qF '"addr":"@a\u00ff\u009b[31m\u001b[2J\nb"' "$TRACE"
	"$SOCKTRACE" show -f text "$TRACE" >shown.txt
	assert_clean shown.txt
}

@test "escape: UTF-8 text is kept as it is, in a UTF-8 locale; every byte >= 0x80 is escaped in others" {
	name="@café-日本"
	LC_ALL=C.UTF-8 LD_PRELOAD=$SHIM "$(prog unixsock)" stream "$name" >out 2>utf8.txt
	grep -qF ", @café-日本) = 0" utf8.txt
	LC_ALL=C LANG=en_US.UTF-8 LD_PRELOAD=$SHIM "$(prog unixsock)" stream "$name" >out 2>c.txt
	grep -qF ', @caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac) = 0' c.txt
	# show keeps valid UTF-8: only the hostile code points are escaped
	traced "$(prog unixsock)" stream "$name" >out
	"$SOCKTRACE" show -f text "$TRACE" | grep -qF ", @café-日本) = 0"
}

@test "escape: the reader's messages escape what they echo: file name, call, jansson's token" {
	name=$(printf 'n\033[31m.jsonl')
	{
		printf '{"v":1,"ts":1,"pid":1,"call":"\\u001b[31mEVIL\\nforged"}\n'
		printf '{"v":1,"ts":1,"pid":1,"call":"socket","stack":[{"ip":"\\u001b[2J"}]}\n'
		printf '{"v":1,\033[2J}\n'
	} >"$name"
	status=0
	"$SOCKTRACE" show "$name" >out 2>err || status=$?
	assert_eq "$status" 2 "exit status"
	assert_clean err
	assert_eq "$(wc -l <err)" 3 "lines on stderr"
	grep -qF 'socktrace: n\x1b[31m.jsonl:1: unknown call "\x1b[31mEVIL\nforged"' err
	grep -qF 'socktrace: n\x1b[31m.jsonl:2: stack[0]: "ip" is "\x1b[2J", expected a 0x... address' err
	grep -qF "socktrace: n\\x1b[31m.jsonl:3: not JSON: string or '}' expected near '\\x1b'" err
}

# hostile_dir: a world-readable scratch directory another user can run
# scripts from (the test's own is not)
hostile_dir() {
	D=$(mktemp -d /tmp/socktrace-esc.XXXXXX)
	chmod 755 "$D"
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# need_nobody_python: root, setpriv, and a python3 nobody can run (in $NPY)
need_nobody_python() {
	[[ $EUID == 0 ]] || skip "needs root to run the peer as another user (nobody)"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	NPY=
	for p in "$PYTHON3" /usr/bin/python3; do
		if [[ -x $p ]] && as_nobody "$p" -c pass 2>/dev/null; then
			NPY=$p
			break
		fi
	done
	[[ -n $NPY ]] || skip "no python3 that nobody can run"
}

@test "escape: another user's abstract address with ESC and a newline: the live log and show -f text stay clean" {
	need_nobody_python
	hostile_dir
	srv="socktrace-esc-$$-$BATS_TEST_NUMBER"
	# (python's indentation in spaces: <<- strips the tabs only)
	cat >"$D/server.py" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.bind(b'\0' + sys.argv[1].encode()); s.listen(1); s.settimeout(20)
	print('ready', flush=True)
	c, peer = s.accept(); c.send(b'x'); c.close(); s.close()
	PY
	cat >"$D/client.py" <<-'PY'
	import socket, sys, time
	c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	c.bind(b'\0\x1b]0;PWNED\x07\x1b[2J\x1b[31mEVIL\n12:00:00.000000 [1] close(3) = 0  forged line')
	c.connect(b'\0' + sys.argv[1].encode())
	c.recv(1)
	PY
	for out in live jsonl; do
		if [[ $out == live ]]; then
			LD_PRELOAD=$SHIM "$NPY" "$D/server.py" "$srv" >srv.out 2>live.txt &
		else
			traced "$NPY" "$D/server.py" "$srv" >srv.out 2>/dev/null &
		fi
		pid=$!
		wait_until 10 grep -q ready srv.out
		as_nobody "$NPY" "$D/client.py" "$srv"
		wait "$pid"
		rm -f srv.out
	done
	rm -rf "$D"
	assert_clean live.txt
	grep -qF '\x1b]0;PWNED\x07\x1b[2J\x1b[31mEVIL\n12:00:00.000000 [1] close(3) = 0  forged line' live.txt
	! grep -q '^12:00:00.000000 \[1\] close' live.txt
	"$SOCKTRACE" show -f text "$TRACE" >shown.txt
	assert_clean shown.txt
	grep -qE 'accept4?\([0-9]+, @\\x1b\]0;PWNED' shown.txt
	! grep -q '^12:00:00.000000 \[1\] close' shown.txt
}

@test "escape: a port holder's comm (PR_SET_NAME) with ESC and a newline: the EADDRINUSE explanation stays clean" {
	runner=()
	NPY=$PYTHON3
	if [[ $EUID == 0 ]] && command -v setpriv >/dev/null; then
		need_nobody_python
		runner=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	fi
	[[ -n $NPY ]] || skip "needs python3"
	hostile_dir
	cat >"$D/holder.py" <<-'PY'
	import ctypes, socket, time
	ctypes.CDLL(None).prctl(15, b'\x1b[2J\x1b[31mEVIL\n', 0, 0, 0)
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))
	print('port', u.getsockname()[1], flush=True)
	time.sleep(20)
	PY
	cat >"$D/binder.py" <<-'PY'
	import socket, sys
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	try:
	    u.bind(('127.0.0.1', int(sys.argv[1])))
	except OSError:
	    pass
	PY
	"${runner[@]}" "$NPY" "$D/holder.py" >holder.out &
	BG[holder]=$!
	wait_until 10 grep -q '^port' holder.out
	port=$(awk '/^port/ { print $2 }' holder.out)
	LD_PRELOAD=$SHIM "$NPY" "$D/binder.py" "$port" 2>live.txt
	traced "$NPY" "$D/binder.py" "$port"
	kill "${BG[holder]}"
	rm -rf "$D"
	assert_clean live.txt
	grep -qF '(\x1b[2J\x1b[31mEVIL\n)' live.txt
	"$SOCKTRACE" show -f text "$TRACE" >shown.txt
	assert_clean shown.txt
	grep -qF '(\x1b[2J\x1b[31mEVIL\n)' shown.txt
}
