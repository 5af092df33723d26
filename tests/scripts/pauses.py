# SPDX-License-Identifier: MIT
# pauses.py N: one process, a listener on 127.0.0.1 (any port), one
# connection held open from first to last, and N short connections (one
# byte from the client) 0.4 s apart: the short ones end long before the
# listener and the long one, so that a reader that lets go of what ended
# (show --hold) prints them first.
import socket
import sys
import time

n = int(sys.argv[1])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind(("127.0.0.1", 0))
lsn.listen(16)
port = lsn.getsockname()[1]
keep = socket.create_connection(("127.0.0.1", port))
kept, _ = lsn.accept()
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = lsn.accept()
    c.sendall(b"x")
    a.recv(1)
    c.close()
    a.close()
    time.sleep(0.4)
keep.close()
kept.close()
lsn.close()
print("done", n)
