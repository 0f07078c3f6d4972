import Foundation
import SwitchyardSubprocess

/// A real gRPC server and client (grpcio from PyPI, in a virtual environment of the tests' own)
/// for the proxy's gRPC tests. No protobuf: the methods carry raw bytes.
enum GRPCApp {
    /// The virtual environment (made once per machine, under the temporary directory).
    static let venv = FileManager.default.temporaryDirectory.appendingPathComponent("switchyard-test-grpcio-venv")

    /// The venv's python with grpcio importable, made when missing (python3 -m venv, pip).
    static func python() async throws -> String {
        let python = venv.appendingPathComponent("bin/python").path
        if FileManager.default.isExecutableFile(atPath: python),
           (try? await SpawnedProcess.run([python, "-c", "import grpc"], timeout: 60))?.status == 0 {
            return python
        }
        let made = try await SpawnedProcess.run(["python3", "-m", "venv", "--clear", venv.path], timeout: 120)
        guard made.status == 0 else { throw SubprocessError("python3 -m venv \(venv.path) failed: \(made)") }
        let installed = try await SpawnedProcess.run([python, "-m", "pip", "install", "-q", "grpcio"], timeout: 600)
        guard installed.status == 0 else { throw SubprocessError("pip install grpcio failed (PyPI reachable?): \(installed)") }
        return python
    }

    /// Writes the script into `directory` and returns its path.
    static func script(in directory: URL) throws -> String {
        let url = directory.appendingPathComponent("grpc_app.py")
        try source.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let source = #"""
import json, sys, threading, time
from concurrent import futures
import grpc

SERVICE = "demo.Echo"

def serve(ip, port, name, events):
    def log(event):
        with open(events, "a") as f:
            f.write(event + "\n")

    def client_id(context):
        return dict(context.invocation_metadata()).get("l5d-client-id", "")

    def unary(request, context):
        text = request.decode()
        context.set_trailing_metadata((("seen-client-id", client_id(context)), ("served-by", name)))
        if text == "fail":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        if text == "slow":
            time.sleep(3)
        return ("%s:%s" % (name, text)).encode()

    def server_stream(request, context):
        for i in range(int(request.decode())):
            yield ("%s-%d" % (name, i)).encode()

    def client_stream(requests, context):
        parts = [r.decode() for r in requests]
        return ("%s:%d:%s" % (name, len(parts), ",".join(parts))).encode()

    def bidi(requests, context):
        for r in requests:
            yield (name + ">" + r.decode()).encode()

    def hang(request, context):
        yield b"first"
        done = threading.Event()
        context.add_callback(lambda: (log("cancelled"), done.set()))
        done.wait(30)

    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        "Hang": grpc.unary_stream_rpc_method_handler(hang),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_insecure_port("%s:%s" % (ip, port))
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()

def client(target, authority, extra_metadata):
    channel = grpc.insecure_channel(target, options=[("grpc.default_authority", authority)])
    md = tuple(tuple(kv.split("=", 1)) for kv in extra_metadata)
    out = {}
    def method(kind, name):
        return getattr(channel, kind)("/%s/%s" % (SERVICE, name))
    resp, call = method("unary_unary", "Unary").with_call(b"hello", metadata=md, timeout=20)
    out["unary"] = resp.decode()
    out["unary_trailers"] = dict(call.trailing_metadata())
    try:
        method("unary_unary", "Unary")(b"fail", metadata=md, timeout=20)
        out["fail"] = "no error"
    except grpc.RpcError as e:
        out["fail"] = [e.code().name, e.details()]
    try:
        method("unary_unary", "Unary")(b"slow", metadata=md, timeout=0.5)
        out["deadline"] = "no error"
    except grpc.RpcError as e:
        out["deadline"] = e.code().name
    out["server_stream"] = [m.decode() for m in method("unary_stream", "ServerStream")(b"5", metadata=md, timeout=20)]
    out["client_stream"] = method("stream_unary", "ClientStream")(iter([b"a", b"b", b"c"]), metadata=md, timeout=20).decode()
    out["bidi"] = [m.decode() for m in method("stream_stream", "Bidi")(iter([b"x", b"y", b"z"]), metadata=md, timeout=20)]
    stream = method("unary_stream", "Hang")(b"", metadata=md, timeout=20)
    out["hang_first"] = next(stream).decode()
    stream.cancel()
    out["hang_cancelled"] = stream.code().name
    print(json.dumps(out), flush=True)

if sys.argv[1] == "serve":
    serve(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
else:
    client(sys.argv[2], sys.argv[3], sys.argv[4:])
"""#
}
