import NIOConcurrencyHelpers
import SwitchyardAdmin

/// Which side of the proxy a connection or request is on (the `direction` label).
public enum TrafficDirection: String, Sendable, Hashable, CaseIterable {
    case inbound
    case outbound
}

/// The data plane's metric families (Linkerd's names where they exist, docs/metrics.md), with
/// the handles the hot path uses resolved up front so that counting takes no lock and
/// allocates nothing.
public final class ProxyMetrics: Sendable {
    public let registry: MetricsRegistry

    public let requestTotal: CounterFamily
    public let responseTotal: CounterFamily
    public let responseLatency: HistogramFamily
    public let routeRequestTotal: CounterFamily
    public let tcpOpenTotal: CounterFamily
    public let tcpCloseTotal: CounterFamily
    public let tcpOpenConnections: GaugeFamily
    public let tcpReadBytes: CounterFamily
    public let tcpWriteBytes: CounterFamily
    public let proxyErrorTotal: CounterFamily
    public let tlsRefusedTotal: CounterFamily
    public let configReloadTotal: CounterFamily
    public let upstreamConnectTotal: CounterFamily
    public let upstreamOpenConnections: GaugeFamily

    /// The handles of one (direction, tls) pair.
    public final class Side: Sendable {
        public let requests: Counter
        public let latency: Histogram
        public let tcpOpen: Counter
        public let tcpClose: Counter
        public let tcpOpenNow: Gauge
        public let readBytes: Counter
        public let writeBytes: Counter
        /// Handles by status code and classification, made on first use (one uncontended lock
        /// per response; no allocation once a status has been seen).
        private let responses = NIOLockedValueBox<[Int: Counter]>([:])
        private let responseFamily: CounterFamily
        private let labels: (direction: String, tls: String)

        typealias Families = (requests: CounterFamily, responses: CounterFamily, latency: HistogramFamily,
                              open: CounterFamily, close: CounterFamily, openNow: GaugeFamily,
                              read: CounterFamily, write: CounterFamily)

        init(families f: Families, direction: TrafficDirection, tls: Bool) {
            let d = direction.rawValue, t = tls ? "true" : "false"
            labels = (d, t)
            requests = f.requests.labels(d, t)
            latency = f.latency.labels(d, t)
            tcpOpen = f.open.labels(d, t)
            tcpClose = f.close.labels(d, t)
            tcpOpenNow = f.openNow.labels(d, t)
            readBytes = f.read.labels(d, t)
            writeBytes = f.write.labels(d, t)
            responseFamily = f.responses
        }

        /// Counts one response (5xx is a failure, as Linkerd classifies HTTP responses).
        public func countResponse(status: Int, failure: Bool? = nil) {
            responseCounter(status: status, failure: failure).increment()
        }

        /// The handle counting responses with `status` (5xx, or `failure`, is a failure), for a
        /// caller that keeps it instead of looking it up (a lock) per response.
        public func responseCounter(status: Int, failure: Bool? = nil) -> Counter {
            let failed = failure ?? (status >= 500)
            let key = failed ? -status : status
            return responses.withLockedValue { table in
                if let counter = table[key] { return counter }
                let counter = responseFamily.labels(labels.direction, labels.tls, String(status), failed ? "failure" : "success")
                table[key] = counter
                return counter
            }
        }
    }

    private let sides: [Side]

    public init(registry: MetricsRegistry) {
        self.registry = registry
        let dt = ["direction", "tls"]
        requestTotal = registry.counterFamily("request_total", help: "HTTP requests received.", labelNames: dt)
        responseTotal = registry.counterFamily(
            "response_total", help: "HTTP responses sent, by status code and classification.",
            labelNames: dt + ["status_code", "classification"])
        responseLatency = registry.histogramFamily(
            "response_latency_ms", help: "Time from request head to response head, in milliseconds.", labelNames: dt)
        routeRequestTotal = registry.counterFamily(
            "outbound_http_route_request_total", help: "Outbound HTTP requests by route and chosen backend.",
            labelNames: ["parent", "route", "backend"])
        tcpOpenTotal = registry.counterFamily("tcp_open_total", help: "TCP connections accepted.", labelNames: dt)
        tcpCloseTotal = registry.counterFamily("tcp_close_total", help: "TCP connections closed.", labelNames: dt)
        tcpOpenConnections = registry.gaugeFamily(
            "tcp_open_connections", help: "TCP connections open now.", labelNames: dt)
        tcpReadBytes = registry.counterFamily(
            "tcp_read_bytes_total", help: "Bytes read from accepted connections.", labelNames: dt)
        tcpWriteBytes = registry.counterFamily(
            "tcp_write_bytes_total", help: "Bytes written to accepted connections.", labelNames: dt)
        proxyErrorTotal = registry.counterFamily(
            "switchyard_proxy_error_total", help: "Answers the proxy made itself (l5d-proxy-error), by reason.",
            labelNames: ["direction", "reason"])
        tlsRefusedTotal = registry.counterFamily(
            "switchyard_tls_handshake_refused_total", help: "TLS handshakes and mesh connections refused, by reason.",
            labelNames: ["direction", "reason"])
        configReloadTotal = registry.counterFamily(
            "switchyard_config_reload_total", help: "Manifest reloads, by result (success/failure).",
            labelNames: ["result"])
        upstreamConnectTotal = registry.counterFamily(
            "switchyard_upstream_connect_total", help: "Connections opened to upstreams, by tls and result.",
            labelNames: ["tls", "result"])
        upstreamOpenConnections = registry.gaugeFamily(
            "switchyard_upstream_open_connections",
            help: "Upstream connections open now, by tls and the protocol they carry (http1, http2, opaque).",
            labelNames: ["tls", "protocol"])
        var built: [Side] = []
        for direction in TrafficDirection.allCases {
            for tls in [false, true] {
                built.append(Side(families: (requestTotal, responseTotal, responseLatency, tcpOpenTotal, tcpCloseTotal,
                                             tcpOpenConnections, tcpReadBytes, tcpWriteBytes),
                                  direction: direction, tls: tls))
            }
        }
        sides = built
    }

    /// The handles for `direction` and `tls`.
    public func side(_ direction: TrafficDirection, tls: Bool) -> Side {
        sides[(direction == .inbound ? 0 : 2) + (tls ? 1 : 0)]
    }

    /// The gauge of open upstream connections with `tls` carrying `inner`.
    func upstreamOpen(tls: Bool, _ inner: TransportPreface.InnerProtocol) -> Gauge {
        let label: String
        switch inner {
        case .http1: label = "http1"
        case .http2: label = "http2"
        case .opaque: label = "opaque"
        }
        return upstreamOpenConnections.labels(tls ? "true" : "false", label)
    }

    /// The handle counting proxy-made answers for `error` on `direction`.
    public func proxyError(_ direction: TrafficDirection, _ error: ProxyError) -> Counter {
        proxyErrorTotal.labels(direction.rawValue, error.label)
    }
}
