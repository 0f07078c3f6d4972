// Helpers for the transport preface tests: raw preface bytes built by hand (independently of
// the encoder), and a pipeline tail that records what reaches it, in order.
import NIOCore
import NIOEmbedded
import SwitchyardProxy

enum RawPreface {
    static let magic: [UInt8] = [0x00, 0x53, 0x57, 0x59, 0x44, 0x2F, 0x54, 0x50]

    /// A field: type, 2-byte big-endian length, value.
    static func field(_ type: UInt8, _ value: [UInt8]) -> [UInt8] {
        [type, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
    }

    static func target(_ address: [UInt8], port: UInt16) -> [UInt8] {
        field(0x01, address + [UInt8(port >> 8), UInt8(port & 0xFF)])
    }

    static func proto(_ value: UInt8) -> [UInt8] { field(0x02, [value]) }

    /// Magic, version, the length of `fields` (or `declaredLength`), then `fields`.
    static func preface(version: UInt8 = 1, declaredLength: Int? = nil, _ fields: [UInt8]...) -> [UInt8] {
        let body = fields.flatMap { $0 }
        let length = declaredLength ?? body.count
        return magic + [version, UInt8(length >> 8), UInt8(length & 0xFF)] + body
    }

    /// A valid IPv4 preface: 10.42.1.7:9898, http1.
    static let valid = preface(target([10, 42, 1, 7], port: 9898), proto(1))
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// The tail of a test pipeline: logs reads, preface events, errors and inactivity in order, and
/// swallows errors so EmbeddedChannel does not rethrow them.
final class PrefaceRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    enum Entry: Equatable {
        case preface(TransportPreface)
        case read([UInt8])
        case error(TransportPrefaceError)
        case otherError(String)
        case inactive
    }

    var log: [Entry] = []
    /// Close the channel on `TransportPrefaceReceived`, as an inbound proxy does for a target
    /// that is not a local pod.
    var closeOnPreface = false

    var prefaces: [TransportPreface] {
        log.compactMap { entry -> TransportPreface? in
            guard case .preface(let preface) = entry else { return nil }
            return preface
        }
    }
    var errors: [TransportPrefaceError] {
        log.compactMap { entry -> TransportPrefaceError? in
            guard case .error(let error) = entry else { return nil }
            return error
        }
    }
    var readBuffers: [[UInt8]] {
        log.compactMap { entry -> [UInt8]? in
            guard case .read(let bytes) = entry else { return nil }
            return bytes
        }
    }
    var receivedBytes: [UInt8] { readBuffers.flatMap { $0 } }
    var reads: Int { readBuffers.count }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        log.append(.read(Array(unwrapInboundIn(data).readableBytesView)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TransportPrefaceReceived {
            log.append(.preface(event.preface))
            if closeOnPreface { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? TransportPrefaceError {
            log.append(.error(error))
        } else {
            log.append(.otherError("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.append(.inactive)
    }
}

/// Counts `read()` calls travelling towards the head of the pipeline.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// An active EmbeddedChannel: [ReadCounter, TransportPrefaceDecoder, PrefaceRecorder].
struct DecoderHarness {
    let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop
    let decoder: TransportPrefaceDecoder
    let recorder = PrefaceRecorder()
    let readCounter = ReadCounter()

    init(timeout: TimeAmount = TransportPrefaceDecoder.defaultTimeout, activate: Bool = true) throws {
        loop = EmbeddedEventLoop()
        decoder = TransportPrefaceDecoder(timeout: timeout)
        channel = EmbeddedChannel(handlers: [readCounter, decoder, recorder], loop: loop)
        if activate { try self.activate() }
    }

    func activate() throws {
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4143)).wait()
    }

    func send(_ bytes: [UInt8]) throws {
        try channel.writeInbound(buffer(bytes))
    }

    /// Whether the decoder is still in the pipeline.
    var decoderInPipeline: Bool {
        (try? channel.pipeline.syncOperations.context(handler: decoder)) != nil
    }
}
