// UpstreamPool on an EmbeddedEventLoop with EmbeddedChannels: take/put, the idle timeout,
// the per-key limit, connections that close while idle, and closeAll.
import NIOCore
import NIOEmbedded
@testable import SwitchyardProxy
import Testing

@Suite("UpstreamPool: idle upstream connections of one event loop")
struct UpstreamPoolTests {
    /// An active EmbeddedChannel on `loop`.
    static func connectedChannel(_ loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.1", port: 80)).wait()
        #expect(channel.isActive)
        return channel
    }

    @Test("take returns what put kept for the same key, most recent first, and nothing for another key")
    func takeAndPut() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 4)
        #expect(pool.take("a") == nil)
        let first = try Self.connectedChannel(loop)
        let second = try Self.connectedChannel(loop)
        pool.put(first, for: "a")
        pool.put(second, for: "a")
        #expect(pool.idleCount == 2)
        #expect(pool.take("b") == nil)
        #expect(pool.take("a") === second)
        #expect(pool.take("a") === first)
        #expect(pool.take("a") == nil)
        #expect(pool.idleCount == 0)
        #expect(first.isActive && second.isActive, "taking does not close")

        // A taken connection's idle timer no longer runs.
        pool.put(first, for: "a")
        #expect(pool.take("a") === first)
        loop.advanceTime(by: .seconds(60))
        #expect(first.isActive)
        _ = try? first.finish()
        _ = try? second.finish()
    }

    @Test("a connection returned after each of 10,000 exchanges is watched once: nothing piles up per request")
    func returnedManyTimes() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 4)
        let channel = try Self.connectedChannel(loop)
        for _ in 0..<10_000 {
            pool.put(channel, for: "a")
            #expect(pool.take("a") === channel)
        }
        #expect(pool.watchedCount == 1)
        pool.put(channel, for: "a")
        _ = try? channel.finish()
        loop.run()
        #expect(pool.idleCount == 0)
        #expect(pool.watchedCount == 0, "a closed connection is forgotten")
    }

    @Test("an idle connection is closed and dropped after the idle timeout, not before")
    func idleTimeout() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 4)
        let channel = try Self.connectedChannel(loop)
        pool.put(channel, for: "a")
        loop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        #expect(pool.idleCount == 1)
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "closed by the idle timer")
        #expect(pool.idleCount == 0)
        #expect(pool.take("a") == nil)
    }

    @Test("connections returned at different times each get their own full idle timeout")
    func staggeredIdleTimeouts() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 4)
        let early = try Self.connectedChannel(loop)
        let late = try Self.connectedChannel(loop)
        let other = try Self.connectedChannel(loop)
        pool.put(early, for: "a")
        loop.advanceTime(by: .seconds(20))
        pool.put(late, for: "a")
        pool.put(other, for: "b")
        loop.advanceTime(by: .seconds(11))  // t = 31
        #expect(!early.isActive, "idle for 31 s")
        #expect(late.isActive && other.isActive, "idle for 11 s")
        #expect(pool.idleCount == 2)
        loop.advanceTime(by: .seconds(18))  // t = 49
        #expect(late.isActive && other.isActive)
        loop.advanceTime(by: .seconds(2))  // t = 51
        #expect(!late.isActive && !other.isActive)
        #expect(pool.idleCount == 0)
        // The pool still works afterwards: a new idle connection gets its timeout too.
        let again = try Self.connectedChannel(loop)
        pool.put(again, for: "a")
        loop.advanceTime(by: .seconds(31))
        #expect(!again.isActive)
    }

    @Test("a key holds at most maxIdlePerKey idle connections; one more is closed at once")
    func maxIdlePerKey() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 2)
        let channels = try (0..<3).map { _ in try Self.connectedChannel(loop) }
        for channel in channels { pool.put(channel, for: "a") }
        #expect(pool.idleCount == 2)
        #expect(channels[0].isActive && channels[1].isActive)
        #expect(!channels[2].isActive, "the third was closed instead of kept")
        // Another key has its own limit.
        let other = try Self.connectedChannel(loop)
        pool.put(other, for: "b")
        #expect(pool.idleCount == 3)
        #expect(other.isActive)

        // maxIdlePerKey 0: nothing is ever kept.
        let none = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 0)
        let lone = try Self.connectedChannel(loop)
        none.put(lone, for: "a")
        #expect(none.idleCount == 0)
        #expect(!lone.isActive)
    }

    @Test("a connection that closes while idle leaves the pool; an inactive one is never kept or handed out")
    func closedConnectionsLeave() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 4)
        let closing = try Self.connectedChannel(loop)
        let staying = try Self.connectedChannel(loop)
        pool.put(staying, for: "a")
        pool.put(closing, for: "a")
        #expect(pool.idleCount == 2)
        // The peer closes the most recent one while it is idle.
        closing.pipeline.fireChannelInactive()
        try closing.close().wait()
        loop.run()
        #expect(pool.idleCount == 1)
        #expect(pool.take("a") === staying, "the closed one is skipped")

        // put of an already closed channel keeps nothing.
        let dead = try Self.connectedChannel(loop)
        try dead.close().wait()
        pool.put(dead, for: "a")
        #expect(pool.idleCount == 0)
        _ = try? staying.finish()
    }

    @Test("closeAll closes every idle connection and later puts close theirs")
    func closeAll() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool<String>(eventLoop: loop, idleTimeout: .seconds(30), maxIdlePerKey: 4)
        let a = try Self.connectedChannel(loop)
        let b = try Self.connectedChannel(loop)
        pool.put(a, for: "a")
        pool.put(b, for: "b")
        pool.closeAll()
        #expect(pool.idleCount == 0)
        #expect(!a.isActive && !b.isActive)
        let late = try Self.connectedChannel(loop)
        pool.put(late, for: "a")
        #expect(!late.isActive)
        #expect(pool.idleCount == 0)
        // The idle timers were cancelled with them: advancing time finds nothing to do.
        loop.advanceTime(by: .seconds(60))
        #expect(pool.idleCount == 0)
    }
}
