import NIOCore
import SwitchyardAdmin

/// First in an accepted connection's pipeline: counts the bytes read from and written to the
/// socket (`tcp_read_bytes_total`, `tcp_write_bytes_total`) and the connection's life
/// (`tcp_open_total`, `tcp_close_total`, `tcp_open_connections`). One relaxed atomic add per
/// read or write.
///
/// Made without a series (the inbound side cannot tell TLS from plaintext before the first
/// byte), it counts nothing until `assign(_:)` names one: then the connection is counted open
/// there and the bytes read meanwhile are added, so open, close and bytes always land in the
/// same series.
final class ByteCountingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var side: ProxyMetrics.Side?
    private var open = false
    private var active = false
    private var unassignedRead: UInt64 = 0
    private var unassignedWritten: UInt64 = 0

    init(side: ProxyMetrics.Side?) {
        self.side = side
    }

    /// Names the series of a connection made without one (once; later calls are ignored).
    func assign(_ newSide: ProxyMetrics.Side) {
        guard side == nil else { return }
        side = newSide
        newSide.readBytes.increment(by: unassignedRead)
        newSide.writeBytes.increment(by: unassignedWritten)
        if active { opened() }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { becameActive() }
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        if open, let side {
            open = false
            side.tcpClose.increment()
            side.tcpOpenNow.decrement()
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = UInt64(unwrapInboundIn(data).readableBytes)
        if let side { side.readBytes.increment(by: count) } else { unassignedRead += count }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let count = UInt64(unwrapOutboundIn(data).readableBytes)
        if let side { side.writeBytes.increment(by: count) } else { unassignedWritten += count }
        context.write(data, promise: promise)
    }

    private func becameActive() {
        active = true
        opened()
    }

    private func opened() {
        guard !open, let side else { return }
        open = true
        side.tcpOpen.increment()
        side.tcpOpenNow.increment()
    }
}
