import NIOHTTP1

/// An answer the proxy makes itself instead of forwarding: a status and a reason.
///
/// Each case is one of the statuses the issue names; its associated text says why, in words
/// an operator can act on. That text travels in the `l5d-proxy-error` response header (as
/// Linkerd's proxy does) and in the plain-text body; `ProxyErrorResponse.make(_:)` writes both.
public enum ProxyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 400: the request cannot be forwarded as sent (bad request target, missing or repeated
    /// `Host`, an unusable `l5d-dst-override` in ingress mode).
    case malformedRequest(String)
    /// 404: a route is attached to the destination but none of its rules matched.
    case noRoute(String)
    /// 500: the matched rule names no usable backend (not found, not allowed, weight 0).
    case invalidBackend(String)
    /// 502: the upstream could not be reached, or broke the exchange.
    case upstreamFailed(String)
    /// 503: the chosen backend has no endpoints.
    case noEndpoints(String)
    /// 504: the route's timeout (or the proxy's) ran out before the response.
    case timeout(String)

    /// The response header that carries `reason` on every answer the proxy makes itself.
    public static let headerName = "l5d-proxy-error"

    /// The longest `headerValue`, in bytes; a longer reason is cut (with `...`).
    public static let maxHeaderValueLength = 512

    /// The response status of this answer.
    public var status: HTTPResponseStatus {
        switch self {
        case .malformedRequest: return .badRequest
        case .noRoute: return .notFound
        case .invalidBackend: return .internalServerError
        case .upstreamFailed: return .badGateway
        case .noEndpoints: return .serviceUnavailable
        case .timeout: return .gatewayTimeout
        }
    }

    /// Why, as given.
    public var reason: String {
        switch self {
        case .malformedRequest(let r), .noRoute(let r), .invalidBackend(let r),
             .upstreamFailed(let r), .noEndpoints(let r), .timeout(let r):
            return r
        }
    }

    /// A short, stable name for the case (`malformed_request`, `no_route`, ...), for metrics labels.
    public var label: String {
        switch self {
        case .malformedRequest: return "malformed_request"
        case .noRoute: return "no_route"
        case .invalidBackend: return "invalid_backend"
        case .upstreamFailed: return "upstream_failed"
        case .noEndpoints: return "no_endpoints"
        case .timeout: return "timeout"
        }
    }

    /// Whether the client connection must close after this answer, whatever the client asked.
    ///
    /// Only a malformed request: what follows it on the connection cannot be trusted to be
    /// framed as the parser thinks (request smuggling). The other answers leave the
    /// connection reusable as far as the request head goes; the caller still closes when it
    /// has not consumed the request body, or the client asked for `Connection: close`, and
    /// says so through `ProxyErrorResponse.make(_:closeConnection:)`.
    public var requiresClose: Bool {
        if case .malformedRequest = self { return true }
        return false
    }

    /// `reason` made safe for a header field value: every byte outside visible ASCII and
    /// space (control characters, CR, LF, non-ASCII) becomes `?` per scalar, tabs become spaces,
    /// surrounding spaces are trimmed, and it is cut to `maxHeaderValueLength` bytes. An empty
    /// reason becomes the status's reason phrase, so the header never goes out empty.
    public var headerValue: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(reason.utf8.count, Self.maxHeaderValueLength))
        for scalar in reason.unicodeScalars {
            let v = scalar.value
            if v == 0x09 { bytes.append(0x20) } else if v >= 0x20 && v < 0x7F { bytes.append(UInt8(v)) } else { bytes.append(UInt8(ascii: "?")) }
        }
        while bytes.last == 0x20 { bytes.removeLast() }
        let start = bytes.firstIndex { $0 != 0x20 } ?? bytes.endIndex
        var trimmed = Array(bytes[start...])
        if trimmed.isEmpty { return status.reasonPhrase }
        if trimmed.count > Self.maxHeaderValueLength {
            trimmed.removeLast(trimmed.count - (Self.maxHeaderValueLength - 3))
            trimmed += Array("...".utf8)
        }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// `502 upstream failed: connection refused`-style: status code, label and reason.
    public var description: String { "\(status.code) \(label): \(reason)" }
}
