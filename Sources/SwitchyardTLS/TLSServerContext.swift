import COpenSSL

/// The server side of the mesh's mutual TLS: immutable, built once and shared by every inbound
/// connection (on any event loop).
///
/// Each handshake presents the identity the ClientHello's SNI names, out of `identities`; a
/// ClientHello naming none of them (or no SNI at all) is refused with alert
/// `unrecognized_name` and `TLSError.unknownServerName`. The client must present a certificate
/// chaining to the trust bundle whose leaf carries exactly one DNS SAN: its identity, exposed as
/// `TLSHandler.peerIdentity` and in `TLSHandshakeCompleted`.
///
/// Rotation: build a new context from the new credentials and give it to new connections;
/// connections made from this one are untouched.
public final class TLSServerContext: @unchecked Sendable {
    /// The identities served, sorted.
    public let identities: [String]
    public let trustBundle: TrustBundle
    public let configuration: TLSConfiguration

    /// `SSL_CTX*`, owned; configured once in `init`, then only read (thread-safe in OpenSSL).
    let ctx: OpaquePointer
    private let table: ServerIdentityTable

    /// - Parameters:
    ///   - credentials: every identity this server may present, each with its chain and key.
    ///     Empty is allowed: every handshake is then refused as an unknown server name.
    /// - Throws: `TLSError.invalidConfiguration` when two credentials claim one identity, a key
    ///   does not match its certificate, or OpenSSL refuses a setting.
    public init(credentials: [IdentityCredential], trustBundle: TrustBundle, configuration: TLSConfiguration = .default) throws(TLSError) {
        var entries: [String: ServerIdentityTable.Entry] = [:]
        for credential in credentials {
            guard entries[credential.identity] == nil else {
                throw .invalidConfiguration("identity \(credential.identity) is given twice")
            }
            guard credential.key.matches(credential.leaf) else {
                throw .invalidConfiguration("the key of \(credential.identity) does not match its certificate")
            }
            guard let chain = sy_sk_X509_new_null() else { throw .invalidConfiguration("out of memory") }
            for intermediate in credential.chain.dropFirst() {
                X509_up_ref(intermediate.x509)
                _ = sy_sk_X509_push(chain, intermediate.x509)
            }
            entries[credential.identity] = .init(credential: credential, intermediates: chain)
        }
        let table = ServerIdentityTable(entries: entries, applicationProtocols: configuration.applicationProtocols)
        let ctx = try TLSContextSettings.makeContext(server: true, configuration: configuration, trustBundle: trustBundle)
        let arg = Unmanaged.passUnretained(table).toOpaque()
        _ = sy_SSL_CTX_set_tlsext_servername_callback(ctx) { ssl, alert, arg in
            ServerIdentityTable.serverNameCallback(ssl, alert, arg)
        }
        _ = sy_SSL_CTX_set_tlsext_servername_arg(ctx, arg)
        if !configuration.applicationProtocols.isEmpty {
            SSL_CTX_set_alpn_select_cb(ctx, { ssl, out, outLength, offered, offeredLength, arg in
                ServerIdentityTable.alpnCallback(out, outLength, offered, offeredLength, arg)
            }, arg)
        }
        self.identities = entries.keys.sorted()
        self.trustBundle = trustBundle
        self.configuration = configuration
        self.ctx = ctx
        self.table = table
    }

    deinit { SSL_CTX_free(ctx) }

    /// Whether a ClientHello naming `identity` would be served.
    public func serves(_ identity: String) -> Bool { table.entries[identity] != nil }
}

/// The identities a server context presents and its ALPN preference, read by OpenSSL's
/// callbacks (through an unretained pointer: the context owning it outlives every `SSL*`).
final class ServerIdentityTable {
    struct Entry {
        let credential: IdentityCredential
        /// `STACK_OF(X509)*` of the intermediates, owned.
        let intermediates: OpaquePointer
    }

    let entries: [String: Entry]
    let applicationProtocols: [[UInt8]]

    init(entries: [String: Entry], applicationProtocols: [String]) {
        self.entries = entries
        self.applicationProtocols = applicationProtocols.map { Array($0.utf8) }
    }

    deinit {
        for entry in entries.values { sy_sk_X509_pop_free(entry.intermediates) }
    }

    /// SNI: present the named identity, or refuse with `unrecognized_name`.
    static func serverNameCallback(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?, _ arg: UnsafeMutableRawPointer?) -> Int32 {
        guard let ssl, let arg else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        let table = Unmanaged<ServerIdentityTable>.fromOpaque(arg).takeUnretainedValue()
        let record = TLSConnectionRecord.of(ssl)
        let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        record?.requestedServerName = name
        guard let name, let entry = table.entries[name] else {
            if record?.failure == nil { record?.failure = .unknownServerName(name) }
            alert?.pointee = SSL_AD_UNRECOGNIZED_NAME
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        guard SSL_use_cert_and_key(ssl, entry.credential.leaf.x509, entry.credential.key.pkey, entry.intermediates, 1) == 1 else {
            if record?.failure == nil {
                record?.failure = .protocolViolation(
                    "cannot present \(name): \(OpenSSLError.drainQueue().joined(separator: "; "))")
            }
            alert?.pointee = SSL_AD_INTERNAL_ERROR
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        return SSL_TLSEXT_ERR_OK
    }

    /// ALPN: our most preferred protocol the client offered; none in common: no ALPN.
    static func alpnCallback(
        _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
        _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ arg: UnsafeMutableRawPointer?
    ) -> Int32 {
        guard let out, let outLength, let offered, let arg else { return SSL_TLSEXT_ERR_NOACK }
        let table = Unmanaged<ServerIdentityTable>.fromOpaque(arg).takeUnretainedValue()
        let client = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
        for wanted in table.applicationProtocols {
            var index = 0
            while index < client.count {
                let length = Int(client[index])
                let start = index + 1
                guard start + length <= client.count else { return SSL_TLSEXT_ERR_NOACK }
                if length == wanted.count && client[start..<start + length].elementsEqual(wanted) {
                    out.pointee = offered + start
                    outLength.pointee = UInt8(length)
                    return SSL_TLSEXT_ERR_OK
                }
                index = start + length
            }
        }
        return SSL_TLSEXT_ERR_NOACK
    }
}
