import NIOCore
import SwitchyardHTTP2

/// What a list of events says about each stream, for assertions.
struct StreamSummary {
    var heads: [HTTP2HeaderBlock] = []
    var body = ByteBuffer()
    var bodyEnded = false
    var trailers: HTTP2HeaderBlock?
    var closed: HTTP2ErrorCode?
    /// Sum of the data chunks' sizes (what must be consumed).
    var dataBytes: Int { body.readableBytes }
}

extension Array where Element == HTTP2Event {
    /// Per-stream summaries, in the order streams first appear.
    func summaries() -> [HTTP2StreamID: StreamSummary] {
        var result: [HTTP2StreamID: StreamSummary] = [:]
        for event in self {
            switch event {
            case .headers(let id, let block, let endStream):
                result[id, default: StreamSummary()].heads.append(block)
                if endStream { result[id, default: StreamSummary()].bodyEnded = true }
            case .data(let id, var chunk, let endStream):
                result[id, default: StreamSummary()].body.writeBuffer(&chunk)
                if endStream { result[id, default: StreamSummary()].bodyEnded = true }
            case .trailers(let id, let block):
                result[id, default: StreamSummary()].trailers = block
                result[id, default: StreamSummary()].bodyEnded = true
            case .streamClosed(let id, let code):
                result[id, default: StreamSummary()].closed = code
            case .goAway:
                break
            }
        }
        return result
    }

    var goAways: [(lastStreamID: HTTP2StreamID, code: HTTP2ErrorCode)] {
        compactMap { event in
            if case .goAway(let last, let code, _) = event { return (last, code) }
            return nil
        }
    }

    /// Bytes of data per stream, to hand back with `.consume`.
    var dataBytesByStream: [HTTP2StreamID: Int] {
        var result: [HTTP2StreamID: Int] = [:]
        for case .data(let id, let chunk, _) in self { result[id, default: 0] += chunk.readableBytes }
        return result
    }
}

/// Deterministic bytes: `count` bytes of a pattern that does not repeat every 256 bytes.
func patternBytes(_ count: Int, seed: UInt32 = 1) -> ByteBuffer {
    var buffer = ByteBuffer()
    var state = seed &* 2_654_435_761
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
        let out = bytes.bindMemory(to: UInt8.self)
        for index in 0..<count {
            state = state &* 1_103_515_245 &+ 12345
            out[index] = UInt8(truncatingIfNeeded: state >> 16)
        }
        return count
    }
    return buffer
}

/// Whether `buffer` holds `(offset + i) % 251` at each index i (what `/big` sends).
func isBigPattern(_ buffer: ByteBuffer) -> Bool {
    buffer.withUnsafeReadableBytes { bytes in
        for index in 0..<bytes.count where bytes[index] != UInt8(index % 251) { return false }
        return true
    }
}
