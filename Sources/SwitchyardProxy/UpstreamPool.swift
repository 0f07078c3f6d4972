import NIOCore

/// Idle kept-alive upstream connections of one event loop, by target.
///
/// Confined to its event loop (no locks): connections are taken and returned by the HTTP
/// proxy handlers of that loop, which also own the connections while in use. An idle
/// connection is closed after `idleTimeout`, or at once when its key already holds
/// `maxIdlePerKey` idle ones; one the peer closes while idle leaves the pool by itself.
///
/// Cost per exchange: a kept-alive connection goes back after every exchange, so `put` and
/// `take` allocate nothing in the steady state. Each key's list is taken out of the dictionary,
/// changed in place and put back (it keeps its storage while empty), and the idle timeout is enforced by one sweep timer per pool,
/// armed for the oldest idle connection's deadline, instead of a timer per `put`. Within a
/// key the list is in the order connections were returned (most recent last), so the oldest
/// are at the front.
final class UpstreamPool<Key: Hashable & Sendable> {
    private struct Idle {
        var channel: Channel
        /// When it was returned.
        var since: NIODeadline
    }

    let eventLoop: EventLoop
    let idleTimeout: TimeAmount
    let maxIdlePerKey: Int
    private var idle: [Key: [Idle]] = [:]
    /// Channels whose close is already watched: a kept-alive connection goes back to the pool
    /// after every exchange, and a callback per return would pile up on its close future.
    private var watched: Set<ObjectIdentifier> = []
    private var closed = false
    /// The sweep, when one is armed, and its deadline.
    private var sweep: (timer: Scheduled<Void>, deadline: NIODeadline)?

    init(eventLoop: EventLoop, idleTimeout: TimeAmount, maxIdlePerKey: Int) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
        self.maxIdlePerKey = maxIdlePerKey
    }

    /// How many connections have their close watched (each once, however often returned).
    var watchedCount: Int { watched.count }

    /// How many idle connections the pool holds.
    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// The most recently returned idle connection for `key` that is still active, or nil.
    func take(_ key: Key) -> Channel? {
        eventLoop.preconditionInEventLoop()
        // Out of the dictionary and back (the list is then uniquely referenced, so popping
        // copies nothing): a `modify` access through the subscript allocates its coroutine frame.
        guard var list = idle.removeValue(forKey: key) else { return nil }
        var found: Channel?
        while let last = list.popLast() {
            if last.channel.isActive {
                found = last.channel
                break
            }
        }
        idle[key] = list
        return found
    }

    /// Keeps `channel` for reuse under `key` (or closes it when the pool is full or shut).
    func put(_ channel: Channel, for key: Key) {
        eventLoop.preconditionInEventLoop()
        guard !closed, channel.isActive, maxIdlePerKey > 0 else {
            channel.close(promise: nil)
            return
        }
        let now = eventLoop.now
        var list = idle.removeValue(forKey: key) ?? []
        guard list.count < maxIdlePerKey else {
            idle[key] = list
            channel.close(promise: nil)
            return
        }
        list.append(Idle(channel: channel, since: now))
        idle[key] = list
        if sweep == nil { armSweep(at: now + idleTimeout) }
        let id = ObjectIdentifier(channel)
        if watched.insert(id).inserted {
            channel.closeFuture.assumeIsolated().whenComplete { [weak self] _ in
                self?.watched.remove(id)
                self?.remove(channel, for: key)
            }
        }
    }

    /// Closes every idle connection; later `put`s close theirs.
    func closeAll() {
        eventLoop.preconditionInEventLoop()
        closed = true
        sweep?.timer.cancel()
        sweep = nil
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        for entry in all { entry.channel.close(promise: nil) }
    }

    private func armSweep(at deadline: NIODeadline) {
        let timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.sweepExpired()
        }
        sweep = (timer, deadline)
    }

    /// Closes the connections idle for `idleTimeout` or longer, then arms the sweep for the
    /// oldest one left.
    private func sweepExpired() {
        sweep = nil
        let now = eventLoop.now
        var expired: [Channel] = []
        var next: NIODeadline?
        for key in Array(idle.keys) {
            guard var list = idle.removeValue(forKey: key) else { continue }
            let stale = list.prefix { $0.since + idleTimeout <= now }.count
            expired.append(contentsOf: list.prefix(stale).map(\.channel))
            list.removeFirst(stale)
            if let oldest = list.first {
                let deadline = oldest.since + idleTimeout
                next = next.map { min($0, deadline) } ?? deadline
                idle[key] = list
            }
        }
        for channel in expired { channel.close(promise: nil) }
        if let next, !closed { armSweep(at: next) }
    }

    private func remove(_ channel: Channel, for key: Key) {
        guard let index = idle[key]?.firstIndex(where: { $0.channel === channel }) else { return }
        idle[key]?.remove(at: index)
    }
}
