// CNGHTTP2: the system nghttp2 imports and links, and HPACK round-trips the tutorial's
// routing header.
import CNGHTTP2
import Testing

@Suite("CNGHTTP2")
struct NGHTTP2Tests {
    @Test("linked nghttp2 is 1.52 or newer, and matches the header it was built against")
    func versionIsAtLeast1_52() throws {
        let info = try #require(nghttp2_version(0))
        #expect(info.pointee.version_num >= 0x01_34_00)
        #expect(String(cString: info.pointee.version_str).hasPrefix("1."))
        #expect(info.pointee.version_num >= NGHTTP2_VERSION_NUM)
        #expect(NGHTTP2_VERSION.hasPrefix("1."))
        // Asking for a newer library than the one linked returns NULL.
        #expect(nghttp2_version(0x7F_FF_FF) == nil)
    }

    @Test("constants: plain macros import, expression macros come from the shim")
    func constants() {
        #expect(NGHTTP2_CLIENT_MAGIC == "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        #expect(NGHTTP2_CLIENT_MAGIC_LEN == 24)
        #expect(Array(NGHTTP2_PROTO_ALPN.utf8) == [2, 0x68, 0x32])
        #expect(sy_NGHTTP2_PROTO_ALPN_LEN == 3)
        #expect(sy_NGHTTP2_INITIAL_WINDOW_SIZE == 65_535)
        #expect(sy_NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE == 65_535)
        #expect(sy_NGHTTP2_MAX_WINDOW_SIZE == Int32.max)
        #expect(sy_NGHTTP2_INITIAL_MAX_CONCURRENT_STREAMS == UInt32(Int32.max))
        #expect(NGHTTP2_DEFAULT_HEADER_TABLE_SIZE == 4096)
    }

    @Test("HPACK: deflate then inflate gives back the same headers in order")
    func hpackRoundTrip() throws {
        let headers: [(String, String)] = [
            (":method", "GET"),
            (":path", "/"),
            ("x-request-id", "alternative"),
        ]

        // Deflate.
        var deflaterOut: OpaquePointer? = nil
        #expect(nghttp2_hd_deflate_new(&deflaterOut, Int(NGHTTP2_DEFAULT_HEADER_TABLE_SIZE)) == 0)
        let deflater = try #require(deflaterOut)
        defer { nghttp2_hd_deflate_del(deflater) }

        // nghttp2_nv points into caller-owned bytes; keep them allocated for the call.
        var owned: [UnsafeMutableBufferPointer<UInt8>] = []
        defer { owned.forEach { $0.deallocate() } }
        func bytes(_ string: String) -> UnsafeMutableBufferPointer<UInt8> {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: string.utf8.count)
            _ = buffer.initialize(from: string.utf8)
            owned.append(buffer)
            return buffer
        }
        var nva: [nghttp2_nv] = headers.map { name, value in
            let n = bytes(name), v = bytes(value)
            return nghttp2_nv(
                name: n.baseAddress, value: v.baseAddress, namelen: n.count, valuelen: v.count,
                flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        let bound = nghttp2_hd_deflate_bound(deflater, nva, nva.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = nghttp2_hd_deflate_hd(deflater, &out, out.count, &nva, nva.count)
        try #require(written > 0)
        let block = Array(out.prefix(written))
        // ":method: GET" and ":path: /" are static-table entries 2 and 4: one byte each.
        #expect(block.starts(with: [0x82, 0x84]))
        #expect(block.count < headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count })

        // Inflate.
        var inflaterOut: OpaquePointer? = nil
        #expect(nghttp2_hd_inflate_new(&inflaterOut) == 0)
        let inflater = try #require(inflaterOut)
        defer { nghttp2_hd_inflate_del(inflater) }

        var decoded: [(String, String)] = []
        var sawFinal = false
        try block.withUnsafeBufferPointer { input in
            var offset = 0
            while true {
                var nv = nghttp2_nv()
                var flags: Int32 = 0
                let consumed = nghttp2_hd_inflate_hd2(
                    inflater, &nv, &flags,
                    input.baseAddress! + offset, input.count - offset, 1)
                try #require(consumed >= 0, "nghttp2_hd_inflate_hd2 failed: \(consumed)")
                offset += consumed
                if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 {
                    let name = String(decoding: UnsafeBufferPointer(start: nv.name, count: nv.namelen), as: UTF8.self)
                    let value = String(decoding: UnsafeBufferPointer(start: nv.value, count: nv.valuelen), as: UTF8.self)
                    decoded.append((name, value))
                }
                if flags & Int32(NGHTTP2_HD_INFLATE_FINAL.rawValue) != 0 {
                    nghttp2_hd_inflate_end_headers(inflater)
                    sawFinal = true
                    break
                }
                if consumed == 0 && offset == input.count { break }
            }
        }
        #expect(sawFinal)
        #expect(decoded.map(\.0) == headers.map(\.0))
        #expect(decoded.map(\.1) == headers.map(\.1))
    }
}
