// Our client (TLSHandler) against nginx with `ssl_verify_client on`, over loopback sockets.
// nginx verifies our workload certificate against the trust bundle (`ssl_client_certificate`),
// we verify nginx's certificate against the identity we dial, and an HTTP/1.1 request goes
// through the handler. nginx runs as a child process in the foreground, one per test, from a
// temporary directory, on 127.0.0.1 and a free port; it is always stopped at the end.
//
// nginx is required, not optional: `make test` runs `make deps`, which installs it.
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

@Suite("TLS interop with nginx (ssl_verify_client on)", .dedicatedThread)
struct NginxInteropTests {
    let web = TLSTestPKI.identity("web")
    /// nginx presents its own identity for this name...
    let backend = TLSTestPKI.identity("backend")
    /// ...backend's certificate for this one (the wrong identity)...
    let db = TLSTestPKI.identity("db")
    /// ...and for this one a certificate of this name from a CA our bundle does not hold.
    let cache = TLSTestPKI.identity("cache")

    /// Certificates made with `CertificateAuthority` (anchor → issuer → leaf), written as PEM
    /// under a fresh `sy-nginx-` temporary directory, with nginx's configuration.
    struct Fixture {
        let directory: String
        let mesh: (anchor: CertificateAuthority, issuer: CertificateAuthority)
        let bundle: TrustBundle

        init(backend: String, cache: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-nginx-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            do {
                mesh = try PKITest.makeCA()
                bundle = try TrustBundle(anchors: [mesh.anchor.certificate])
                let foreign = try PKITest.makeCA(trustDomain: "foreign.example")
                try mesh.anchor.certificate.pem.write(toFile: path("trust-bundle.pem"), atomically: true, encoding: .utf8)
                // tls.crt = leaf + issuer (nginx sends the whole file as its chain), tls.key 0600.
                try PKIWorkloadDirectory(path("backend")).write(mesh.issuer.issue(identity: backend))
                try PKIWorkloadDirectory(path("foreign-cache")).write(foreign.issuer.issue(identity: cache))
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
        }

        func path(_ name: String) -> String { directory + "/" + name }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        /// nginx.conf: one listener, three server blocks chosen by SNI, all requiring a client
        /// certificate that chains to the trust bundle.
        func configuration(port: Int, backend: String, db: String, cache: String) -> String {
            func server(_ name: String, presenting workload: String, default isDefault: Bool = false) -> String {
                """
                    server {
                        listen 127.0.0.1:\(port) ssl\(isDefault ? " default_server" : "");
                        server_name \(name);
                        ssl_certificate \(path(workload))/tls.crt;
                        ssl_certificate_key \(path(workload))/tls.key;
                        location / {
                            return 200 "client=$ssl_client_s_dn verify=$ssl_client_verify protocol=$ssl_protocol sni=$ssl_server_name\\n";
                        }
                    }

                """
            }
            return """
                daemon off;
                master_process off;
                worker_processes 1;
                pid \(path("nginx.pid"));
                error_log \(path("error.log")) info;
                events { worker_connections 64; }
                http {
                    access_log off;
                    default_type text/plain;
                    client_body_temp_path \(path("tmp-body"));
                    proxy_temp_path \(path("tmp-proxy"));
                    fastcgi_temp_path \(path("tmp-fastcgi"));
                    uwsgi_temp_path \(path("tmp-uwsgi"));
                    scgi_temp_path \(path("tmp-scgi"));
                    server_names_hash_bucket_size 128;

                    ssl_protocols TLSv1.3;
                    ssl_verify_client on;
                    ssl_client_certificate \(path("trust-bundle.pem"));
                    ssl_verify_depth 3;

                \(server(backend, presenting: "backend", default: true))\(server(db, presenting: "backend"))\(server(cache, presenting: "foreign-cache"))}

                """
        }
    }

    /// What our client saw of one HTTP/1.1 exchange with nginx.
    struct Exchange: Sendable {
        var handshake: TLSHandshakeCompleted?
        var response = ""
        var tlsErrors: [TLSError] = []
        var otherErrors: [String] = []
    }

    /// Client side: on the handshake, sends `request`; collects the response and errors until
    /// the channel closes.
    final class HTTPClient: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let request: String
        let done: EventLoopPromise<Exchange>
        var exchange = Exchange()

        init(request: String, done: EventLoopPromise<Exchange>) {
            self.request = request
            self.done = done
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            guard let handshake = event as? TLSHandshakeCompleted else { return }
            exchange.handshake = handshake
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            exchange.response += String(buffer: unwrapInboundIn(data))
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let error = error as? TLSError { exchange.tlsErrors.append(error) } else { exchange.otherErrors.append("\(error)") }
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.succeed(exchange)
        }
    }

