import NIOCore
import NIOHTTP1
import SwitchyardHTTP2
import SwitchyardModel

/// Between HTTP/2 header blocks and the `HTTPRequestHead`s the forwarding policies speak, and
/// the answers the proxy makes itself on an HTTP/2 stream.
enum HTTP2Mapping {
    /// The request head of an HTTP/2 request block: `:method`, `:path` and the fields;
    /// `:authority` becomes `host` (when the block has none). CONNECT is not proxied.
    static func requestHead(_ block: HTTP2HeaderBlock) -> Result<HTTPRequestHead, ProxyError> {
        var method: String?
        var path: String?
        var authority: String?
        var headers = HTTPHeaders()
        headers.reserveCapacity(block.count)
        for (name, value) in block {
            if name.hasPrefix(":") {
                switch name {
                case ":method": method = value
                case ":path": path = value
                case ":authority": authority = value
                case ":scheme": break
                default: return .failure(.malformedRequest("HTTP/2 pseudo-header \(name) is not proxied"))
                }
            } else {
                headers.add(name: name, value: value)
            }
        }
        guard let method, let path, !path.isEmpty else {
            return .failure(.malformedRequest("HTTP/2 request without :method or :path"))
        }
        guard method != "CONNECT" else { return .failure(.malformedRequest("CONNECT over HTTP/2 is not proxied")) }
        if let authority, !headers.contains(name: "host") { headers.add(name: "host", value: authority) }
        return .success(HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers))
    }

    /// The HTTP/2 request block for a head the policy prepared: pseudo-headers from its method,
    /// URI and `host`, then its fields without the connection-specific ones.
    static func requestBlock(_ head: HTTPRequestHead, scheme: String = "http") -> HTTP2HeaderBlock {
        var block = HTTP2HeaderBlock(reservingFields: head.headers.count + 6, bytes: 512)
        block.add(name: ":method", value: head.method.rawValue)
        block.add(name: ":scheme", value: scheme)
        if let host = head.headers.first(name: "host") { block.add(name: ":authority", value: host) }
        block.add(name: ":path", value: head.uri)
        addFields(head.headers, to: &block)
        return block
    }

    /// The status of a response block (`:status`), or nil when it has none.
    static func status(_ block: HTTP2HeaderBlock) -> Int? {
        block.first(name: ":status").flatMap { Int($0) }
    }

    /// A response block with `modifier` applied to its fields (the pseudo-headers kept first).
    static func responseBlock(_ block: HTTP2HeaderBlock, modifier: HTTPHeaderModifier?) -> HTTP2HeaderBlock {
        guard let modifier else { return block }
        var headers = HTTPHeaders()
        var result = HTTP2HeaderBlock()
        for (name, value) in block {
            if name.hasPrefix(":") { result.add(name: name, value: value) } else { headers.add(name: name, value: value) }
        }
        RequestHeadMapping.apply(modifier, toResponse: &headers)
        for (name, value) in headers { result.add(name: name, value: value) }
        return result
    }

    /// The HTTP/1.1 response head of an HTTP/2 response block (for an HTTP/1 client): its
    /// `:status` (502 when missing or not a number) and fields.
    static func responseHead(_ block: HTTP2HeaderBlock) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(block.count)
        var status = 502
        for (name, value) in block {
            if name.hasPrefix(":") {
                if name == ":status", let code = Int(value), (100...999).contains(code) { status = code }
            } else {
                headers.add(name: name, value: value)
            }
        }
        return HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
    }

    /// The HTTP/2 response block of an HTTP/1 response head: `:status`, then its end-to-end
    /// fields in lower case (hop-by-hop and connection-specific ones dropped).
    static func responseBlock(_ head: HTTPResponseHead) -> HTTP2HeaderBlock {
        var block = HTTP2HeaderBlock(reservingFields: head.headers.count + 1, bytes: 512)
        block.add(name: ":status", value: String(head.status.code))
        addFields(HopByHop.stripped(head.headers), to: &block)
        return block
    }

    /// HTTP/1 trailers as an HTTP/2 trailer block (hop-by-hop fields and pseudo-headers dropped).
    static func trailerBlock(_ trailers: HTTPHeaders) -> HTTP2HeaderBlock {
        var block = HTTP2HeaderBlock()
        addFields(HopByHop.stripped(trailers), to: &block)
        return block
    }

    /// An HTTP/2 trailer block as HTTP/1 trailers.
    static func trailerHeaders(_ block: HTTP2HeaderBlock) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in block where !name.hasPrefix(":") { headers.add(name: name, value: value) }
        return headers
    }

    /// Adds `headers` to `block` (names lower-cased by the block) without the fields HTTP/2
    /// forbids: connection-specific ones, pseudo-header look-alikes, and `te` other than
    /// `trailers`. Names are compared without case and without allocating.
    private static func addFields(_ headers: HTTPHeaders, to block: inout HTTP2HeaderBlock) {
        for (name, value) in headers {
            if HopByHop.sameName(name, "te") {
                if value.lowercased() != "trailers" { continue }
            } else if HopByHop.isHopByHop(name) || HopByHop.sameName(name, "host") || name.hasPrefix(":") {
                continue
            }
            block.add(name: name, value: value)
        }
    }

    /// Whether a request is gRPC (`content-type: application/grpc…`).
    static func isGRPC(_ block: HTTP2HeaderBlock) -> Bool {
        block.first(name: "content-type")?.lowercased().hasPrefix("application/grpc") ?? false
    }

    /// The gRPC status for an answer the proxy makes (as Linkerd's proxy maps them).
    static func grpcStatus(_ error: ProxyError) -> Int {
        switch error {
        case .malformedRequest: return 13  // INTERNAL
        case .noRoute: return 12  // UNIMPLEMENTED
        case .invalidBackend: return 13  // INTERNAL
        case .upstreamFailed, .noEndpoints: return 14  // UNAVAILABLE
        case .timeout: return 4  // DEADLINE_EXCEEDED
        }
    }

    /// The answer to a request the proxy does not forward: for gRPC a trailers-only response
    /// (`:status 200`, `grpc-status`, `grpc-message`), otherwise the error's status with a
    /// plain-text reason; both carry `l5d-proxy-error`. The body, when there is one, is the
    /// second element.
    static func answer(_ error: ProxyError, grpc: Bool) -> (HTTP2HeaderBlock, ByteBuffer?) {
        var block = HTTP2HeaderBlock()
        if grpc {
            block.add(name: ":status", value: "200")
            block.add(name: "content-type", value: "application/grpc")
            block.add(name: "grpc-status", value: String(grpcStatus(error)))
            block.add(name: "grpc-message", value: percentEncoded(error.reason))
            block.add(name: "l5d-proxy-error", value: error.headerValue)
            return (block, nil)
        }
        let body = ByteBuffer(string: error.reason + "\n")
        block.add(name: ":status", value: String(error.status.code))
        block.add(name: "content-type", value: "text/plain")
        block.add(name: "content-length", value: String(body.readableBytes))
        block.add(name: "l5d-proxy-error", value: error.headerValue)
        return (block, body)
    }

    /// `grpc-message` is percent-encoded (gRPC over HTTP/2: bytes outside 0x20-0x7E and `%`).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7e && byte != 0x25 {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
