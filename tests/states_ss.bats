#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# socktrace(7)'s TCP STATES: the trace holds the kernel's state names, and
# the page's table gives, for each, the name ss(8) prints.  Checked on a
# real connection: a traced python3 listens, connects, accepts, closes one
# end and then the other, and between its calls asks ss (untraced) for the
# states of its sockets; the table must turn each recorded state into what
# ss printed for that socket at that moment.

load helpers

PROG='import os, socket, subprocess, sys, time
env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
def ss(tag):
    out = subprocess.run(["ss", "-Htan"], env=env, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if port in (f[3].rsplit(":", 1)[1], f[4].rsplit(":", 1)[1]):
            print("ss", tag, f[0], f[3], f[4], flush=True)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
port = str(l.getsockname()[1])
c = socket.create_connection(("127.0.0.1", int(port)))
a, _ = l.accept()
ss("open")
a.close()
time.sleep(0.2)
ss("half")
c.close()
time.sleep(0.2)
ss("done")
l.close()'

# the ss name of a kernel state, from the table in socktrace.7
ss_name() {
	awk -v k="$1" '/^\.TS/ { on = 1; next } /^\.TE/ { on = 0 } on && $1 == k { print $2 }' \
		"$top_srcdir/man/socktrace.7.in"
}

# what ss printed at TAG for the socket LOCAL -> REMOTE
ss_said() { awk -v t="$1" -v l="$2" -v r="$3" '$1 == "ss" && $2 == t && $4 == l && $5 == r { print $3 }' prog.out; }

@test "TCP STATES: each state the trace records is, by the page's table, what ss printed for that socket" {
	command -v ss >/dev/null || skip "ss (iproute2) is not installed"
	printf '%s\n' "$PROG" >states.py
	traced "$PYTHON3" states.py >prog.out
	listen=$(one '.call=="listen"' | jq -r .local)
	acc=$(one '.call=="accept4" or .call=="accept"' | jq -r .local)
	cli=$(one '.call=="connect"' | jq -r .local)
	[[ $acc == "$listen" ]]
	checks=0
	expect() { # TAG LOCAL REMOTE KERNEL-STATE
		[[ -n $4 && $4 != null ]] || { echo "no state recorded for $2 at $1"; return 1; }
		local want got
		want=$(ss_name "$4")
		got=$(ss_said "$1" "$2" "$3")
		[[ -n $want ]] || { echo "socktrace.7's table has no ss name for $4"; return 1; }
		assert_eq "$got" "$want" "ss at $1 for $2 -> $3 (recorded $4)"
		checks=$((checks + 1))
	}
	# the listener, recorded LISTEN at listen()
	expect open "$listen" "0.0.0.0:*" "$(one '.call=="listen"' | jq -r .state)"
	# the accepted end, ESTABLISHED just before its close
	expect open "$acc" "$cli" "$(one ".call==\"close\" and .local==\"$acc\" and .remote==\"$cli\"" | jq -r .state_before)"
	# the client after the server closed: CLOSE_WAIT before its own close
	expect half "$cli" "$acc" "$(one ".call==\"close\" and .local==\"$cli\"" | jq -r .state_before)"
	# the server's end after both closed: TIME_WAIT in the exit event's list
	expect done "$acc" "$cli" "$(one '.call=="exit"' | jq -r ".lingering[] | select(.local==\"$acc\" and .remote==\"$cli\") | .state")"
	assert_eq "$checks" 4
	# the names differ where the page says they do
	assert_eq "$(ss_name CLOSE_WAIT) $(ss_name ESTABLISHED) $(ss_name TIME_WAIT)" "CLOSE-WAIT ESTAB TIME-WAIT"
}