    /// Starts nginx on `fixture`, dials it with `clientCredential` naming `serverIdentity`, sends
    /// `GET /`, and returns what our client saw and nginx's error log. nginx is stopped before
    /// returning, whatever happened.
    private func exchange(
        fixture: Fixture, clientCredential: IdentityCredential, serverIdentity: String, awaitingLog: String? = nil
    ) async throws -> (exchange: Exchange, errorLog: String) {
        let nginx = try await NginxProcess.start(directory: fixture.directory) { port in
            fixture.configuration(port: port, backend: backend, db: db, cache: cache)
        }
        defer { nginx.stop() }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientContext = try TLSClientContext(
            credential: clientCredential, trustBundle: fixture.bundle,
            configuration: TLSConfiguration(handshakeTimeout: .seconds(5), closeTimeout: .seconds(2)))
        let done = group.next().makePromise(of: Exchange.self)
        interopDeadline(done, .seconds(30), "the HTTP exchange with nginx")
        let request = "GET / HTTP/1.1\r\nHost: \(serverIdentity)\r\nConnection: close\r\n\r\n"
        let result: Exchange
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(context: clientContext, serverIdentity: serverIdentity))
                        try channel.pipeline.syncOperations.addHandler(HTTPClient(request: request, done: done))
                    }
                }
                .connect(host: "127.0.0.1", port: nginx.port).get()
            result = try await done.futureResult.get()
            try? await channel.close()
            try await group.shutdownGracefully()
        } catch {
            try? await group.shutdownGracefully()
            throw NginxInteropError("\(error); nginx error.log:\n\(nginx.errorLog)")
        }
        // Our side may be done before nginx has read (and logged) what we sent last: give it
        // up to 10 s to log `awaitingLog`, then stop it so that the log is complete.
        if let awaitingLog {
            for _ in 0..<1000 where !nginx.errorLog.contains(awaitingLog) {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        nginx.stop()
        return (result, nginx.errorLog)
    }

    @Test("our client against nginx: nginx verifies our certificate (verify=SUCCESS), we verify nginx's identity, HTTP/1.1 through the handler")
    func succeeds() async throws {
        let fixture = try Fixture(backend: backend, cache: cache)
        defer { fixture.remove() }
        let client = try fixture.mesh.issuer.issue(identity: web).credential
        let (result, errorLog) = try await exchange(fixture: fixture, clientCredential: client, serverIdentity: backend)

        #expect(result.handshake?.peerIdentity == backend, "\(result); nginx: \(errorLog)")
        #expect(result.handshake?.alpn == "http/1.1")  // nginx without http2 picks http/1.1 out of h2, http/1.1
        #expect(result.tlsErrors.isEmpty && result.otherErrors.isEmpty, "\(result); nginx: \(errorLog)")  // nginx sent close_notify
        #expect(result.response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(result.response)")
        let body = "client=CN=\(web) verify=SUCCESS protocol=TLSv1.3 sni=\(backend)\n"
        #expect(result.response.hasSuffix("\r\n\r\n" + body), "\(result.response)")
        #expect(!errorLog.contains("[error]") && !errorLog.contains("[crit]"), "\(errorLog)")
    }

    @Test("our client against nginx presenting the wrong identity: refused, identityMismatch; nginx logs our bad certificate alert")
    func wrongIdentity() async throws {
        let fixture = try Fixture(backend: backend, cache: cache)
        defer { fixture.remove() }
        let client = try fixture.mesh.issuer.issue(identity: web).credential
        // nginx's server block for `db` presents backend's (trusted) certificate.
        let (result, errorLog) = try await exchange(fixture: fixture, clientCredential: client, serverIdentity: db,
                                                    awaitingLog: "alert bad certificate")

        #expect(result.handshake == nil)
        #expect(result.tlsErrors == [.identityMismatch(wanted: db, got: backend)], "\(result)")
        #expect(result.response.isEmpty)
        #expect(errorLog.contains("alert bad certificate"), "\(errorLog)")
    }

    @Test("our client against nginx with a chain from another CA: refused, unknownCA; nginx logs our unknown CA alert")
    func untrustedChain() async throws {
        let fixture = try Fixture(backend: backend, cache: cache)
        defer { fixture.remove() }
        let client = try fixture.mesh.issuer.issue(identity: web).credential
        // nginx's server block for `cache` presents a certificate for cache, from a foreign CA.
        let (result, errorLog) = try await exchange(fixture: fixture, clientCredential: client, serverIdentity: cache,
                                                    awaitingLog: "alert unknown ca")

        #expect(result.handshake == nil)
        #expect(result.tlsErrors == [.unknownCA], "\(result)")
        #expect(result.response.isEmpty)
        #expect(errorLog.contains("alert unknown ca"), "\(errorLog)")
    }

    /// Client certificates nginx must refuse, and the verify error it names.
    enum BadClientCertificate: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case anotherCA, expired
        var testDescription: String { rawValue }
    }

    @Test(
        "nginx refuses our client certificate from another CA, or expired: HTTP 400 after the handshake, reason in its log",
        arguments: BadClientCertificate.allCases)
    func nginxRefusesClient(_ bad: BadClientCertificate) async throws {
        let fixture = try Fixture(backend: backend, cache: cache)
        defer { fixture.remove() }
        let client: IdentityCredential
        let reason: String
        switch bad {
        case .anotherCA:
            client = try PKITest.makeCA(trustDomain: "foreign.example").issuer.issue(identity: web).credential
            reason = "client SSL certificate verify error: (20:unable to get local issuer certificate)"
        case .expired:
            let now = Date()
            client = try fixture.mesh.issuer.issue(
                identity: web, notBefore: now.addingTimeInterval(-7200), notAfter: now.addingTimeInterval(-3600)).credential
            reason = "client SSL certificate verify error: (10:certificate has expired)"
        }
        let (result, errorLog) = try await exchange(fixture: fixture, clientCredential: client, serverIdentity: backend)

        // nginx's `ssl_verify_client on` does not fail the handshake: its verify callback accepts
        // every chain and the HTTP layer answers 400 to a request over a failed verification.
        #expect(result.handshake?.peerIdentity == backend, "\(result)")
        #expect(result.response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(result.response)")
        #expect(result.response.contains("The SSL certificate error"), "\(result.response)")
        #expect(!result.response.contains("verify=SUCCESS"), "\(result.response)")
        #expect(errorLog.contains(reason), "\(errorLog)")
    }
}

