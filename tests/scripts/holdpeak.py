#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""holdpeak.py - programs whose processes share sockets, each of which
prints the most sockets it held at once as the kernel lists them in
/proc/self/fd (each socket once, however many descriptors name it), for
the max-open tests (check_open.bats).

  holdpeak.py fork N     a server that forks a child per connection: it
                         connects to itself, accepts, forks; the child
                         writes one byte and leaves with os._exit; the
                         parent closes its copy right after the fork,
                         reads the byte, closes its end and waits
  holdpeak.py copies     a parent lets go of copies a child still holds,
                         each in another way: close, dup2 over it,
                         close_range, SCM_RIGHTS hand-over then close, and
                         exec's close-on-exec (it execs itself, keeping one
                         socket); the child gains one by SCM_RIGHTS.  After
                         each way of letting go, each process makes more
                         sockets than it let go of, so that a copy still
                         counted would raise its peak

Each process image prints, before it ends, one line:
  "parent pid=P n=K" or "child pid=P n=K"
(an exec'd image prints its own line: the pid's peak is the larger).
"""
import ctypes
import os
import socket
import sys

peak = 0


def held():
    """the sockets /proc/self/fd names now, each once"""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the descriptor listdir used
        if target.startswith("socket:"):
            inodes.add(target)
    return len(inodes)


def note():
    global peak
    peak = max(peak, held())


def say(role):
    print(f"{role} pid={os.getpid()} n={peak}", flush=True)


def fork_server(n):
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(8)
    note()
    for _ in range(n):
        cli = socket.create_connection(lsn.getsockname())
        note()
        conn, _ = lsn.accept()
        note()
        pid = os.fork()
        if pid == 0:
            note()
            conn.send(b"x")
            note()
            say("child")
            os._exit(0)
        conn.close()
        note()
        if cli.recv(1) != b"x":
            sys.exit("no byte from the child")
        cli.close()
        note()
        os.waitpid(pid, 0)
    lsn.close()
    say("parent")


def copies():
    sp, sc = socket.socketpair()
    a, b, c, d = (socket.socket() for _ in range(4))
    note()
    pid = os.fork()
    if pid == 0:
        # holds the six from the fork, gains one by SCM_RIGHTS
        note()
        msg, fds, _, _ = socket.recv_fds(sc, 1, 1)
        note()
        if msg != b"x" or len(fds) != 1:
            os._exit(3)
        for s in (a, b, c, d):
            s.close()
        more = [socket.socket() for _ in range(5)]
        note()
        # hold them until the parent's new image says bye
        if sc.recv(3) != b"bye":
            os._exit(4)
        say("child")
        os._exit(0 if more else 5)
    a.close()
    note()
    os.dup2(sp.fileno(), b.fileno())  # over b: b's socket goes, sp stays
    note()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.close_range(c.fileno(), c.fileno(), 0):
        sys.exit(f"close_range: {os.strerror(ctypes.get_errno())}")
    c.detach()
    note()
    x = socket.socket()
    note()
    socket.send_fds(sp, [b"x"], [x.fileno()])
    x.close()
    note()
    # now sp (two descriptors), sc and d: five more make eight
    more = [socket.socket() for _ in range(5)]
    note()
    # all but sp are close-on-exec (Python's default): the exec closes them
    os.set_inheritable(sp.fileno(), True)
    say("parent")
    os.execv(sys.executable, [sys.executable, __file__, "after", str(sp.fileno()), str(pid)] +
             [str(len(more))])


def after(fd, child):
    sp = socket.socket(fileno=fd)
    note()
    # sp alone came through the exec: eight more make nine
    extra = [socket.socket() for _ in range(8)]
    note()
    sp.send(b"bye")
    _, st = os.waitpid(child, 0)
    if st:
        sys.exit(f"child status {st}")
    for s in extra:
        s.close()
    sp.close()
    say("parent")


def main():
    if sys.argv[1] == "fork":
        fork_server(int(sys.argv[2]))
    elif sys.argv[1] == "copies":
        copies()
    elif sys.argv[1] == "after":
        after(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
