import Yams

/// `HTTPRoute` (policy.linkerd.io/v1beta2, v1beta3; gateway.networking.k8s.io/v1, v1beta1),
/// validated as the Gateway API v1 CRD schema and its CEL rules do.
extension ManifestObjectDecoder {
    static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
    static let pathMatchTypes = HTTPPathMatch.MatchType.allCases.map(\.rawValue)
    static let stringMatchTypes = StringMatchType.allCases.map(\.rawValue)

    /// Gateway API list limits.
    enum RouteLimits {
        static let parentRefs = 32
        static let hostnames = 16
        static let rules = 16
        static let matchesPerRule = 64
        static let matchesPerRoute = 128
        static let headers = 16
        static let queryParams = 16
        static let filters = 16
        static let backendRefs = 16
        static let headerModifierEntries = 16
        static let pathLength = 1024
        static let headerValueLength = 4096
        static let queryValueLength = 1024
        static let weight = 1_000_000
    }

    func decodeHTTPRoute(version: RouteAPIVersion) -> DecodedObject? {
        let meta = metadata(namespaced: true)
        let spec = root["spec"]
        guard spec.mapping(required: true) != nil else { return nil }

        let parentCursors = spec["parentRefs"].sequence(maxItems: RouteLimits.parentRefs) ?? []
        var parents: [(ParentReference, YAMLCursor)] = []
        for cursor in parentCursors {
            if let parent = parentReference(cursor) { parents.append((parent, cursor)) }
        }
        checkParentUniqueness(parents)

        var hostnames: [String] = []
        for cursor in spec["hostnames"].sequence(maxItems: RouteLimits.hostnames) ?? [] {
            if let hostname = string(cursor, required: true, ManifestSyntax.hostname) { hostnames.append(hostname) }
        }

        var rules: [HTTPRouteRule] = []
        let rulesCursor = spec["rules"]
        if rulesCursor.isNull {
            // The CRD's default: one rule matching every request, with no backends.
            rules = [HTTPRouteRule(matches: [HTTPRouteMatch()])]
        } else {
            let ruleCursors = rulesCursor.sequence(minItems: 1, maxItems: RouteLimits.rules) ?? []
            var totalMatches = 0
            var ruleNames: [String: Int] = [:]
            for (index, cursor) in ruleCursors.enumerated() {
                totalMatches += cursor["matches"].isNull ? 1 : (cursor["matches"].node.flatMap(Self.count) ?? 0)
                if let name = cursor["name"].node.flatMap(Self.plainString) {
                    if let first = ruleNames[name] {
                        cursor["name"].error("rule name \(YAMLCursor.quote(name)) must be unique within the route (also spec.rules[\(first)])")
                    } else {
                        ruleNames[name] = index
                    }
                }
                if let rule = rule(cursor, version: version) { rules.append(rule) }
            }
            if totalMatches > RouteLimits.matchesPerRoute {
                rulesCursor.error("must have at most \(RouteLimits.matchesPerRoute) matches across all rules (has \(totalMatches)); "
                    + "16 rules and 64 matches per rule are allowed, but not both at once")
            }
        }

        guard let meta else { return nil }
        return .httpRoute(HTTPRoute(id: ResourceID(namespace: meta.namespace, name: meta.name), api: version,
                                    creationTimestamp: meta.creationTimestamp, parentRefs: parents.map(\.0),
                                    hostnames: hostnames, rules: rules, source: source))
    }

    /// Number of elements when `node` is a sequence.
    static func count(_ node: Yams.Node) -> Int? {
        if case .sequence(let sequence) = node { return sequence.count }
        return nil
    }

    /// The text of a string scalar, without reporting anything.
    static func plainString(_ node: Yams.Node) -> String? {
        if case .scalar(let scalar) = node, case .string(let value) = YAMLScalarValue(scalar) { return value }
        return nil
    }

    // MARK: - parentRefs

