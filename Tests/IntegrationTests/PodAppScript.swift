/// The pods' apps: one Python 3 process (standard library only) serving every pod of a world.
///
/// Per pod, an HTTP/1.1 server (keep-alive) on `<pod IP>:9898`:
/// - `GET /env`: `PODINFO_UI_MESSAGE=<message>`, `HOSTNAME=<pod>`, and `l5d-client-id=<value>`
///   (`<none>` when the request carried none), one per line;
/// - `GET /headers`: the request headers as a JSON list of `[name, value]`;
/// - `POST|PUT /upload`: reads the body as it streams (Content-Length or chunked), answers
///   `bytes=<n>` and `sha256=<hex>`;
/// - `GET /download?bytes=N`: streams N deterministic bytes, their SHA-256 in `x-content-sha256`;
/// - `GET /delay?ms=N`: answers after N ms.
/// And, where asked, an opaque TCP echo server on `<pod IP>:3306`.
///
/// Usage: `python3 pod_app.py SPEC.json`, SPEC = `{"ready": path, "http": [{"ip", "port", "name",
/// "message"}], "echo": [{"ip", "port"}]}`. It writes the `ready` file once every socket is
/// listening, and exits by itself when its parent goes away or after an hour.
enum PodAppScript {
    static let source = #"""
import hashlib, json, os, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BLOCK = bytes(range(256)) * 256  # 64 KiB


def blocks(n):
    index = 0
    while n > 0:
        block = index.to_bytes(8, "big") + BLOCK[8:]
        chunk = block if n >= len(block) else block[:n]
        yield chunk
        n -= len(chunk)
        index += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/env":
            ids = self.headers.get_all("l5d-client-id") or []
            lines = [
                "PODINFO_UI_MESSAGE=" + self.server.message,
                "HOSTNAME=" + self.server.name,
                "l5d-client-id=" + (",".join(ids) if ids else "<none>"),
            ]
            self.reply(200, ("\n".join(lines) + "\n").encode())
        elif url.path == "/headers":
            self.reply(200, json.dumps([[k, v] for k, v in self.headers.items()]).encode(), "application/json")
        elif url.path == "/download":
            n = int(query.get("bytes", ["0"])[0])
            digest = hashlib.sha256()
            for chunk in blocks(n):
                digest.update(chunk)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.send_header("x-content-sha256", digest.hexdigest())
            self.end_headers()
            for chunk in blocks(n):
                self.wfile.write(chunk)
        elif url.path == "/delay":
            time.sleep(int(query.get("ms", ["0"])[0]) / 1000)
            self.reply(200, b"delayed\n")
        else:
            self.reply(404, b"no such path\n")

    def do_POST(self):
        if urlsplit(self.path).path != "/upload":
            self.reply(404, b"no such path\n")
            return
        digest = hashlib.sha256()
        total = 0

        def take(remaining):
            nonlocal total
            while remaining > 0:
                data = self.rfile.read(min(remaining, 65536))
                if not data:
                    raise ConnectionError("body ended early")
                digest.update(data)
                total += len(data)
                remaining -= len(data)

        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                take(size)
                self.rfile.readline()
        else:
            take(int(self.headers.get("Content-Length", "0")))
        self.reply(200, ("bytes=%d\nsha256=%s\n" % (total, digest.hexdigest())).encode())

    do_PUT = do_POST


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)


class EchoServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    spec = json.load(open(sys.argv[1]))
    servers = []
    for pod in spec["http"]:
        server = ThreadingHTTPServer((pod["ip"], pod["port"]), Handler)
        server.daemon_threads = True
        server.name = pod["name"]
        server.message = pod["message"]
        servers.append(server)
    for echo in spec["echo"]:
        servers.append(EchoServer((echo["ip"], echo["port"]), EchoHandler))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(spec["ready"], "w") as f:
        f.write("ready\n")
    parent = os.getppid()
    started = time.time()
    while os.getppid() == parent and time.time() - started < 3600:
        time.sleep(0.5)


main()
"""#
}
