/// The identifier of an HTTP/2 stream (RFC 9113 §5.1.1): odd for streams a client opens,
/// even for server pushes (never used here), 0 for the connection itself.
public struct HTTP2StreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 31-bit identifier.
    public let value: Int32

    public init(_ value: Int32) {
        self.value = value
    }

    /// Stream 0: the connection (GOAWAY's last stream when none was processed).
    public static let connection = HTTP2StreamID(0)

    public static func < (lhs: HTTP2StreamID, rhs: HTTP2StreamID) -> Bool { lhs.value < rhs.value }

    public var description: String { String(value) }
}
