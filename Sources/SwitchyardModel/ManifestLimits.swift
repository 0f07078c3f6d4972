/// Bounds on what `ManifestLoader` reads, so that a mistaken or hostile manifest directory
/// cannot exhaust memory or time. Exceeding one is an ordinary `ManifestError`.
public struct ManifestLimits: Hashable, Sendable {
    /// Largest file read, in bytes. Default 16 MiB.
    public var maxFileBytes: Int
    /// Most YAML documents in one file (a `List`'s items count as one document). Default 10 000.
    public var maxDocumentsPerFile: Int
    /// Deepest nesting of mappings and sequences in a document. Default 100.
    /// (libyaml itself refuses nesting deeper than 1 000.)
    public var maxYAMLDepth: Int
    /// Most files read from one directory. Default 10 000.
    public var maxFiles: Int

    /// - Parameters:
    ///   - maxFileBytes: largest file read, in bytes.
    ///   - maxDocumentsPerFile: most YAML documents in one file.
    ///   - maxYAMLDepth: deepest nesting of collections in a document.
    ///   - maxFiles: most files read from one directory.
    public init(maxFileBytes: Int = 16 << 20, maxDocumentsPerFile: Int = 10_000, maxYAMLDepth: Int = 100,
                maxFiles: Int = 10_000) {
        self.maxFileBytes = maxFileBytes
        self.maxDocumentsPerFile = maxDocumentsPerFile
        self.maxYAMLDepth = maxYAMLDepth
        self.maxFiles = maxFiles
    }

    /// 16 MiB per file, 10 000 documents per file, nesting depth 100, 10 000 files.
    public static let `default` = ManifestLimits()
}
