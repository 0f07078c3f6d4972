import COpenSSL
import NIOCore

/// One TLS connection in OpenSSL: an `SSL*` reading ciphertext from one memory BIO and writing
/// ciphertext into another. Knows nothing of channels; `TLSHandler` moves the bytes.
/// Used only on its channel's event loop.
final class TLSConnection {
    enum HandshakeResult: Equatable {
        case complete
        /// Needs more ciphertext from the peer.
        case wantRead
        case failed(TLSError)
    }

    enum ReadResult: Equatable {
        /// This much plaintext was appended to the buffer (more may follow).
        case read(Int)
        /// No complete record is buffered.
        case wantRead
        /// The peer sent close_notify.
        case closeNotify
        case failed(TLSError)
    }

    let ssl: OpaquePointer
    /// Network → SSL (owned by `ssl`).
    private let inbound: OpaquePointer
    /// SSL → network (owned by `ssl`).
    private let outbound: OpaquePointer
    let record: TLSConnectionRecord
    /// Keeps the context, and so the callbacks' state, alive as long as the `SSL*`.
    private let owner: AnyObject
    private var shutdownSent = false
    private var deferredReadResult: ReadResult?

    /// A server connection.
    convenience init(context: TLSServerContext) throws(TLSError) {
        try self.init(ctx: context.ctx, owner: context, role: .server)
    }

    /// A client connection to the server proving `serverIdentity`.
    convenience init(context: TLSClientContext, serverIdentity: String) throws(TLSError) {
        try self.init(ctx: context.ctx, owner: context, role: .client(expectedPeer: serverIdentity))
    }

    private init(ctx: OpaquePointer, owner: AnyObject, role: TLSConnectionRecord.Role) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(ctx) else {
            throw .invalidConfiguration("SSL_new failed: \(OpenSSLError.drainQueue().joined(separator: "; "))")
        }
        let inboundBIO = BIO_new(BIO_s_mem()), outboundBIO = BIO_new(BIO_s_mem())
        guard let inbound = inboundBIO, let outbound = outboundBIO else {
            BIO_free(inboundBIO)
            BIO_free(outboundBIO)
            SSL_free(ssl)
            throw .invalidConfiguration("out of memory for BIOs")
        }
        SSL_set_bio(ssl, inbound, outbound)
        self.ssl = ssl
        self.inbound = inbound
        self.outbound = outbound
        self.owner = owner
        self.record = TLSConnectionRecord(role: role)
        guard record.attach(to: ssl) else { throw .invalidConfiguration("SSL_set_ex_data failed") }
        switch role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client(let expected):
            SSL_set_connect_state(ssl)
            // SNI = the identity we dial; OpenSSL checks the SAN too (belt and braces with the
            // verify callback's exact, single-SAN comparison): no wildcards, no subject CN.
            guard sy_SSL_set_tlsext_host_name(ssl, expected) == 1, SSL_set1_host(ssl, expected) == 1 else {
                throw .invalidConfiguration("cannot dial \"\(expected)\": \(OpenSSLError.drainQueue().joined(separator: "; "))")
            }
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT))
        }
    }

    deinit { SSL_free(ssl) }

    // MARK: - Handshake

    func handshake() -> HandshakeResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .complete }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantRead
        default:
            return .failed(failure())
        }
    }

    /// The verified peer (set by the verify callback once the handshake checked its leaf).
    var peer: PeerIdentity? { record.peer }

    /// The ALPN protocol agreed, if any.
    var negotiatedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    // MARK: - Ciphertext in and out

    /// Hands ciphertext received from the peer to OpenSSL.
    func receive(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            // A memory BIO only fails to grow when memory runs out.
            _ = BIO_write(inbound, base, Int32(bytes.count))
        }
    }

    /// Ciphertext received but not yet decrypted.
    var bufferedInboundBytes: Int { Int(sy_BIO_pending(inbound)) }

    /// Plaintext OpenSSL has decrypted from a record but not yet handed out.
    var bufferedPlaintextBytes: Int { Int(SSL_pending(ssl)) }

    /// Whether a `read` may return something without more ciphertext: OpenSSL holds record data
    /// of its own (decrypted plaintext, or a record read but not processed), or an outcome
    /// (close_notify, failure) met after plaintext in the last `read` is still to be reported.
    var hasUnreadInput: Bool { deferredReadResult != nil || SSL_has_pending(ssl) == 1 }

    /// Ciphertext produced but not yet taken by `takeOutbound`.
    var pendingOutboundBytes: Int { Int(sy_BIO_pending(outbound)) }

    /// All ciphertext OpenSSL produced, in one buffer; nil when there is none.
    func takeOutbound(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let pending = pendingOutboundBytes
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            Int(max(0, BIO_read(outbound, bytes.baseAddress, Int32(pending))))
        }
        return buffer
    }

    // MARK: - Plaintext

    /// Decrypts into `buffer`'s writable space, up to `maxBytes`, until no complete record is left.
    func read(into buffer: inout ByteBuffer, maxBytes: Int) -> ReadResult {
        if let deferred = deferredReadResult {
            deferredReadResult = nil
            return deferred
        }
        var total = 0
        while total < maxBytes {
            Self.clearErrorQueue()
            var readBytes = 0
            var rc: Int32 = 0
            let room = maxBytes - total
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { bytes in
                rc = SSL_read_ex(ssl, bytes.baseAddress, room, &readBytes)
                return rc == 1 ? readBytes : 0
            }
            if rc == 1 {
                total += readBytes
                continue
            }
            let outcome: ReadResult
            switch SSL_get_error(ssl, rc) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                outcome = .wantRead
            case SSL_ERROR_ZERO_RETURN:
                outcome = .closeNotify
            default:
                outcome = .failed(failure())
            }
            guard total > 0 else { return outcome }
            // Hand out the plaintext first; the close_notify or failure comes with the next read.
            if outcome != .wantRead { deferredReadResult = outcome }
            return .read(total)
        }
        return .read(total)
    }

    /// Encrypts `bytes` (all of them: the outbound memory BIO always has room).
    func write(_ bytes: UnsafeRawBufferPointer) -> TLSError? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        Self.clearErrorQueue()
        var written = 0
        let rc = SSL_write_ex(ssl, base, bytes.count, &written)
        if rc == 1 && written == bytes.count { return nil }
        return failure()
    }

    /// Queues our close_notify (once). After it, nothing more is written.
    func shutdown() {
        guard !shutdownSent else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    // MARK: - Errors

    /// Empties this thread's OpenSSL error queue before an `SSL_*` call whose failure is read
    /// with `SSL_get_error`. OpenSSL 3.0's `ERR_clear_error` walks all sixteen slots; the queue
    /// is almost always empty already, and peeking is cheap (about 1–2 % of bulk CPU saved).
    @inline(__always)
    static func clearErrorQueue() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }

    /// Why the last `SSL_*` call failed: what a callback recorded, then a received alert or
    /// OpenSSL's reason, then the verify result.
    private func failure() -> TLSError {
        if let failure = record.failure {
            ERR_clear_error()
            return failure
        }
        let verifyResult = Int32(SSL_get_verify_result(ssl))
        let error = TLSError.drainingSSLErrorQueue()
        if case .protocolViolation = error, verifyResult != X509_V_OK {
            return .verification(code: verifyResult)
        }
        return error
    }
}
