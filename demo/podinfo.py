#!/usr/bin/env python3
"""A podinfo-like app for the demo's pods (Python 3 standard library only).

The few parts of podinfo (github.com/stefanprodan/podinfo) that Linkerd's dynamic request
routing tutorial uses, plus what the demo needs to show the mesh at work:

  GET|POST /env         PODINFO_UI_MESSAGE=<message>, HOSTNAME=<name>, then the request headers
                        the mesh is about, as the app saw them:
                        "l5d-client-id: <identity>" (or "<none>": not over mTLS) and, when sent,
                        "x-request-id: <value>"
  GET|POST /echo        with --backend URL (the frontend): sends the request on to URL with the
                        same method and body, passing x-request-id (and the other tracing headers
                        podinfo passes) on; answers with the backend's status and body
  GET /delay/<seconds>  answers as /env does, after that long (at most 10 s)
  GET /healthz          ok

Usage: podinfo.py --message 'A backend' --name backend-a [--listen 0.0.0.0:9898] [--backend URL]
One line per request goes to standard error. It exits on SIGTERM or SIGINT, or after --lifetime
seconds (an hour), so a forgotten one does not linger.
"""
import argparse
import http.client
import signal
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# The headers podinfo's /echo passes on to its backends.
FORWARDED = ("x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
             "x-b3-flags", "x-ot-span-context", "traceparent", "tracestate")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of connections from the tests; the default is 5

    def server_bind(self):
        # HTTPServer's would look the address up in DNS (socket.getfqdn), which a pod here has not.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "podinfo", self.server_address[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "podinfo-demo"

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self, status):
        client_id = self.headers.get("l5d-client-id", "<none>")
        sys.stderr.write("%s %s %s %s from %s l5d-client-id=%s x-request-id=%s\n" % (
            time.strftime("%H:%M:%S"), self.command, self.path, status, self.client_address[0],
            client_id, self.headers.get("x-request-id", "<none>")))
        sys.stderr.flush()

    def reply(self, status, body, content_type="text/plain; charset=utf-8"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_request_line(status)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def env(self):
        """What /env answers: the app's variables, then the mesh's request headers it saw."""
        ids = self.headers.get_all("l5d-client-id") or []
        lines = ["PODINFO_UI_MESSAGE=" + self.server.config.message, "HOSTNAME=" + self.server.config.name,
                 "l5d-client-id: " + (", ".join(ids) if ids else "<none>")]
        if "x-request-id" in self.headers:
            lines.append("x-request-id: " + self.headers["x-request-id"])
        return "\n".join(lines) + "\n"

    def handle_any(self):
        path = urlsplit(self.path).path
        body = self.body()
        config = self.server.config
        if path == "/env":
            self.reply(200, self.env())
        elif path == "/echo" and config.backend:
            self.echo(config.backend, body)
        elif path.startswith("/delay/"):
            try:
                seconds = min(float(path[len("/delay/"):]), 10.0)
            except ValueError:
                self.reply(400, "bad delay\n")
                return
            time.sleep(seconds)
            self.reply(200, self.env() + "delay: %s\n" % seconds)
        elif path == "/healthz":
            self.reply(200, "ok\n")
        else:
            self.reply(404, "no such path\n")

    def echo(self, backend, body):
        url = urlsplit(backend)
        headers = {name: self.headers[name] for name in FORWARDED if name in self.headers}
        headers["Content-Length"] = str(len(body))
        # A new connection per request, as a plain HTTP client in a pod would make it; no proxy
        # settings from the environment (the mesh is the only proxy here).
        connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
        try:
            target = url.path or "/"
            if url.query:
                target += "?" + url.query
            connection.request(self.command if self.command != "HEAD" else "GET", target, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            self.reply(response.status, answer, response.getheader("Content-Type", "text/plain"))
        except OSError as error:
            self.reply(502, "echo: %s: %s\n" % (backend, error))
        finally:
            connection.close()

    do_GET = do_POST = do_PUT = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser(description="A podinfo-like app for the Switchyard demo.")
    parser.add_argument("--message", required=True, help="PODINFO_UI_MESSAGE")
    parser.add_argument("--name", required=True, help="HOSTNAME (the pod's name)")
    parser.add_argument("--listen", default="0.0.0.0:9898", help="address:port (default 0.0.0.0:9898)")
    parser.add_argument("--backend", help="the frontend's backend URL, e.g. http://backend-a-podinfo:9898/env")
    parser.add_argument("--lifetime", type=float, default=3600, help="exit after this many seconds")
    config = parser.parse_args()

    host, _, port = config.listen.rpartition(":")
    server = Server((host, int(port)), Handler)
    server.config = config
    # A parent may have blocked or ignored them (a test harness, a shell's background job).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stderr.write("podinfo %s (%s) listening on %s%s\n" % (
        config.name, config.message, config.listen, ", backend " + config.backend if config.backend else ""))
    sys.stderr.flush()
    end = time.monotonic() + config.lifetime
    while time.monotonic() < end:
        time.sleep(0.5)


if __name__ == "__main__":
    main()
