#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The event schema as a JSON Schema (schema/socktrace-event.schema.json):
# it agrees with the one field list (codec/fields.def), the calls
# (codec/calls.def) and the TCP states (codec/tables/tcpstates.tbl); a real
# validator (python3-jsonschema) accepts every recorded golden trace and
# live traces of several programs that between them make every kind of
# event; and it refuses an event with a wrong type, an unknown call, key or
# state.

load helpers

SCHEMA=$top_srcdir/schema/socktrace-event.schema.json
check() {
	if [[ $1 == --invalid ]]; then
		shift
		set -- --invalid "$SCHEMA" "$@"
	else
		set -- "$SCHEMA" "$@"
	fi
	"$PYTHON3" "$top_srcdir/tests/scripts/schema_check.py" "$@"
}

@test "schema: a draft 2020-12 schema whose keys, calls and states are those of fields.def, calls.def and tcpstates.tbl" {
	"$PYTHON3" - "$SCHEMA" "$top_srcdir" <<'PY'
import json, re, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
src = sys.argv[2]
assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
jsonschema.Draft202012Validator.check_schema(schema)
fields = re.findall(r"^(?:FIELD|CUSTOM)\((\w+)", open(src + "/codec/fields.def").read(), re.M)
assert list(schema["properties"]) == fields, ("keys differ", set(fields) ^ set(schema["properties"]))
calls = re.findall(r"^(?:WRAPV?|EVENT)\((\w+),", open(src + "/codec/calls.def").read(), re.M)
assert schema["$defs"]["call"]["enum"] == calls, set(calls) ^ set(schema["$defs"]["call"]["enum"])
states = [l.split()[1] for l in open(src + "/codec/tables/tcpstates.tbl") if l.strip() and l[0] != "#"]
assert schema["$defs"]["state"]["enum"] == states
assert schema["additionalProperties"] is False
PY
}

@test "schema: golden traces and live traces of every kind of event validate" {
	run_to() { local out=$1; shift; "$SOCKTRACE" -o "$out" "$@" >/dev/null 2>&1 || true; }
	run_to passfd.jsonl --stack -- "$(prog passfd)" recvmsg
	run_to execs.jsonl -- "$(prog execs)" cloexec
	run_to gone.jsonl -- "$(prog outofsight)" dlsym
	run_to procs.jsonl -- "$(prog procs)" leak
	run_to udp.jsonl -- "$(prog udp)" connected
	run_to unix.jsonl -- "$(prog unixsock)" stream "@schema$$"
	run_to nb.jsonl -- "$(prog tconnect)" nb-sockopt
	run_to killed.jsonl -- "$(prog sockexit)" signal KILL
	run_to spawn.jsonl -- "$(prog spawn)" posix_spawn /bin/true
	tcp_pair "-r -n 2 -L -c server" "-n 2 -c server"
	check "$top_srcdir"/tests/data/*.jsonl *.jsonl >live.json
	[[ $(jq .events live.json) -gt 300 ]]
	# between them, every kind of event the shim and the runner write
	for call in start exit end exec gone socket socketpair bind listen accept accept4 connect shutdown close \
		close_range setsockopt getsockopt dup2 fork posix_spawn sendmsg recvmsg; do
		jq -s -e --arg c "$call" 'map(.calls) | add | index($c)' live.json >/dev/null ||
			{ echo "no $call event validated"; false; }
	done
	for key in stack rights holders lingering tcp opts optval inherited fds range signal connect_done noticed reset; do
		jq -s -e --arg k "$key" 'map(.keys) | add | index($k)' live.json >/dev/null ||
			{ echo "no event with $key validated"; false; }
	done
}

@test "schema: an event with a wrong type, an unknown call, key or state, or a missing key fails" {
	traced "$(prog tconnect)" refused >out
	ev=$(ev '.call == "close"' | head -1)
	start=$(ev '.call == "start"')
	# the events as recorded pass; each mutation of them must fail
	printf '%s\n' "$ev" "$start" >real.jsonl
	: >mutated.jsonl
	mutate() { jq -c "$1" <<<"$2" >>mutated.jsonl; }
	mutate '.fd |= tostring' "$ev"			# a wrong type
	mutate '.call = "frobnicate"' "$ev"		# an unknown call
	mutate '.colour = "red"' "$ev"			# an unknown key
	mutate '.state = "TIME-WAIT"' "$ev"		# a state as ss prints it
	mutate '.v = 2' "$ev"				# a newer schema
	mutate 'del(.pid)' "$ev"			# a key every event has
	mutate '.ts |= tostring' "$ev"
	mutate '.opts.SO_KEEPALIVE = true' "$ev"	# an unknown key in a nested object
	mutate 'del(.ret)' "$ev"			# a call without its result
	mutate '.errno = 111' "$ev"			# errno as a number
	mutate '.ret = 0' "$start"			# an event of the shim's own has no result
	mutate 'del(.argv)' "$start"			# a start without its argv
	check real.jsonl >/dev/null
	check --invalid mutated.jsonl >why
	assert_eq "$(wc -l <why)" 12
	grep -q "mutated.jsonl:2: 'frobnicate' is not one of" why
}
