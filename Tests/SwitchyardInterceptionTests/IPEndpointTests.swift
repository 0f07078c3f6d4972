#if canImport(Glibc)
import Glibc
#endif
import SwitchyardInterception
import Testing

@Suite("IPEndpoint: parsing and formatting")
struct IPEndpointTests {
    @Test("IPv4 ADDRESS:PORT")
    func ipv4() throws {
        let endpoint = try IPEndpoint(parsing: "10.96.0.20:9898")
        #expect(endpoint.address == .v4(IPv4Address(10, 96, 0, 20)))
        #expect(endpoint.port == 9898)
        #expect(endpoint.description == "10.96.0.20:9898")
        #expect(IPEndpoint("0.0.0.0:0") == IPEndpoint(IPv4Address.any, port: 0))
        #expect(IPEndpoint("255.255.255.255:65535")?.description == "255.255.255.255:65535")
        #expect(IPv4Address(10, 96, 0, 20).value == 0x0A60_0014)
        #expect(IPv4Address("10.96.0.20")?.octets == [10, 96, 0, 20])
    }

    @Test("IPv6 [ADDRESS]:PORT, written back in RFC 5952 form")
    func ipv6() throws {
        let endpoint = try IPEndpoint(parsing: "[fd00::1]:80")
        #expect(endpoint.address == .v6(IPv6Address(high: 0xfd00_0000_0000_0000, low: 1)))
        #expect(endpoint.port == 80)
        #expect(endpoint.description == "[fd00::1]:80")
        #expect(IPEndpoint("[FD00:0096:0000:0000:0000:0000:0000:0020]:9898")?.description == "[fd00:96::20]:9898")
        #expect(IPEndpoint("[::]:0")?.description == "[::]:0")
        #expect(IPEndpoint("[::1]:4140")?.description == "[::1]:4140")
    }

    @Test("IPv4-mapped IPv6: written with dotted decimal; `unmapped` gives the IPv4 endpoint")
    func ipv4Mapped() throws {
        let mapped = try IPEndpoint(parsing: "[::ffff:10.96.0.20]:9898")
        #expect(mapped.address == .v6(IPv6Address(ipv4Mapped: IPv4Address(10, 96, 0, 20))))
        #expect(mapped.description == "[::ffff:10.96.0.20]:9898")
        #expect(IPEndpoint("[::ffff:0a60:0014]:9898") == mapped)
        #expect(mapped.unmapped == IPEndpoint("10.96.0.20:9898"))
        #expect(mapped.unmapped.description == "10.96.0.20:9898")
        // Not mapped: unchanged.
        #expect(IPEndpoint("[fd00::1]:80")!.unmapped == IPEndpoint("[fd00::1]:80"))
        #expect(IPEndpoint("10.0.0.1:80")!.unmapped == IPEndpoint("10.0.0.1:80"))
    }

    @Test("RFC 5952: the longest run of two or more zero groups becomes ::, the first on a tie, a single zero group stays",
          arguments: [
              ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
              ("2001:0db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
              ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
              ("0:0:1:0:0:0:0:0", "0:0:1::"),
              ("1:0:0:0:0:0:0:0", "1::"),
              ("0:0:0:0:0:0:0:1", "::1"),
              ("fe80:0:0:0:abcd:0:0:0", "fe80::abcd:0:0:0"),
              ("2001:DB8:A:B:C:D:E:F", "2001:db8:a:b:c:d:e:f"),
          ])
    func rfc5952(input: String, expected: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == expected)
        #expect(IPv6Address(expected) == address)
    }

