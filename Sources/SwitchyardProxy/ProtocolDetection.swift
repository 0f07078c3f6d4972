/// What an outbound connection's first bytes say it speaks (docs/detection.md).
public enum DetectedProtocol: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// An HTTP/1.0 or HTTP/1.1 request line.
    case http1
    /// HTTP/2 with prior knowledge: the 24-byte client connection preface
    /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
    case http2
    /// Anything else: bytes to be spliced as they are.
    case opaque

    public var description: String {
        switch self {
        case .http1: return "http1"
        case .http2: return "http2"
        case .opaque: return "opaque"
        }
    }
}

extension TransportPreface.InnerProtocol {
    /// The inner protocol a mesh hop announces for a detected protocol.
    public init(_ detected: DetectedProtocol) {
        switch detected {
        case .http1: self = .http1
        case .http2: self = .http2
        case .opaque: self = .opaque
        }
    }
}

/// Fired once (as a user inbound event) by `ProtocolDetectionHandler` when it has decided,
/// before any byte of the connection is passed on. A handler reacting to it may reshape the
/// pipeline (an HTTP/1 codec, HTTP/2, or an opaque splice after the detection handler) or
/// close the channel; the bytes seen so far then go through the pipeline as it is by then
/// (or nowhere, if the handler closed an active channel), followed by every later byte.
public struct ProtocolDetected: Sendable, Hashable {
    /// What the connection speaks. Only `.classified` can give `.http1` or `.http2`.
    public let `protocol`: DetectedProtocol
    /// How many bytes had arrived when the decision was made: exactly the bytes passed on
    /// right after this event (in one or two reads), before any later read.
    public let bytesSeen: Int
    /// What settled it.
    public let reason: Reason

    /// What settled the decision. Everything but `.classified` means "opaque, because we
    /// could not tell", worth a log line or a counter: a steady stream of `.timeout` on a port
    /// is a server-speaks-first protocol missing from `OpaquePorts`.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The bytes decided (HTTP/1, HTTP/2, or a byte that neither allows).
        case classified = "classified"
        /// The peek limit was reached with no decision (an over-long first line): opaque.
        case peekLimit = "peek_limit"
        /// No decision within the timeout: opaque.
        case timeout = "timeout"
        /// The peer's input ended (EOF or the channel closed) before a decision: opaque.
        case endOfInput = "end_of_input"
    }

    public init(protocol: DetectedProtocol, bytesSeen: Int, reason: Reason) {
        self.protocol = `protocol`
        self.bytesSeen = bytesSeen
        self.reason = reason
    }
}
