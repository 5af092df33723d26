# SPDX-License-Identifier: MIT
# forkleak.py N: a forking server on 127.0.0.1 (any port) and its client,
# one process that forks: first three UDP sockets open at once with the
# listener (its peak, 4 sockets, then closed), and a bind of the
# listener's address that fails with EADDRINUSE; then N connections 0.3 s
# apart, each served by a child of its own that closes the listener and
# either closes its connection (even i) or exits holding it (odd i: a
# leak).  The early sockets, the failed bind and the first connections end
# long before the trace does, so that a reader that lets go of what ended
# (check --hold) judges them first.
import os
import socket
import sys
import time

n = int(sys.argv[1])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind(("127.0.0.1", 0))
lsn.listen(16)
port = lsn.getsockname()[1]
udp = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
for u in udp:
    u.close()
clash = socket.socket()
try:
    clash.bind(("127.0.0.1", port))
except OSError:
    pass
clash.close()
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = lsn.accept()
    pid = os.fork()
    if pid == 0:
        lsn.close()
        c.close()
        a.recv(1)
        if i % 2 == 0:
            a.close()
        os._exit(0)
    a.close()
    c.sendall(b"x")
    os.waitpid(pid, 0)
    c.close()
    time.sleep(0.3)
lsn.close()
print("done", n)
