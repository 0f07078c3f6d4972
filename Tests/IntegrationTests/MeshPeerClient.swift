/// A foreign meshed peer, as an outbound proxy would dial an inbound port: mutual TLS 1.3 with a
/// workload certificate, SNI = the pod's identity (checked against the server's SAN), then the
/// transport preface (docs/transport.md) naming the target pod and opaque TCP, then 64 KiB of
/// binary bytes that must come back from an echo server.
///
/// `python3 -c script HOST PORT IDENTITY CERT KEY TRUST_BUNDLE TARGET_IP TARGET_PORT` prints
/// `echoed <n>` (exit 0), or what happened instead (exit 1).
enum MeshPeerClient {
    static let script = #"""
import socket, ssl, sys
host, port, identity, cert, key, bundle, target_ip, target_port = sys.argv[1:9]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(bundle)
ctx.load_cert_chain(cert, key)
fields = b"\x01\x00\x06" + socket.inet_aton(target_ip) + int(target_port).to_bytes(2, "big") + b"\x02\x00\x01\x03"
preface = b"\x00SWYD/TP\x01" + len(fields).to_bytes(2, "big") + fields
payload = b"\x00\x01\x02\xffopaque" + bytes(range(256)) * 256
raw = socket.create_connection((host, int(port)), timeout=10)
try:
    s = ctx.wrap_socket(raw, server_hostname=identity)
except Exception as e:
    print("handshake failed: %r" % e)
    sys.exit(1)
s.sendall(preface + payload)
got = b""
try:
    while len(got) < len(payload):
        data = s.recv(65536)
        if not data:
            print("closed after %d bytes" % len(got))
            sys.exit(1)
        got += data
except Exception as e:
    print("failed after %d bytes: %r" % (len(got), e))
    sys.exit(1)
if got != payload:
    print("different bytes came back: %r" % got[:200])
    sys.exit(1)
print("echoed %d" % len(got))
"""#
}
