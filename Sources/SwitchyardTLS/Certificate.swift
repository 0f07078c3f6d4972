import COpenSSL
import Foundation

/// An X.509 certificate (an owned `X509*`). Immutable once made; safe to share.
public final class Certificate: @unchecked Sendable, CustomStringConvertible {
    /// The underlying `X509*`, owned by this object. Callers that keep it past this object's
    /// lifetime must `X509_up_ref` it.
    public let x509: OpaquePointer

    /// Takes ownership of `x509` (one reference).
    init(taking x509: OpaquePointer) {
        self.x509 = x509
    }

    deinit { X509_free(x509) }

    /// Every certificate in a PEM text, in order (a chain: leaf first).
    /// - Throws: `OpenSSLError` when a PEM block does not parse, or when there is none.
    public static func parseChain(pem: String) throws -> [Certificate] {
        var chain: [Certificate] = []
        try ReadOnlyMemoryBIO.with(pem) { bio in
            while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                chain.append(Certificate(taking: x509))
            }
        }
        // The loop ends on end-of-data (expected) or on a malformed block (an error).
        let lastError = ERR_peek_last_error()
        if lastError != 0 && !(ERR_GET_LIB(lastError) == ERR_LIB_PEM && ERR_GET_REASON(lastError) == PEM_R_NO_START_LINE) {
            throw OpenSSLError.drain("reading PEM certificates")
        }
        ERR_clear_error()
        guard !chain.isEmpty else {
            throw OpenSSLError(operation: "reading PEM certificates", reasons: ["no certificate found"])
        }
        // A PEM file with text after the last block that is not a certificate is not our concern.
        return chain
    }

    /// The certificate as PEM text.
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        PEM_write_bio_X509(bio, x509)
        var data: UnsafeMutablePointer<CChar>?
        let length = sy_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The serial number in upper-case hex (no leading zeros beyond one byte).
    public var serialNumber: String {
        guard let serial = X509_get0_serialNumber(x509), let bn = ASN1_INTEGER_to_BN(serial, nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { sy_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    /// Start of validity.
    public var notBefore: Date { Self.date(X509_get0_notBefore(x509)) }
    /// End of validity.
    public var notAfter: Date { Self.date(X509_get0_notAfter(x509)) }

    /// The DNS names of the subjectAltName extension, in order.
    public var dnsNames: [String] {
        guard let names = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) else { return [] }
        let stack = OpaquePointer(names)
        defer { sy_sk_GENERAL_NAME_pop_free(stack) }
        var result: [String] = []
        for i in 0..<sy_sk_GENERAL_NAME_num(stack) {
            guard let name = sy_sk_GENERAL_NAME_value(stack, i), name.pointee.type == GEN_DNS,
                  let ia5 = name.pointee.d.dNSName, let bytes = ASN1_STRING_get0_data(ia5) else { continue }
            result.append(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(ia5))), as: UTF8.self))
        }
        return result
    }

    /// The subject's commonName, if any.
    public var subjectCommonName: String? {
        guard let subject = X509_get_subject_name(x509) else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = X509_NAME_get_text_by_NID(subject, NID_commonName, &buffer, Int32(buffer.count))
        guard n >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the certificate may sign others (basicConstraints CA:TRUE).
    public var isCA: Bool { X509_check_ca(x509) != 0 }

    public var description: String {
        "certificate \(subjectCommonName ?? dnsNames.first ?? "?") serial \(serialNumber) valid \(notBefore)–\(notAfter)"
    }

    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        guard let time else { return .distantPast }
        var tm = tm()
        guard ASN1_TIME_to_tm(time, &tm) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }
}
