// Application data through two TLSHandlers over EmbeddedChannels: both directions, big and
// small writes, coalescing, write promises, writability, backpressure, buffer limits.
import NIOCore
import NIOEmbedded
import SwitchyardTLS
import Testing

@Suite("TLS data")
struct TLSDataTests {
    @Test("data both ways, in order")
    func dataBothWays() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        let sent = pair.write("GET / HTTP/1.1\r\n\r\n", from: pair.client)
        try pair.exchange()
        #expect(pair.serverRecorder.receivedString == "GET / HTTP/1.1\r\n\r\n")
        let answered = pair.write("HTTP/1.1 200 OK\r\n\r\n", from: pair.server)
        try pair.exchange()
        #expect(pair.clientRecorder.receivedString == "HTTP/1.1 200 OK\r\n\r\n")
        try sent.wait()
        try answered.wait()
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
    }

    @Test("1 MiB in one write arrives intact, in a handful of ciphertext writes")
    func oneMebibyte() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        pair.resetWriteCounts()
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let written = pair.client.writeAndFlush(ByteBuffer(bytes: bytes))
        try pair.exchange()
        try written.wait()
        var received = ByteBuffer()
        for var buffer in pair.serverRecorder.received { received.writeBuffer(&buffer) }
        #expect(received == ByteBuffer(bytes: bytes))
        // One flush: ~1 MiB of ciphertext in writes of about 256 KiB, not one per record.
        #expect(pair.clientWrites.first ?? 0 <= 5, "\(pair.clientWrites)")
        #expect(pair.clientWrites.reduce(0, +) <= 5)
        // And plaintext comes out in record-sized buffers, not byte dribbles.
        #expect(pair.serverRecorder.received.count <= 70)
    }

    @Test("many small writes, one flush: one ciphertext write, and the writes share TLS records")
    func smallWritesCoalesced() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        pair.resetWriteCounts()
        let before = pair.clientCiphertextBytes
        var futures: [EventLoopFuture<Void>] = []
        var expected = ""
        for i in 0..<1000 {
            let line = "line \(i)\n"
            expected += line
            futures.append(pair.client.write(ByteBuffer(string: line)))
        }
        pair.client.flush()
        try pair.exchange()
        for future in futures { try future.wait() }
        #expect(pair.clientWrites == [1])
        #expect(pair.serverRecorder.receivedString == expected)
        // 1000 records would cost 22 bytes each; coalesced they fit in one (< 16 KiB of plaintext).
        let overhead = pair.clientCiphertextBytes - before - expected.utf8.count
        #expect(overhead < 3 * 22, "overhead \(overhead) bytes")
    }

    @Test("write promises: pending until flushed and written; writes before the handshake go out after it")
    func writePromises() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.activate()
        // Written and flushed before the handshake is done: held.
        let early = pair.write("early", from: pair.client)
        var earlyDone = false
        early.assumeIsolated().whenComplete { _ in earlyDone = true }
        #expect(!earlyDone)
        try pair.exchange()
        #expect(earlyDone)
        #expect(pair.serverRecorder.receivedString == "early")

        let unflushed = pair.client.write(ByteBuffer(string: "late"))
        var lateDone = false
        unflushed.assumeIsolated().whenComplete { _ in lateDone = true }
        try pair.exchange()
        #expect(!lateDone)
        #expect(pair.serverRecorder.receivedString == "early")
        pair.client.flush()
        #expect(lateDone)
        try pair.exchange()
        #expect(pair.serverRecorder.receivedString == "earlylate")
    }

    @Test("not writable: flushed plaintext waits unencrypted; writable again: it goes, the event goes on")
    func writability() throws {
        let pair = try TLSPair(pki: TLSTestPKI())
        try pair.handshake()
        pair.client.isWritable = false
        let written = pair.write("held back", from: pair.client)
        var done = false
        written.assumeIsolated().whenComplete { _ in done = true }
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
        #expect(!done)

        pair.client.isWritable = true
        pair.client.pipeline.fireChannelWritabilityChanged()
        #expect(done)
        #expect(pair.clientRecorder.writabilityChanges == [true])
        try pair.exchange()
        #expect(pair.serverRecorder.receivedString == "held back")
    }

    @Test("outbound plaintext beyond maximumBufferedPlaintext: that write fails with bufferLimitExceeded")
    func plaintextLimit() throws {
        let pair = try TLSPair(pki: TLSTestPKI(), configuration: TLSConfiguration(maximumBufferedPlaintext: 1000))
        try pair.activate()  // handshake not done: writes are held
        let fits = pair.client.write(ByteBuffer(repeating: 1, count: 600))
        let tooMuch = pair.client.write(ByteBuffer(repeating: 2, count: 600))
        #expect(throws: TLSError.bufferLimitExceeded) { try tooMuch.wait() }
        pair.client.flush()
        try pair.exchange()
        try fits.wait()
        #expect(pair.serverRecorder.receivedBytes == [UInt8](repeating: 1, count: 600))
    }

    @Test("backpressure: with autoRead off, plaintext is passed on only when read() asks")
    func backpressure() throws {
        let pair = try TLSPair(pki: TLSTestPKI(), serverAutoRead: false)
        try pair.handshake()
        #expect(pair.serverRecorder.handshakes.count == 1)

        _ = pair.write("one", from: pair.client)
        try pair.exchange()
        _ = pair.write("two", from: pair.client)
        try pair.exchange()
        #expect(pair.serverRecorder.received.isEmpty)

        pair.server.read()
        #expect(pair.serverRecorder.receivedString == "onetwo")
        #expect(pair.serverRecorder.readCompletes == 1)

        _ = pair.write("three", from: pair.client)
        try pair.exchange()
        #expect(pair.serverRecorder.receivedString == "onetwo")
        pair.server.read()
        #expect(pair.serverRecorder.receivedString == "onetwothree")

        // A read() with nothing buffered waits; the next ciphertext to arrive satisfies it.
        pair.server.read()
        #expect(pair.serverRecorder.readCompletes == 2)
        _ = pair.write("four", from: pair.client)
        try pair.exchange()
        #expect(pair.serverRecorder.receivedString == "onetwothreefour")
        #expect(pair.serverRecorder.readCompletes == 3)
        // Demand met: more data waits for the next read().
        _ = pair.write("five", from: pair.client)
        try pair.exchange()
        #expect(pair.serverRecorder.receivedString == "onetwothreefour")
    }

    @Test("unread inbound ciphertext beyond maximumBufferedCiphertext fails the connection")
    func ciphertextLimit() throws {
        let pair = try TLSPair(pki: TLSTestPKI(), configuration: TLSConfiguration(maximumBufferedCiphertext: 64 << 10), serverAutoRead: false)
        try pair.handshake()
        _ = pair.client.writeAndFlush(ByteBuffer(repeating: 7, count: 100 << 10))
        try pair.exchange()
        #expect(pair.serverRecorder.tlsErrors == [.bufferLimitExceeded])
        #expect(!pair.server.isActive)
    }
}
