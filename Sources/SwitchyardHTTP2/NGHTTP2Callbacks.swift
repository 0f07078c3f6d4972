import CNGHTTP2
import NIOCore

/// The C callbacks nghttp2 calls during `nghttp2_session_mem_recv` and `mem_send`. They reach
/// their `NGHTTP2Session` through `user_data` (unretained: the session owns the nghttp2
/// session, which never outlives it), and only record what happened; they never call back
/// into nghttp2 nor into consumer code.
enum NGHTTP2Callbacks {
    static func install(in callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunkRecv)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSend)
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, onFrameNotSend)
        nghttp2_session_callbacks_set_error_callback2(callbacks, onError)
    }

    /// The data provider every stream with a body gets; the body comes from the stream's
    /// queue, found by stream ID.
    static var dataProvider: nghttp2_data_provider {
        nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readData)
    }

    private static func owner(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
        Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func has(_ flags: UInt8, _ flag: nghttp2_flag) -> Bool {
        flags & UInt8(flag.rawValue) != 0
    }

    // MARK: - Headers

    private static let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
        guard let frame else { return 0 }
        let owner = NGHTTP2Callbacks.owner(userData)
        let id = frame.pointee.hd.stream_id
        let state: HTTP2StreamState
        if let existing = owner.streams[id] {
            state = existing
        } else {
            // A server learns of a new request stream here.
            guard owner.role == .server, frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
            state = HTTP2StreamState(id: id)
            owner.streams[id] = state
        }
        state.receiving = HTTP2HeaderBlock(reservingFields: 12, bytes: 512)
        state.receivingSize = 0
        state.receivingTooLarge = false
        return 0
    }

    private static let onHeader: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, flags, userData in
        guard let frame else { return 0 }
        let owner = NGHTTP2Callbacks.owner(userData)
        guard let state = owner.streams[frame.pointee.hd.stream_id], !state.receivingTooLarge else { return 0 }
        // Every field is still decoded (HPACK's table must stay in step); an oversized list is dropped.
        state.receivingSize += nameLength + valueLength + 32
        if state.receivingSize > Int(owner.configuration.maxHeaderListSize) {
            state.receivingTooLarge = true
            state.receiving = nil
            return 0
        }
        state.receiving?.add(
            name: UnsafeRawBufferPointer(start: name, count: nameLength),
            value: UnsafeRawBufferPointer(start: value, count: valueLength),
            neverIndex: flags & UInt8(NGHTTP2_NV_FLAG_NO_INDEX.rawValue) != 0)
        return 0
    }

    // MARK: - Frames

    private static let onFrameRecv: nghttp2_on_frame_recv_callback = { _, frame, userData in
        guard let frame else { return 0 }
        let owner = NGHTTP2Callbacks.owner(userData)
        let header = frame.pointee.hd
        let id = header.stream_id
        let endStream = has(header.flags, NGHTTP2_FLAG_END_STREAM)
        switch UInt32(header.type) {
        case NGHTTP2_HEADERS.rawValue:
            guard let state = owner.streams[id] else { return 0 }
            if state.receivingTooLarge {
                state.receivingTooLarge = false
                state.refusedWith = owner.role == .client ? .protocolError : nil
                owner.pendingActions.append(.refuseOversizedHeaders(id, peerEnded: endStream))
                return 0
            }
            guard let block = state.receiving else { return 0 }
            state.receiving = nil
            if state.receivedFinalHead {
                owner.events.append(.trailers(HTTP2StreamID(id), block))
            } else {
                let status = block.status ?? 200
                state.receivedFinalHead = owner.role == .server || !(100..<200).contains(status)
                state.announced = true
                owner.events.append(.headers(HTTP2StreamID(id), block, endStream: endStream))
            }
        case NGHTTP2_DATA.rawValue:
            guard endStream, let state = owner.streams[id], state.announced else { return 0 }
            // The END_STREAM flag comes after the frame's chunks: mark the last one, if it is
            // this stream's, else send an empty end.
            if case .data(let lastID, let chunk, endStream: false)? = owner.events.last, lastID.value == id {
                owner.events[owner.events.index(before: owner.events.endIndex)] = .data(lastID, chunk, endStream: true)
            } else {
                owner.events.append(.data(HTTP2StreamID(id), owner.allocator.buffer(capacity: 0), endStream: true))
            }
        case NGHTTP2_RST_STREAM.rawValue:
            if owner.resetGuard.record(now: .now()) {
                owner.rapidResetDetected = true
                owner.terminationReason = "more than \(owner.configuration.maxResetsPerWindow) RST_STREAM frames in \(owner.configuration.resetWindow)"
                // Stop parsing this input at once; `receive` answers with GOAWAY(ENHANCE_YOUR_CALM).
                return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
            }
        case NGHTTP2_GOAWAY.rawValue:
            let goaway = frame.pointee.goaway
            var debug = owner.allocator.buffer(capacity: goaway.opaque_data_len)
            if let data = goaway.opaque_data, goaway.opaque_data_len > 0 {
                debug.writeBytes(UnsafeRawBufferPointer(start: data, count: goaway.opaque_data_len))
            }
            owner.events.append(.goAway(
                lastStreamID: HTTP2StreamID(goaway.last_stream_id), HTTP2ErrorCode(rawValue: goaway.error_code), debugData: debug))
        case NGHTTP2_PING.rawValue:
            guard has(header.flags, NGHTTP2_FLAG_ACK), owner.awaitingShutdownPing else { return 0 }
            let matches = withUnsafeBytes(of: frame.pointee.ping.opaque_data) { $0.elementsEqual(NGHTTP2Session.shutdownPingData) }
            if matches { owner.pendingActions.append(.finalGoAway) }
        default:
            break
        }
        return 0
    }

    private static let onDataChunkRecv: nghttp2_on_data_chunk_recv_callback = { _, _, id, data, length, userData in
        let owner = NGHTTP2Callbacks.owner(userData)
        guard let state = owner.streams[id], state.announced, !state.closed else {
            // Nobody will consume it: give the window back.
            owner.pendingActions.append(.consume(id, length))
            return 0
        }
        state.unconsumed += length
        let chunk: ByteBuffer
        if let data, let base = owner.currentInputBase, let input = owner.currentInput,
           UnsafeRawPointer(data) >= base, UnsafeRawPointer(data) + length <= base + owner.currentInputCount {
            // A slice of the bytes read: no copy.
            chunk = input.getSlice(at: input.readerIndex + (UnsafeRawPointer(data) - base), length: length)!
        } else {
            var copy = owner.allocator.buffer(capacity: length)
            copy.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
            chunk = copy
        }
        owner.events.append(.data(HTTP2StreamID(id), chunk, endStream: false))
        return 0
    }

    private static let onStreamClose: nghttp2_on_stream_close_callback = { _, id, errorCode, userData in
        let owner = NGHTTP2Callbacks.owner(userData)
        guard let state = owner.streams[id] else { return 0 }
        let code = state.refusedWith ?? HTTP2ErrorCode(rawValue: errorCode)
        state.closed = true
        for entry in state.outbound {
            if let promise = entry.promise { owner.failedPromises.append((promise, .streamClosed(HTTP2StreamID(id), code))) }
        }
        state.outbound.removeAll()
        state.trailers = nil
        if state.announced { owner.events.append(.streamClosed(HTTP2StreamID(id), code)) }
        // A reset stream's unread data will not be consumed: give it back now.
        if state.unconsumed > 0 && (code != .noError || !state.announced) {
            owner.pendingActions.append(.consume(id, state.unconsumed))
            state.unconsumed = 0
        }
        if state.unconsumed == 0 { owner.streams[id] = nil }
        return 0
    }

    private static let onFrameSend: nghttp2_on_frame_send_callback = { session, frame, userData in
        guard let frame else { return 0 }
        let owner = NGHTTP2Callbacks.owner(userData)
        switch UInt32(frame.pointee.hd.type) {
        case NGHTTP2_GOAWAY.rawValue:
            owner.sentGoAwayCode = HTTP2ErrorCode(rawValue: frame.pointee.goaway.error_code)
        case NGHTTP2_RST_STREAM.rawValue:
            // Streams nghttp2 refuses (over SETTINGS_MAX_CONCURRENT_STREAMS before the peer
            // acknowledged it) count as resets too: opening streams only to have them refused
            // is the same flood from the other side.
            guard frame.pointee.rst_stream.error_code == HTTP2ErrorCode.refusedStream.rawValue, !owner.rapidResetDetected,
                  owner.resetGuard.record(now: .now()) else { return 0 }
            owner.rapidResetDetected = true
            owner.terminationReason = "more than \(owner.configuration.maxResetsPerWindow) streams refused in \(owner.configuration.resetWindow)"
            owner.pendingActions.append(.terminate(.enhanceYourCalm))
        case NGHTTP2_HEADERS.rawValue, NGHTTP2_DATA.rawValue:
            let id = frame.pointee.hd.stream_id
            guard has(frame.pointee.hd.flags, NGHTTP2_FLAG_END_STREAM), let state = owner.streams[id] else { return 0 }
            state.sentEndStream = true
            if state.resetAfterResponse {
                state.resetAfterResponse = false
                // Not when the request has ended meanwhile: the stream is simply over.
                if nghttp2_session_get_stream_remote_close(session, id) == 0 {
                    owner.pendingActions.append(.reset(id, .noError))
                }
            }
        default:
            break
        }
        return 0
    }

    /// A request HEADERS nghttp2 could not send (GOAWAY arrived meanwhile, stream IDs ran
    /// out): the stream never existed for the peer; it closes with REFUSED_STREAM, so the
    /// consumer may retry it elsewhere.
    private static let onFrameNotSend: nghttp2_on_frame_not_send_callback = { _, frame, _, userData in
        guard let frame, UInt32(frame.pointee.hd.type) == NGHTTP2_HEADERS.rawValue,
              frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
        let owner = NGHTTP2Callbacks.owner(userData)
        let id = frame.pointee.hd.stream_id
        guard let state = owner.streams[id], !state.closed else { return 0 }
        state.closed = true
        for entry in state.outbound {
            if let promise = entry.promise { owner.failedPromises.append((promise, .streamClosed(HTTP2StreamID(id), .refusedStream))) }
        }
        state.outbound.removeAll()
        owner.streams[id] = nil
        owner.events.append(.streamClosed(HTTP2StreamID(id), .refusedStream))
        return 0
    }

    private static let onError: nghttp2_error_callback2 = { _, _, message, length, userData in
        guard let message else { return 0 }
        NGHTTP2Callbacks.owner(userData).lastLibraryError = String(
            decoding: UnsafeRawBufferPointer(start: message, count: length), as: UTF8.self)
        return 0
    }

    // MARK: - Body

    /// Copies queued body bytes into nghttp2's frame buffer; defers when the queue is empty and
    /// the body has not ended; on the end, sets EOF (and NO_END_STREAM when trailers follow,
    /// which `NGHTTP2Session` submits once nghttp2 returns).
    private static let readData: nghttp2_data_source_read_callback = { _, id, buffer, length, flags, _, userData in
        let owner = NGHTTP2Callbacks.owner(userData)
        guard let state = owner.streams[id], let buffer, let flags else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        var copied = 0
        while copied < length, !state.outbound.isEmpty {
            let count = min(length - copied, state.outbound[state.outbound.startIndex].buffer.readableBytes)
            if count > 0 {
                state.outbound[state.outbound.startIndex].buffer.withUnsafeReadableBytes { bytes in
                    UnsafeMutableRawPointer(buffer + copied).copyMemory(from: bytes.baseAddress!, byteCount: count)
                }
            }
            copied += count
            state.outbound[state.outbound.startIndex].buffer.moveReaderIndex(forwardBy: count)
            if state.outbound[state.outbound.startIndex].buffer.readableBytes == 0 {
                if let promise = state.outbound.removeFirst().promise { owner.flushedPromises.append(promise) }
            }
        }
        if state.outbound.isEmpty {
            if state.endRequested {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if state.trailers != nil {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    owner.pendingActions.append(.submitTrailers(id))
                }
                state.hasDataProvider = false
                return copied
            }
            if copied == 0 {
                state.deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return copied
    }
}
