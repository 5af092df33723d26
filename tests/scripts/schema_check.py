#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""schema_check.py [--invalid] SCHEMA TRACE... - validate traces against
the event schema.

Checks that SCHEMA is a valid JSON Schema (draft 2020-12), then validates
every line of every TRACE (JSON Lines) against it with python3-jsonschema,
the validator Debian ships.  Prints one JSON summary line: the number of
events, the sorted calls and top-level keys seen.  Exits 1 naming the file,
the line and the validator's message at the first event that fails.
With --invalid, every line must fail instead: prints each line's message,
exits 1 naming the lines the schema accepted.
"""
import json
import sys

import jsonschema

args = sys.argv[1:]
invalid = args[:1] == ["--invalid"]
if invalid:
    args = args[1:]
with open(args[0]) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
n, calls, keys = 0, set(), set()
accepted = []
for path in args[1:]:
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            ev = json.loads(line)
            err = jsonschema.exceptions.best_match(validator.iter_errors(ev))
            if invalid:
                if err is None:
                    accepted.append("%s:%d" % (path, lineno))
                else:
                    print("%s:%d: %s" % (path, lineno, err.message))
                continue
            if err is not None:
                print("schema_check: %s:%d: %s (at %s)" % (path, lineno, err.message, "/".join(map(str, err.absolute_path)) or "top"),
                      file=sys.stderr)
                sys.exit(1)
            n += 1
            calls.add(ev["call"])
            keys.update(ev)
if invalid:
    if accepted:
        print("schema_check: accepted: " + " ".join(accepted), file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
print(json.dumps({"events": n, "calls": sorted(calls), "keys": sorted(keys)}))
