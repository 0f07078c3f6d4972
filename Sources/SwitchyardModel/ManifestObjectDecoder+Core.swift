/// `v1 Namespace`, `v1 Service`, `v1 Pod`, `v1 Node`.
extension ManifestObjectDecoder {
    static let protocols = ["TCP", "UDP", "SCTP"]
    static let serviceTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]

    func decodeNamespace() -> DecodedObject? {
        guard let meta = metadata(namespaced: false, nameRule: ManifestSyntax.dnsLabel) else { return nil }
        return .namespace(Namespace(name: meta.name, labels: meta.labels, annotations: meta.annotations, source: source))
    }

    func decodeService() -> DecodedObject? {
        let meta = metadata(namespaced: true, nameRule: ManifestSyntax.dns1035Label)
        let spec = root["spec"]
        _ = spec.mapping()

        var clusterIP: String?
        let clusterIPCursor = spec["clusterIP"]
        if let value = clusterIPCursor.string(), value != "None", !value.isEmpty {
            clusterIP = ipAddress(clusterIPCursor)
        }
        var clusterIPs: [String] = []
        for element in spec["clusterIPs"].sequence(maxItems: 2) ?? [] {
            guard let value = element.string(required: true), value != "None", !value.isEmpty else { continue }
            if let ip = ipAddress(element) { clusterIPs.append(ip) }
        }
        if let clusterIP, let first = clusterIPs.first, first != clusterIP {
            spec["clusterIPs"].error(at: "[0]", "must equal spec.clusterIP (\(clusterIP))")
        }
        if clusterIP == nil { clusterIP = clusterIPs.first }
        let type = enumString(spec["type"], allowed: Self.serviceTypes, what: "Service type") ?? "ClusterIP"

        var ports: [ServicePort] = []
        let portCursors = spec["ports"].sequence() ?? []
        var seenPorts: [String: Int] = [:]
        var seenNames: [String: Int] = [:]
        for (index, cursor) in portCursors.enumerated() {
            guard cursor.mapping(required: true) != nil else { continue }
            let name = string(cursor["name"], ManifestSyntax.dnsLabel)
            if let name, !name.isEmpty {
                if let first = seenNames[name] {
                    cursor["name"].error("duplicate port name \(YAMLCursor.quote(name)) (also spec.ports[\(first)])")
                } else {
                    seenNames[name] = index
                }
            } else if portCursors.count > 1 {
                cursor["name"].error("required when a Service has more than one port")
            }
            let port = cursor["port"].int(required: true, in: 1...65535)
            let proto = enumString(cursor["protocol"], allowed: Self.protocols, what: "protocol") ?? "TCP"
            if let port {
                let key = "\(port)/\(proto)"
                if let first = seenPorts[key] {
                    cursor["port"].error("duplicate port \(key) (also spec.ports[\(first)])")
                } else {
                    seenPorts[key] = index
                }
            }
            var target: TargetPort?
            let targetCursor = cursor["targetPort"]
            switch targetCursor.intOrString() {
            case .number(let number)?:
                if (1...65535).contains(number) { target = .number(number) } else {
                    targetCursor.error("must be between 1 and 65535, got \(number)")
                }
            case .name(let portName)?:
                if let problem = ManifestSyntax.ianaServiceName(portName) {
                    targetCursor.error("a named target port \(problem)")
                } else {
                    target = .name(portName)
                }
            case nil:
                break
            }
            let appProtocol = cursor["appProtocol"].string()
            if let port {
                ports.append(ServicePort(name: name.flatMap { $0.isEmpty ? nil : $0 }, port: port, targetPort: target,
                                         protocol: proto, appProtocol: appProtocol))
            }
        }
        let selector = spec["selector"].stringMap()
        guard let meta else { return nil }
        return .service(Service(id: ResourceID(namespace: meta.namespace, name: meta.name), clusterIP: clusterIP,
                                clusterIPs: clusterIPs, type: type, ports: ports, selector: selector,
                                labels: meta.labels, annotations: meta.annotations, source: source))
    }

    func decodePod() -> DecodedObject? {
        let meta = metadata(namespaced: true)
        let spec = root["spec"]
        _ = spec.mapping()
        var serviceAccount = "default"
        for field in ["serviceAccountName", "serviceAccount"] {
            if let value = string(spec[field], ManifestSyntax.dnsSubdomain), !value.isEmpty {
                serviceAccount = value
                break
            }
        }
        let nodeName = spec["nodeName"].string().flatMap { $0.isEmpty ? nil : $0 }
        var containerPorts: [ContainerPort] = []
        for container in spec["containers"].sequence() ?? [] {
            guard container.mapping(required: true) != nil else { continue }
            for port in container["ports"].sequence() ?? [] {
                guard port.mapping(required: true) != nil else { continue }
                let name = port["name"].string().flatMap { $0.isEmpty ? nil : $0 }
                if let name { check(port["name"], ManifestSyntax.ianaServiceName(name)) }
                let number = port["containerPort"].int(required: true, in: 1...65535)
                let proto = enumString(port["protocol"], allowed: Self.protocols, what: "protocol") ?? "TCP"
                if let number { containerPorts.append(ContainerPort(name: name, containerPort: number, protocol: proto)) }
            }
        }

        let status = root["status"]
        _ = status.mapping()
        var podIP: String?
        if let value = status["podIP"].string(), !value.isEmpty { podIP = ipAddress(status["podIP"]) }
        var podIPs: [String] = []
        for entry in status["podIPs"].sequence(maxItems: 2) ?? [] {
            guard entry.mapping(required: true) != nil else { continue }
            if let ip = ipAddress(entry["ip"], required: true) { podIPs.append(ip) }
        }
        // Kubernetes keeps podIPs[0] equal to podIP; a hand-written manifest may give only one.
        if podIP == nil { podIP = podIPs.first }
        if let podIP, !podIPs.isEmpty, !podIPs.contains(podIP) { podIPs.insert(podIP, at: 0) }
        let phase = status["phase"].string()
        var ready = false
        for condition in status["conditions"].sequence() ?? [] {
            guard condition.mapping(required: true) != nil else { continue }
            let type = condition["type"].string(required: true)
            let value = condition["status"].string(required: true)
            if type == "Ready" { ready = value == "True" }
        }
        guard let meta else { return nil }
        return .pod(Pod(id: ResourceID(namespace: meta.namespace, name: meta.name), labels: meta.labels,
                        annotations: meta.annotations, serviceAccountName: serviceAccount, nodeName: nodeName,
                        podIP: podIP, podIPs: podIPs, phase: phase, ready: ready, containerPorts: containerPorts,
                        source: source))
    }

    func decodeNode() -> DecodedObject? {
        let meta = metadata(namespaced: false)
        let status = root["status"]
        _ = status.mapping()
        var internalIPs: [String] = []
        for address in status["addresses"].sequence() ?? [] {
            guard address.mapping(required: true) != nil else { continue }
            let type = address["type"].string(required: true)
            if type == "InternalIP" {
                if let ip = ipAddress(address["address"], required: true) { internalIPs.append(ip) }
            } else {
                _ = address["address"].string(required: true)
            }
        }
        guard let meta else { return nil }
        return .node(Node(name: meta.name, internalIPs: internalIPs, labels: meta.labels, source: source))
    }
}
