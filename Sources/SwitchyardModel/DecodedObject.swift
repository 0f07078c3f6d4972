/// One object the loader decoded from a document, before it joins a snapshot.
enum DecodedObject {
    case namespace(Namespace)
    case service(Service)
    case pod(Pod)
    case node(Node)
    case httpRoute(HTTPRoute)
    case grpcRoute(GRPCRoute)
    case referenceGrant(ReferenceGrant)
    case endpointSlice(EndpointSlice)
}
