// Mutual TLS 1.3 through `TLSHandler` on one core: full handshakes per second between two
// Switchyard endpoints, and bulk throughput after one handshake. A benchmark, not a test: run
// it with `make bench-tls` (release build; `bench/tls-baseline.sh` then measures `openssl
// s_time` / `s_server` / `s_client` on the same machine) and read the figures it prints.
//
// One process, one thread: a client `TLSHandler` and a server `TLSHandler`, each on an
// `EmbeddedChannel` of one `EmbeddedEventLoop`, with the ciphertext each writes carried to the
// other (as in Tests/SwitchyardTLSTests/TLSTestHarness.swift). So every figure pays for both
// ends of the connection — client and server handshake, encryption and decryption — on the
// same core. Certificates: anchor → issuer → two ECDSA P-256 workloads, made in memory by
// `CertificateAuthority` (as `switchyard certs` makes them).
//
//   SwitchyardTLSBench [--seconds S] [--runs N] [--bulk-mib M] [--only handshakes|bulk] [--results FILE]
//
// Each figure is the best of several runs, per wall-clock second and per CPU-second of this
// process (the second does not drop when something else shares the core). `--results FILE`
// also writes them as `key per-second per-CPU-second` lines (for bench/tls-baseline.sh).
import Foundation
import NIOCore
import NIOEmbedded
import SwitchyardTLS

// MARK: - Options

struct Options {
    var seconds = 5.0
    var runs = 3
    var bulkMiB = 256
    var resultsPath: String?
    /// `handshakes` or `bulk`: measure only that (e.g. under `perf record`).
    var only: String?

