// SwitchyardModel: what the mesh looks like.
//
// Kubernetes-shaped value types (Namespace, Service, Pod, Node, EndpointSlice, HTTPRoute,
// GRPCRoute, ReferenceGrant), the decoding of a directory of multi-document YAML into them, validation
// against the Gateway API schema, and the one immutable `MeshSnapshot` everything else reads.
// No NIO and no network I/O here: the only I/O is reading the manifest files.
