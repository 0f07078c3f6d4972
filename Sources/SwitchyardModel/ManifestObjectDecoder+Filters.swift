import Yams

/// `rules[].filters[]` and `backendRefs[].filters[]` of an HTTPRoute.
extension ManifestObjectDecoder {
    /// The filter types Switchyard implements.
    static let supportedFilterTypes = ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "RequestMirror"]
    /// Each Gateway API filter type and the field that carries its configuration.
    static let filterConfigFields: [(type: String, field: String)] = [
        ("RequestHeaderModifier", "requestHeaderModifier"), ("ResponseHeaderModifier", "responseHeaderModifier"),
        ("RequestRedirect", "requestRedirect"), ("URLRewrite", "urlRewrite"), ("RequestMirror", "requestMirror"),
        ("ExtensionRef", "extensionRef"), ("CORS", "cors"), ("ExternalAuth", "externalAuth"),
    ]
    /// Filter types that may appear at most once in one list.
    static let unrepeatableFilterTypes: Set<String> = ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "CORS"]
    static let redirectStatusCodes = [301, 302, 303, 307, 308]
    static let pathModifierTypes = ["ReplaceFullPath", "ReplacePrefixMatch"]

    /// The filter schema of one route kind: the types Switchyard implements for it, the
    /// configuration field of each type its CRD defines, and the types allowed once per list.
    struct FilterSchema {
        /// `HTTPRoute` or `GRPCRoute`.
        let kind: String
        let supportedTypes: [String]
        let configFields: [(type: String, field: String)]
        let unrepeatableTypes: Set<String>

        static let httpRoute = FilterSchema(kind: "HTTPRoute", supportedTypes: supportedFilterTypes,
                                            configFields: filterConfigFields, unrepeatableTypes: unrepeatableFilterTypes)
        /// GRPCRoute's filter types: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror
        /// and ExtensionRef (not implemented, refused like an HTTPRoute's).
        static let grpcRoute = FilterSchema(
            kind: "GRPCRoute", supportedTypes: ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror"],
            configFields: [("RequestHeaderModifier", "requestHeaderModifier"), ("ResponseHeaderModifier", "responseHeaderModifier"),
                           ("RequestMirror", "requestMirror"), ("ExtensionRef", "extensionRef")],
            unrepeatableTypes: ["RequestHeaderModifier", "ResponseHeaderModifier"])
    }

    /// Decodes a list of filters and checks the list's CEL rules (no repeats of the
    /// unrepeatable types; not both RequestRedirect and URLRewrite). Nil when any is invalid.
    func filterList(_ cursors: [YAMLCursor], singlePrefixMatch: Bool, schema: FilterSchema = .httpRoute) -> [HTTPRouteFilter]? {
        var filters: [HTTPRouteFilter] = []
        var ok = true
        var firstOfType: [String: Int] = [:]
        for (index, cursor) in cursors.enumerated() {
            if let type = cursor["type"].node.flatMap(Self.plainString) {
                if let first = firstOfType[type], schema.unrepeatableTypes.contains(type) {
                    cursor.error("\(type) filter cannot be repeated (also filters[\(first)])")
                    ok = false
                }
                let other = type == "RequestRedirect" ? "URLRewrite" : type == "URLRewrite" ? "RequestRedirect" : nil
                if let other, let first = firstOfType[other] {
                    cursor.error("RequestRedirect and URLRewrite filters cannot be used together (see filters[\(first)])")
                    ok = false
                }
                if firstOfType[type] == nil { firstOfType[type] = index }
            }
            if let filter = filter(cursor, singlePrefixMatch: singlePrefixMatch, schema: schema) { filters.append(filter) } else { ok = false }
        }
        return ok ? filters : nil
    }

    private func filter(_ cursor: YAMLCursor, singlePrefixMatch: Bool, schema: FilterSchema) -> HTTPRouteFilter? {
        guard cursor.mapping(required: true) != nil else { return nil }
        guard let type = cursor["type"].string(required: true) else { return nil }
        var ok = true
        for (otherType, field) in schema.configFields where otherType != type && cursor[field].isPresent {
            cursor[field].error("must not be set when the filter type is \(YAMLCursor.quote(type))")
            ok = false
        }
        guard schema.supportedTypes.contains(type),
              let field = schema.configFields.first(where: { $0.type == type })?.field else {
            let kind = schema.kind == "HTTPRoute" ? "" : " in a \(schema.kind)"
            cursor["type"].error("unsupported filter type \(YAMLCursor.quote(type))\(kind); supported: \(schema.supportedTypes.joined(separator: ", "))")
            return nil
        }
        let config = cursor[field]
        if config.isNull {
            config.error("required when the filter type is \(YAMLCursor.quote(type))")
            return nil
        }
        guard config.mapping() != nil else { return nil }
        let result: HTTPRouteFilter?
        switch type {
        case "RequestHeaderModifier":
            result = headerModifier(config).map(HTTPRouteFilter.requestHeaderModifier)
        case "ResponseHeaderModifier":
            result = headerModifier(config).map(HTTPRouteFilter.responseHeaderModifier)
        case "RequestRedirect":
            result = requestRedirect(config, singlePrefixMatch: singlePrefixMatch).map(HTTPRouteFilter.requestRedirect)
        case "URLRewrite":
            result = urlRewrite(config, singlePrefixMatch: singlePrefixMatch).map(HTTPRouteFilter.urlRewrite)
        case "RequestMirror":
            result = requestMirror(config).map(HTTPRouteFilter.requestMirror)
        default:
            result = nil
        }
        return ok ? result : nil
    }

    // MARK: - Header modifiers

    private func headerModifier(_ cursor: YAMLCursor) -> HTTPHeaderModifier? {
        var ok = true
        // Only one action per header name (case-insensitive) across set, add and remove.
        var seen: [String: String] = [:]
        func claim(_ name: String, _ where: String, _ at: YAMLCursor) {
            if let first = seen[name.lowercased()] {
                at.error("header \(YAMLCursor.quote(name)) already has an action in this filter (\(first)); only one action per header name is allowed")
                ok = false
            } else {
                seen[name.lowercased()] = `where`
            }
        }
        func headers(_ key: String) -> [HTTPHeader] {
            var result: [HTTPHeader] = []
            for (index, entry) in (cursor[key].sequence(maxItems: RouteLimits.headerModifierEntries) ?? []).enumerated() {
                guard entry.mapping(required: true) != nil else { ok = false; continue }
                let name = entry["name"].string(required: true)
                let value = entry["value"].string(required: true)
                if let name {
                    if let problem = ManifestSyntax.headerName(name) {
                        entry["name"].error(problem)
                        ok = false
                    } else {
                        claim(name, "\(key)[\(index)]", entry["name"])
                    }
                }
                if let value {
                    if value.isEmpty {
                        entry["value"].error("must not be empty")
                        ok = false
                    } else if value.utf8.count > RouteLimits.headerValueLength {
                        entry["value"].error("must be at most \(RouteLimits.headerValueLength) characters")
                        ok = false
                    } else if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                        entry["value"].error("must not contain CR, LF or NUL")
                        ok = false
                    }
                }
                if let name, let value { result.append(HTTPHeader(name: name, value: value)) } else { ok = false }
            }
            return result
        }
        let set = headers("set")
        let add = headers("add")
        var remove: [String] = []
        for (index, entry) in (cursor["remove"].sequence(maxItems: RouteLimits.headerModifierEntries) ?? []).enumerated() {
            guard let name = entry.string(required: true) else { ok = false; continue }
            if let problem = ManifestSyntax.headerName(name) {
                entry.error(problem)
                ok = false
            } else {
                claim(name, "remove[\(index)]", entry)
            }
            remove.append(name)
        }
        return ok ? HTTPHeaderModifier(set: set, add: add, remove: remove) : nil
    }

    // MARK: - Redirect and rewrite

    private func requestRedirect(_ cursor: YAMLCursor, singlePrefixMatch: Bool) -> HTTPRequestRedirect? {
        var ok = true
        let scheme = enumString(cursor["scheme"], allowed: ["http", "https"], what: "scheme")
        if cursor["scheme"].isPresent, scheme == nil { ok = false }
        let hostname = string(cursor["hostname"], ManifestSyntax.preciseHostname)
        let (path, pathOK) = pathModifier(cursor["path"], singlePrefixMatch: singlePrefixMatch)
        let port = cursor["port"].int(in: 1...65535)
        var statusCode = 302
        let statusCursor = cursor["statusCode"]
        if let code = statusCursor.int() {
            if Self.redirectStatusCodes.contains(code) {
                statusCode = code
            } else {
                statusCursor.error("unsupported statusCode \(code); allowed: \(Self.redirectStatusCodes.map(String.init).joined(separator: ", "))")
                ok = false
            }
        }
        guard ok, pathOK else { return nil }
        return HTTPRequestRedirect(scheme: scheme, hostname: hostname, path: path, port: port, statusCode: statusCode)
    }

    private func urlRewrite(_ cursor: YAMLCursor, singlePrefixMatch: Bool) -> HTTPURLRewrite? {
        let hostname = string(cursor["hostname"], ManifestSyntax.preciseHostname)
        let (path, pathOK) = pathModifier(cursor["path"], singlePrefixMatch: singlePrefixMatch)
        guard pathOK else { return nil }
        return HTTPURLRewrite(hostname: hostname, path: path)
    }

    /// `path: {type: ReplaceFullPath|ReplacePrefixMatch, replaceFullPath|replacePrefixMatch}`.
    /// ReplacePrefixMatch needs the rule to have exactly one match, a PathPrefix one (the CEL rule).
    private func pathModifier(_ cursor: YAMLCursor, singlePrefixMatch: Bool) -> (HTTPPathModifier?, Bool) {
        guard cursor.isPresent else { return (nil, true) }
        guard cursor.mapping() != nil else { return (nil, false) }
        let type = enumString(cursor["type"], required: true, allowed: Self.pathModifierTypes, what: "path modifier type")
        var ok = type != nil
        var values: [String: String] = [:]
        for (field, fieldType) in [("replaceFullPath", "ReplaceFullPath"), ("replacePrefixMatch", "ReplacePrefixMatch")] {
            let valueCursor = cursor[field]
            let value = valueCursor.string()
            if let value {
                if value.utf8.count > RouteLimits.pathLength {
                    valueCursor.error("must be at most \(RouteLimits.pathLength) characters")
                    ok = false
                }
                if let type, type != fieldType {
                    valueCursor.error("must not be set when type is \(YAMLCursor.quote(type)) (type must be \(YAMLCursor.quote(fieldType)))")
                    ok = false
                }
                values[field] = value
            } else if valueCursor.isPresent {
                ok = false
            } else if type == fieldType {
                valueCursor.error("required when type is \(YAMLCursor.quote(fieldType))")
                ok = false
            }
        }
        if type == "ReplacePrefixMatch", !singlePrefixMatch {
            cursor.error("ReplacePrefixMatch requires the rule to have exactly one match, with a PathPrefix path")
            ok = false
        }
        guard ok, let type else { return (nil, false) }
        if type == "ReplaceFullPath", let value = values["replaceFullPath"] { return (.replaceFullPath(value), true) }
        if type == "ReplacePrefixMatch", let value = values["replacePrefixMatch"] { return (.replacePrefixMatch(value), true) }
        return (nil, false)
    }

    // MARK: - Mirror

    private func requestMirror(_ cursor: YAMLCursor) -> HTTPRequestMirror? {
        let backendCursor = cursor["backendRef"]
        var backend: HTTPBackendRef?
        if backendCursor.isNull {
            backendCursor.error("required field is missing")
        } else {
            backend = backendObjectReference(backendCursor)
        }
        var ok = true
        var percent: Double?
        let percentCursor = cursor["percent"]
        if percentCursor.isPresent {
            if let value = percentCursor.int(in: 0...100) { percent = Double(value) } else { ok = false }
        }
        let fractionCursor = cursor["fraction"]
        if fractionCursor.isPresent {
            if percentCursor.isPresent {
                fractionCursor.error("only one of percent or fraction may be specified")
                ok = false
            }
            if fractionCursor.mapping() != nil {
                let numerator = fractionCursor["numerator"].int(required: true, in: 0...Int(Int32.max))
                let denominator = fractionCursor["denominator"].isNull ? 100
                    : fractionCursor["denominator"].int(in: 1...Int(Int32.max))
                if let numerator, let denominator {
                    if numerator > denominator {
                        fractionCursor["numerator"].error("numerator must be less than or equal to denominator (\(denominator))")
                        ok = false
                    } else {
                        percent = Double(numerator) * 100 / Double(denominator)
                    }
                } else {
                    ok = false
                }
            } else {
                ok = false
            }
        }
        guard ok, let backend else { return nil }
        return HTTPRequestMirror(backend: backend, percent: percent)
    }
}