    init(_ arguments: [String]) {
        var arguments = arguments[...]
        func value(_ flag: String) -> String {
            guard let next = arguments.popFirst() else { fail("\(flag) needs a value") }
            return next
        }
        while let argument = arguments.popFirst() {
            switch argument {
            case "--seconds": seconds = Double(value(argument)) ?? seconds
            case "--runs": runs = max(1, Int(value(argument)) ?? runs)
            case "--bulk-mib": bulkMiB = max(1, Int(value(argument)) ?? bulkMiB)
            case "--results": resultsPath = value(argument)
            case "--only":
                only = value(argument)
                guard only == "handshakes" || only == "bulk" else { fail("--only takes handshakes or bulk") }
            default: fail("unknown argument \(argument); usage: SwitchyardTLSBench [--seconds S] [--runs N] [--bulk-mib M] [--only handshakes|bulk] [--results FILE]")
            }
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("SwitchyardTLSBench: \(message)\n".utf8))
    exit(1)
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

// MARK: - Endpoints

/// The tail of each pipeline: reads all the time (as autoRead does), counts plaintext without
/// keeping it, and records the handshake event and any error.
final class Sink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var handshake: TLSHandshakeCompleted?
    var receivedBytes = 0
    var errors: [any Error] = []

    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receivedBytes += unwrapInboundIn(data).readableBytes
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSHandshakeCompleted { handshake = event }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

/// The mesh PKI and both contexts, built once (as the daemon does).
struct Endpoints {
    static let clientIdentity = "web.bench.serviceaccount.identity.linkerd.cluster.local"
    static let serverIdentity = "backend.bench.serviceaccount.identity.linkerd.cluster.local"

    let client: TLSClientContext
    let server: TLSServerContext

    init(configuration: TLSConfiguration) throws {
        let anchor = try CertificateAuthority.makeTrustAnchor()
        let issuer = try CertificateAuthority.makeIssuer(signedBy: anchor)
        let bundle = try TrustBundle(anchors: [anchor.certificate])
        let clientCredential = try issuer.issue(identity: Self.clientIdentity).credential
        let serverCredential = try issuer.issue(identity: Self.serverIdentity).credential
        client = try TLSClientContext(credential: clientCredential, trustBundle: bundle, configuration: configuration)
        server = try TLSServerContext(credentials: [serverCredential], trustBundle: bundle, configuration: configuration)
    }
}

/// One connection: a client and a server `TLSHandler` on EmbeddedChannels sharing `loop`.
final class Connection {
    static let address = try! SocketAddress(ipAddress: "127.0.0.1", port: 4143)

    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientTLS: TLSHandler
    let serverTLS: TLSHandler
    let clientSink = Sink()
    let serverSink = Sink()

    init(_ endpoints: Endpoints, loop: EmbeddedEventLoop) throws {
        clientTLS = try TLSHandler(context: endpoints.client, serverIdentity: Endpoints.serverIdentity)
        serverTLS = try TLSHandler(context: endpoints.server)
        client = EmbeddedChannel(handlers: [clientTLS, clientSink], loop: loop)
        server = EmbeddedChannel(handlers: [serverTLS, serverSink], loop: loop)
    }

    /// Activates both ends (the client sends its ClientHello) and carries ciphertext both ways
    /// until neither has anything more to send. Returns why the handshake does not count as a
    /// verified mutual-TLS handshake, or nil if it does.
    func handshake() throws -> String? {
        try server.connect(to: Self.address).wait()
        try client.connect(to: Self.address).wait()
        try shuttle()
        if let error = clientSink.errors.first ?? serverSink.errors.first { return "error: \(error)" }
        guard clientSink.handshake != nil, serverSink.handshake != nil else { return "handshake did not complete" }
        // The client verified the server's SAN against the identity it dialled, and the server
        // the client's certificate (required): each end must name the other.
        guard clientTLS.peerIdentity?.name == Endpoints.serverIdentity else {
            return "client sees \(clientTLS.peerIdentity?.name ?? "no peer"), wanted \(Endpoints.serverIdentity)"
        }
        guard serverTLS.peerIdentity?.name == Endpoints.clientIdentity else {
            return "server sees \(serverTLS.peerIdentity?.name ?? "no peer"), wanted \(Endpoints.clientIdentity)"
        }
        return nil
    }

    /// Carries ciphertext both ways until neither side has anything to send; each buffer is
    /// delivered as one read cycle, as a socket read would bring it.
    func shuttle() throws {
        while true {
            let fromClient = try carry(from: client, to: server)
            let fromServer = try carry(from: server, to: client)
            if !fromClient && !fromServer { return }
        }
    }

    private func carry(from source: EmbeddedChannel, to destination: EmbeddedChannel) throws -> Bool {
        var moved = false
        while let buffer = try source.readOutbound(as: ByteBuffer.self) {
            guard buffer.readableBytes > 0, destination.isActive else { continue }
            moved = true
            destination.pipeline.fireChannelRead(buffer)
            destination.pipeline.fireChannelReadComplete()
        }
        return moved
    }

    /// Closes both ends (each sends close_notify, which is dropped), freeing the channels.
    func close() throws {
        _ = try client.finish(acceptAlreadyClosed: true)
        _ = try server.finish(acceptAlreadyClosed: true)
    }
}

// MARK: - Measurements

/// This process's CPU time (user + system), in seconds: a rate per CPU-second does not drop when
/// another process shares the core, as a rate per wall-clock second does.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The best of several runs: per wall-clock second, and per CPU-second.
struct Rate {
    var wall = 0.0
    var cpu = 0.0

    mutating func add(count: Double, wallSeconds: Double, cpuSeconds: Double) -> (wall: Double, cpu: Double) {
        let run = (wall: count / wallSeconds, cpu: count / max(cpuSeconds, 1e-9))
        wall = max(wall, run.wall)
        cpu = max(cpu, run.cpu)
        return run
    }
}

/// Full mutual-TLS handshakes, each on a new pair of channels and handlers (so per-connection
/// setup and teardown are included), for `seconds`; best of `runs`. Aborts on any failure.
func measureHandshakes(_ label: String, endpoints: Endpoints, seconds: Double, runs: Int) throws -> Rate {
    let loop = EmbeddedEventLoop()
    // Warm up (and check once) before timing.
    for _ in 0..<20 {
        let connection = try Connection(endpoints, loop: loop)
        if let problem = try connection.handshake() { fail("\(label): warm-up handshake failed: \(problem)") }
        try connection.close()
    }
    var best = Rate()
    let budget = UInt64(seconds * 1e9)
    for run in 1...runs {
        var completed = 0
        var failures = 0
        var firstProblem: String?
        let start = now()
        let startCPU = cpuSeconds()
        var elapsed: UInt64 = 0
        repeat {
            for _ in 0..<25 {
                let connection = try Connection(endpoints, loop: loop)
                if let problem = try connection.handshake() {
                    failures += 1
                    firstProblem = firstProblem ?? problem
                } else {
                    completed += 1
                }
                try connection.close()
            }
            elapsed = now() - start
        } while elapsed < budget
        let cpu = cpuSeconds() - startCPU
        if failures > 0 { fail("\(label): \(failures) of \(completed + failures) handshakes failed, first: \(firstProblem!)") }
        let wall = Double(elapsed) / 1e9
        let rate = best.add(count: Double(completed), wallSeconds: wall, cpuSeconds: cpu)
        print(String(format: "  run %d: %5d handshakes in %.2f s (%.2f s CPU)  %5.0f handshakes/s  %5.0f per CPU-second  %6.1f µs CPU each",
                     run, completed, wall, cpu, rate.wall, rate.cpu, 1e6 / rate.cpu))
    }
    return best
}

/// Bulk client → server after one handshake: `totalMiB` of plaintext in 64 KiB writes, a flush
/// every `flushEvery` writes, the ciphertext carried to the server after each flush; MB/s
/// (10^6 bytes) of plaintext counted at the server's tail. Best of `runs`.
func measureBulk(_ label: String, endpoints: Endpoints, totalMiB: Int, flushEvery: Int, runs: Int) throws -> Rate {
    let writeSize = 64 << 10
    let writes = (totalMiB << 20) / writeSize
    var payload = ByteBufferAllocator().buffer(capacity: writeSize)
    for i in 0..<writeSize { payload.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ 7)) }
    var best = Rate()
    // Run 0 is a warm-up of 1/8 of the bytes (the allocator settles its large-buffer sizes).
    for run in 0...runs {
        let loop = EmbeddedEventLoop()
        let connection = try Connection(endpoints, loop: loop)
        if let problem = try connection.handshake() { fail("\(label): handshake failed: \(problem)") }
        let writes = run == 0 ? max(1, writes / 8) : writes
        let start = now()
        let startCPU = cpuSeconds()
        for i in 1...writes {
            connection.client.write(payload, promise: nil)
            if i % flushEvery == 0 || i == writes {
                connection.client.flush()
                try connection.shuttle()
            }
        }
        let wall = Double(now() - start) / 1e9
        let cpu = cpuSeconds() - startCPU
        let received = connection.serverSink.receivedBytes
        if let error = connection.clientSink.errors.first ?? connection.serverSink.errors.first {
            fail("\(label): \(error)")
        }
        guard received == writes * writeSize else {
            fail("\(label): the server received \(received) bytes of \(writes * writeSize)")
        }
        try connection.close()
        if run == 0 { continue }
        let rate = best.add(count: Double(received) / 1e6, wallSeconds: wall, cpuSeconds: cpu)
        print(String(format: "  run %d: %d MiB in %.3f s (%.3f s CPU)  %5.0f MB/s  %5.0f MB per CPU-second",
                     run, totalMiB, wall, cpu, rate.wall, rate.cpu))
    }
    return best
}

