import NIOCore
import NIOHTTP1

/// Answers one admin request at a time on one connection (the pipelining handler in front of
/// it orders them): `GET /live`, `GET /ready`, `GET /metrics`; 404 elsewhere, 405 for other
/// methods, 413 and close when a request body goes over the limit.
final class AdminHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: MetricsRegistry
    private let readiness: Readiness
    private let maxBodyBytes: Int

    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var refused = false

    init(registry: MetricsRegistry, readiness: Readiness, maxBodyBytes: Int) {
        self.registry = registry
        self.readiness = readiness
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.bodyBytes = 0
        case .body(let body):
            guard !refused else { return }
            bodyBytes += body.readableBytes
            if bodyBytes > maxBodyBytes, let head {
                refused = true
                respond(context: context, head: head, status: .payloadTooLarge,
                        contentType: "text/plain; charset=utf-8", body: "request too large\n", close: true)
            }
        case .end:
            guard let head, !refused else { return }
            self.head = nil
            let (status, contentType, body) = answer(head)
            respond(context: context, head: head, status: status, contentType: contentType,
                    body: body, close: !head.isKeepAlive)
        }
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let text = "text/plain; charset=utf-8"
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let known = path == "/live" || path == "/ready" || path == "/metrics"
        guard known else { return (.notFound, text, "not found\n") }
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, text, "method not allowed\n")
        }
        switch path {
        case "/live":
            return (.ok, text, "live\n")
        case "/ready":
            let pending = readiness.pending
            if pending.isEmpty { return (.ok, text, "ready\n") }
            return (.serviceUnavailable, text, "not ready:\n" + pending.map { "  \($0)\n" }.joined())
        default:
            return (.ok, PrometheusText.contentType, registry.render())
        }
    }

    private func respond(
        context: ChannelHandlerContext, head request: HTTPRequestHead, status: HTTPResponseStatus,
        contentType: String, body: String, close: Bool
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.utf8.count))
        if status == .methodNotAllowed { headers.add(name: "allow", value: "GET, HEAD") }
        if close { headers.add(name: "connection", value: "close") }
        let response = HTTPResponseHead(version: request.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if request.method != .HEAD {
            let buffer = context.channel.allocator.buffer(string: body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
