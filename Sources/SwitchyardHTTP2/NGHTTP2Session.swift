import CNGHTTP2
import NIOCore

/// One nghttp2 session, server or client, fed from memory; the engine behind
/// `HTTP2ConnectionHandler`, free of channel plumbing.
///
/// nghttp2 calls back (`NGHTTP2Callbacks`) while it parses input (`receive`) or serializes
/// output (`produce`). The callbacks only record: events for the consumer go to `events`,
/// nghttp2 calls they would like to make go to `pendingActions`, promises to complete go to
/// `flushedPromises`/`failedPromises`. All of that is acted on after nghttp2 returned, so
/// nghttp2 is never re-entered from its own callbacks, and no consumer code runs inside them.
final class NGHTTP2Session {
    enum Role: Sendable { case server, client }

    /// Something to do to nghttp2 once it has returned.
    enum PendingAction {
        /// Give `bytes` back to the windows (data the consumer will never consume).
        case consume(Int32, Int)
        /// A header list was too large: answer 431 (server) or reset (client). `peerEnded`:
        /// the block carried END_STREAM.
        case refuseOversizedHeaders(Int32, peerEnded: Bool)
        /// The data provider ended with trailers to follow.
        case submitTrailers(Int32)
        /// The shutdown PING came back: the final GOAWAY.
        case finalGoAway
        /// RST_STREAM (after a refused request's response went out).
        case reset(Int32, HTTP2ErrorCode)
        /// End the session with this GOAWAY code (the peer made us refuse too many streams).
        case terminate(HTTP2ErrorCode)
    }

    let role: Role
    let configuration: HTTP2Configuration
    let allocator: ByteBufferAllocator
    private var session: OpaquePointer!

    /// Streams by ID; a closed one lingers while the consumer still owes `consume` for it.
    var streams: [Int32: HTTP2StreamState] = [:]
    /// Events for the consumer, oldest first.
    var events = CircularBuffer<HTTP2Event>(initialCapacity: 16)
    var pendingActions: [PendingAction] = []
    /// Promises of body chunks fully copied into DATA frames by the last `produce`.
    var flushedPromises: [EventLoopPromise<Void>] = []
    /// Promises to fail (their stream closed).
    var failedPromises: [(EventLoopPromise<Void>, HTTP2Error)] = []

    /// The input `receive` is parsing, so DATA chunks can be slices of it.
    var currentInput: ByteBuffer?
    var currentInputBase: UnsafeRawPointer?
    var currentInputCount = 0

    var resetGuard: RapidResetGuard
    /// Set when the guard trips: by the RST_STREAM callback (which then fails the parse), or
    /// when sending our REFUSED_STREAM resets.
    var rapidResetDetected = false
    /// Why we ended the session ourselves, for the error fired on close.
    var terminationReason: String?
    /// The last error nghttp2 described (error_callback2), for the error fired on close.
    var lastLibraryError: String?
    /// The code of the last GOAWAY we sent, if any.
    var sentGoAwayCode: HTTP2ErrorCode?
    /// A graceful shutdown is waiting for its PING's ACK.
    var awaitingShutdownPing = false
    static let shutdownPingData: [UInt8] = Array("sy-drain".utf8)

