// TLSHandler against a foreign TLS stack, the `openssl` command, over loopback sockets:
// `s_client` against our server (valid, missing, foreign, expired, not-yet-valid client
// certificates, unknown SNI), our client against `s_server -Verify 1` (valid, wrong identity,
// untrusted chain). nginx is in NginxInteropTests.swift.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import SwitchyardTLS
import Testing
import SwitchyardSubprocess
import SwitchyardTestSupport

/// Where the `openssl` command is, if installed.
let tlsInteropOpenSSL: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("TLS interop with the openssl command", .enabled(if: tlsInteropOpenSSL != nil, "needs the openssl command"), .dedicatedThread)
struct TLSInteropTests {
    static var openssl: String? { tlsInteropOpenSSL }

    let web = TLSTestPKI.identity("web")
    let backend = TLSTestPKI.identity("backend")

    /// PEM files for the openssl command, in a fresh temporary directory (removed by `remove()`).
    struct Files {
        let directory: String

        init(pki: TLSTestPKI, credential: IdentityCredential) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-tls-interop-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try write("anchor.pem", pki.anchor.certificate.pem)
            try write("leaf.pem", credential.leaf.pem)
            try write("chain.pem", credential.chain.dropFirst().map(\.pem).joined())
            try write("key.pem", credential.key.pem)
        }

        func path(_ name: String) -> String { directory + "/" + name }

