import NIOCore

/// Plaintext written to a `TLSHandler` and not yet encrypted, in order, with each write's
/// promise. A flush marks everything written so far as due; only due plaintext is encrypted.
/// Promises complete in write order.
struct TLSOutboundBuffer {
    private struct Entry {
        var data: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    private var entries = CircularBuffer<Entry>(initialCapacity: 8)
    /// How many entries, from the head, a flush has made due.
    private var flushedEntries = 0
    /// Plaintext bytes held (flushed or not).
    private(set) var bufferedBytes = 0

    var isEmpty: Bool { entries.isEmpty }
    var hasFlushedData: Bool { flushedEntries > 0 }

    /// Adds a write. Returns false (and keeps nothing) when it would hold more than `limit` bytes.
    mutating func append(_ data: ByteBuffer, promise: EventLoopPromise<Void>?, limit: Int) -> Bool {
        guard bufferedBytes + data.readableBytes <= limit else { return false }
        bufferedBytes += data.readableBytes
        entries.append(Entry(data: data, promise: promise))
        return true
    }

    /// A flush: everything written so far becomes due.
    mutating func markFlushed() {
        flushedEntries = entries.count
    }

    /// Takes up to `maxBytes` of due plaintext, at least one byte when there is any (or one
    /// empty write). Small writes are coalesced into `staging` (cleared first) so they become
    /// one TLS record; a big write at the head is sliced without copying. The promises of the
    /// writes it finishes are appended to `completed`.
    mutating func takeFlushed(maxBytes: Int, staging: inout ByteBuffer, completed: inout [EventLoopPromise<Void>]) -> ByteBuffer? {
        guard flushedEntries > 0 else { return nil }
        // Zero-copy: the head write alone fills a record, or nothing follows it.
        if entries[entries.startIndex].data.readableBytes >= maxBytes || flushedEntries == 1 {
            return takeFromHead(maxBytes: maxBytes, completed: &completed)
        }
        staging.clear()
        while flushedEntries > 0 && staging.readableBytes < maxBytes {
            let room = maxBytes - staging.readableBytes
            guard var chunk = takeFromHead(maxBytes: room, completed: &completed) else { break }
            staging.writeBuffer(&chunk)
        }
        return staging
    }

    private mutating func takeFromHead(maxBytes: Int, completed: inout [EventLoopPromise<Void>]) -> ByteBuffer? {
        guard flushedEntries > 0 else { return nil }
        let head = entries.startIndex
        let available = entries[head].data.readableBytes
        if available <= maxBytes {
            let entry = entries.removeFirst()
            flushedEntries -= 1
            bufferedBytes -= available
            if let promise = entry.promise { completed.append(promise) }
            return entry.data
        }
        let slice = entries[head].data.readSlice(length: maxBytes)!
        bufferedBytes -= maxBytes
        return slice
    }

    /// Removes every write not yet flushed and returns their promises (to fail them).
    mutating func removeUnflushed() -> [EventLoopPromise<Void>] {
        var promises: [EventLoopPromise<Void>] = []
        while entries.count > flushedEntries {
            let entry = entries.removeLast()
            bufferedBytes -= entry.data.readableBytes
            if let promise = entry.promise { promises.append(promise) }
        }
        return promises.reversed()
    }

    /// Removes every write and returns their promises (to fail them), in order.
    mutating func removeAll() -> [EventLoopPromise<Void>] {
        let promises = entries.compactMap(\.promise)
        entries.removeAll(keepingCapacity: false)
        flushedEntries = 0
        bufferedBytes = 0
        return promises
    }
}