struct NginxInteropError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// nginx as a child process in the foreground (`daemon off; master_process off;`), listening on
/// 127.0.0.1 on a port that was free a moment before; `stop()` kills it (idempotent; a 10 s
/// watchdog does it too, so a stuck nginx never outlives its test for long).
final class NginxProcess: @unchecked Sendable {
    static let executable: String? = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    let directory: String
    let port: Int
    private let process: SpawnedProcess
    private let watchdog: InteropWatchdog

    private init(directory: String, port: Int, process: SpawnedProcess) {
        self.directory = directory
        self.port = port
        self.process = process
        self.watchdog = InteropWatchdog(process, after: 60)
    }

    /// What nginx wrote to `error.log` (and stderr, before it read its configuration).
    var errorLog: String {
        process.stderr + ((try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "")
    }

    /// Writes `<directory>/nginx.conf` from `configuration(port)` and runs nginx on it until
    /// the port accepts connections (at most 20 s); tries another port when the one picked
    /// was taken in between (three attempts).
    static func start(directory: String, configuration: (Int) -> String) async throws -> NginxProcess {
        guard let executable else {
            throw NginxInteropError("nginx is not installed (looked in /usr/sbin, /usr/bin, /usr/local/sbin): run `make deps`, which installs the Debian package nginx")
        }
        var lastLog = ""
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let conf = directory + "/nginx.conf"
            try configuration(port).write(toFile: conf, atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: directory + "/error.log", contents: nil)
            let process = try SpawnedProcess([executable, "-p", directory + "/", "-c", conf], label: "nginx",
                                             outputDirectory: URL(fileURLWithPath: directory))
            let nginx = NginxProcess(directory: directory, port: port, process: process)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline {
                if acceptsConnections(port: port) { return nginx }
                do { try await Task.sleep(for: .milliseconds(10)) } catch { nginx.stop(); throw error }
            }
            nginx.stop()
            lastLog = nginx.errorLog
            if !lastLog.contains("Address already in use") { break }
        }
        throw NginxInteropError("nginx did not start listening on 127.0.0.1 within 20 s; its log:\n\(lastLog)")
    }

    /// Kills nginx (SIGKILL, see `InteropWatchdog`) and waits for it to exit. nginx writes its
    /// error log line by line, unbuffered, so nothing it logged is lost.
    func stop() {
        watchdog.kill()
        _ = process.waitForExitBlocking(timeout: 30)
    }

    /// A port on 127.0.0.1 nothing listens on: bind port 0, read what the kernel chose, close.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NginxInteropError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw NginxInteropError("bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted (closed again at once).
    static func acceptsConnections(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