// MARK: - Main

let options = Options(Array(CommandLine.arguments.dropFirst()))
/// What was measured, in order: key (for --results), label, best rates, unit.
var results: [(key: String, label: String, rate: Rate, unit: String)] = []

/// Our default: P-256 key share first, AES-128-GCM first (server preference).
let standard = try Endpoints(configuration: .default)
/// X25519 key share, as `openssl s_time` / `s_client` offer by default.
var x25519Configuration = TLSConfiguration.default
x25519Configuration.groups = ["X25519", "P-256"]
let x25519 = try Endpoints(configuration: x25519Configuration)
/// AES-256-GCM only: the suite `openssl s_client` and `s_server` agree on by default.
var aes256Configuration = TLSConfiguration.default
aes256Configuration.cipherSuites = ["TLS_AES_256_GCM_SHA384"]
let aes256 = try Endpoints(configuration: aes256Configuration)

print("SwitchyardTLSBench: release build, one thread, client and server TLSHandler on EmbeddedChannels")
print("certificates: ECDSA P-256 workloads from an issuer under a trust anchor; client certificate required, SANs checked")

if options.only != "bulk" {
    for (key, name, endpoints) in [("handshakes_p256", "P-256 (our default)", standard), ("handshakes_x25519", "X25519 (openssl's default)", x25519)] {
        print("")
        print(String(format: "full mTLS 1.3 handshakes, key share %@, %.0f s per run, best of %d:", name as NSString, options.seconds, options.runs))
        let best = try measureHandshakes("handshakes \(name)", endpoints: endpoints, seconds: options.seconds, runs: options.runs)
        results.append((key, "full mTLS handshakes, \(name.prefix { $0 != " " }) key share", best, "/s"))
    }
}

if options.only != "handshakes" {
    let cases: [(key: String, label: String, about: String, endpoints: Endpoints, flushEvery: Int)] = [
        ("bulk_aes128_flush1", "bulk AES-128-GCM, flush every 64 KiB write", "TLS_AES_128_GCM_SHA256 (our default), flush after every write", standard, 1),
        ("bulk_aes128_flush16", "bulk AES-128-GCM, flush every 16 writes", "TLS_AES_128_GCM_SHA256, flush after every 16 writes (1 MiB)", standard, 16),
        ("bulk_aes256_flush1", "bulk AES-256-GCM, flush every 64 KiB write", "TLS_AES_256_GCM_SHA384 (openssl's default agreement), flush after every write", aes256, 1),
    ]
    for bulk in cases {
        print("")
        print("bulk client -> server, \(options.bulkMiB) MiB in 64 KiB writes, encryption and decryption on the same core, best of \(options.runs);")
        print("\(bulk.about):")
        let best = try measureBulk(bulk.label, endpoints: bulk.endpoints, totalMiB: options.bulkMiB, flushEvery: bulk.flushEvery, runs: options.runs)
        results.append((bulk.key, bulk.label, best, "MB/s"))
    }
}

print("")
print("Switchyard, one core (best runs)                     per second   per CPU-second")
for result in results {
    let label = result.label.padding(toLength: 48, withPad: " ", startingAt: 0)
    print("  \(label) \(String(format: "%8.0f %14.0f", result.rate.wall, result.rate.cpu)) \(result.unit)")
}

if let path = options.resultsPath {
    let text = results.map { String(format: "%@ %.1f %.1f\n", $0.key as NSString, $0.rate.wall, $0.rate.cpu) }.joined()
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        fail("cannot write \(path): \(error)")
    }
}
