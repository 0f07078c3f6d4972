/// `discovery.k8s.io/v1 EndpointSlice`, validated as the API server validates it.
extension ManifestObjectDecoder {
    /// Most `ports` and `endpoints[].addresses` in a slice (the API's limit).
    static let maxSlicePorts = 100
    static let maxSliceAddresses = 100
    /// Most `endpoints` in a slice (the API's limit).
    static let maxSliceEndpoints = 1000

    func decodeEndpointSlice() -> DecodedObject? {
        let meta = metadata(namespaced: true)
        let addressType = enumString(root["addressType"], required: true,
                                     allowed: EndpointSlice.AddressType.allCases.map(\.rawValue), what: "addressType")
            .flatMap(EndpointSlice.AddressType.init(rawValue:))

        var ports: [EndpointSlice.Port] = []
        var seenNames: [String: Int] = [:]
        for (index, cursor) in (root["ports"].sequence(maxItems: Self.maxSlicePorts) ?? []).enumerated() {
            guard cursor.mapping(required: true) != nil else { continue }
            let name = cursor["name"].string() ?? ""
            if !name.isEmpty { check(cursor["name"], ManifestSyntax.dnsLabel(name)) }
            if let first = seenNames[name] {
                cursor["name"].error("duplicate port name \(YAMLCursor.quote(name)) (also ports[\(first)])")
            } else {
                seenNames[name] = index
            }
            let port = cursor["port"].int(in: 1...65535)
            let proto = enumString(cursor["protocol"], allowed: Self.protocols, what: "protocol") ?? "TCP"
            let appProtocol = cursor["appProtocol"].string()
            ports.append(EndpointSlice.Port(name: name, port: port, protocol: proto, appProtocol: appProtocol))
        }

        var endpoints: [EndpointSlice.Endpoint] = []
        for cursor in root["endpoints"].sequence(maxItems: Self.maxSliceEndpoints) ?? [] {
            guard cursor.mapping(required: true) != nil else { continue }
            var addresses: [String] = []
            let addressCursors = cursor["addresses"].sequence(required: true, minItems: 1, maxItems: Self.maxSliceAddresses) ?? []
            for addressCursor in addressCursors {
                guard let address = addressCursor.string(required: true) else { continue }
                if let addressType, let problem = Self.addressProblem(address, type: addressType) {
                    addressCursor.error(problem)
                } else {
                    addresses.append(address)
                }
            }
            var conditions = EndpointSlice.Conditions()
            let conditionsCursor = cursor["conditions"]
            if conditionsCursor.mapping() != nil {
                conditions.ready = conditionsCursor["ready"].bool()
                conditions.serving = conditionsCursor["serving"].bool()
                conditions.terminating = conditionsCursor["terminating"].bool()
            }
            var targetRef: EndpointSlice.TargetReference?
            let targetCursor = cursor["targetRef"]
            if targetCursor.mapping() != nil {
                targetRef = EndpointSlice.TargetReference(
                    kind: targetCursor["kind"].string().flatMap { $0.isEmpty ? nil : $0 },
                    namespace: targetCursor["namespace"].string().flatMap { $0.isEmpty ? nil : $0 },
                    name: targetCursor["name"].string().flatMap { $0.isEmpty ? nil : $0 })
            }
            let nodeName = string(cursor["nodeName"], ManifestSyntax.dnsSubdomain)
            if !addresses.isEmpty, addresses.count == addressCursors.count {
                endpoints.append(EndpointSlice.Endpoint(addresses: addresses, conditions: conditions, targetRef: targetRef,
                                                        nodeName: nodeName))
            }
        }
        guard let meta, let addressType else { return nil }
        return .endpointSlice(EndpointSlice(id: ResourceID(namespace: meta.namespace, name: meta.name),
                                            addressType: addressType, ports: ports, endpoints: endpoints,
                                            labels: meta.labels, source: source))
    }

    /// Why `address` cannot be in a slice of `type`, or nil when it can.
    static func addressProblem(_ address: String, type: EndpointSlice.AddressType) -> String? {
        switch type {
        case .ipv4:
            return IPLiteral.isIPv4(address) ? nil
                : "\(YAMLCursor.quote(address)) is not an IPv4 address (the slice's addressType is IPv4)"
        case .ipv6:
            return IPLiteral.isIPv6(address) ? nil
                : "\(YAMLCursor.quote(address)) is not an IPv6 address (the slice's addressType is IPv6)"
        case .fqdn:
            return ManifestSyntax.dnsSubdomain(address).map { "an FQDN address \($0)" }
        }
    }
}
