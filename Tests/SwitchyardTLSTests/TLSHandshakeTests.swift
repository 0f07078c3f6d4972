// Full handshakes between a TLSHandler client and a TLSHandler server over EmbeddedChannels:
// identities both ways, ALPN, and every refusal with the reason on each side.
import COpenSSL
import Foundation
import NIOCore
import NIOEmbedded
@testable import SwitchyardTLS
import Testing

@Suite("TLS handshake")
struct TLSHandshakeTests {
    let web = TLSTestPKI.identity("web")
    let backend = TLSTestPKI.identity("backend")

    @Test("mutual TLS 1.3: each side learns the other's verified identity, ALPN agreed, event fired once")
    func handshakeSucceeds() throws {
        let pki = try TLSTestPKI()
        let pair = try TLSPair(pki: pki, serverIdentities: [TLSTestPKI.identity("other"), backend], dialing: backend)
        try pair.handshake()

        #expect(pair.clientRecorder.errors.isEmpty, "\(pair.clientRecorder.errors)")
        #expect(pair.serverRecorder.errors.isEmpty, "\(pair.serverRecorder.errors)")
        #expect(pair.clientRecorder.handshakes.count == 1)
        #expect(pair.serverRecorder.handshakes.count == 1)
        #expect(pair.clientRecorder.handshakes.first?.peerIdentity == backend)
        #expect(pair.serverRecorder.handshakes.first?.peerIdentity == web)
        #expect(pair.clientRecorder.handshakes.first?.alpn == "h2")
        #expect(pair.serverRecorder.handshakes.first?.alpn == "h2")
        #expect(pair.clientTLS.peerIdentity?.name == backend)
        #expect(pair.serverTLS.peerIdentity?.name == web)
        #expect(pair.serverTLS.requestedServerName == backend)
        #expect(pair.clientTLS.negotiatedALPN == "h2")
        #expect(pair.serverTLS.peerIdentity?.notAfter ?? .distantPast > Date())

        // Nothing fires twice.
        try pair.exchange()
        #expect(pair.clientRecorder.handshakes.count == 1)
        #expect(pair.serverRecorder.handshakes.count == 1)
        #expect(pair.client.isActive && pair.server.isActive)
    }

    @Test("ALPN: the server's preference among what the client offers; none in common goes on without")
    func alpnSelection() throws {
        let pki = try TLSTestPKI()
        let clientContext = try TLSClientContext(
            credential: pki.credential(web), trustBundle: pki.bundle,
            configuration: TLSConfiguration(applicationProtocols: ["http/1.1", "h2"]))
        let serverContext = try TLSServerContext(
            credentials: [pki.credential(backend)], trustBundle: pki.bundle,
            configuration: TLSConfiguration(applicationProtocols: ["h2", "http/1.1"]))
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()
        #expect(pair.clientRecorder.handshakes.first?.alpn == "h2")

        let noCommon = try TLSClientContext(
            credential: pki.credential(web), trustBundle: pki.bundle,
            configuration: TLSConfiguration(applicationProtocols: ["transport.l5d.io/v1"]))
        let second = try TLSPair(client: noCommon, server: serverContext, dialing: backend)
        try second.handshake()
        #expect(second.clientRecorder.handshakes.count == 1)
        #expect(second.clientRecorder.handshakes.first?.alpn == nil)
        #expect(second.serverRecorder.handshakes.first?.alpn == nil)
    }

    @Test("SNI naming no identity served here: unknownServerName on the server, unrecognized_name alert on the client")
    func unknownServerName() throws {
        let pki = try TLSTestPKI()
        let stranger = TLSTestPKI.identity("stranger")
        let pair = try TLSPair(pki: pki, serverIdentities: [backend], dialing: stranger)
        try pair.handshake()

        #expect(pair.serverRecorder.tlsErrors == [.unknownServerName(stranger)])
        #expect(pair.clientRecorder.tlsErrors == [.peerAlert("unrecognized name")])
        #expect(pair.serverRecorder.handshakes.isEmpty && pair.clientRecorder.handshakes.isEmpty)
        #expect(!pair.server.isActive && !pair.client.isActive)
        #expect("\(TLSError.unknownServerName(stranger))".contains(stranger))
    }