    init(role: Role, configuration: HTTP2Configuration, allocator: ByteBufferAllocator) {
        self.role = role
        self.configuration = configuration
        self.allocator = allocator
        resetGuard = RapidResetGuard(limit: configuration.maxResetsPerWindow, window: configuration.resetWindow)

        var callbacks: OpaquePointer?
        precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2: out of memory")
        defer { nghttp2_session_callbacks_del(callbacks) }
        NGHTTP2Callbacks.install(in: callbacks)

        var option: OpaquePointer?
        precondition(nghttp2_option_new(&option) == 0, "nghttp2: out of memory")
        defer { nghttp2_option_del(option) }
        // Windows reopen only when the consumer says it consumed (`consume`).
        nghttp2_option_set_no_auto_window_update(option, 1)
        // No priority tree: closed streams need not be kept.
        nghttp2_option_set_no_closed_streams(option, 1)

        var created: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        let result = switch role {
        case .server: nghttp2_session_server_new2(&created, callbacks, userData, option)
        case .client: nghttp2_session_client_new2(&created, callbacks, userData, option)
        }
        precondition(result == 0 && created != nil, "nghttp2_session_new: \(String(cString: nghttp2_strerror(result)))")
        session = created
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Queues our SETTINGS (and the connection window's first WINDOW_UPDATE); the client's
    /// connection preface goes out with the first `produce`.
    func start() {
        var settings: [nghttp2_settings_entry] = [
            entry(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, configuration.maxConcurrentStreams),
            entry(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, UInt32(configuration.initialStreamWindowSize)),
            entry(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, configuration.maxHeaderListSize),
            entry(NGHTTP2_SETTINGS_MAX_FRAME_SIZE, configuration.maxFrameSize),
        ]
        if role == .client { settings.append(entry(NGHTTP2_SETTINGS_ENABLE_PUSH, 0)) }
        let result = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), settings, settings.count)
        precondition(result == 0, "nghttp2_submit_settings: \(String(cString: nghttp2_strerror(result)))")
        if configuration.connectionWindowSize > sy_NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE {
            _ = nghttp2_session_set_local_window_size(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, configuration.connectionWindowSize)
        }
    }

    private func entry(_ id: nghttp2_settings_id, _ value: UInt32) -> nghttp2_settings_entry {
        nghttp2_settings_entry(settings_id: Int32(id.rawValue), value: value)
    }

    // MARK: - Input

    /// Parses `buffer`. Events land in `events`. A non-nil result means the peer broke the
    /// protocol: a GOAWAY with that code is queued and the session wants to close.
    func receive(_ buffer: ByteBuffer) -> HTTP2Error? {
        currentInput = buffer
        let result = buffer.withUnsafeReadableBytes { bytes -> Int in
            currentInputBase = bytes.baseAddress
            currentInputCount = bytes.count
            defer {
                currentInputBase = nil
                currentInputCount = 0
            }
            return nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        currentInput = nil
        runPendingActions()
        guard result < 0 else { return nil }
        let code: HTTP2ErrorCode
        let reason: String
        if rapidResetDetected {
            code = .enhanceYourCalm
            reason = terminationReason ?? "rapid reset"
        } else if result == NGHTTP2_ERR_FLOODED.rawValue {
            code = .enhanceYourCalm
            reason = String(cString: nghttp2_strerror(Int32(result)))
        } else {
            code = .protocolError
            reason = lastLibraryError ?? String(cString: nghttp2_strerror(Int32(result)))
        }
        terminate(code)
        return .protocolViolation(code, reason)
    }

    // MARK: - Output

    /// Whether nghttp2 has frames to send.
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }

    /// Nothing left to read or write: the connection is done (GOAWAY exchanged and no streams,
    /// or a fatal error's GOAWAY sent).
    var isFinished: Bool { nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 }

