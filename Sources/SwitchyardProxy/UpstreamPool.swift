import NIOCore

/// Idle kept-alive upstream connections of one event loop, by target.
///
/// Confined to its event loop (no locks): connections are taken and returned by the HTTP
/// proxy handlers of that loop, which also own the connections while in use. An idle
/// connection is closed after `idleTimeout`, or at once when its key already holds
/// `maxIdlePerKey` idle ones; one the peer closes while idle leaves the pool by itself.
final class UpstreamPool<Key: Hashable & Sendable> {
    private struct Idle {
        var channel: Channel
        var timer: Scheduled<Void>
    }

    let eventLoop: EventLoop
    let idleTimeout: TimeAmount
    let maxIdlePerKey: Int
    private var idle: [Key: [Idle]] = [:]
    /// Channels whose close is already watched: a kept-alive connection goes back to the pool
    /// after every exchange, and a callback per return would pile up on its close future.
    private var watched: Set<ObjectIdentifier> = []
    private var closed = false

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
        while var list = idle[key], let last = list.popLast() {
            idle[key] = list.isEmpty ? nil : list
            last.timer.cancel()
            if last.channel.isActive { return last.channel }
        }
        return nil
    }

    /// Keeps `channel` for reuse under `key` (or closes it when the pool is full or shut).
    func put(_ channel: Channel, for key: Key) {
        eventLoop.preconditionInEventLoop()
        guard !closed, channel.isActive, maxIdlePerKey > 0, (idle[key]?.count ?? 0) < maxIdlePerKey else {
            channel.close(promise: nil)
            return
        }
        let timer = eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            self?.remove(channel, for: key)
            channel.close(promise: nil)
        }
        idle[key, default: []].append(Idle(channel: channel, timer: timer))
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
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        for entry in all {
            entry.timer.cancel()
            entry.channel.close(promise: nil)
        }
    }

    private func remove(_ channel: Channel, for key: Key) {
        guard var list = idle[key], let index = list.firstIndex(where: { $0.channel === channel }) else { return }
        list[index].timer.cancel()
        list.remove(at: index)
        idle[key] = list.isEmpty ? nil : list
    }
}