    func parentReference(_ cursor: YAMLCursor) -> ParentReference? {
        guard cursor.mapping(required: true) != nil else { return nil }
        let group = string(cursor["group"], ManifestSyntax.group) ?? Self.gatewayGroup
        let kind = string(cursor["kind"], ManifestSyntax.kind) ?? "Gateway"
        let namespace = string(cursor["namespace"], ManifestSyntax.dnsLabel)
        let name = string(cursor["name"], required: true, ManifestSyntax.objectName)
        let port = cursor["port"].int(in: 1...65535)
        let sectionName = string(cursor["sectionName"], ManifestSyntax.sectionName)
        guard let name else { return nil }
        return ParentReference(group: group, kind: kind, namespace: namespace, name: name, port: port, sectionName: sectionName)
    }

    /// The CEL rules on `parentRefs`: references to the same parent must all give a
    /// sectionName or all not, all a port or all not, and must differ in them.
    func checkParentUniqueness(_ parents: [(ParentReference, YAMLCursor)]) {
        for (j, (later, cursor)) in parents.enumerated() {
            for i in 0..<j {
                let earlier = parents[i].0
                guard earlier.group == later.group, earlier.kind == later.kind, earlier.name == later.name,
                      (earlier.namespace ?? "") == (later.namespace ?? "") else { continue }
                let earlierIndex = Self.index(of: parents[i].1)
                if (earlier.sectionName == nil) != (later.sectionName == nil) || (earlier.port == nil) != (later.port == nil) {
                    cursor.error("sectionName or port must be specified when parentRefs includes 2 or more references to the same parent (see parentRefs[\(earlierIndex)])")
                } else if earlier.sectionName == later.sectionName, earlier.port == later.port {
                    cursor.error("sectionName or port must be unique when parentRefs includes 2 or more references to the same parent (see parentRefs[\(earlierIndex)])")
                }
                break
            }
        }
    }

    /// The index at the end of a cursor path (`...[3]` → 3).
    static func index(of cursor: YAMLCursor) -> Int {
        guard cursor.path.hasSuffix("]"), let open = cursor.path.lastIndex(of: "[") else { return 0 }
        return Int(cursor.path[cursor.path.index(after: open)..<cursor.path.index(before: cursor.path.endIndex)]) ?? 0
    }

    // MARK: - Rules

    private func rule(_ cursor: YAMLCursor, version: RouteAPIVersion) -> HTTPRouteRule? {
        guard cursor.mapping(required: true) != nil else { return nil }
        var ok = true
        let name = string(cursor["name"], ManifestSyntax.sectionName)

        var matches: [HTTPRouteMatch] = []
        let matchesCursor = cursor["matches"]
        // Exactly one match, a PathPrefix one (after defaulting): what ReplacePrefixMatch needs.
        var singlePrefixMatch = true
        if matchesCursor.isNull {
            matches = [HTTPRouteMatch()]
        } else {
            let cursors = matchesCursor.sequence(maxItems: RouteLimits.matchesPerRule) ?? []
            singlePrefixMatch = cursors.count == 1
                && (cursors[0]["path"]["type"].node.flatMap(Self.plainString) ?? "PathPrefix") == "PathPrefix"
            for matchCursor in cursors {
                if let match = match(matchCursor) { matches.append(match) } else { ok = false }
            }
        }

        let backendCursors = cursor["backendRefs"].sequence(maxItems: RouteLimits.backendRefs) ?? []
        let filterCursors = cursor["filters"].sequence(maxItems: RouteLimits.filters) ?? []
        let filters = filterList(filterCursors, singlePrefixMatch: singlePrefixMatch)
        if filters == nil { ok = false }
        if !backendCursors.isEmpty {
            for filterCursor in filterCursors where filterCursor["requestRedirect"].isPresent {
                filterCursor.error("RequestRedirect filter must not be used together with backendRefs")
            }
        }

        var backends: [HTTPBackendRef] = []
        for backendCursor in backendCursors {
            if let backend = backendRef(backendCursor, singlePrefixMatch: singlePrefixMatch) { backends.append(backend) } else { ok = false }
        }

        var timeouts: HTTPRouteTimeouts?
        let timeoutsCursor = cursor["timeouts"]
        if timeoutsCursor.isPresent {
            if !version.hasTimeouts {
                timeoutsCursor.error("timeouts is not part of \(version.rawValue); use v1beta3")
            } else {
                timeouts = self.timeouts(timeoutsCursor)
            }
        }
        guard ok, let filters else { return nil }
        return HTTPRouteRule(name: name, matches: matches, filters: filters, backendRefs: backends, timeouts: timeouts)
    }