    @Test("client without a certificate: noClientCertificate on the server, certificate_required alert on the client")
    func noClientCertificate() throws {
        let pki = try TLSTestPKI()
        let serverContext = try TLSServerContext(credentials: [pki.credential(backend)], trustBundle: pki.bundle)
        let pair = try TLSPair(client: try CertificatelessClient.context(pki: pki), server: serverContext, dialing: backend)
        try pair.handshake()

        #expect(pair.serverRecorder.tlsErrors == [.noClientCertificate])
        #expect(pair.serverRecorder.handshakes.isEmpty)
        // TLS 1.3: the client finishes its side before the server judges its certificate; the
        // alert ends the connection right after.
        #expect(pair.clientRecorder.tlsErrors == [.peerAlert("certificate required")])
        #expect(!pair.server.isActive && !pair.client.isActive)
    }

    @Test("client certificate from another CA: unknownCA on the server, unknown_ca alert on the client")
    func clientFromAnotherCA() throws {
        let pki = try TLSTestPKI()
        let foreign = try TLSTestPKI(name: "foreign")
        let clientContext = try TLSClientContext(credential: foreign.credential(web), trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [pki.credential(backend)], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()

        #expect(pair.serverRecorder.tlsErrors == [.unknownCA])
        #expect(pair.clientRecorder.tlsErrors == [.peerAlert("unknown CA")])
        #expect(pair.serverRecorder.handshakes.isEmpty)
    }

    @Test("server certificate from another CA: unknownCA on the client, the server sees the alert")
    func serverFromAnotherCA() throws {
        let pki = try TLSTestPKI()
        let foreign = try TLSTestPKI(name: "foreign")
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [foreign.credential(backend)], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()

        #expect(pair.clientRecorder.tlsErrors == [.unknownCA])
        #expect(pair.serverRecorder.tlsErrors == [.peerAlert("unknown CA")])
        #expect(pair.clientRecorder.handshakes.isEmpty && pair.serverRecorder.handshakes.isEmpty)
    }

    @Test("expired server certificate: expired on the client, certificate_expired alert on the server")
    func expiredServerCertificate() throws {
        let pki = try TLSTestPKI()
        let expired = try pki.credential(backend, notBefore: Date().addingTimeInterval(-2 * 86_400), notAfter: Date().addingTimeInterval(-86_400))
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [expired], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()

        #expect(pair.clientRecorder.tlsErrors == [.expired])
        #expect(pair.serverRecorder.tlsErrors == [.peerAlert("certificate expired")])
    }

    @Test("expired client certificate: expired on the server, certificate_expired alert on the client")
    func expiredClientCertificate() throws {
        let pki = try TLSTestPKI()
        let expired = try pki.credential(web, notBefore: Date().addingTimeInterval(-2 * 86_400), notAfter: Date().addingTimeInterval(-86_400))
        let clientContext = try TLSClientContext(credential: expired, trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [pki.credential(backend)], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()

        #expect(pair.serverRecorder.tlsErrors == [.expired])
        #expect(pair.clientRecorder.tlsErrors == [.peerAlert("certificate expired")])
    }

    @Test("not-yet-valid server certificate: notYetValid on the client")
    func notYetValidServerCertificate() throws {
        let pki = try TLSTestPKI()
        let future = try pki.credential(backend, notBefore: Date().addingTimeInterval(86_400), notAfter: Date().addingTimeInterval(2 * 86_400))
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [future], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()
        #expect(pair.clientRecorder.tlsErrors == [.notYetValid])
        #expect(pair.serverRecorder.tlsErrors == [.peerAlert("bad certificate")])
    }

    @Test("server presenting another identity: identityMismatch naming both on the client, bad_certificate alert on the server")
    func serverPresentsWrongIdentity() throws {
        let pki = try TLSTestPKI()
        let impostor = TLSTestPKI.identity("impostor")
        // The server serves `backend`, but that credential's leaf says `impostor`.
        let (leaf, key) = try pki.issuer.leaf(commonName: backend, dnsNames: [impostor])
        let wrong = IdentityCredential(identity: backend, chain: [leaf, pki.issuer.certificate], key: key)
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [wrong], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()

        #expect(pair.clientRecorder.tlsErrors == [.identityMismatch(wanted: backend, got: impostor)])
        #expect(pair.serverRecorder.tlsErrors == [.peerAlert("bad certificate")])
        let message = "\(TLSError.identityMismatch(wanted: backend, got: impostor))"
        #expect(message == "identity mismatch: wanted \(backend), got \(impostor)")
    }

    @Test("no wildcard and no commonName fallback: a *.namespace SAN or a CN-only leaf is refused")
    func noWildcardNoCommonName() throws {
        let pki = try TLSTestPKI()
        let wildcard = "*.test.serviceaccount.identity.linkerd.cluster.local"
        for dnsNames in [[wildcard], []] {
            let (leaf, key) = try pki.issuer.leaf(commonName: backend, dnsNames: dnsNames)
            let credential = IdentityCredential(identity: backend, chain: [leaf, pki.issuer.certificate], key: key)
            let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
            let serverContext = try TLSServerContext(credentials: [credential], trustBundle: pki.bundle)
            let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
            try pair.handshake()
            #expect(pair.clientRecorder.handshakes.isEmpty)
            let error = try #require(pair.clientRecorder.tlsErrors.first)
            if dnsNames.isEmpty {
                guard case .invalidPeerIdentity = error else { Issue.record("got \(error)"); continue }
            } else {
                #expect(error == .identityMismatch(wanted: backend, got: wildcard))
            }
        }
    }

    @Test("client leaf with two DNS SANs is refused by the server (identity must be one name)")
    func clientWithTwoSANs() throws {
        let pki = try TLSTestPKI()
        let (leaf, key) = try pki.issuer.leaf(commonName: web, dnsNames: [web, TLSTestPKI.identity("admin")])
        let twoNames = IdentityCredential(identity: web, chain: [leaf, pki.issuer.certificate], key: key)
        let clientContext = try TLSClientContext(credential: twoNames, trustBundle: pki.bundle)
        let serverContext = try TLSServerContext(credentials: [pki.credential(backend)], trustBundle: pki.bundle)
        let pair = try TLSPair(client: clientContext, server: serverContext, dialing: backend)
        try pair.handshake()
        let error = try #require(pair.serverRecorder.tlsErrors.first)
        guard case .invalidPeerIdentity(let detail) = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(detail.contains("2 DNS SANs"))
        #expect(pair.clientRecorder.tlsErrors == [.peerAlert("bad certificate")])
        #expect(pair.serverRecorder.handshakes.isEmpty)
    }

    @Test("handshake timeout: a silent peer fails the handshake after the configured time, then the channel closes")
    func handshakeTimeout() throws {
        let pki = try TLSTestPKI()
        let pair = try TLSPair(pki: pki, configuration: TLSConfiguration(handshakeTimeout: .seconds(3)))
        try pair.activate()  // ClientHello written, never delivered
        pair.loop.advanceTime(by: .seconds(2))
        #expect(pair.server.isActive && pair.serverRecorder.errors.isEmpty)
        pair.loop.advanceTime(by: .seconds(2))
        #expect(pair.serverRecorder.tlsErrors == [.handshakeTimeout])
        #expect(pair.clientRecorder.tlsErrors == [.handshakeTimeout])
        #expect(!pair.server.isActive && !pair.client.isActive)
    }

    @Test("a completed handshake cancels the timer")
    func timerCancelled() throws {
        let pki = try TLSTestPKI()
        let pair = try TLSPair(pki: pki, configuration: TLSConfiguration(handshakeTimeout: .seconds(3)))
        try pair.handshake()
        pair.loop.advanceTime(by: .seconds(10))
        #expect(pair.serverRecorder.errors.isEmpty && pair.clientRecorder.errors.isEmpty)
        #expect(pair.server.isActive && pair.client.isActive)
    }

    @Test("a server with two identities presents the one each client names")
    func serverPicksIdentityBySNI() throws {
        let pki = try TLSTestPKI()
        let a = TLSTestPKI.identity("backend-a"), b = TLSTestPKI.identity("backend-b")
        let serverContext = try TLSServerContext(credentials: [pki.credential(a), pki.credential(b)], trustBundle: pki.bundle)
        #expect(serverContext.identities == [a, b])
        let clientContext = try TLSClientContext(credential: pki.credential(web), trustBundle: pki.bundle)
        for name in [a, b, a] {
            let pair = try TLSPair(client: clientContext, server: serverContext, dialing: name)
            try pair.handshake()
            #expect(pair.clientTLS.peerIdentity?.name == name)
            #expect(pair.serverTLS.peerIdentity?.name == web)
        }
    }
}

/// A client that sends no certificate, for the "no client certificate" case (`TLSClientContext`
/// always presents one): the real context, with a certificate callback that clears the
/// connection's certificate before OpenSSL picks it.
enum CertificatelessClient {
    static func context(pki: TLSTestPKI) throws -> TLSClientContext {
        let context = try TLSClientContext(credential: pki.credential(TLSTestPKI.identity("web")), trustBundle: pki.bundle)
        SSL_CTX_set_cert_cb(context.ctx, { ssl, _ in
            SSL_certs_clear(ssl)
            return 1
        }, nil)
        return context
    }
}
