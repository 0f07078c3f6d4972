import Foundation

/// Where one world lives on loopback: its own /24, `127.<B>.<k>.0/24`, where B comes from the
/// test process's pid (so two test processes on the machine rarely meet) and k counts the
/// worlds of this process (so parallel tests never meet). Every world then uses the same ports.
///
/// Hosts: .2 node-1, .3 node-2, .4 node-3 (a rogue peer), pods from .10 up.
struct WorldAddresses: Sendable {
    static let outboundPort = 24140
    static let inboundPort = 24143  // the same on every node: passed as --peer-inbound-port
    static let adminPort = 24191
    static let appPort = 9898
    static let echoPort = 3306  // MySQL: on Linkerd's default opaque list

    private static let lock = NSLock()
    nonisolated(unsafe) private static var counter = 0

    let prefix: String

    /// The next unused /24 of this process.
    static func next() -> WorldAddresses {
        let k = lock.withLock {
            counter += 1
            return counter
        }
        precondition(k < 255, "more than 254 worlds in one test process")
        let b = 16 + Int(getpid() % 200)
        return WorldAddresses(prefix: "127.\(b).\(k)")
    }

    func host(_ last: Int) -> String { "\(prefix).\(last)" }

    var node1: String { host(2) }
    var node2: String { host(3) }
    var node3: String { host(4) }
}
