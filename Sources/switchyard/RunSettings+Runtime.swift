import NIOCore
import SwitchyardAdmin
import SwitchyardModel
import SwitchyardProxy
import SwitchyardTLS

/// The settings as the configurations of the parts `switchyard run` wires together.
extension RunSettings {
    /// The data plane's settings; what `ProxyConfiguration` has beyond these keeps its default.
    var proxyConfiguration: ProxyConfiguration {
        var configuration = ProxyConfiguration(nodeName: node)
        configuration.mode = mode
        configuration.pod = pod
        configuration.outboundListen = outboundListen
        configuration.inboundListen = inboundListen
        configuration.peerInboundPort = peerInboundPort
        configuration.poolMaxIdlePerKey = upstreamIdleConnections
        configuration.meshHTTP1OverHTTP2 = meshHTTP1 == .http2
        configuration.ingressMode = ingressMode
        configuration.opaquePorts = opaquePorts
        configuration.requireMTLS = requireMTLS
        configuration.accessLog = accessLog
        return configuration
    }

    var credentialStoreConfiguration: CredentialStoreConfiguration {
        CredentialStoreConfiguration(identityDirectory: identityDir, trustBundlePath: trustBundle, trustDomain: trustDomain)
    }

    /// The admin server on `adminListen`; its own drain is the shorter of 5 s and the grace.
    var adminConfiguration: AdminServer.Configuration {
        AdminServer.Configuration(host: adminListen.address.description, port: Int(adminListen.port),
                                  shutdownGracePeriod: .seconds(Int64(min(5, shutdownGrace))))
    }

    var manifestLoader: ManifestLoader { ManifestLoader(trustDomain: trustDomain) }

    var gracePeriod: TimeAmount { .seconds(Int64(shutdownGrace)) }
}
