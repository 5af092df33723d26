#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""junit_check.py REPORT - read a JUnit XML report as strict consumers do.

Parses REPORT with an XML parser (not well-formed: exit 1) and checks the
attributes that the JUnit schema of Ant (JUnit.xsd, the one Jenkins and
most CI readers follow) requires: on each testsuite name, tests, failures,
errors, time (a decimal), timestamp (YYYY-MM-DDTHH:MM:SS, no zone) and
hostname; on each testcase name, classname and time; failure and error
elements with a message and a type; the counts agree with the testcases.
Prints one JSON summary line: the suite's counts, its hostname, and for
each testcase its name and what it holds (ok, failure, error) with the
type and message, and the suite's system-out as a list of lines.  Exits 1
with the reason when a check fails.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
STAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")


def need(cond, why):
    if not cond:
        print("junit_check: " + why, file=sys.stderr)
        sys.exit(1)


root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
need(root.tag in ("testsuites", "testsuite"), "root is <%s>" % root.tag)
need(len(suites) == 1, "%d testsuites" % len(suites))
s = suites[0]
for a in ("name", "tests", "failures", "errors", "time", "timestamp", "hostname"):
    need(a in s.attrib, "testsuite has no %s" % a)
need(DECIMAL.match(s.get("time")), "testsuite time %r" % s.get("time"))
need(STAMP.match(s.get("timestamp")), "testsuite timestamp %r" % s.get("timestamp"))
cases = []
for tc in s.findall("testcase"):
    for a in ("name", "classname", "time"):
        need(a in tc.attrib, "testcase %r has no %s" % (tc.get("name"), a))
    need(DECIMAL.match(tc.get("time")), "testcase time %r" % tc.get("time"))
    kids = list(tc)
    need(len(kids) <= 1, "testcase %r holds %d elements" % (tc.get("name"), len(kids)))
    what, msg, kind = "ok", None, None
    if kids:
        k = kids[0]
        need(k.tag in ("failure", "error"), "testcase holds <%s>" % k.tag)
        need("message" in k.attrib and "type" in k.attrib, "<%s> without message or type" % k.tag)
        what, msg, kind = k.tag, k.get("message"), k.get("type")
    cases.append({"name": tc.get("name"), "result": what, "type": kind, "message": msg,
                  "text": kids[0].text if kids else None})
need(int(s.get("tests")) == len(cases), "tests=%s for %d testcases" % (s.get("tests"), len(cases)))
need(int(s.get("failures")) == sum(c["result"] == "failure" for c in cases), "failures count")
need(int(s.get("errors")) == sum(c["result"] == "error" for c in cases), "errors count")
# the suite's system-out (after the testcases, as the schema orders it):
# one line each
outs = s.findall("system-out")
need(len(outs) <= 1, "%d system-out elements" % len(outs))
need(not outs or list(s).index(outs[0]) > max([list(s).index(tc) for tc in s.findall("testcase")] or [-1]),
     "system-out before a testcase")
out = outs[0].text or "" if outs else ""
print(json.dumps({"tests": len(cases), "failures": int(s.get("failures")), "errors": int(s.get("errors")),
                  "hostname": s.get("hostname"), "timestamp": s.get("timestamp"), "cases": cases,
                  "system_out": out.splitlines()}))
