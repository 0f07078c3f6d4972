#!/usr/bin/env python3
"""Open N keep-alive HTTP/1.1 connections to HOST:PORT, make one request on each (reading the
whole response), write READY_FILE, then hold them all open until STOP_FILE appears (or
--max-seconds pass), and close them. Used by bench/mesh/run.sh for the proxies' memory per
connection. Exits 1 if a connection or a request fails."""
import argparse, os, socket, sys, time

p = argparse.ArgumentParser()
p.add_argument("host"); p.add_argument("port", type=int)
p.add_argument("--connections", type=int, default=1000)
p.add_argument("--header", action="append", default=[])
p.add_argument("--ready-file", required=True); p.add_argument("--stop-file", required=True)
p.add_argument("--max-seconds", type=float, default=60)
a = p.parse_args()

request = ("GET / HTTP/1.1\r\nHost: %s:%d\r\n" % (a.host, a.port)
           + "".join(h + "\r\n" for h in a.header) + "\r\n").encode()

def one_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("connection closed before the response headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("connection closed in the response body")
        body += chunk
    if status != b"200":
        raise OSError("status %s" % status.decode())

socks = []
try:
    for i in range(a.connections):
        s = socket.create_connection((a.host, a.port), timeout=10)
        s.sendall(request)
        one_response(s)
        socks.append(s)
except OSError as e:
    print("hold.py: connection %d: %s" % (len(socks) + 1, e), file=sys.stderr)
    sys.exit(1)
open(a.ready_file, "w").write("%d\n" % len(socks))
deadline = time.monotonic() + a.max_seconds
while not os.path.exists(a.stop_file) and time.monotonic() < deadline:
    time.sleep(0.05)
for s in socks:
    s.close()
