import SwitchyardModel

/// A route parent: one port of one Service.
public struct ParentKey: Hashable, Sendable, CustomStringConvertible {
    public var service: ResourceID
    public var port: Int

    public init(service: ResourceID, port: Int) {
        self.service = service
        self.port = port
    }

    public var description: String { "\(service.name).\(service.namespace):\(port)" }
}
