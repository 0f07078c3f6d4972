import SwitchyardInterception
import SwitchyardModel

extension MeshSnapshot {
    /// The addresses (`status.podIPs`, both families) of the meshed pods whose `nodeName` is
    /// `node`: the sources and destinations node-mode redirect rules capture
    /// (`IPTablesPlan.node(meshedLocalPodIPs:)`). Pods that have ended (`Succeeded`, `Failed`)
    /// are left out, since their addresses may already belong to another pod; so are addresses
    /// that do not parse.
    func meshedPodIPs(onNode node: String) -> [IPAddress] {
        pods.values
            .filter { $0.nodeName == node && isMeshed($0) && $0.phase != "Succeeded" && $0.phase != "Failed" }
            .flatMap(\.podIPs)
            .compactMap(IPAddress.init)
    }
}
