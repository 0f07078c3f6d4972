import SwitchyardModel
import Yams

/// A Gateway listener, as far as standing the Gateway in as a Service needs it.
struct GatewayListener {
    var name: String
    var port: Int
    var `protocol`: String
    var hostname: String?
}

/// A Gateway of the upstream suite. Switchyard attaches routes to Services only, so each
/// Gateway stands in as a Service of the same name and namespace whose ports are the
/// listener ports; a request "to the Gateway address" is a request to that Service port.
struct GatewayInfo {
    var id: ResourceID
    var listeners: [GatewayListener]

    /// The distinct listener ports, ascending.
    var ports: [Int] { Array(Set(listeners.map(\.port))).sorted() }

    /// The port a parentRef selects: its own port, else its section's, else the only port.
    func port(sectionName: String?, port: Int?) -> Int? {
        if let port { return port }
        if let sectionName { return listeners.first { $0.name == sectionName }?.port }
        return ports.count == 1 ? ports[0] : nil
    }

    /// The Gateways every test may use (conformance/base/manifests.yaml, all in
    /// gateway-conformance-infra). The HTTPS Gateway's later listeners are named by the tests
    /// that use them; those tests need TLS and are skipped.
    static let base: [GatewayInfo] = [
        GatewayInfo(id: ResourceID(namespace: Infra.namespace, name: "same-namespace"),
                    listeners: [GatewayListener(name: "http", port: 80, protocol: "HTTP")]),
        GatewayInfo(id: ResourceID(namespace: Infra.namespace, name: "all-namespaces"),
                    listeners: [GatewayListener(name: "http", port: 80, protocol: "HTTP")]),
        GatewayInfo(id: ResourceID(namespace: Infra.namespace, name: "backend-namespaces"),
                    listeners: [GatewayListener(name: "http", port: 80, protocol: "HTTP")]),
        GatewayInfo(id: ResourceID(namespace: Infra.namespace, name: "same-namespace-with-https-listener"),
                    listeners: [
                        GatewayListener(name: "https", port: 443, protocol: "HTTPS"),
                        GatewayListener(name: "https-with-hostname", port: 443, protocol: "HTTPS", hostname: "second-example.org"),
                        GatewayListener(name: "https-with-wildcard-hostname", port: 443, protocol: "HTTPS"),
                        GatewayListener(name: "https-with-hostname-matching-wildcard", port: 443, protocol: "HTTPS"),
                    ]),
    ]

    /// A `kind: Gateway` document of a test's manifests.
    init?(document: Yams.Node) {
        guard document[key: "kind"]?.text == "Gateway",
              let name = document[key: "metadata"]?[key: "name"]?.text else { return nil }
        id = ResourceID(namespace: document[key: "metadata"]?[key: "namespace"]?.text ?? "default", name: name)
        listeners = document[key: "spec"]?[key: "listeners"]?.items.compactMap { l in
            guard let port = l[key: "port"]?.integer else { return nil }
            return GatewayListener(name: l[key: "name"]?.text ?? "", port: port,
                                   protocol: l[key: "protocol"]?.text ?? "HTTP", hostname: l[key: "hostname"]?.text)
        } ?? []
    }

    init(id: ResourceID, listeners: [GatewayListener]) {
        self.id = id
        self.listeners = listeners
    }
}
