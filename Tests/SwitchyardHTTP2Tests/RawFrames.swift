import NIOCore

/// Hand-made HTTP/2 frames for abuse tests, and a scanner for the frames a peer sent back.
enum RawFrames {
    static let preface = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

    static let data: UInt8 = 0x0, headers: UInt8 = 0x1, rstStream: UInt8 = 0x3, settings: UInt8 = 0x4, goAway: UInt8 = 0x7
    static let endStream: UInt8 = 0x1, endHeaders: UInt8 = 0x4, ack: UInt8 = 0x1

    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, payload: [UInt8] = []) -> ByteBuffer {
        var buffer = ByteBuffer()
        append(type: type, flags: flags, stream: stream, payload: payload, to: &buffer)
        return buffer
    }

    static func append(type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, payload: [UInt8] = [], to buffer: inout ByteBuffer) {
        let length = UInt32(payload.count)
        buffer.writeInteger(UInt8(length >> 16))
        buffer.writeInteger(UInt16(length & 0xffff))
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(stream & 0x7fff_ffff)
        buffer.writeBytes(payload)
    }

    /// A GET / request block in HPACK without the dynamic table: `:method GET`, `:scheme http`,
    /// `:path /` indexed, `:authority` a literal with an indexed name.
    static let getRequestBlock: [UInt8] = [0x82, 0x86, 0x84, 0x01, 0x09] + Array("localhost".utf8)

    /// Preface, empty SETTINGS, then `count` pairs of HEADERS (a GET, END_STREAM) and
    /// RST_STREAM(CANCEL) on streams 1, 3, 5, ...
    static func rapidResetFlood(count: Int) -> ByteBuffer {
        var buffer = preface
        append(type: settings, to: &buffer)
        for index in 0..<count {
            let stream = UInt32(2 * index + 1)
            append(type: headers, flags: endHeaders | endStream, stream: stream, payload: getRequestBlock, to: &buffer)
            append(type: rstStream, stream: stream, payload: [0, 0, 0, 0x8], to: &buffer)
        }
        return buffer
    }

    /// Preface, empty SETTINGS (and an ACK of the server's when `acknowledge`), then `count`
    /// HEADERS opening streams 1, 3, 5, ... without ending them.
    static func headersFlood(count: Int, acknowledge: Bool) -> ByteBuffer {
        var buffer = preface
        append(type: settings, to: &buffer)
        if acknowledge { append(type: settings, flags: ack, to: &buffer) }
        for index in 0..<count {
            append(type: headers, flags: endHeaders, stream: UInt32(2 * index + 1), payload: getRequestBlock, to: &buffer)
        }
        return buffer
    }

    struct Frame {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var payload: ByteBuffer
    }

    /// The frames in `buffer` (a server's output: no preface); a trailing partial frame is ignored.
    static func scan(_ buffer: ByteBuffer) -> [Frame] {
        var buffer = buffer
        var frames: [Frame] = []
        while buffer.readableBytes >= 9 {
            let high = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self)!
            let low = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt16.self)!
            let length = Int(high) << 16 | Int(low)
            guard buffer.readableBytes >= 9 + length else { break }
            buffer.moveReaderIndex(forwardBy: 3)
            let type = buffer.readInteger(as: UInt8.self)!
            let flags = buffer.readInteger(as: UInt8.self)!
            let stream = buffer.readInteger(as: UInt32.self)! & 0x7fff_ffff
            frames.append(Frame(type: type, flags: flags, stream: stream, payload: buffer.readSlice(length: length)!))
        }
        return frames
    }

    /// The error codes of the GOAWAY frames in `buffer`.
    static func goAwayCodes(in buffer: ByteBuffer) -> [UInt32] {
        scan(buffer).filter { $0.type == goAway }.compactMap { $0.payload.getInteger(at: $0.payload.readerIndex + 4, as: UInt32.self) }
    }
}
