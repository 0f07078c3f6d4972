import Foundation

/// Byte-wise string comparisons for the data path: paths and header values compare as the
/// bytes on the wire (no Unicode normalisation), over contiguous UTF-8 when it is there.
enum Bytes {
    /// `a` and `b` hold the same bytes.
    static func equal(_ a: Substring, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        if let r = a.utf8.withContiguousStorageIfAvailable({ x in
            b.utf8.withContiguousStorageIfAvailable { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }), let r { return r }
        return a.utf8.elementsEqual(b.utf8)
    }

    /// `prefix` (without a trailing slash) is a whole-segment prefix of `path`:
    /// `path` is `prefix` itself or continues with `/`.
    static func isSegmentPrefix(_ prefix: String, of path: Substring) -> Bool {
        let n = prefix.utf8.count
        guard path.utf8.count >= n else { return false }
        let head = path.utf8.prefix(n)
        let same: Bool
        if let r = head.withContiguousStorageIfAvailable({ x in
            prefix.utf8.withContiguousStorageIfAvailable { y in n == 0 || memcmp(x.baseAddress!, y.baseAddress!, n) == 0 }
        }), let r { same = r } else { same = head.elementsEqual(prefix.utf8) }
        guard same else { return false }
        let rest = path.utf8.dropFirst(n)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }
}
