import NIOConcurrencyHelpers
import SwitchyardModel
import SwitchyardRouting

/// The routing snapshot in force, swapped whole when the manifests change.
///
/// Event loops read `router` per request (one uncontended lock, no copy of the tables: `Router`
/// holds its tables by reference); the control plane calls `publish(_:)` after a reload.
/// Connections already open keep their own copy of what they resolved; new requests see the
/// new snapshot at once.
public final class MeshState: Sendable {
    private struct Current: Sendable {
        var router: Router
        var generation: Int
    }

    private let current: NIOLockedValueBox<Current>
    /// The cluster domain routers are built with.
    public let clusterDomain: String

    public init(snapshot: MeshSnapshot, clusterDomain: String = "cluster.local") {
        self.clusterDomain = clusterDomain
        current = NIOLockedValueBox(Current(router: Router(snapshot: snapshot, clusterDomain: clusterDomain), generation: 1))
    }

    /// The router over the snapshot in force.
    public var router: Router { current.withLockedValue { $0.router } }

    /// The router in force and its generation, read together (one lock).
    public var routerAndGeneration: (router: Router, generation: Int) {
        current.withLockedValue { ($0.router, $0.generation) }
    }

    /// The snapshot in force.
    public var snapshot: MeshSnapshot { router.snapshot }

    /// How many snapshots have been published (1 for the first).
    public var generation: Int { current.withLockedValue { $0.generation } }

    /// Builds the router for `snapshot` (outside the lock) and puts it in force.
    @discardableResult
    public func publish(_ snapshot: MeshSnapshot) -> Int {
        let router = Router(snapshot: snapshot, clusterDomain: clusterDomain)
        return current.withLockedValue {
            $0.router = router
            $0.generation += 1
            return $0.generation
        }
    }
}
