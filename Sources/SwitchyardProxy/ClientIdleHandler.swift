import NIOCore

/// Tells the HTTP proxy handler behind it that a client connection has been idle, neither
/// reading nor writing, for `timeout`: fires `IdleStateHandler.IdleStateEvent.all`, as NIO's
/// `IdleStateHandler(allTimeout:)` does, and again every `timeout` while the connection stays
/// idle. (`HTTPProxyHandler` closes the connection on it when no exchange is in flight.)
///
/// It exists because NIO's handler makes a promise and a callback for every write it passes
/// on, to note when the write completed: several allocations per proxied response. This one
/// notes the time of each read burst (`channelReadComplete`) and of each flush, and never
/// touches a write: a flushed write of a live connection completes within the timeout, or
/// the connection is not idle but stuck, which is the response's timeout's business.
final class ClientIdleHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        precondition(timeout > .zero, "timeout must be positive")
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        context.fireChannelReadComplete()
    }

    func flush(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        context.flush()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastActivity = context.eventLoop.now
        schedule(context, at: lastActivity + timeout)
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        timer = nil
        guard context.channel.isActive else { return }
        let now = context.eventLoop.now
        let due = lastActivity + timeout
        if now < due {
            schedule(context, at: due)
            return
        }
        schedule(context, at: now + timeout)
        context.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
    }
}