    private func timeouts(_ cursor: YAMLCursor) -> HTTPRouteTimeouts? {
        guard cursor.mapping() != nil else { return nil }
        let request = duration(cursor["request"])
        let backendRequest = duration(cursor["backendRequest"])
        if let request, let backendRequest, request != .zero, backendRequest > request {
            cursor["backendRequest"].error("backendRequest timeout (\(Self.spell(backendRequest))) cannot be longer than request timeout (\(Self.spell(request)))")
        }
        // `0s` stays zero: explicitly no timeout, unlike an absent field (nil, the default).
        return HTTPRouteTimeouts(request: request, backendRequest: backendRequest)
    }

    /// A Gateway API duration; `0s` is `Duration.zero` (no timeout).
    private func duration(_ cursor: YAMLCursor) -> Duration? {
        guard let text = cursor.string() else { return nil }
        guard let value = GatewayDuration.parse(text) else {
            cursor.error("invalid duration \(YAMLCursor.quote(text)): expected the Gateway API format, "
                + "1 to 4 groups of up to 5 digits and a unit h, m, s or ms (e.g. 10s, 500ms, 1h30m)")
            return nil
        }
        return value
    }

    private static func spell(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }

    // MARK: - Matches

    private func match(_ cursor: YAMLCursor) -> HTTPRouteMatch? {
        guard cursor.mapping(required: true) != nil else { return nil }
        var ok = true

        var path = HTTPPathMatch()
        let pathCursor = cursor["path"]
        if pathCursor.mapping() != nil {
            let typeCursor = pathCursor["type"]
            var type = HTTPPathMatch.MatchType.pathPrefix
            if typeCursor.isPresent {
                if let raw = enumString(typeCursor, allowed: Self.pathMatchTypes, what: "path match type"),
                   let parsed = HTTPPathMatch.MatchType(rawValue: raw) {
                    type = parsed
                } else {
                    ok = false
                }
            }
            let valueCursor = pathCursor["value"]
            let value = valueCursor.string() ?? (valueCursor.isNull ? "/" : nil)
            if let value {
                if value.utf8.count > RouteLimits.pathLength {
                    valueCursor.error("must be at most \(RouteLimits.pathLength) characters")
                    ok = false
                } else if ok {
                    switch type {
                    case .exact, .pathPrefix:
                        let problems = ManifestSyntax.pathProblems(value)
                        for problem in problems { valueCursor.error(problem) }
                        if !problems.isEmpty { ok = false }
                    case .regularExpression:
                        if !compiles(value, at: valueCursor) { ok = false }
                    }
                }
                path = HTTPPathMatch(type: type, value: value)
            } else {
                ok = false
            }
        } else if pathCursor.isPresent {
            ok = false
        }

        let headers = headerMatches(cursor["headers"])
        if headers == nil { ok = false }

        var queryParams: [HTTPQueryParamMatch] = []
        var queryNames: [String: Int] = [:]
        for (index, queryCursor) in (cursor["queryParams"].sequence(maxItems: RouteLimits.queryParams) ?? []).enumerated() {
            guard let (type, name, value) = stringMatch(queryCursor, maxValueLength: RouteLimits.queryValueLength) else {
                ok = false
                continue
            }
            if let first = queryNames[name] {
                queryCursor["name"].error("duplicate query parameter name \(YAMLCursor.quote(name)) (also queryParams[\(first)])")
                ok = false
            } else {
                queryNames[name] = index
            }
            queryParams.append(HTTPQueryParamMatch(type: type, name: name, value: value))
        }

        let methodCursor = cursor["method"]
        let method = enumString(methodCursor, allowed: Self.methods, what: "method")
        if methodCursor.isPresent, method == nil { ok = false }
        guard ok else { return nil }
        return HTTPRouteMatch(path: path, headers: headers ?? [], queryParams: queryParams, method: method)
    }

