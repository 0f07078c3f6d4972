import Logging
import NIOConcurrencyHelpers
import SwitchyardInterception
import SwitchyardModel

/// `--manage-redirect`: keeps this node's redirect rules (`switchyard redirect install --mode
/// node`) in step with the meshed pods the manifests put on it. Called at start-up and from the
/// manifest watcher after each reload (off the event loops: an install takes tens of
/// milliseconds); re-applies only when the plan changed. A failure is logged and leaves the
/// rules that were there; the next change tries again.
final class RedirectManager: Sendable {
    private let settings: RunSettings
    private let applier: IPTablesApplier
    private let logger: Logger
    private let installed = NIOLockedValueBox<IPTablesPlan?>(nil)

    init(settings: RunSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        let detection = IPTablesBackend.detect()
        let backend = detection.backend
        let families: [IPTablesFamily] = IPTablesApplier.ipv6Works(backend: backend) ? [.ipv4, .ipv6] : [.ipv4]
        applier = IPTablesApplier(backend: backend, families: families)
        logger.info("redirect rules follow the manifests", metadata: [
            "backend": "\(detection)", "families": "\(families.map { "\($0)" }.joined(separator: ","))",
        ])
    }

    /// The node-mode plan for `snapshot`: the daemon's own ports and socket mark.
    func plan(for snapshot: MeshSnapshot) -> IPTablesPlan {
        let ports = IPTablesPorts(outbound: settings.outboundListen.port, inbound: settings.inboundListen.port,
                                  admin: settings.adminListen.port)
        return .node(meshedLocalPodIPs: snapshot.meshedPodIPs(onNode: settings.node), ports: ports,
                     socketMark: settings.proxyConfiguration.upstreamSocketMark ?? IPTablesPlan.defaultSocketMark,
                     skipInboundPorts: [], skipOutboundPorts: [])
    }

    /// Installs the plan for `snapshot` unless it is the one installed. Returns whether the
    /// rules are in step (false when the install failed).
    @discardableResult
    func follow(_ snapshot: MeshSnapshot) -> Bool {
        let plan = plan(for: snapshot)
        return installed.withLockedValue { current in
            guard current != plan else { return true }
            do {
                try applier.install(plan)
                current = plan
                logger.info("redirect rules installed", metadata: [
                    "meshed-pods": "\(snapshot.meshedPodIPs(onNode: settings.node).map { "\($0)" }.joined(separator: ","))",
                ])
                return true
            } catch {
                logger.error("redirect rules not installed: \(error)")
                return false
            }
        }
    }
}
