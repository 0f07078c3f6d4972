import NIOCore
import NIOHTTP1

/// The response the proxy writes for a `ProxyError`.
public enum ProxyErrorResponse {
    /// A complete answer: the head and a `text/plain` body holding the reason and a newline.
    ///
    /// Fields, in this order: `l5d-proxy-error: <error.headerValue>`, `content-type: text/plain`,
    /// `content-length`, and `connection: close` only when `closeConnection` is true (by
    /// default, when the error itself requires it: a malformed request). Pass `true` when the
    /// client asked to close, or its request body was not consumed, so the peer knows not to
    /// send another request. Answering a `HEAD` request, send the head only: `content-length`
    /// still says what a `GET` would have carried, as RFC 9110 §9.3.2 allows.
    ///
    /// The response is HTTP/1.1 whatever the request's version (RFC 9110 §6.2: a server sends
    /// the highest minor version it supports); pass `version` to override.
    public static func make(_ error: ProxyError, closeConnection: Bool? = nil, version: HTTPVersion = .http1_1,
                            allocator: ByteBufferAllocator = ByteBufferAllocator()) -> (HTTPResponseHead, ByteBuffer) {
        let value = error.headerValue
        var body = allocator.buffer(capacity: value.utf8.count + 1)
        body.writeString(value)
        body.writeInteger(UInt8(ascii: "\n"))
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: ProxyError.headerName, value: value)
        headers.add(name: "content-type", value: "text/plain")
        headers.add(name: "content-length", value: String(body.readableBytes))
        if closeConnection ?? error.requiresClose {
            headers.add(name: "connection", value: "close")
        }
        return (HTTPResponseHead(version: version, status: error.status, headers: headers), body)
    }
}
