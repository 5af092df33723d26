#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Socket scenarios for the kernel-view tests (tests/kernel_view.bats).

Each scenario runs real sockets on 127.0.0.1 and prints the facts the
test compares with the trace, one "word key=value ..." line each.
"""
import os
import socket
import struct
import sys
import time


def listener(reuseaddr=False, reuseport=False, host="127.0.0.1", port=0):
    s = socket.socket()
    if reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    s.listen(8)
    return s


def server_closes_first(old_reuse):
    """A server accepts one connection and closes it first: its side goes
    to TIME_WAIT, the client's through CLOSE_WAIT -> LAST_ACK."""
    s = listener(reuseaddr=old_reuse)
    port = s.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = s.accept()
    print(f"conn server={a.getsockname()[1]} client={c.getsockname()[1]} port={port}")
    a.close()
    assert c.recv(1) == b""   # the server's FIN
    c.close()
    s.close()
    return port


def restart(old_reuse, new_reuse):
    port = server_closes_first(old_reuse)
    n = socket.socket()
    if new_reuse:
        n.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        n.bind(("127.0.0.1", port))
        print(f"rebind ok port={port}")
    except OSError as e:
        print(f"rebind errno={e.errno} port={port}")
    n.close()


def second_listener(reuseport):
    with open("/proc/self/comm") as f:
        print(f"comm name={f.read().strip()}")
    a = listener(reuseport=reuseport)
    port = a.getsockname()[1]
    b = socket.socket()
    if reuseport:
        b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        b.bind(("127.0.0.1", port))
        print(f"second ok port={port} pid={os.getpid()}")
    except OSError as e:
        print(f"second errno={e.errno} port={port} pid={os.getpid()}")
    b.close()
    a.close()


def reset(kind):
    s = listener()
    port = s.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = s.accept()
    if kind == "linger":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        a.sendall(b"unread")
        while True:   # the bytes are in the client's receive queue
            time.sleep(0.005)
            if c.recv(16, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                break
    print(f"reset fd={c.fileno()} local={c.getsockname()[1]}")
    c.close()
    try:
        a.recv(16)
    except ConnectionResetError:
        print("peer saw reset")
    a.close()
    s.close()


def active_close():
    """The client closes first and waits for the server's FIN."""
    s = listener()
    port = s.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = s.accept()
    print(f"active fd={c.fileno()} local={c.getsockname()[1]}")
    c.close()
    a.recv(1)
    a.close()
    s.close()


def tuple_again():
    """The same tuple twice: a client bound to one port connects, the
    server closes first (its end in TIME_WAIT), then the client connects
    again from that port and the kernel lets the new connection take over
    the old one's TIME_WAIT.  One kernel socket lingers at exit: the second
    connection's."""
    s = listener()
    port = s.getsockname()[1]
    cport = 0
    for i in range(2):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("127.0.0.1", cport))
        cport = c.getsockname()[1]
        try:
            c.connect(("127.0.0.1", port))
        except OSError as e:
            print(f"again refused errno={e.errno}")
            return
        a, _ = s.accept()
        a.sendall(b"x")
        a.close()
        assert c.recv(1) == b"x"
        assert c.recv(1) == b""   # the server's FIN
        c.close()
        print(f"conn{i + 1} server={port} client={cport}", flush=True)
        time.sleep(0.2)
    s.close()


def many(n):
    """n connections the server closes first: n TIME_WAIT sockets of this
    process at its exit, more than the exit event lists."""
    s = listener()
    port = s.getsockname()[1]
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = s.accept()
        a.close()
        assert c.recv(1) == b""
        c.close()
    s.close()
    print(f"many n={n} port={port}")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "restart":
        restart(sys.argv[2] == "1", sys.argv[3] == "1")
    elif what == "second":
        second_listener(sys.argv[2] == "1")
    elif what == "reset":
        reset(sys.argv[2])
    elif what == "timewait":
        server_closes_first(False)
    elif what == "active":
        active_close()
    elif what == "again":
        tuple_again()
    elif what == "many":
        many(int(sys.argv[2]))
    else:
        sys.exit(f"unknown scenario {what}")