        private func write(_ name: String, _ text: String) throws {
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// What our server saw of one connection.
    final class Observer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let outcome: EventLoopPromise<Result<String, TLSError>>
        let closeAfterGreeting: Bool

        init(outcome: EventLoopPromise<Result<String, TLSError>>, closeAfterGreeting: Bool) {
            self.outcome = outcome
            self.closeAfterGreeting = closeAfterGreeting
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let done = event as? TLSHandshakeCompleted {
                outcome.succeed(.success(done.peerIdentity ?? "?"))
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "hello \(done.peerIdentity ?? "?")\n")), promise: nil)
                if closeAfterGreeting { context.close(promise: nil) }
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let error = error as? TLSError { outcome.succeed(.failure(error)) }
        }
    }

    /// Runs `openssl arguments...` with `input` on stdin; killed after 10 s if still running.
    private func runProcess(_ arguments: [String], input: String) throws -> (status: Int32, output: String) {
        // With -ign_eof, s_client stays until our server closes (after its greeting); killed
        // after 60 s.
        let result = try SpawnedProcess.run([try #require(Self.openssl)] + arguments, input: input, errorOutput: .merged,
                                            timeout: 60)
        return (result.status, result.stdout)
    }

    /// Our server on 127.0.0.1 (greets the client by identity, then closes); `openssl s_client`
    /// dials it, with `clientCredential` (or no certificate), naming `serverName`.
    private func sClientAgainstOurServer(
        pki: TLSTestPKI, clientCredential: IdentityCredential?, serverName: String
    ) async throws -> (server: Result<String, TLSError>, client: (status: Int32, output: String)) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverContext = try TLSServerContext(credentials: [pki.credential(backend)], trustBundle: pki.bundle)
        let outcome = group.next().makePromise(of: Result<String, TLSError>.self)
        interopDeadline(outcome, .seconds(30), "our server's handshake with s_client")
        let files = try Files(pki: pki, credential: clientCredential ?? pki.credential(web))
        defer { files.remove() }
        do {
            let server = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: serverContext))
                        try channel.pipeline.syncOperations.addHandler(Observer(outcome: outcome, closeAfterGreeting: true))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(server.localAddress?.port)
            var arguments = [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", serverName, "-tls1_3", "-brief", "-ign_eof",
                "-CAfile", files.path("anchor.pem"), "-verify_return_error", "-verify_hostname", backend,
            ]
            if clientCredential != nil {
                arguments += ["-cert", files.path("leaf.pem"), "-cert_chain", files.path("chain.pem"), "-key", files.path("key.pem")]
            }
            let client = try runProcess(arguments, input: "ping\n")
            let seen = try await outcome.futureResult.get()
            try await server.close()
            try await group.shutdownGracefully()
            return (seen, client)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    @Test("openssl s_client with a valid certificate: succeeds; our server reports its identity")
    func sClientValid() async throws {
        let pki = try TLSTestPKI()
        let result = try await sClientAgainstOurServer(pki: pki, clientCredential: try pki.credential(web), serverName: backend)
        #expect(result.server == .success(web))
        #expect(result.client.status == 0, "\(result.client.output)")
        #expect(result.client.output.contains("Protocol version: TLSv1.3"), "\(result.client.output)")
        #expect(result.client.output.contains("Verification: OK"), "\(result.client.output)")
        #expect(result.client.output.contains("hello \(web)"), "\(result.client.output)")
    }

    @Test("openssl s_client without a certificate: refused, noClientCertificate")
    func sClientWithoutCertificate() async throws {
        let pki = try TLSTestPKI()
        let result = try await sClientAgainstOurServer(pki: pki, clientCredential: nil, serverName: backend)
        #expect(result.server == .failure(.noClientCertificate))
        #expect(result.client.status != 0, "\(result.client.output)")
        #expect(result.client.output.contains("certificate required"), "\(result.client.output)")
        #expect(!result.client.output.contains("hello "), "\(result.client.output)")
    }

    @Test("openssl s_client with a certificate from another CA, or naming an unknown server: refused with the reason")
    func sClientRefused() async throws {
        let pki = try TLSTestPKI()
        let foreign = try TLSTestPKI(name: "foreign")
        let other = try await sClientAgainstOurServer(pki: pki, clientCredential: try foreign.credential(web), serverName: backend)
        #expect(other.server == .failure(.unknownCA))
        #expect(other.client.status != 0, "\(other.client.output)")
        #expect(other.client.output.contains("unknown ca"), "\(other.client.output)")
        #expect(!other.client.output.contains("hello "), "\(other.client.output)")

        let stranger = TLSTestPKI.identity("stranger")
        let unknown = try await sClientAgainstOurServer(pki: pki, clientCredential: try pki.credential(web), serverName: stranger)
        #expect(unknown.server == .failure(.unknownServerName(stranger)))
        #expect(unknown.client.status != 0)
        #expect(unknown.client.output.contains("unrecognized name"), "\(unknown.client.output)")
    }

    @Test("openssl s_client with an expired certificate: refused, expired; s_client gets alert certificate expired")
    func sClientExpired() async throws {
        let pki = try TLSTestPKI()
        let now = Date()
        // Issued by our own issuer (the chain is fine), but its validity ended an hour ago.
        let expired = try pki.credential(web, notBefore: now.addingTimeInterval(-7200), notAfter: now.addingTimeInterval(-3600))
        let result = try await sClientAgainstOurServer(pki: pki, clientCredential: expired, serverName: backend)
        #expect(result.server == .failure(.expired))
        #expect("\(TLSError.expired)".hasPrefix("certificate expired"))
        #expect(result.client.status != 0, "\(result.client.output)")
        #expect(result.client.output.contains("alert certificate expired"), "\(result.client.output)")
        #expect(!result.client.output.contains("hello "), "\(result.client.output)")
    }

    @Test("openssl s_client with a certificate not yet valid: refused, notYetValid; s_client gets alert bad certificate")
    func sClientNotYetValid() async throws {
        let pki = try TLSTestPKI()
        let now = Date()
        let early = try pki.credential(web, notBefore: now.addingTimeInterval(3600), notAfter: now.addingTimeInterval(7200))
        let result = try await sClientAgainstOurServer(pki: pki, clientCredential: early, serverName: backend)
        #expect(result.server == .failure(.notYetValid))
        #expect(result.client.status != 0, "\(result.client.output)")
        #expect(result.client.output.contains("alert bad certificate"), "\(result.client.output)")
    }

    /// `openssl s_server -Verify 1` (one connection) presenting `serverCredential` from
    /// `serverPKI` and trusting `trustPKI`'s anchor; our client (`web` of `pki`) dials it as
    /// `backend`, greets it on success, and closes. Returns what our client saw and everything
    /// s_server printed.
    private func ourClientAgainstSServer(
        pki: TLSTestPKI, serverPKI: TLSTestPKI, serverCredential: IdentityCredential
    ) async throws -> (client: Result<String, TLSError>, server: String) {
        let serverFiles = try Files(pki: serverPKI, credential: serverCredential)
        defer { serverFiles.remove() }
        let clientFiles = try Files(pki: pki, credential: pki.credential(web))
        defer { clientFiles.remove() }
        // Standard input held open: s_server ends its connection at end of input.
        let process = try SpawnedProcess([
            try #require(Self.openssl),
            "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-tls1_3", "-Verify", "1", "-verify_return_error",
            "-CAfile", clientFiles.path("anchor.pem"), "-cert", serverFiles.path("leaf.pem"),
            "-cert_chain", serverFiles.path("chain.pem"), "-key", serverFiles.path("key.pem"),
        ], input: .heldOpen, errorOutput: .merged)
        defer { process.removeFiles() }
        // Never hang the suite on a stuck s_server: kill it (our own child) after 60 s.
        let watchdog = InteropWatchdog(process, after: 60)
        defer { watchdog.kill() }
        // s_server prints "ACCEPT 127.0.0.1:<port>" once it listens.
        var printed = process.stdout
        while !printed.contains("ACCEPT") && process.isRunning {
            try await Task.sleep(for: .milliseconds(10))
            printed = process.stdout
        }
        let portText = try #require(printed.split(separator: "\n").first { $0.hasPrefix("ACCEPT") }?.split(separator: ":").last, "\(printed)")
        let port = try #require(Int(portText.trimmingCharacters(in: .whitespaces)))

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
        let outcome = group.next().makePromise(of: Result<String, TLSError>.self)
        interopDeadline(outcome, .seconds(30), "our client's handshake with s_server")
        let backend = self.backend
        let seen: Result<String, TLSError>
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: clientContext, serverIdentity: backend))
                        try channel.pipeline.syncOperations.addHandler(Observer(outcome: outcome, closeAfterGreeting: false))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            seen = try await outcome.futureResult.get()
            if case .success = seen {
                // Written before our close_notify, so s_server prints it before it sees the close.
                try await channel.writeAndFlush(ByteBuffer(string: "ping from swift\n"))
            }
            // A refused handshake has closed the channel already.
            try? await channel.close()
            try await group.shutdownGracefully()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        _ = await process.waitForExit(timeout: 60)
        return (seen, process.stdout)
    }

    @Test("our client against openssl s_server -Verify 1: succeeds, both identities verified")
    func againstSServer() async throws {
        let pki = try TLSTestPKI()
        let (seen, printed) = try await ourClientAgainstSServer(pki: pki, serverPKI: pki, serverCredential: pki.credential(backend))
        #expect(seen == .success(backend))
        #expect(printed.contains("CIPHER is TLS_AES_128_GCM_SHA256"), "\(printed)")  // a TLS 1.3 suite
        // Our key-exchange preference as s_server saw it: P-256 first, then X25519.
        #expect(printed.contains("Supported groups: secp256r1:x25519"), "\(printed)")
        #expect(printed.contains("subject=CN = \(web)"), "\(printed)")
        #expect(printed.contains("ping from swift"), "\(printed)")
    }

    @Test("our client against openssl s_server presenting the wrong identity: refused, identityMismatch naming both")
    func againstSServerWrongIdentity() async throws {
        let pki = try TLSTestPKI()
        let impostor = TLSTestPKI.identity("impostor")
        // Trusted chain (our issuer), but its SAN is another identity than the one we dial.
        let wrong = try pki.credential(impostor)
        let (seen, printed) = try await ourClientAgainstSServer(pki: pki, serverPKI: pki, serverCredential: wrong)
        #expect(seen == .failure(.identityMismatch(wanted: backend, got: impostor)))
        #expect("\(TLSError.identityMismatch(wanted: backend, got: impostor))" == "identity mismatch: wanted \(backend), got \(impostor)")
        #expect(printed.contains("alert bad certificate"), "\(printed)")
        #expect(!printed.contains("ping from swift"), "\(printed)")
    }

    @Test("our client against openssl s_server with an untrusted chain: refused, unknownCA")
    func againstSServerUntrustedChain() async throws {
        let pki = try TLSTestPKI()
        let foreign = try TLSTestPKI(name: "foreign")
        // The identity we dial, but issued under an anchor our bundle does not hold.
        let (seen, printed) = try await ourClientAgainstSServer(pki: pki, serverPKI: foreign, serverCredential: foreign.credential(backend))
        #expect(seen == .failure(.unknownCA))
        #expect(printed.contains("alert unknown ca"), "\(printed)")
        #expect(!printed.contains("ping from swift"), "\(printed)")
    }
}

