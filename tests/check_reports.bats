#!/usr/bin/env bats
# socktrace check's CI reports, read the way CI reads them: GitHub
# workflow annotations through a parser written to the runner's rules
# (tests/scripts/gh_annotations.py), JUnit XML through an XML parser.

load helpers

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
	assert_eq "$(jq -r '.data' gh.json | head -n 1)" \
		"pid $pid (python3 refuse.py 7): connect to [::1]:$PORT failed with ECONNREFUSED (fd $fd)"
	title=$(jq -r 'select(.properties.title | startswith("socktrace expect")) | .properties.title' gh.json)
	assert_eq "$title" "socktrace expect: $pattern" "the pattern's title, unescaped"
	data=$(jq -r 'select(.properties.title | startswith("socktrace expect")) | .data' gh.json)
	[[ $data == "no socket matches '$pattern'; closest: pid="*" tcp [::1]:$PORT socket bind close"* ]]
	# one line per annotation: the newlines went out escaped
	assert_eq "$(wc -l <gh.out)" 2 "output lines"
}

@test "github: a clean run prints no annotation; notes are notices" {
	refuse 1
	run "$SOCKTRACE" check --rule no-leaks --format=github "$TRACE"
	assert_eq "$status" 0 "$output"
	assert_eq "$(printf '%s\n' "$output" | "$PYTHON3" "$GH" | jq -r 'select(.command=="error")' | wc -l)" 0
}
