/// `ReferenceGrant` (gateway.networking.k8s.io/v1beta1 and v1).
extension ManifestObjectDecoder {
    func decodeReferenceGrant() -> DecodedObject? {
        let meta = metadata(namespaced: true)
        let spec = root["spec"]
        guard spec.mapping(required: true) != nil else { return nil }
        var from: [ReferenceGrant.From] = []
        for cursor in spec["from"].sequence(required: true, minItems: 1, maxItems: 16) ?? [] {
            guard cursor.mapping(required: true) != nil else { continue }
            let group = string(cursor["group"], required: true, ManifestSyntax.group)
            let kind = string(cursor["kind"], required: true, ManifestSyntax.kind)
            let namespace = string(cursor["namespace"], required: true, ManifestSyntax.dnsLabel)
            if let group, let kind, let namespace { from.append(.init(group: group, kind: kind, namespace: namespace)) }
        }
        var to: [ReferenceGrant.To] = []
        for cursor in spec["to"].sequence(required: true, minItems: 1, maxItems: 16) ?? [] {
            guard cursor.mapping(required: true) != nil else { continue }
            let group = string(cursor["group"], required: true, ManifestSyntax.group)
            let kind = string(cursor["kind"], required: true, ManifestSyntax.kind)
            let name = string(cursor["name"], ManifestSyntax.objectName)
            if let group, let kind { to.append(.init(group: group, kind: kind, name: name)) }
        }
        guard let meta else { return nil }
        return .referenceGrant(ReferenceGrant(id: ResourceID(namespace: meta.namespace, name: meta.name), from: from, to: to,
                                              source: source))
    }
}
