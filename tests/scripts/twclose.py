# SPDX-License-Identifier: MIT
# Connections closed first on one side, N of them, for max-time-wait
# (tests/check_tw_stream.bats).  Prints "port P" (the server's) and,
# last, "done".
#   twclose.py loop N     one process, its client closes first each time
#                         (TIME_WAIT on the client's side), then it exits
#   twclose.py killed N   the same, then SIGKILL: no exit reads the table
#   twclose.py fork N     a forking server: each child writes a byte and
#                         closes first, then exits; the client (a child
#                         of its own) reads to the end and closes
#   twclose.py forkkill N the same, each child killed by SIGKILL after its
#                         close: no exit of its own reads the table
#   twclose.py reuse N    forkkill, the client binding one port (with
#                         SO_REUSEADDR) every time: one tuple, N connections
# Before its end the process that made the listener makes and closes
# 4 500 UDP sockets: more events than a check's look-ahead window holds
# (8 192), so that with a small --hold the connections are let go long
# before that end.
import os, signal, socket, sys, time

mode, n = sys.argv[1], int(sys.argv[2])


def pad():
    time.sleep(0.3)
    for i in range(4500):
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()


if mode in ("loop", "killed"):
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(8)
    print("port", l.getsockname()[1], flush=True)
    for i in range(n):
        c = socket.create_connection(l.getsockname())
        a, _ = l.accept()
        c.close()                   # the client closes first
        assert a.recv(1) == b""
        a.close()
    pad()
    print("done", flush=True)
    if mode == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(0)

l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(8)
port = l.getsockname()[1]
print("port", port, flush=True)
go_r, go_w = os.pipe()              # the server tells the client: next one
client = os.fork()
if client == 0:
    l.close()
    os.close(go_w)
    cport = 0
    for i in range(n):
        os.read(go_r, 1)
        c = socket.socket()
        if mode == "reuse":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("127.0.0.1", cport))
        if mode == "reuse":
            cport = c.getsockname()[1]
        c.connect(("127.0.0.1", port))
        while c.recv(16):
            pass
        c.close()
    os._exit(0)
os.close(go_r)
for i in range(n):
    os.write(go_w, b"x")
    a, _ = l.accept()
    closed_r, closed_w = os.pipe()  # the server's copy closed: the child's close is the last
    child = os.fork()
    if child == 0:
        l.close()
        os.close(closed_w)
        os.read(closed_r, 1)
        a.sendall(b"x")
        a.close()                   # the server's side closes first
        time.sleep(0.05)
        if mode in ("forkkill", "reuse"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(0)
    a.close()
    os.close(closed_r)
    os.write(closed_w, b"x")
    os.close(closed_w)
    os.waitpid(child, 0)
os.waitpid(client, 0)
l.close()
pad()
print("done", flush=True)
