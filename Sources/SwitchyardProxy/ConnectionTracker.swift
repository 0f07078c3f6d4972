import NIOConcurrencyHelpers
import NIOCore

/// Asks an accepted connection to finish what it is doing and close (SIGTERM's drain).
/// HTTP connections close when idle, or after the response in flight.
public struct DrainRequested: Sendable, Hashable {
    public init() {}
}

/// The accepted connections still open, so that shutdown can drain and then close them.
final class ConnectionTracker: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    var count: Int { channels.withLockedValue { $0.count } }

    func add(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.channels.withLockedValue { _ = $0.removeValue(forKey: id) }
        }
    }

    /// Sends `DrainRequested` through every open connection's pipeline.
    func drain() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainRequested())
        }
    }

    /// Closes every connection still open.
    func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }
}
