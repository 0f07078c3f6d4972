/// Gateway API precedence between two matches attached to the same parent; greater wins.
///
/// Across all rules of all routes: an Exact path, then a RegularExpression path (the
/// spec leaves its place to implementations; Linkerd puts it here), then the longest
/// PathPrefix; then a method match; then more header matches; then more query matches.
/// Ties go to the older route, then the route first by namespace/name (`routeOrder`
/// encodes both), then the first rule, then the first match in it.
///
/// GRPCRoute matches (never in the same table as HTTPRoute matches) leave the path fields
/// at zero and use the `rpc` ones: more characters in the service, then in the method, then
/// Exact before RegularExpression; then headers and the same tie-breaks.
struct MatchPrecedence: Comparable, Sendable {
    var pathRank: Int
    var pathLength: Int
    var rpcServiceLength = 0
    var rpcMethodLength = 0
    var rpcExact = false
    var hasMethod: Bool
    var headerCount: Int
    var queryCount: Int
    /// Position of the route among the parent's routes, oldest and then alphabetical first.
    var routeOrder: Int
    var rule: Int
    var match: Int

    static func < (a: MatchPrecedence, b: MatchPrecedence) -> Bool {
        if a.pathRank != b.pathRank { return a.pathRank < b.pathRank }
        if a.pathLength != b.pathLength { return a.pathLength < b.pathLength }
        if a.rpcServiceLength != b.rpcServiceLength { return a.rpcServiceLength < b.rpcServiceLength }
        if a.rpcMethodLength != b.rpcMethodLength { return a.rpcMethodLength < b.rpcMethodLength }
        if a.rpcExact != b.rpcExact { return !a.rpcExact }
        if a.hasMethod != b.hasMethod { return !a.hasMethod }
        if a.headerCount != b.headerCount { return a.headerCount < b.headerCount }
        if a.queryCount != b.queryCount { return a.queryCount < b.queryCount }
        // Earlier route, rule and match win: they are "greater".
        if a.routeOrder != b.routeOrder { return a.routeOrder > b.routeOrder }
        if a.rule != b.rule { return a.rule > b.rule }
        return a.match > b.match
    }
}
