import Foundation

/// Traffic for `DemoWorld`, run inside the frontend pod's namespace (Python 3, standard library
/// only; each request on a new connection, as the frontend app makes them).
///
/// - `steady WORKERS STOPFILE SECONDS`: WORKERS threads POST `/echo` to the frontend app on
///   127.0.0.1:9898 until STOPFILE exists (or SECONDS pass); every fourth request carries
///   `x-request-id: alternative` and must come back from B, the others from A, each with
///   `l5d-client-id: <the pods' identity>`. Prints `done N` every ten requests, then one JSON line
///   `{"ok": n, "failures": ["request 12: ...", ...]}`.
/// - `burst N HOST PORT PATH`: N threads that wait for each other, then each GET PATH at
///   HOST:PORT (a name from the pod's hosts file) at once; prints `{"ok": n, "failures": [...]}`
///   (ok: 200 from A with the identity).
enum DemoWorldLoad {
    static let script = #"""
import http.client, json, os, sys, threading, time

IDENTITY = "default.test.serviceaccount.identity.linkerd.cluster.local"


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []

    def record(self, i, want, attempt):
        """Runs attempt() -> (status, body); returns how many requests are done."""
        try:
            status, body = attempt()
            good = status == 200 and want in body and ("l5d-client-id: " + IDENTITY + "\n") in body
            error = None if good else "request %d: HTTP %d: %r" % (i, status, body[:300])
        except Exception as e:
            error = "request %d: %s: %s" % (i, type(e).__name__, e)
        with self.lock:
            if error:
                self.failures.append(error)
            else:
                self.ok += 1
            return self.ok + len(self.failures)

    def run(self, threads):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(json.dumps({"ok": self.ok, "failures": self.failures}), flush=True)


def call(host, port, method, path, headers):
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request(method, path, body=b"" if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def steady(workers, stop, seconds):
    tally, counter = Tally(), iter(range(1 << 62))
    deadline = time.time() + seconds

    def worker():
        while not os.path.exists(stop) and time.time() < deadline:
            with tally.lock:
                i = next(counter)
            alternative = i % 4 == 3
            headers = {"x-request-id": "alternative" if alternative else "steady-%d" % i}
            want = "PODINFO_UI_MESSAGE=%s backend\n" % ("B" if alternative else "A")
            done = tally.record(i, want, lambda: call("127.0.0.1", 9898, "POST", "/echo", headers))
            if done % 10 == 0:
                print("done %d" % done, flush=True)

    tally.run([threading.Thread(target=worker) for _ in range(workers)])


def burst(n, host, port, path):
    tally, barrier = Tally(), threading.Barrier(n)

    def worker(i):
        barrier.wait()
        tally.record(i, "PODINFO_UI_MESSAGE=A backend\n", lambda: call(host, port, "GET", path, {}))

    tally.run([threading.Thread(target=worker, args=(i,)) for i in range(n)])


if sys.argv[1] == "steady":
    steady(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
else:
    burst(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5])
"""#

    /// The outcome a run printed as its last line.
    struct Summary: Decodable {
        var ok: Int
        var failures: [String]
    }

    /// The JSON summary on the last line of `output`.
    static func summary(_ output: String) -> Summary? {
        output.split(separator: "\n").last { $0.hasPrefix("{") }
            .flatMap { try? JSONDecoder().decode(Summary.self, from: Data($0.utf8)) }
    }

    /// The highest `done N` a steady run has printed so far.
    static func progress(_ output: String) -> Int {
        output.split(separator: "\n").compactMap { $0.hasPrefix("done ") ? Int($0.dropFirst(5)) : nil }.max() ?? 0
    }
}