    /// A header or query parameter match: `type` (default Exact), `name` (an HTTP token), `value`.
    /// A match's `headers` (HTTPRoute and GRPCRoute alike): each a string match, no name twice
    /// (names compared without case). Nil, with the errors reported, when any is invalid.
    func headerMatches(_ cursor: YAMLCursor) -> [HTTPHeaderMatch]? {
        var ok = true
        var headers: [HTTPHeaderMatch] = []
        var headerNames: [String: Int] = [:]
        for (index, headerCursor) in (cursor.sequence(maxItems: RouteLimits.headers) ?? []).enumerated() {
            guard let (type, name, value) = stringMatch(headerCursor, maxValueLength: RouteLimits.headerValueLength) else {
                ok = false
                continue
            }
            if let first = headerNames[name.lowercased()] {
                headerCursor["name"].error("duplicate header name \(YAMLCursor.quote(name)) (also headers[\(first)]; header names are case-insensitive)")
                ok = false
            } else {
                headerNames[name.lowercased()] = index
            }
            headers.append(HTTPHeaderMatch(type: type, name: name, value: value))
        }
        return ok ? headers : nil
    }

    func stringMatch(_ cursor: YAMLCursor, maxValueLength: Int) -> (StringMatchType, String, String)? {
        guard cursor.mapping(required: true) != nil else { return nil }
        var type = StringMatchType.exact
        var ok = true
        if cursor["type"].isPresent {
            if let raw = enumString(cursor["type"], allowed: Self.stringMatchTypes, what: "match type"),
               let parsed = StringMatchType(rawValue: raw) {
                type = parsed
            } else {
                ok = false
            }
        }
        let name = cursor["name"].string(required: true)
        if let name, let problem = ManifestSyntax.headerName(name) {
            cursor["name"].error(problem)
            ok = false
        }
        let valueCursor = cursor["value"]
        let value = valueCursor.string(required: true)
        if let value {
            if value.isEmpty {
                valueCursor.error("must not be empty")
                ok = false
            } else if value.utf8.count > maxValueLength {
                valueCursor.error("must be at most \(maxValueLength) characters")
                ok = false
            } else if type == .regularExpression, ok, !compiles(value, at: valueCursor) {
                ok = false
            }
        }
        guard ok, let name, let value else { return nil }
        return (type, name, value)
    }

    /// Whether `pattern` compiles as a `MatchRegex`; reports why not.
    func compiles(_ pattern: String, at cursor: YAMLCursor) -> Bool {
        do {
            _ = try MatchRegex(pattern)
            return true
        } catch let error as MatchRegex.InvalidPattern {
            let reason = error.reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? error.reason
            cursor.error("invalid regular expression \(YAMLCursor.quote(pattern)): \(reason)")
            return false
        } catch {
            cursor.error("invalid regular expression \(YAMLCursor.quote(pattern)): \(error)")
            return false
        }
    }

    // MARK: - backendRefs

    /// The fields of a `BackendObjectReference`: group, kind, name, namespace, port.
    func backendObjectReference(_ cursor: YAMLCursor) -> HTTPBackendRef? {
        guard cursor.mapping(required: true) != nil else { return nil }
        let group = string(cursor["group"], ManifestSyntax.group) ?? ""
        let kind = string(cursor["kind"], ManifestSyntax.kind) ?? "Service"
        let name = string(cursor["name"], required: true, ManifestSyntax.objectName)
        let namespace = string(cursor["namespace"], ManifestSyntax.dnsLabel)
        let portCursor = cursor["port"]
        let port = portCursor.int(in: 1...65535)
        let reference = HTTPBackendRef(group: group, kind: kind, name: name ?? "", namespace: namespace, port: port)
        if reference.isService, portCursor.isNull {
            portCursor.error("port is required for a Service backendRef")
        }
        guard name != nil else { return nil }
        return reference
    }

    /// A backendRef with its `weight` and its own `filters` (of the route kind's `schema`).
    func backendRef(_ cursor: YAMLCursor, singlePrefixMatch: Bool, schema: FilterSchema = .httpRoute) -> HTTPBackendRef? {
        guard var reference = backendObjectReference(cursor) else { return nil }
        let weightCursor = cursor["weight"]
        let weight = weightCursor.int(in: 0...RouteLimits.weight)
        let filterCursors = cursor["filters"].sequence(maxItems: RouteLimits.filters) ?? []
        let filters = filterList(filterCursors, singlePrefixMatch: singlePrefixMatch, schema: schema)
        guard weightCursor.isNull || weight != nil, let filters else { return nil }
        reference.weight = weight ?? 1
        reference.filters = filters
        return reference
    }
}
