# SPDX-License-Identifier: MIT
# burst.py N M: one process, a listener on 127.0.0.1 (any port), one
# connection held open from first to last, a burst of N short connections
# (one byte from the client), 0.6 s of quiet, then M more short ones: the
# burst ends long before the connection held open, which started first, so
# that a reader that lets go of what ended (show --hold) has seen the burst
# go before it learns which connections come first in time.
import socket
import sys
import time

n, m = int(sys.argv[1]), int(sys.argv[2])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind(("127.0.0.1", 0))
lsn.listen(64)
port = lsn.getsockname()[1]
keep = socket.create_connection(("127.0.0.1", port))
kept, _ = lsn.accept()


def short():
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = lsn.accept()
    c.sendall(b"x")
    a.recv(1)
    c.close()
    a.close()


for i in range(n):
    short()
time.sleep(0.6)
for i in range(m):
    short()
time.sleep(0.6)
keep.close()
kept.close()
lsn.close()
print("done", n, m)
