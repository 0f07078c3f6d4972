import NIOCore

/// Settings shared by every connection of a `TLSServerContext` or `TLSClientContext`.
///
/// Fixed, not settings: TLS 1.3 only (minimum = maximum = TLS 1.3), no session tickets or
/// session cache (every connection does a full handshake and is verified), no renegotiation,
/// no compression, and the peer's certificate is always required and verified.
public struct TLSConfiguration: Sendable, Hashable {
    /// Key-exchange groups in preference order, OpenSSL names (`P-256`, `X25519`, ...).
    public var groups: [String]
    /// TLS 1.3 cipher suites in preference order, OpenSSL names.
    public var cipherSuites: [String]
    /// ALPN protocols in preference order. A client offers them; a server picks its most
    /// preferred one the client offered, and goes on without ALPN when there is none in common.
    /// Empty: no ALPN.
    public var applicationProtocols: [String]
    /// How long a handshake may take, from the channel becoming active to the peer verified.
    public var handshakeTimeout: TimeAmount
    /// How long a close waits for our close_notify to be written before closing anyway.
    public var closeTimeout: TimeAmount
    /// Most inbound ciphertext kept undecrypted while nobody asked to read (backpressure);
    /// more fails the connection with `TLSError.bufferLimitExceeded`.
    public var maximumBufferedCiphertext: Int
    /// Most outbound plaintext written but not yet encrypted (before the handshake, before a
    /// flush, or while the channel is not writable); a write beyond it fails with
    /// `TLSError.bufferLimitExceeded`.
    public var maximumBufferedPlaintext: Int
    /// Ciphertext is handed to the channel in writes of at most about this many bytes; between
    /// two, writability is checked, so an unwritable channel stops encryption.
    public var maximumCiphertextWriteSize: Int

    public init(
        groups: [String] = ["P-256", "X25519"],
        cipherSuites: [String] = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"],
        applicationProtocols: [String] = ["h2", "http/1.1"],
        handshakeTimeout: TimeAmount = .seconds(10),
        closeTimeout: TimeAmount = .seconds(5),
        maximumBufferedCiphertext: Int = 1 << 20,
        maximumBufferedPlaintext: Int = 4 << 20,
        maximumCiphertextWriteSize: Int = 256 << 10
    ) {
        self.groups = groups
        self.cipherSuites = cipherSuites
        self.applicationProtocols = applicationProtocols
        self.handshakeTimeout = handshakeTimeout
        self.closeTimeout = closeTimeout
        self.maximumBufferedCiphertext = maximumBufferedCiphertext
        self.maximumBufferedPlaintext = maximumBufferedPlaintext
        self.maximumCiphertextWriteSize = maximumCiphertextWriteSize
    }

    /// The defaults: P-256 then X25519, the three TLS 1.3 suites, ALPN `h2`, `http/1.1`, 10 s
    /// handshake timeout, 1 MiB inbound ciphertext, 4 MiB outbound plaintext, 256 KiB writes.
    public static let `default` = TLSConfiguration()

    /// The ALPN list in wire format (length-prefixed names).
    var alpnWireFormat: [UInt8] {
        var wire: [UInt8] = []
        for name in applicationProtocols {
            let bytes = Array(name.utf8)
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        return wire
    }

    /// Throws `TLSError.invalidConfiguration` saying what is wrong.
    func validate() throws(TLSError) {
        if groups.isEmpty { throw .invalidConfiguration("no key-exchange group") }
        if cipherSuites.isEmpty { throw .invalidConfiguration("no cipher suite") }
        for name in applicationProtocols where name.utf8.isEmpty || name.utf8.count > 255 {
            throw .invalidConfiguration("ALPN protocol names must be 1 to 255 bytes, not \"\(name)\"")
        }
        if handshakeTimeout <= .zero { throw .invalidConfiguration("handshake timeout must be positive") }
        if closeTimeout <= .zero { throw .invalidConfiguration("close timeout must be positive") }
        if maximumBufferedCiphertext < 1 << 15 {
            throw .invalidConfiguration("maximumBufferedCiphertext must hold at least two records (32 KiB)")
        }
        if maximumBufferedPlaintext < 1 { throw .invalidConfiguration("maximumBufferedPlaintext must be positive") }
        if maximumCiphertextWriteSize < 1 << 14 {
            throw .invalidConfiguration("maximumCiphertextWriteSize must be at least one record (16 KiB)")
        }
    }
}
