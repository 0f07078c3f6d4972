/// A TCP client for opaque (non-HTTP) traffic: sends 64 KiB of binary bytes that no HTTP
/// parser would accept and reads until the same bytes came back.
///
/// `python3 -c clientScript HOST PORT [SOURCE_IP]` prints `echoed <n>` (exit 0), or
/// `closed after <n> bytes: <first bytes>`, `timeout after ...` or `<socket error> after ...` (exit 1).
enum Opaque {
    static let clientScript = #"""
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
source = (sys.argv[3], 0) if len(sys.argv) > 3 else None
payload = b"\x00\x01\x02\xffopaque" + bytes(range(256)) * 256
s = socket.create_connection((host, port), timeout=10, source_address=source)
got = b""
try:
    s.sendall(payload)
    while len(got) < len(payload):
        data = s.recv(65536)
        if not data:
            print("closed after %d bytes: %r" % (len(got), got[:200]))
            sys.exit(1)
        got += data
except socket.timeout:
    print("timeout after %d bytes: %r" % (len(got), got[:200]))
    sys.exit(1)
except OSError as e:
    print("%s after %d bytes: %r" % (e.strerror or e, len(got), got[:200]))
    sys.exit(1)
if got != payload:
    print("different bytes came back: %r" % got[:200])
    sys.exit(1)
print("echoed %d" % len(got))
"""#
}
