// Addresses and targets: parsing, printing, bytes, and NIO socket addresses.
import NIOCore
import SwitchyardProxy
import Testing

@Suite("Transport preface: addresses and targets")
struct TransportTargetTests {
    @Test("IPv4 and IPv6 addresses from text, back to text and to bytes")
    func addresses() {
        let v4 = TransportAddress("10.42.1.7")
        #expect(v4 == .ipv4(0x0A2A_0107))
        #expect(v4?.bytes == [10, 42, 1, 7])
        #expect(v4?.description == "10.42.1.7")

        let v6 = TransportAddress("FD00:10:42:1:0:0:0:7")
        #expect(v6 == .ipv6(high: 0xFD00_0010_0042_0001, low: 7))
        #expect(v6?.description == "fd00:10:42:1::7")
        #expect(v6?.bytes.count == 16)
        #expect(TransportAddress(bytes: v6!.bytes) == v6)

        #expect(TransportAddress("::ffff:10.0.0.1")?.byteCount == 16)  // mapped stays IPv6
        #expect(TransportAddress("::")?.isUnspecified == true)
        #expect(TransportAddress("0.0.0.0")?.isUnspecified == true)
        #expect(TransportAddress("127.0.0.2")?.isUnspecified == false)
    }

    @Test("not addresses", arguments: ["", "10.42.1", "10.42.1.256", "backend", "[fd00::1]", "fd00::1%eth0", "10.0.0.1:80"])
    func notAddresses(_ text: String) {
        #expect(TransportAddress(text) == nil)
    }

    @Test("addresses from bytes: 4 or 16 of them")
    func fromBytes() {
        #expect(TransportAddress(bytes: [127, 0, 0, 1]) == .ipv4(0x7F00_0001))
        #expect(TransportAddress(bytes: [1, 2, 3]) == nil)
        #expect(TransportAddress(bytes: [UInt8](repeating: 0, count: 6)) == nil)
    }

    @Test("targets from and to text")
    func targets() {
        #expect(TransportTarget("10.42.1.7:9898") == TransportTarget(address: .ipv4(0x0A2A_0107), port: 9898))
        #expect(TransportTarget("[fd00::7]:80")?.description == "[fd00::7]:80")
        #expect(TransportTarget("10.42.1.7:9898")?.description == "10.42.1.7:9898")
    }

    @Test("not targets", arguments: ["10.42.1.7", "10.42.1.7:", "10.42.1.7:65536", "fd00::7:80", "[fd00::7]80",
                                     "[10.0.0.1]:80", "backend:80", "10.42.1.7:+80"])
    func notTargets(_ text: String) {
        #expect(TransportTarget(text) == nil)
    }

    @Test("targets to and from NIO socket addresses")
    func socketAddresses() throws {
        let v4 = TransportTarget("127.0.0.2:8080")!
        let address = try v4.socketAddress()
        #expect(address.ipAddress == "127.0.0.2" && address.port == 8080)
        #expect(TransportTarget(address) == v4)

        let v6 = TransportTarget("[::1]:4143")!
        #expect(TransportTarget(try v6.socketAddress()) == v6)
    }
}
