#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gh_annotations.py - read workflow commands as GitHub's runner does.

Reads lines on stdin and prints, for each one the runner would take as a
command, a JSON object {"command", "properties", "data"}; other lines are
left out.  Written to the rules of the runner's parser (ActionCommand,
TryParseV2): the line, its leading blanks trimmed, starts with "::"; the
command info ends at the next "::"; the name ends at the first space; the
properties are split at ',' (empty ones dropped) and each at its first
'='; a property value is unescaped %0D %0A %3A %2C and then %25, the data
%0D %0A and then %25, each replacement over the whole string in turn.
"""
import json
import sys

PROPERTY = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")]
DATA = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")]


def unescape(s, table):
    for code, char in table:
        s = s.replace(code, char)
    return s


def parse(line):
    msg = line.lstrip()
    if not msg.startswith("::"):
        return None
    end = msg.find("::", 2)
    if end < 0:
        return None
    info = msg[2:end]
    space = info.find(" ")
    cmd = {"command": info if space < 0 else info[:space], "properties": {}}
    if space > 0:
        for prop in info[space + 1:].strip().split(","):
            pair = [p for p in prop.split("=", 1) if p]
            if len(pair) == 2:
                cmd["properties"][pair[0].lower()] = unescape(pair[1], PROPERTY)
    cmd["data"] = unescape(msg[end + 2:], DATA)
    return cmd


for raw in sys.stdin:
    c = parse(raw.rstrip("\n"))
    if c:
        print(json.dumps(c, ensure_ascii=False))
