#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pieces.py TRACE: what a trace file holds, read independently of socktrace.

Each line is split where an event starts ('{"v":', which the shim writes
first in every event and nowhere else); each piece either parses as one
JSON object or is a fragment.  Prints one line of JSON:
  {"whole": N, "fragments": [[LINE, BYTES], ...], "glued": LINES,
   "ends_mid_line": true|false}
where glued counts the lines that hold more than one piece.
"""
import json
import sys

START = b'{"v":'


def main(path):
    data = open(path, 'rb').read()
    lines = data.split(b'\n')
    ends_mid_line = lines[-1] != b''
    if not ends_mid_line:
        lines = lines[:-1]
    whole, fragments, glued = 0, [], 0
    for n, line in enumerate(lines, 1):
        line = line.rstrip(b' \t\r')
        if not line:
            continue
        cuts = [0]
        k = line.find(START, 1)
        while k > 0:
            cuts.append(k)
            k = line.find(START, k + 1)
        if len(cuts) > 1:
            glued += 1
        for a, b in zip(cuts, cuts[1:] + [len(line)]):
            piece = line[a:b]
            try:
                json.loads(piece)
                whole += 1
            except ValueError:
                fragments.append([n, len(piece)])
    print(json.dumps({"whole": whole, "fragments": fragments, "glued": glued,
                      "ends_mid_line": ends_mid_line}))


if __name__ == '__main__':
    main(sys.argv[1])
