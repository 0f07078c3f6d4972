import NIOCore
import SwitchyardAdmin

/// First in an accepted connection's pipeline: counts the bytes read from and written to the
/// socket (`tcp_read_bytes_total`, `tcp_write_bytes_total`) and the connection's life
/// (`tcp_open_total`, `tcp_close_total`, `tcp_open_connections`). One relaxed atomic add per
/// read or write.
final class ByteCountingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var side: ProxyMetrics.Side
    private var open = false

    init(side: ProxyMetrics.Side) {
        self.side = side
    }

    /// Moves the connection to another series (e.g. inbound tls=true once TLS is seen).
    func relabel(_ newSide: ProxyMetrics.Side) {
        guard newSide !== side else { return }
        if open {
            side.tcpOpenNow.decrement()
            newSide.tcpOpenNow.increment()
        }
        side = newSide
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened() }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if open {
            open = false
            side.tcpClose.increment()
            side.tcpOpenNow.decrement()
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        side.readBytes.increment(by: UInt64(unwrapInboundIn(data).readableBytes))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        side.writeBytes.increment(by: UInt64(unwrapOutboundIn(data).readableBytes))
        context.write(data, promise: promise)
    }

    private func opened() {
        guard !open else { return }
        open = true
        side.tcpOpen.increment()
        side.tcpOpenNow.increment()
    }
}
