// SwitchyardRouting: what happens to one request.
//
// Compiles the HTTPRoutes and GRPCRoutes of a `MeshSnapshot` into a `RouteTable` keyed by
// (Service, port), with every match of every rule sorted once by Gateway API precedence, so
// that a lookup is one hash probe plus a scan that stops at the first match. `Router` turns a request head into
// a `RouteDecision`: the rule, the weighted backend, its endpoints, and the request exactly as
// it goes upstream after filters. Pure: no NIO, no I/O, randomness passed in.
