#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""chrome_check.py FILE - read `socktrace show -f chrome` output as a
viewer of the Chrome trace event format (Perfetto, chrome://tracing) would.

Loads FILE with json.load (not JSON: exit 1) and checks the format's rules:
an object with a traceEvents list; every event has ph, ts, pid, tid and
name; ts and dur are numbers >= 0 (microseconds); ph is M, X or i; an X
event has a dur; an i event a scope s of t, p or g; every (pid, tid) that
has events is named by process_name and thread_name metadata; on each
track, the complete slices nest (two slices are disjoint or one holds the
other).  Prints one JSON summary line: how many events of each ph and of
each cat, the names of the tracks, the number of tracks, and the sorted
names of the instants.  Exits 1 with the reason when a check fails.
"""
import collections
import json
import sys


def need(cond, why):
    if not cond:
        print("chrome_check: " + why, file=sys.stderr)
        sys.exit(1)


with open(sys.argv[1]) as f:
    doc = json.load(f)
need(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list), "no traceEvents list")
procs, threads, slices = {}, {}, collections.defaultdict(list)
by_ph, by_cat, instants = collections.Counter(), collections.Counter(), collections.Counter()
used = set()
for i, ev in enumerate(doc["traceEvents"]):
    for key in ("ph", "ts", "pid", "tid", "name"):
        need(key in ev, "event %d has no %s: %r" % (i, key, ev))
    need(isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0, "event %d: bad ts" % i)
    need(isinstance(ev["pid"], int) and isinstance(ev["tid"], int), "event %d: pid/tid not integers" % i)
    need(isinstance(ev["name"], str) and ev["name"], "event %d: no name" % i)
    ph = ev["ph"]
    by_ph[ph] += 1
    by_cat[ev.get("cat", "")] += 1
    if ph == "M":
        need(ev["name"] in ("process_name", "thread_name", "thread_sort_index"), "event %d: metadata %s" % (i, ev["name"]))
        if ev["name"] == "process_name":
            procs[ev["pid"]] = ev["args"]["name"]
        elif ev["name"] == "thread_name":
            threads[(ev["pid"], ev["tid"])] = ev["args"]["name"]
        continue
    used.add((ev["pid"], ev["tid"]))
    if ph == "X":
        need(isinstance(ev.get("dur"), (int, float)) and ev["dur"] >= 0, "event %d: X without a dur" % i)
        slices[(ev["pid"], ev["tid"])].append((ev["ts"], ev["ts"] + ev["dur"], ev["name"]))
    elif ph == "i":
        need(ev.get("s") in ("t", "p", "g"), "event %d: instant without scope" % i)
        instants[ev["name"]] += 1
    else:
        need(False, "event %d: phase %r" % (i, ph))
for pid, tid in used:
    need(pid in procs, "pid %d has no process_name" % pid)
    need((pid, tid) in threads, "track %d/%d has no thread_name" % (pid, tid))
for track, sl in slices.items():
    # sorted by start, longest first: each slice must end within every
    # slice still open around it
    sl.sort(key=lambda s: (s[0], -s[1]))
    open_ = []
    for start, end, name in sl:
        while open_ and open_[-1][1] <= start:
            open_.pop()
        if open_:
            o = open_[-1]
            need(end <= o[1] + 1e-9,
                 "track %r: %r [%s, %s] overlaps %r [%s, %s]" % (track, name, start, end, o[2], o[0], o[1]))
        open_.append((start, end, name))
print(json.dumps({"ph": by_ph, "cat": by_cat, "tracks": len(threads), "processes": len(procs),
                  "thread_names": sorted(set(threads.values())), "instants": instants}, sort_keys=True))