    /// Serializes pending frames into `buffer` until nghttp2 has nothing more or `limit` bytes
    /// were written. Returns false when nghttp2 has nothing more.
    func produce(into buffer: inout ByteBuffer, limit: Int) -> Bool {
        while buffer.readableBytes < limit {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 {
                // Only NGHTTP2_ERR_NOMEM and NGHTTP2_ERR_CALLBACK_FAILURE; neither leaves a usable session.
                lastLibraryError = String(cString: nghttp2_strerror(Int32(count)))
                terminate(.internalError)
                runPendingActions()
                return false
            }
            if count > 0, let data {
                buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: count))
            }
            let hadActions = !pendingActions.isEmpty
            runPendingActions()
            if count == 0 && !hadActions { return false }
        }
        return true
    }

    // MARK: - Commands

    /// Client: submits a request; returns the new stream's ID.
    func openStream(_ headers: HTTP2HeaderBlock, endStream: Bool) throws(HTTP2Error) -> HTTP2StreamID {
        guard role == .client else { throw .wrongRole("a server cannot open streams") }
        guard nghttp2_session_check_request_allowed(session) != 0 else { throw .streamsExhausted }
        var provider = NGHTTP2Callbacks.dataProvider
        let id = headers.withNameValuePairs { nva in
            endStream
                ? nghttp2_submit_request(session, nil, nva.baseAddress, nva.count, nil, nil)
                : nghttp2_submit_request(session, nil, nva.baseAddress, nva.count, &provider, nil)
        }
        guard id > 0 else {
            if id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE.rawValue || id == NGHTTP2_ERR_START_STREAM_NOT_ALLOWED.rawValue
                || id == NGHTTP2_ERR_INVALID_STATE.rawValue {
                throw .streamsExhausted
            }
            throw Self.failure(id)
        }
        let state = HTTP2StreamState(id: id)
        state.announced = true
        state.sentFinalHead = true
        state.hasDataProvider = !endStream
        state.endRequested = endStream
        streams[id] = state
        return HTTP2StreamID(id)
    }

    /// Server: submits a response head (or a 1xx informational one).
    func sendHeaders(_ streamID: HTTP2StreamID, _ headers: HTTP2HeaderBlock, endStream: Bool) throws(HTTP2Error) {
        guard role == .server else { throw .wrongRole("a client sends its head with openStream") }
        let state = try openState(streamID)
        guard !state.sentFinalHead else { throw .invalidState(streamID, "response head already sent") }
        let informational = headers.status.map { (100..<200).contains($0) } ?? false
        let result: Int32
        if informational {
            guard !endStream else { throw .invalidState(streamID, "a 1xx head cannot end the stream") }
            result = headers.withNameValuePairs { nva in
                nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID.value, nil, nva.baseAddress, nva.count, nil)
            }
        } else {
            var provider = NGHTTP2Callbacks.dataProvider
            result = headers.withNameValuePairs { nva in
                endStream
                    ? nghttp2_submit_response(session, streamID.value, nva.baseAddress, nva.count, nil)
                    : nghttp2_submit_response(session, streamID.value, nva.baseAddress, nva.count, &provider)
            }
        }
        guard result >= 0 else { throw Self.failure(result) }
        if !informational {
            state.sentFinalHead = true
            state.hasDataProvider = !endStream
            state.endRequested = endStream
        }
    }

    /// Queues a body chunk for the stream's data provider, waking it if it was deferred.
    func sendData(_ streamID: HTTP2StreamID, _ buffer: ByteBuffer, endStream: Bool, promise: EventLoopPromise<Void>?) throws(HTTP2Error) {
        let state = try openState(streamID)
        guard state.hasDataProvider, !state.endRequested else {
            throw .invalidState(streamID, state.sentFinalHead ? "the body has ended" : "no head sent yet")
        }
        state.outbound.append((buffer, promise))
        state.endRequested = endStream
        resume(state)
    }

    /// Queues trailers; they follow the last queued chunk and end our side.
    func sendTrailers(_ streamID: HTTP2StreamID, _ headers: HTTP2HeaderBlock) throws(HTTP2Error) {
        let state = try openState(streamID)
        guard state.hasDataProvider, !state.endRequested else {
            throw .invalidState(streamID, state.sentFinalHead ? "the body has ended" : "no head sent yet")
        }
        state.trailers = headers
        state.endRequested = true
        resume(state)
    }

    private func resume(_ state: HTTP2StreamState) {
        guard state.deferred else { return }
        state.deferred = false
        _ = nghttp2_session_resume_data(session, state.id)
    }

    func resetStream(_ streamID: HTTP2StreamID, _ code: HTTP2ErrorCode) throws(HTTP2Error) {
        let state = try openState(streamID)
        // A server's NO_ERROR reset says "the response is complete, stop sending the request"
        // (RFC 9113 §8.1): it waits for the response's last frame, which it would overtake
        // (RST_STREAM goes before queued DATA).
        if role == .server, code == .noError, !state.sentEndStream {
            state.resetAfterResponse = true
            return
        }
        let result = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID.value, code.rawValue)
        guard result == 0 else { throw Self.failure(result) }
    }

    /// The consumer processed `bytes` of the stream's data: reopen the windows by as much
    /// (never more than was delivered and not yet consumed).
    func consume(_ streamID: HTTP2StreamID, bytes: Int) {
        guard bytes > 0, let state = streams[streamID.value] else { return }
        let count = min(bytes, state.unconsumed)
        guard count > 0 else { return }
        state.unconsumed -= count
        _ = nghttp2_session_consume(session, streamID.value, count)
        if state.closed && state.unconsumed == 0 { streams[streamID.value] = nil }
    }

    /// GOAWAY now: `.noError` lets streams in flight finish; other codes end the session once sent.
    func goAway(_ code: HTTP2ErrorCode) {
        if code == .noError {
            _ = nghttp2_submit_goaway(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session), 0, nil, 0)
        } else {
            terminate(code)
        }
    }

    /// Graceful shutdown: a server's shutdown notice and PING (the final GOAWAY follows the
    /// PING's ACK); a client's GOAWAY.
    func beginShutdown() {
        guard role == .server else { return goAway(.noError) }
        guard !awaitingShutdownPing else { return }
        if nghttp2_submit_shutdown_notice(session) == 0 {
            awaitingShutdownPing = true
            _ = Self.shutdownPingData.withUnsafeBufferPointer {
                nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), $0.baseAddress)
            }
        } else {
            goAway(.noError)
        }
    }

    /// Ends the session: GOAWAY with `code`, then nothing more is read or written.
    func terminate(_ code: HTTP2ErrorCode) {
        _ = nghttp2_session_terminate_session(session, code.rawValue)
    }

    /// The channel closed: every stream the consumer knows of ends with `.cancel`, every
    /// queued chunk's promise fails.
    func connectionClosed() {
        for id in streams.keys.sorted() {
            let state = streams[id]!
            for entry in state.outbound { if let promise = entry.promise { failedPromises.append((promise, .connectionClosed)) } }
            state.outbound.removeAll()
            if state.announced && !state.closed { events.append(.streamClosed(HTTP2StreamID(id), .cancel)) }
        }
        streams.removeAll()
    }

    // MARK: - Internals

    private func openState(_ streamID: HTTP2StreamID) throws(HTTP2Error) -> HTTP2StreamState {
        guard let state = streams[streamID.value], !state.closed else { throw .unknownStream(streamID) }
        return state
    }

    static func failure(_ code: some BinaryInteger) -> HTTP2Error {
        .nghttp2(code: Int32(code), String(cString: nghttp2_strerror(Int32(code))))
    }

    /// Does what the callbacks asked for, now that nghttp2 has returned.
    func runPendingActions() {
        while !pendingActions.isEmpty {
            let actions = pendingActions
            pendingActions.removeAll(keepingCapacity: true)
            for action in actions {
                switch action {
                case .consume(let id, let bytes):
                    _ = nghttp2_session_consume(session, id, bytes)
                case .refuseOversizedHeaders(let id, let peerEnded):
                    refuseOversizedHeaders(id, peerEnded: peerEnded)
                case .submitTrailers(let id):
                    guard let state = streams[id], let trailers = state.trailers else { continue }
                    state.trailers = nil
                    let result = trailers.withNameValuePairs { nva in
                        nghttp2_submit_trailer(session, id, nva.baseAddress, nva.count)
                    }
                    if result != 0 {
                        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, HTTP2ErrorCode.internalError.rawValue)
                    }
                case .finalGoAway:
                    awaitingShutdownPing = false
                    goAway(.noError)
                case .reset(let id, let code):
                    _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, code.rawValue)
                case .terminate(let code):
                    terminate(code)
                }
            }
        }
    }

    private func refuseOversizedHeaders(_ id: Int32, peerEnded: Bool) {
        switch role {
        case .server:
            let head: HTTP2HeaderBlock = [":status": "431", "content-length": "0"]
            let result = head.withNameValuePairs { nva in
                nghttp2_submit_response(session, id, nva.baseAddress, nva.count, nil)
            }
            if result != 0 {
                _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, HTTP2ErrorCode.refusedStream.rawValue)
            } else if !peerEnded {
                // The request body is not wanted either (RFC 9113 §8.1): RST_STREAM(NO_ERROR)
                // once the response is out (`onFrameSend`); before it, it would overtake it.
                streams[id]?.resetAfterResponse = true
            }
        case .client:
            _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, HTTP2ErrorCode.protocolError.rawValue)
        }
    }
}
