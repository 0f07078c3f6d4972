import Foundation

/// A workload identity's directory, as `switchyard certs issue --out DIR` writes it and the
/// credential store reads it (`<identityDir>/<namespace>/<serviceAccount>/`):
/// `tls.crt` (leaf then issuer, 0644) and `tls.key` (the leaf's key, 0600).
///
/// Both files are replaced atomically (`AtomicFile`), the key first and the certificate last,
/// both staged and synced before either rename so the two renames are microseconds apart:
///
/// - A reader never sees half a file.
/// - Between the two renames the directory pairs the new key with the old certificate. A reader
///   that re-reads both files and checks that the key matches the certificate (the credential
///   store does) refuses that pair and keeps serving what it had; the certificate's rename,
///   which follows at once, changes `tls.crt` again and the next read sees a matching pair. So
///   either order would be safe for such a reader.
/// - Key first is chosen for readers that key on the certificate (watch `tls.crt`, then load
///   both): when `tls.crt` changes, the matching `tls.key` is already in place.
public struct PKIWorkloadDirectory: Sendable {
    /// The directory.
    public let path: String

    /// `tls.crt`.
    public static let certificateName = "tls.crt"
    /// `tls.key`.
    public static let keyName = "tls.key"
    /// Permission bits of a workload directory `write` creates.
    public static let directoryMode: mode_t = 0o755

    /// The workload directory at `path` (which need not exist yet).
    public init(_ path: String) { self.path = path }

    /// `<path>/tls.crt`.
    public var certificatePath: String { path.hasSuffix("/") ? path + Self.certificateName : path + "/" + Self.certificateName }
    /// `<path>/tls.key`.
    public var keyPath: String { path.hasSuffix("/") ? path + Self.keyName : path + "/" + Self.keyName }

    /// Writes `issued` as `tls.key` (0600) then `tls.crt` (0644), each atomically, creating the
    /// directory (0755, with parents) when it is missing. Replaces what was there: rotation.
    /// - Returns: the paths written, in order.
    @discardableResult
    public func write(_ issued: IssuedCredential) throws -> [String] {
        try PKIDirectory.makeDirectory(path, mode: Self.directoryMode)
        let entries = [
            AtomicFile.Entry(path: keyPath, contents: issued.keyPEM, mode: PKIDirectory.keyMode),
            AtomicFile.Entry(path: certificatePath, contents: issued.chainPEM, mode: PKIDirectory.certificateMode),
        ]
        try AtomicFile.write(entries)
        return entries.map(\.path)
    }
}
