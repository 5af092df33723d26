#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# socktrace check's CI reports, read the way CI reads them: GitHub
# workflow annotations through a parser written to the runner's rules
# (tests/scripts/gh_annotations.py), JUnit XML through an XML parser.

load helpers
bats_require_minimum_version 1.5.0

GH=$BATS_TEST_DIRNAME/scripts/gh_annotations.py

# A real program: python3 connecting N times to a port of ::1 that is bound
# but not listening (each connect refused, each socket closed, so each
# attempt is the same finding on the same descriptor).
REFUSE='import socket, sys
b = socket.socket(socket.AF_INET6); b.bind(("::1", 0))
print("bound port=%d" % b.getsockname()[1], flush=True)
for i in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET6)
    try:
        s.connect(("::1", b.getsockname()[1]))
    except ConnectionRefusedError:
        pass
    s.close()
b.close()'

refuse() {
	printf '%s\n' "$REFUSE" >refuse.py
	traced "$PYTHON3" refuse.py "$@" >refuse.out
	PORT=$(fact refuse.out bound port)
}

@test "github: titles with [::1], pid=1,2, % and a newline reach the runner whole; identical findings are one annotation with a count" {
	refuse 7
	pattern=$'pid=1,2 tcp [::1]:* socket 100%\nbind'
	run "$SOCKTRACE" check --rule handshakes --expect "$pattern" --format=github "$TRACE"
	assert_eq "$status" 1 "exit status"
	printf '%s\n' "$output" >gh.out
	"$PYTHON3" "$GH" <gh.out >gh.json
	assert_eq "$(wc -l <gh.json)" 2 "annotations: $output"
	assert_eq "$(jq -r 'select(.command=="error") | .properties.title' gh.json | head -n 1)" "socktrace handshakes (×7)"
	pid=$(jq -r 'select(.call=="start") | .pid' "$TRACE")
	fd=$(jq -r 'select(.call=="connect") | .fd' "$TRACE" | sort -u)
	# one line for the seven: the first, the count, five examples and the rest counted
	data=$(jq -r '.data' gh.json | head -n 1)
	[[ $data == "pid $pid (python3 refuse.py 7): connect to [::1]:$PORT failed with ECONNREFUSED (fd $fd); 7 such connects failed the same way: pid $pid fd $fd [::]:"*" -> [::1]:$PORT, "*", and 2 more" ]] ||
		{ echo "$data" >&2; false; }
	title=$(jq -r 'select(.properties.title | startswith("socktrace expect")) | .properties.title' gh.json)
	# the pattern as every report shows it (a newline as \n, as for a
	# terminal), then whole through the runner's parser
	shown=${pattern//$'\n'/\\n}
	assert_eq "$title" "socktrace expect: $shown" "the pattern's title, unescaped"
	data=$(jq -r 'select(.properties.title | startswith("socktrace expect")) | .data' gh.json)
	[[ $data == "no socket matches '$shown'; closest: pid="*" tcp [::1]:$PORT socket bind close"* ]]
	# one line per annotation: the newlines went out escaped
	assert_eq "$(wc -l <gh.out)" 2 "output lines"
}

@test "github: a clean run prints no annotation; notes are notices" {
	refuse 1
	run "$SOCKTRACE" check --rule no-leaks --format=github "$TRACE"
	assert_eq "$status" 0 "$output"
	assert_eq "$(printf '%s\n' "$output" | "$PYTHON3" "$GH" | jq -r 'select(.command=="error")' | wc -l)" 0
}

JC=$BATS_TEST_DIRNAME/scripts/junit_check.py

@test "junit: the report has the attributes strict readers require, a failure per broken rule" {
	refuse 3
	before=$(date -u +%s)
	run "$SOCKTRACE" check --rule handshakes --rule no-leaks --junit report.xml "$TRACE"
	assert_eq "$status" 1 "$output"
	"$PYTHON3" "$JC" report.xml >junit.json
	assert_eq "$(jq -c '[.tests, .failures, .errors]' junit.json)" "[2,1,0]"
	assert_eq "$(jq -r .hostname junit.json)" "$(hostname)"
	stamp=$(date -u -d "$(jq -r .timestamp junit.json)Z" +%s)
	((stamp >= before - 1 && stamp <= $(date -u +%s))) || { echo "timestamp $stamp not within the run ($before..)"; false; }
	assert_eq "$(jq -r '.cases[0] | .name + " " + .result' junit.json)" "handshakes failure"
	[[ $(jq -r '.cases[0].message' junit.json) == "3 violations: pid "*": connect to [::1]:$PORT failed with ECONNREFUSED"* ]]
	assert_eq "$(jq -r '.cases[1] | .name + " " + .result' junit.json)" "no-leaks ok"
}

@test "junit: unusable input (exit 2) still writes a report, its error naming the file and line" {
	refuse 1
	n=$(wc -l <"$TRACE")
	# the run's real trace with its last event cut in half, as a killed writer leaves it
	head -n $((n - 1)) "$TRACE" >cut.jsonl
	tail -n 1 "$TRACE" | head -c 20 >>cut.jsonl
	run "$SOCKTRACE" check --junit report.xml cut.jsonl
	assert_eq "$status" 2 "$output"
	"$PYTHON3" "$JC" report.xml >junit.json
	assert_eq "$(jq -c '[.tests, .failures, .errors]' junit.json)" "[1,0,1]"
	assert_eq "$(jq -r '.cases[0] | .name + " " + .result' junit.json)" "input error"
	[[ $(jq -r '.cases[0].message' junit.json) == "the trace is not usable as it is (1 problem); nothing was checked" ]]
	[[ $(jq -r '.cases[0].text' junit.json) == *$'\n'"cut.jsonl:$n: truncated last line"* ]]
	# and an empty trace, and a usage error given after --junit
	: >empty.jsonl
	run "$SOCKTRACE" check --junit report.xml empty.jsonl
	assert_eq "$status" 2
	[[ $("$PYTHON3" "$JC" report.xml | jq -r '.cases[0].text') == *$'\n'"empty.jsonl: empty file: no events"* ]]
	run "$SOCKTRACE" check --junit report.xml --rule no-such-rule "$TRACE"
	assert_eq "$status" 2
	[[ $("$PYTHON3" "$JC" report.xml | jq -r '.cases[0].message') == *"unknown rule 'no-such-rule'"* ]]
}

@test "junit: a usage error is a usage error (testcase usage, type usage, exit 2), before --junit on the line as after it" {
	refuse 1
	for order in before after; do
		rm -f report.xml
		if [[ $order == before ]]; then
			run "$SOCKTRACE" check --rule no-such-rule --junit report.xml "$TRACE"
		else
			run "$SOCKTRACE" check --junit report.xml --rule no-such-rule "$TRACE"
		fi
		assert_eq "$status" 2 "$order: $output"
		[[ $output == "socktrace: check: unknown rule 'no-such-rule'"* ]] || { echo "$order: $output" >&2; false; }
		"$PYTHON3" "$JC" report.xml >junit.json
		assert_eq "$(jq -c '[.tests, .failures, .errors]' junit.json)" "[1,0,1]" "$order"
		assert_eq "$(jq -r '.cases[0] | .name + " " + .result + " " + .type' junit.json)" "usage error usage" "$order"
		[[ $(jq -r '.cases[0].message' junit.json) == "unknown rule 'no-such-rule'"* ]]
	done
	# a bad pattern too; a bad trace stays unusable input
	run "$SOCKTRACE" check --expect 'tcp ((' --junit report.xml "$TRACE"
	assert_eq "$status" 2
	assert_eq "$("$PYTHON3" "$JC" report.xml | jq -r '.cases[0] | .name + " " + .type')" "usage usage"
	printf 'not json\n' >bad.jsonl
	run "$SOCKTRACE" check --junit report.xml bad.jsonl
	assert_eq "$status" 2
	assert_eq "$("$PYTHON3" "$JC" report.xml | jq -r '.cases[0] | .name + " " + .type')" "input unusable-input"
	# a --junit naming a trace is still refused, the trace left whole
	cp "$TRACE" keep.jsonl
	run "$SOCKTRACE" check --rule no-such-rule --junit keep.jsonl keep.jsonl
	assert_eq "$status" 2
	cmp "$TRACE" keep.jsonl
}

@test "junit: a pattern or rule given twice is one testcase (names unique), judged once: blanks and leading zeros do not make another" {
	refuse 3
	run "$SOCKTRACE" check --rule max-open=03 --rule max-open=3 --rule max-open=0 --rule max-open=000 \
		--expect "tcp [::1]:$PORT socket bind close" --expect "tcp  [::1]:$PORT	socket bind  close" \
		--expect "tcp nothing" --expect " tcp nothing " --junit report.xml "$TRACE"
	assert_eq "$status" 1 "$output"
	"$PYTHON3" "$JC" report.xml >junit.json
	assert_eq "$(jq -r '.cases[] | .name + " " + .result' junit.json)" \
		"max-open=3 ok
max-open=0 failure
expect: tcp [::1]:$PORT socket bind close ok
expect: tcp nothing failure" "the testcases"
	assert_eq "$(jq -r '.cases[].name' junit.json | sort | uniq -d)" "" "names given twice"
	# and the text report names them as JUnit does, each once
	assert_eq "$(printf '%s\n' "${lines[@]}" | cut -d: -f1 | tr '\n' ' ')" "max-open=0 expect " "$output"
}

@test "junit: - and /dev/stdout are standard output (the XML alone there, the text and annotations on stderr); fd:N a descriptor" {
	refuse 3
	for dest in - /dev/stdout; do
		run --separate-stderr "$SOCKTRACE" check --rule handshakes --junit "$dest" "$TRACE"
		assert_eq "$status" 1 "$dest: $output $stderr"
		[[ ! -e ./- ]] || { echo "--junit $dest wrote a file named -" >&2; false; }
		printf '%s\n' "$output" >out.xml
		"$PYTHON3" "$JC" out.xml >junit.json
		assert_eq "$(jq -r '.cases[0] | .name + " " + .result' junit.json)" "handshakes failure" "$dest"
		[[ $stderr == "handshakes: pid "*": connect to [::1]:$PORT failed with ECONNREFUSED"* ]] ||
			{ echo "$dest: stderr: $stderr" >&2; false; }
	done
	# the annotations go to stderr too, whole
	run --separate-stderr "$SOCKTRACE" check --rule handshakes --format=github --junit - "$TRACE"
	assert_eq "$status" 1
	printf '%s\n' "$output" >out.xml
	"$PYTHON3" "$JC" out.xml >/dev/null
	assert_eq "$(printf '%s\n' "$stderr" | "$PYTHON3" "$GH" | jq -r .properties.title)" "socktrace handshakes (×3)"
	# a descriptor: written as it is, nothing emptied; the text stays on stdout
	echo "kept" >fd.xml
	run --separate-stderr "$SOCKTRACE" check --rule handshakes --junit fd:3 "$TRACE" 3>>fd.xml
	assert_eq "$status" 1
	[[ $output == "handshakes: "* ]] || { echo "$output" >&2; false; }
	assert_eq "$(head -n 1 fd.xml)" "kept"
	tail -n +2 fd.xml >fd2.xml
	"$PYTHON3" "$JC" fd2.xml >/dev/null
	# a device is no standard output: the report into /dev/null, the text where it was
	run --separate-stderr bash -c '"$0" check --rule handshakes --junit /dev/null "$1" >/dev/null' "$SOCKTRACE" "$TRACE"
	assert_eq "$status" 1
	assert_empty "$stderr"
	run --separate-stderr "$SOCKTRACE" check --rule handshakes --junit /dev/null "$TRACE"
	[[ $output == "handshakes: "* ]] || { echo "$output" >&2; false; }
	# and usable input that is not judged still gives its XML on stdout
	: >empty.jsonl
	run --separate-stderr "$SOCKTRACE" check --junit - empty.jsonl
	assert_eq "$status" 2
	printf '%s\n' "$output" >out.xml
	assert_eq "$("$PYTHON3" "$JC" out.xml | jq -r '.cases[0] | .name + " " + .result')" "input error"
}

@test "junit: a report that cannot be written (a directory, no such directory, stdout closed or read-only, fd:x) is one message and exit 2" {
	refuse 1
	mkdir dir
	for dest in dir nowhere/report.xml; do
		run --separate-stderr "$SOCKTRACE" check --junit "$dest" "$TRACE"
		assert_eq "$status" 2 "$dest"
		assert_eq "$output" "" "$dest: stdout"
		[[ $stderr == "socktrace: check: cannot write $dest: "* ]] || { echo "$dest: $stderr" >&2; false; }
	done
	[[ $stderr == *"No such file or directory" ]]
	# (run's output is a pipe of its own: the descriptors are set inside)
	run bash -c '"$0" check --junit - "$1" >&-' "$SOCKTRACE" "$TRACE"
	assert_eq "$status" 2
	[[ $output == "socktrace: check: cannot write descriptor 1: Bad file descriptor" ]] || { echo "$output" >&2; false; }
	run bash -c '"$0" check --junit - "$1" 2>&1 1</dev/null' "$SOCKTRACE" "$TRACE"
	assert_eq "$status" 2
	[[ $output == "socktrace: check: cannot write descriptor 1: open for reading only" ]] || { echo "$output" >&2; false; }
	run "$SOCKTRACE" check --junit fd:x "$TRACE"
	assert_eq "$status" 2
	[[ $output == "socktrace: check: --junit fd:N takes a descriptor number, not 'fd:x'"* ]] || { echo "$output" >&2; false; }
	# the trace itself, through a descriptor, is refused: the report would be added to it
	cp "$TRACE" keep.jsonl
	run bash -c '"$0" check --junit - keep.jsonl >>keep.jsonl' "$SOCKTRACE"
	assert_eq "$status" 2
	cmp "$TRACE" keep.jsonl
}
