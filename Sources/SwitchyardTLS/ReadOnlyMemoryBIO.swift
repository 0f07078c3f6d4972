import COpenSSL

/// A read-only OpenSSL memory BIO over a text's bytes, alive only inside `body`.
///
/// `BIO_new_mem_buf` does not copy: the bytes must outlive every read. Keeping the BIO and the
/// reads inside one `withUnsafeBytes` makes that true by construction (a pointer escaping the
/// closure is freed early in optimised builds).
enum ReadOnlyMemoryBIO {
    static func with<T>(_ text: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw OpenSSLError.drain("BIO_new_mem_buf")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }
}