struct InteropTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Fails `promise` with `InteropTimeout` unless it is completed within `timeout` (a later
/// completion is ignored by NIO), so no interop test waits forever.
func interopDeadline<Value: Sendable>(_ promise: EventLoopPromise<Value>, _ timeout: TimeAmount, _ what: String) {
    let task = promise.futureResult.eventLoop.scheduleTask(in: timeout) { promise.fail(InteropTimeout(what: what)) }
    promise.futureResult.whenComplete { _ in task.cancel() }
}

/// Kills a child process, from any thread: after `seconds` (a watchdog against a stuck foreign
/// peer) or when `kill()` is called (at the end of the test, in a defer).
///
/// SIGKILL, not `Process.terminate()`: a child started by `Process` from a test inherits the
/// spawning thread's signal mask, which here blocks SIGTERM (nginx showed `SigBlk:
/// fffffffe3bfbea27` in /proc), so SIGTERM would stay pending and the child would run on.
final class InteropWatchdog: @unchecked Sendable {
    private let process: SpawnedProcess
    private let lock = NSLock()

    init(_ process: SpawnedProcess, after seconds: Double? = nil) {
        self.process = process
        if let seconds {
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in kill() }
        }
    }

    func kill() {
        lock.lock()
        defer { lock.unlock() }
        process.signal(SIGKILL)
    }
}
