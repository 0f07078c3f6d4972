// ClientIdleHandler on an EmbeddedChannel: the idle event after `timeout` without a read burst
// or a flush, not before, again while idle, and never after the channel is gone.
import NIOCore
import NIOEmbedded
@testable import SwitchyardProxy
import Testing

@Suite("ClientIdleHandler: the client keep-alive idle timer")
struct ClientIdleHandlerTests {
    /// Counts the idle events that reach the end of the pipeline.
    final class EventCounter: ChannelInboundHandler {
        typealias InboundIn = NIOAny
        var events = 0
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all { events += 1 }
        }
    }

    static func channel(timeout: TimeAmount) throws -> (EmbeddedChannel, EventCounter) {
        let counter = EventCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([ClientIdleHandler(timeout: timeout), counter])
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 80)).wait()
        return (channel, counter)
    }

    @Test("idle for the timeout: one event, then one more per further timeout while still idle")
    func firesWhenIdle() throws {
        let (channel, counter) = try Self.channel(timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(counter.events == 0)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(counter.events == 1)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(counter.events == 2)
        _ = try channel.finish()
    }

    @Test("a read burst or a flush restarts the wait")
    func activityPostpones() throws {
        let (channel, counter) = try Self.channel(timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        channel.pipeline.fireChannelRead(NIOAny(ByteBuffer(string: "x")))
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        #expect(counter.events == 0, "8 s after the read")
        try channel.writeOutbound(ByteBuffer(string: "y"))  // write and flush
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        #expect(counter.events == 0, "8 s after the flush")
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(counter.events == 1)
        _ = try channel.finish()
    }

    @Test("no event after the channel closed")
    func quietAfterClose() throws {
        let (channel, counter) = try Self.channel(timeout: .seconds(10))
        _ = try channel.finish()
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(counter.events == 0)
    }
}
