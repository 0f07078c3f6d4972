// OpaquePorts: Linkerd's default list, parsing ports and ranges, canonical form, errors that name the item.
@testable import SwitchyardProxy
import Testing

@Suite("Protocol detection: opaque ports")
struct ProtocolDetectOpaquePortsTests {
    @Test("the default is Linkerd's list")
    func linkerdDefault() throws {
        let ports = OpaquePorts.linkerdDefault
        #expect(ports.description == "25,587,3306,4444,5432,6379,9300,11211")
        #expect(try OpaquePorts(parsing: "25,587,3306,4444,5432,6379,9300,11211") == ports)
        for port: UInt16 in [25, 587, 3306, 4444, 5432, 6379, 9300, 11211] { #expect(ports.contains(port)) }
        for port: UInt16 in [0, 1, 24, 26, 80, 443, 3305, 3307, 4143, 4140, 11212, 65535] { #expect(!ports.contains(port)) }
    }

    @Test("ranges are inclusive")
    func ranges() throws {
        let ports = try OpaquePorts(parsing: "8000-8010")
        #expect(ports.ranges == [8000...8010])
        #expect(!ports.contains(7999) && ports.contains(8000) && ports.contains(8005) && ports.contains(8010) && !ports.contains(8011))
        #expect(try OpaquePorts(parsing: "1-65535").contains(65535))
        #expect(try OpaquePorts(parsing: "80-80").description == "80")
    }

    @Test("ports and ranges mix; overlaps, duplicates and neighbours merge; order does not matter")
    func canonical() throws {
        let ports = try OpaquePorts(parsing: "9300, 25 ,8005-8020,8000-8010,25,8021, 3306 - 3307")
        #expect(ports.description == "25,3306-3307,8000-8021,9300")
        #expect(ports == (try OpaquePorts(parsing: "8000-8021,3306-3307,9300,25")))
        #expect(try OpaquePorts(parsing: ports.description) == ports)
    }

    @Test("an empty list is no ports")
    func empty() throws {
        #expect(try OpaquePorts(parsing: "").isEmpty)
        #expect(try OpaquePorts(parsing: "  ") == .none)
        #expect(OpaquePorts.none.description == "")
        #expect(!OpaquePorts.none.contains(25))
    }

    @Test("lookup agrees with a plain scan over many ranges")
    func lookup() throws {
        let ranges: [ClosedRange<UInt16>] = (0..<50).map { (i: Int) -> ClosedRange<UInt16> in
            let low = UInt16(i * 1000 + 1)
            return low...(low + UInt16(9 + i))
        }
        let ports = OpaquePorts(ranges: ranges)
        #expect(ports.ranges == ranges)
        for port in UInt16.min...UInt16.max {
            let expected = ports.ranges.contains { $0.contains(port) }
            if ports.contains(port) != expected {
                Issue.record("port \(port)")
                return
            }
        }
    }

    @Test("bad lists are refused, naming the item", arguments: [
        ("25,,587", OpaquePortsError.emptyItem(position: 2)),
        ("25,", .emptyItem(position: 2)),
        (",25", .emptyItem(position: 1)),
        ("mysql", .notAPort("mysql", position: 1)),
        ("25,+587", .notAPort("+587", position: 2)),
        ("-5", .notAPort("-5", position: 1)),
        ("8000-", .notAPort("8000-", position: 1)),
        ("1-2-3", .notAPort("1-2-3", position: 1)),
        ("25;587", .notAPort("25;587", position: 1)),
        ("0", .outOfRange("0", position: 1)),
        ("25,65536", .outOfRange("65536", position: 2)),
        ("99999999999999999999999", .outOfRange("99999999999999999999999", position: 1)),
        ("0-100", .outOfRange("0-100", position: 1)),
        ("8010-8000", .invertedRange("8010-8000", position: 1)),
    ])
    func refused(_ text: String, _ error: OpaquePortsError) {
        #expect(throws: error) { try OpaquePorts(parsing: text) }
    }

    @Test("error messages say which item and why")
    func messages() {
        #expect(OpaquePortsError.emptyItem(position: 2).description
            == "opaque ports: item 2 is empty (expected a port or a range like 8000-8010)")
        #expect(OpaquePortsError.notAPort("mysql", position: 1).description
            == "opaque ports: item 1 \"mysql\" is not a port or a range like 8000-8010")
        #expect(OpaquePortsError.outOfRange("70000", position: 3).description
            == "opaque ports: item 3 \"70000\": ports are 1-65535")
        #expect(OpaquePortsError.invertedRange("9-1", position: 1).description
            == "opaque ports: item 1 \"9-1\": the range's first port is above its last")
    }
}
