import Yams

/// `GRPCRoute` (gateway.networking.k8s.io/v1 and v1alpha2), validated as the Gateway API v1
/// CRD schema and its CEL rules do. Parents, hostnames, header matches, filters and
/// backendRefs are read by the same code as an HTTPRoute's.
extension ManifestObjectDecoder {
    /// GRPCRoute list limits that differ from HTTPRoute's (`RouteLimits`).
    enum GRPCRouteLimits {
        static let matchesPerRule = 8
        /// `service` and `method` values.
        static let methodMatchValueLength = 1024
    }

    static let grpcMethodMatchTypes = GRPCMethodMatch.MatchType.allCases.map(\.rawValue)
    /// The CRD's CEL pattern for an Exact `service` (a fully qualified protobuf service name).
    static let grpcServicePattern = #"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$"#
    /// The CRD's CEL pattern for an Exact `method`.
    static let grpcMethodPattern = "^[A-Za-z_][A-Za-z_0-9]*$"

    func decodeGRPCRoute(version: GRPCRouteAPIVersion) -> DecodedObject? {
        let meta = metadata(namespaced: true)
        let spec = root["spec"]
        guard spec.mapping(required: true) != nil else { return nil }

        var parents: [(ParentReference, YAMLCursor)] = []
        for cursor in spec["parentRefs"].sequence(maxItems: RouteLimits.parentRefs) ?? [] {
            if let parent = parentReference(cursor) { parents.append((parent, cursor)) }
        }
        checkParentUniqueness(parents)

        var hostnames: [String] = []
        for cursor in spec["hostnames"].sequence(maxItems: RouteLimits.hostnames) ?? [] {
            if let hostname = string(cursor, required: true, ManifestSyntax.hostname) { hostnames.append(hostname) }
        }

        // No CRD default here (unlike HTTPRoute): a GRPCRoute without rules matches nothing.
        // 16 rules of at most 8 matches never exceed the 128 matches a route may have.
        var rules: [GRPCRouteRule] = []
        var ruleNames: [String: Int] = [:]
        for (index, cursor) in (spec["rules"].sequence(maxItems: RouteLimits.rules) ?? []).enumerated() {
            if let name = cursor["name"].node.flatMap(Self.plainString) {
                if let first = ruleNames[name] {
                    cursor["name"].error("rule name \(YAMLCursor.quote(name)) must be unique within the route (also spec.rules[\(first)])")
                } else {
                    ruleNames[name] = index
                }
            }
            if let rule = grpcRule(cursor) { rules.append(rule) }
        }

        guard let meta else { return nil }
        return .grpcRoute(GRPCRoute(id: ResourceID(namespace: meta.namespace, name: meta.name), api: version,
                                    creationTimestamp: meta.creationTimestamp, parentRefs: parents.map(\.0),
                                    hostnames: hostnames, rules: rules, source: source))
    }

    // MARK: - Rules

    private func grpcRule(_ cursor: YAMLCursor) -> GRPCRouteRule? {
        guard cursor.mapping(required: true) != nil else { return nil }
        var ok = true
        let name = string(cursor["name"], ManifestSyntax.sectionName)

        var matches: [GRPCRouteMatch] = []
        for matchCursor in cursor["matches"].sequence(maxItems: GRPCRouteLimits.matchesPerRule) ?? [] {
            if let match = grpcMatch(matchCursor) { matches.append(match) } else { ok = false }
        }

        let filterCursors = cursor["filters"].sequence(maxItems: RouteLimits.filters) ?? []
        let filters = filterList(filterCursors, singlePrefixMatch: false, schema: .grpcRoute)
        if filters == nil { ok = false }

        var backends: [HTTPBackendRef] = []
        for backendCursor in cursor["backendRefs"].sequence(maxItems: RouteLimits.backendRefs) ?? [] {
            if let backend = backendRef(backendCursor, singlePrefixMatch: false, schema: .grpcRoute) {
                backends.append(backend)
            } else {
                ok = false
            }
        }
        guard ok, let filters else { return nil }
        return GRPCRouteRule(name: name, matches: matches, filters: filters, backendRefs: backends)
    }

    // MARK: - Matches

    private func grpcMatch(_ cursor: YAMLCursor) -> GRPCRouteMatch? {
        guard cursor.mapping(required: true) != nil else { return nil }
        var ok = true

        var method: GRPCMethodMatch?
        let methodCursor = cursor["method"]
        if methodCursor.mapping() != nil {
            method = grpcMethodMatch(methodCursor)
            if method == nil { ok = false }
        } else if methodCursor.isPresent {
            ok = false
        }

        let headers = headerMatches(cursor["headers"])
        if headers == nil { ok = false }
        guard ok else { return nil }
        return GRPCRouteMatch(method: method, headers: headers ?? [])
    }

    /// `method: {type, service, method}` and the CRD's CEL rules: one or both of service and
    /// method; for Exact, each must be a valid protobuf name. Regular expressions must compile.
    private func grpcMethodMatch(_ cursor: YAMLCursor) -> GRPCMethodMatch? {
        var ok = true
        var type = GRPCMethodMatch.MatchType.exact
        if cursor["type"].isPresent {
            if let raw = enumString(cursor["type"], allowed: Self.grpcMethodMatchTypes, what: "method match type"),
               let parsed = GRPCMethodMatch.MatchType(rawValue: raw) {
                type = parsed
            } else {
                ok = false
            }
        }
        func part(_ key: String, pattern: String, what: String, isValid: (String) -> Bool) -> String? {
            let partCursor = cursor[key]
            guard let value = partCursor.string() else {
                if partCursor.isPresent { ok = false }
                return nil
            }
            if value.utf8.count > GRPCRouteLimits.methodMatchValueLength {
                partCursor.error("must be at most \(GRPCRouteLimits.methodMatchValueLength) characters")
                ok = false
                return nil
            }
            guard ok else { return value }
            switch type {
            case .exact:
                if !isValid(value) {
                    partCursor.error("\(YAMLCursor.quote(value)) is not a valid gRPC \(what) name for an Exact match "
                        + "(must match \(pattern)); use type RegularExpression for a pattern")
                    ok = false
                }
            case .regularExpression:
                if !value.isEmpty, !compiles(value, at: partCursor) { ok = false }
            }
            return value
        }
        let service = part("service", pattern: Self.grpcServicePattern, what: "service", isValid: Self.isGRPCServiceName)
        let method = part("method", pattern: Self.grpcMethodPattern, what: "method", isValid: Self.isGRPCIdentifier)
        if cursor["service"].isNull, cursor["method"].isNull {
            cursor.error("one or both of 'service' or 'method' must be specified")
            ok = false
        }
        guard ok else { return nil }
        // An empty RegularExpression part matches anything, as an absent one does.
        return GRPCMethodMatch(type: type, service: service.flatMap { $0.isEmpty ? nil : $0 },
                               method: method.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `grpcMethodPattern`: a letter or `_`, then letters, digits and `_`.
    static func isGRPCIdentifier<S: StringProtocol>(_ value: S) -> Bool {
        guard let first = value.utf8.first, isIdentifierStart(first) else { return false }
        return value.utf8.dropFirst().allSatisfy { isIdentifierStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }

    /// `grpcServicePattern`: an optional leading `.`, then identifiers separated by `.`
    /// (the pattern is case-insensitive, so identifiers may use either case).
    static func isGRPCServiceName(_ value: String) -> Bool {
        let name = value.hasPrefix(".") ? value.dropFirst() : value[...]
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isGRPCIdentifier($0) }
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }
}
