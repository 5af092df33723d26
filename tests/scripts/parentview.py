#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""parentview.py - how a parent that waits with waitpid(WUNTRACED) sees a
program it started end or stop, for the runner tests (run_signals.bats).

  parentview.py [--core] SIG CMD [ARGS...]

Starts CMD (sigprobe, bare or under socktrace) with its stdout on a pipe,
waits for its "start" line, sends SIG (a name: INT, STOP, ...) to the pid it
started, and prints what waitpid says, one line:
  "killed SIGINT core=0", "exited 0",
  "stopped SIGSTOP, then exited 0" (after a stop it sends SIGCONT).
With --core, CMD starts with RLIMIT_CORE raised to its hard limit (the
core flag shows when the kernel dumps one).
"""
import os
import resource
import signal
import subprocess
import sys


def name(sig):
    return signal.Signals(sig).name


def describe(st):
    if os.WIFSIGNALED(st):
        return f"killed {name(os.WTERMSIG(st))} core={int(os.WCOREDUMP(st))}"
    if os.WIFEXITED(st):
        return f"exited {os.WEXITSTATUS(st)}"
    return f"status {st:#x}"


def main():
    args = sys.argv[1:]
    core = args[:1] == ["--core"]
    if core:
        args = args[1:]
    sig = getattr(signal, "SIG" + args[0])
    cmd = args[1:]

    def unlimited_core():
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, preexec_fn=unlimited_core if core else None)
    line = p.stdout.readline()
    if not line.startswith(b"start "):
        print(f"no start line: {line!r}")
        return 1
    os.kill(p.pid, sig)
    _, st = os.waitpid(p.pid, os.WUNTRACED)
    out = ""
    if os.WIFSTOPPED(st):
        out = f"stopped {name(os.WSTOPSIG(st))}, then "
        os.kill(p.pid, signal.SIGCONT)
        _, st = os.waitpid(p.pid, 0)
    p.returncode = 0  # reaped here, not by Popen
    print(out + describe(st))
    return 0


if __name__ == "__main__":
    sys.exit(main())