    @Test("IPv6 text agrees with glibc's inet_ntop (which also follows RFC 5952) on random sparse addresses")
    func ipv6MatchesInetNtop() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // Mostly zero groups, so that runs, ties and edges all come up.
            let groups = (0..<8).map { _ in Bool.random(using: &generator) ? UInt16(0) : UInt16.random(in: 1...0xffff, using: &generator) }
            let bytes = groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
            let address = try #require(IPv6Address(bytes: bytes))
            #expect(address.groups == groups)
            #expect(address.bytes == bytes)
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            try #require(inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil)
            let glibc = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // glibc writes the deprecated IPv4-compatible form (::a.b.c.d); RFC 5952 keeps that
            // dotted form for ::ffff:0:0/96 only.
            if glibc.contains("."), address.ipv4Mapped == nil { continue }
            #expect(address.description == glibc)
            #expect(IPv6Address(address.description) == address)
        }
    }

    @Test("Invalid text says what is wrong", arguments: [
        ("", IPEndpoint.ParseError.missingPort("")),
        ("10.96.0.20", .missingPort("10.96.0.20")),
        ("[fd00::1]", .missingPort("[fd00::1]")),
        ("10.96.0.20:", .invalidPort("10.96.0.20:")),
        ("10.96.0.20:65536", .invalidPort("10.96.0.20:65536")),
        ("10.96.0.20:123456", .invalidPort("10.96.0.20:123456")),
        ("10.96.0.20:-1", .invalidPort("10.96.0.20:-1")),
        ("10.96.0.20:+80", .invalidPort("10.96.0.20:+80")),
        ("10.96.0.20:80a", .invalidPort("10.96.0.20:80a")),
        ("10.96.0.20: 80", .invalidPort("10.96.0.20: 80")),
        ("10.96.0.20:٨٠", .invalidPort("10.96.0.20:٨٠")),  // Arabic-Indic digits are not ASCII digits
        ("[fd00::1]:http", .invalidPort("[fd00::1]:http")),
        ("[fd00::1]:80:", .invalidPort("[fd00::1]:80:")),
        ("10.96.0.256:80", .invalidAddress("10.96.0.256:80")),
        ("10.96.0:80", .invalidAddress("10.96.0:80")),
        ("010.96.0.20:80", .invalidAddress("010.96.0.20:80")),
        ("0x0a.96.0.20:80", .invalidAddress("0x0a.96.0.20:80")),
        (" 10.96.0.20:80", .invalidAddress(" 10.96.0.20:80")),
        ("localhost:80", .invalidAddress("localhost:80")),
        (":80", .invalidAddress(":80")),
        ("[10.96.0.20]:80", .invalidAddress("[10.96.0.20]:80")),
        ("[fd00::1]80", .invalidAddress("[fd00::1]80")),
        ("[fd00::1:80", .invalidAddress("[fd00::1:80")),
        ("[fd00::g]:80", .invalidAddress("[fd00::g]:80")),
        ("[fe80::1%eth0]:80", .invalidAddress("[fe80::1%eth0]:80")),
        ("[1:2:3:4:5:6:7:8:9]:80", .invalidAddress("[1:2:3:4:5:6:7:8:9]:80")),
        ("fd00::1:80", .unbracketedIPv6("fd00::1:80")),
        ("::1:4140", .unbracketedIPv6("::1:4140")),
        ("fd00::g:80", .invalidAddress("fd00::g:80")),
    ])
    func invalid(text: String, expected: IPEndpoint.ParseError) {
        #expect(throws: expected) { try IPEndpoint(parsing: text) }
        #expect(IPEndpoint(text) == nil)
    }

    @Test("A NUL byte never ends the text early")
    func embeddedNUL() {
        #expect(IPv4Address("10.0.0.1\0garbage") == nil)
        #expect(IPv6Address("fd00::1\0garbage") == nil)
        #expect(IPEndpoint("10.0.0.1\0:80") == nil)
        #expect(IPEndpoint("[fd00::1\0]:80") == nil)
        #expect(IPEndpoint("10.0.0.1:80\0") == nil)
    }

    @Test("Parse errors read as a sentence quoting the input")
    func parseErrorText() {
        #expect(IPEndpoint.ParseError.unbracketedIPv6("fd00::1:80").description
                == "\"fd00::1:80\": put an IPv6 address between brackets, as in [fd00::1]:80")
        #expect(IPEndpoint.ParseError.missingPort("10.96.0.20").description.contains("has no port"))
    }

    @Test("IPAddress parses either family, without brackets")
    func ipAddress() {
        #expect(IPAddress("10.96.0.20") == .v4(IPv4Address(10, 96, 0, 20)))
        #expect(IPAddress("fd00:96::20")?.description == "fd00:96::20")
        #expect(IPAddress("[fd00::1]") == nil)
        #expect(IPAddress("::ffff:10.0.0.1")?.unmapped == .v4(IPv4Address(10, 0, 0, 1)))
    }

    @Test("sockaddr_in / sockaddr_in6 round trips, ports in network byte order", arguments: [
        "10.96.0.20:9898", "127.0.0.1:1", "[fd00:96::20]:9898", "[::ffff:10.0.0.1]:443", "[::]:65535",
    ])
    func socketAddressRoundTrip(text: String) throws {
        let endpoint = try IPEndpoint(parsing: text)
        let (family, length, back) = endpoint.withSocketAddress { pointer, length -> (Int32, socklen_t, IPEndpoint?) in
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length))) }
            return (Int32(pointer.pointee.sa_family), length, IPEndpoint(storage))
        }
        #expect(back == endpoint)
        switch endpoint.address {
        case .v4:
            #expect(family == AF_INET)
            #expect(Int(length) == MemoryLayout<sockaddr_in>.size)
        case .v6:
            #expect(family == AF_INET6)
            #expect(Int(length) == MemoryLayout<sockaddr_in6>.size)
        }
        // The port bytes on the wire are big-endian: 9898 = 0x26AA.
        if endpoint.port == 9898 {
            let portBytes = endpoint.withSocketAddress { pointer, _ in
                UnsafeRawPointer(pointer).load(fromByteOffset: 2, as: (UInt8, UInt8).self)
            }
            #expect(portBytes == (0x26, 0xAA))
        }
    }

    @Test("Typed addresses are Hashable values of their own")
    func typedAddresses() {
        let endpoint = IPEndpoint(IPv4Address(10, 96, 0, 20), port: 9898)
        let destinations: Set = [OriginalDestination(endpoint), OriginalDestination(IPEndpoint("10.96.0.20:9898")!)]
        #expect(destinations.count == 1)
        #expect(OriginalDestination(endpoint).description == "10.96.0.20:9898")
        #expect(ClientAddress(IPEndpoint("[fd00::1]:80")!).description == "[fd00::1]:80")
        #expect(IPv4Address(10, 0, 0, 1) < IPv4Address(10, 0, 0, 2))
        #expect(IPv6Address.loopback < IPv6Address(high: 1, low: 0))
    }
}
