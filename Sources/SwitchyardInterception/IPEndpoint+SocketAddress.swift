#if canImport(Glibc)
import Glibc
#endif

/// Conversions between `IPEndpoint` and the kernel's socket addresses.
extension IPEndpoint {
    /// The endpoint in an IPv4 socket address (`AF_INET`).
    public init(_ address: sockaddr_in) {
        self.init(IPv4Address(UInt32(bigEndian: address.sin_addr.s_addr)), port: UInt16(bigEndian: address.sin_port))
    }

    /// The endpoint in an IPv6 socket address (`AF_INET6`), as written: an IPv4-mapped address
    /// stays IPv6 (use `unmapped` for the IPv4 form). The scope identifier is dropped.
    public init(_ address: sockaddr_in6) {
        self.init(IPv6Address(inAddr: address.sin6_addr), port: UInt16(bigEndian: address.sin6_port))
    }

    /// The endpoint in a socket address of family `AF_INET` or `AF_INET6`; nil for any other family.
    public init?(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = withUnsafeBytes(of: &storage) { IPEndpoint($0.load(as: sockaddr_in.self)) }
        case AF_INET6:
            self = withUnsafeBytes(of: &storage) { IPEndpoint($0.load(as: sockaddr_in6.self)) }
        default:
            return nil
        }
    }

    /// Calls `body` with this endpoint as a socket address and its length, for `bind(2)` and
    /// `connect(2)`: a `sockaddr_in` for IPv4, a `sockaddr_in6` for IPv6.
    public func withSocketAddress<Result, Failure: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch address {
        case .v4(let v4):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = v4.inAddr
            return try Self.call(body, with: &sin)
        case .v6(let v6):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_addr = v6.inAddr
            return try Self.call(body, with: &sin6)
        }
    }

    private static func call<Address, Result, Failure: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Failure) -> Result, with address: inout Address
    ) throws(Failure) -> Result {
        let length = socklen_t(MemoryLayout<Address>.size)
        // Typed throws cannot cross withUnsafePointer's rethrows, so carry the outcome out.
        let outcome: Swift.Result<Result, Failure> = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                do throws(Failure) { return .success(try body(socketAddress, length)) } catch { return .failure(error) }
            }
        }
        return try outcome.get()
    }
}
