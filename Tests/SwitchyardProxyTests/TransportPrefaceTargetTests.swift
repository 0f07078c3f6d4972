// The preface's target is an IPEndpoint: how its address and port go to and from the wire, and
// to and from NIO socket addresses. Text parsing and formatting of IPEndpoint itself is tested in
// SwitchyardInterceptionTests (IPEndpointTests); what is here is what the preface adds.
import NIOCore
import SwitchyardInterception
import SwitchyardProxy
import Testing

@Suite("Transport preface: the target")
struct TransportPrefaceTargetTests {
    /// The target of a preface made of these target-field bytes and http1, or the refusal.
    func parsedTarget(_ address: [UInt8], port: UInt16) -> Result<IPEndpoint, TransportPrefaceError> {
        let bytes = RawPreface.preface(RawPreface.target(address, port: port), RawPreface.proto(1))
        switch TransportPrefaceParser.parse(buffer(bytes)) {
        case .preface(let preface, let consumed):
            #expect(consumed == bytes.count)
            return .success(preface.target)
        case .invalid(let error):
            return .failure(error)
        case .needMoreData:
            Issue.record("a complete preface needs more data")
            return .failure(.missingTarget)
        }
    }

    @Test("the documented IPv4 target: 10.42.1.7:9898 is 0A 2A 01 07, then 26 AA")
    func documentedIPv4() throws {
        let target = try parsedTarget([10, 42, 1, 7], port: 9898).get()
        #expect(target == IPEndpoint("10.42.1.7:9898"))
        #expect(target == IPEndpoint(IPv4Address(0x0A2A_0107), port: 9898))
        #expect(target.description == "10.42.1.7:9898")
        #expect(IPv4Address("10.42.1.7")?.octets == [10, 42, 1, 7])
        #expect(try parsedTarget([127, 0, 0, 1], port: 80).get() == IPEndpoint(IPv4Address(0x7F00_0001), port: 80))
    }

    @Test("the documented IPv6 target: fd00:10:42:1::7 is its 16 bytes, then the port")
    func documentedIPv6() throws {
        let address = try #require(IPv6Address("FD00:10:42:1:0:0:0:7"))
        #expect(address == IPv6Address(high: 0xFD00_0010_0042_0001, low: 7))
        #expect(address.description == "fd00:10:42:1::7")
        let target = try parsedTarget(address.bytes, port: 9898).get()
        #expect(target == IPEndpoint(address, port: 9898))
        #expect(target.description == "[fd00:10:42:1::7]:9898")
    }

    @Test("an IPv4-mapped IPv6 address stays IPv6 on the wire: 16 address bytes, not 4")
    func mappedStaysIPv6() throws {
        let mapped = try #require(IPEndpoint("[::ffff:10.0.0.1]:80"))
        let preface = TransportPreface(target: mapped, innerProtocol: .http1)
        #expect(preface.encodedSize == 36)
        let bytes = Array(preface.encoded().readableBytesView)
        #expect(Array(bytes[11..<14]) == [0x01, 0x00, 0x12])  // target, 18 bytes
        #expect(Array(bytes[14..<30]) == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 1])
        let parsed = try parsedTarget(Array(bytes[14..<30]), port: 80).get()
        #expect(parsed == mapped && parsed != IPEndpoint("10.0.0.1:80"))
    }

    @Test("only 0.0.0.0 and :: are unspecified; addresses next to them are accepted")
    func unspecifiedIsExact() throws {
        #expect(parsedTarget([0, 0, 0, 0], port: 80) == .failure(.unspecifiedAddress))
        #expect(parsedTarget([UInt8](repeating: 0, count: 16), port: 80) == .failure(.unspecifiedAddress))
        #expect(try parsedTarget([127, 0, 0, 2], port: 80).get() == IPEndpoint("127.0.0.2:80"))
        #expect(try parsedTarget([0, 0, 0, 1], port: 80).get() == IPEndpoint("0.0.0.1:80"))
        #expect(try parsedTarget([UInt8](repeating: 0, count: 15) + [1], port: 80).get() == IPEndpoint("[::1]:80"))
        let mappedAny = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 0, 0, 0, 0]
        #expect(try parsedTarget(mappedAny, port: 80).get() == IPEndpoint("[::ffff:0.0.0.0]:80"))
    }

    @Test("a target address is 4 or 16 bytes, nothing else", arguments: [0, 1, 3, 5, 6, 8, 15, 17, 32])
    func addressLengths(_ count: Int) {
        let address = [UInt8](repeating: 0x0A, count: count)
        #expect(parsedTarget(address, port: 80) == .failure(.badAddressLength(count + 2)))
    }

    @Test("IP addresses, not host names, zones, brackets or ports",
          arguments: ["", "10.42.1", "10.42.1.256", "backend", "[fd00::1]", "fd00::1%eth0", "10.0.0.1:80"])
    func notAddresses(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("targets to and from NIO socket addresses")
    func socketAddresses() throws {
        let v4 = IPEndpoint("127.0.0.2:8080")!
        let address = try v4.socketAddress()
        #expect(address.ipAddress == "127.0.0.2" && address.port == 8080)
        #expect(IPEndpoint(address) == v4)

        let v6 = IPEndpoint("[::1]:4143")!
        #expect(IPEndpoint(try v6.socketAddress()) == v6)

        let mapped = IPEndpoint("[::ffff:10.0.0.1]:80")!
        #expect(IPEndpoint(try mapped.socketAddress()) == mapped)

        #expect(IPEndpoint(try SocketAddress(unixDomainSocketPath: "/tmp/switchyard-test.sock")) == nil)
    }
}
