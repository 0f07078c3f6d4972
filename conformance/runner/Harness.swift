import Foundation
import SwitchyardModel
import SwitchyardRouting

/// The upstream comparisons, one per harness (see `meta.harness_semantics` in the case file).
enum Harness {
    /// conformance/utils/http `CompareRequest` (Gateway profile). Returns the first mismatch.
    static func compareGateway(_ c: ConformanceCase, _ o: Observation) -> String? {
        let e = c.expect
        let timeout: (Int) -> Bool = { $0 == 504 || $0 == 408 }
        if !e.statuses.contains(o.status), !(timeout(o.status) && e.statuses.contains(where: timeout)) {
            return "expected status \(statusText(e.statuses)), got \(o.status)"
        }
        if o.status == 200 || o.status == 204 {
            // The request the backend must see is the request made, unless the case says otherwise.
            let seen = e.requestSeen
            let wantMethod = seen.map { $0.method ?? "GET" } ?? c.request.method
            let wantHost = seen.map { $0.host ?? "" } ?? (c.request.host ?? "")
            let wantPath = seen?.path ?? c.request.path
            let wantHeaders = seen?.headers ?? c.request.headers
            let req = o.backendRequest
            if !wantHost.isEmpty, wantHost != (req.authority ?? "") {
                return "expected host to be \(wantHost), got \(req.authority ?? "")"
            }
            if wantPath != req.path { return "expected path to be \(wantPath), got \(req.path)" }
            if wantMethod != req.method { return "expected method to be \(wantMethod), got \(req.method)" }
            if let ns = e.backendNamespace, ns != (o.pod?.namespace ?? "") {
                return "expected namespace to be \(ns), got \(o.pod?.namespace ?? "")"
            }
            if let err = requestHeaders(wantHeaders, absent: seen?.absentHeaders ?? [], in: req) { return err }
            if let r = e.response {
                for (name, want) in r.headers {
                    let got = Observation.values(name, in: o.responseHeaders)
                    if got.isEmpty { return "expected response header \(name) to be set, actual headers: \(render(o.responseHeaders))" }
                    if got.joined(separator: ",") != want {
                        return "expected response header \(name) to be set to \(want), got \(got.joined(separator: ","))"
                    }
                }
                for (name, allowed) in r.oneOfValues {
                    let got = Observation.values(name, in: o.responseHeaders)
                    if got.isEmpty { return "expected response header \(name) to be set, actual headers: \(render(o.responseHeaders))" }
                    let strip: (String) -> String = { r.ignoreWhitespace ? $0.filter { !$0.isWhitespace } : $0 }
                    if !allowed.map(strip).contains(strip(got.joined(separator: ","))) {
                        return "expected response header \(name) to be one of \(allowed), got \(got.joined(separator: ","))"
                    }
                }
                for name in r.absentHeaders {
                    let got = Observation.values(name, in: o.responseHeaders)
                    if !got.isEmpty { return "expected response header \(name) to not be set, got \(got)" }
                }
            }
            let podName = o.pod?.name ?? ""
            if !podName.hasPrefix(e.backend ?? "") { return "expected pod name to start with \(e.backend ?? ""), got \(podName)" }
        } else if isRedirect(o.status), let want = e.redirect {
            return compareRedirect(want, location: o.location, request: c.request)
        }
        return nil
    }

    /// conformance/utils/echo `compareRequest` (mesh profile): status, request headers seen by the
    /// backend, response headers (first value), pod-name prefix. Path, method, namespace and the
    /// redirect Location are not compared upstream.
    static func compareMesh(_ c: ConformanceCase, _ o: Observation) -> String? {
        let e = c.expect
        if !e.statuses.contains(o.status) { return "wanted status code \(statusText(e.statuses)), got \(o.status)" }
        if let seen = e.requestSeen, let err = requestHeaders(seen.headers, absent: seen.absentHeaders, in: o.backendRequest) {
            return err
        }
        if let r = e.response {
            for name in r.absentHeaders {
                let got = Observation.values(name, in: o.responseHeaders)
                if !got.isEmpty { return "expected no header \(name), got \(got)" }
            }
            for (name, want) in r.headers {
                let got = Observation.values(name, in: o.responseHeaders).first ?? ""
                if got != want { return "expected header \(name)=\(want), got \(got)" }
            }
        }
        let podName = o.pod?.name ?? ""
        if !podName.hasPrefix(e.backend ?? "") { return "expected pod name to start with \(e.backend ?? ""), got \(podName)" }
        return nil
    }

    /// What the Gateway harness would also have checked on a mesh case (path, redirect Location);
    /// reported as a note, never as a failure.
    static func meshAdvisory(_ c: ConformanceCase, _ o: Observation) -> String? {
        if o.status == 200, let path = c.expect.requestSeen?.path, path != o.backendRequest.path {
            return "declared ExpectedRequest.Path \(path) (not compared by the mesh harness), backend saw \(o.backendRequest.path)"
        }
        if isRedirect(o.status), let want = c.expect.redirect,
           let err = compareRedirect(want, location: o.location, request: c.request) {
            return "declared redirect (not compared by the mesh harness): \(err)"
        }
        return nil
    }

    static func isRedirect(_ status: Int) -> Bool { [300, 301, 302, 303, 304, 305, 307, 308].contains(status) }

    private static func statusText(_ s: [Int]) -> String {
        s.count == 1 ? String(s[0]) : "one of \(s.map(String.init).joined(separator: ", "))"
    }

    private static func render(_ headers: [HTTPHeader]) -> String {
        "{" + headers.map { "\($0.name): \($0.value)" }.joined(separator: "; ") + "}"
    }

    private static func requestHeaders(_ want: [(name: String, value: String)], absent: [String], in req: RouteRequest) -> String? {
        for (name, value) in want {
            let got = Observation.values(name, in: req.headers)
            if got.isEmpty { return "expected \(name) header to be set, actual headers: \(render(req.headers))" }
            if got.joined(separator: ",") != value {
                return "expected \(name) header to be set to \(value), got \(got.joined(separator: ","))"
            }
        }
        for name in absent {
            let got = Observation.values(name, in: req.headers)
            if !got.isEmpty { return "expected \(name) header to not be set, got \(got)" }
        }
        return nil
    }

    /// `RedirectRequest` against the Location: unspecified host accepts any, unspecified scheme and
    /// path default to the request's, unspecified port accepts 80/none for http, 443/none for https.
    static func compareRedirect(_ want: ExpectedRedirect, location: String?, request: CaseRequest) -> String? {
        guard let location, let url = URLComponents(string: location), let gotScheme = url.scheme else {
            return "expected a redirect Location, got \(location.map { "\"\($0)\"" } ?? "none")"
        }
        let gotHost = url.host ?? ""
        let gotPort = url.port.map(String.init) ?? ""
        let gotPath = url.path
        if let host = want.host, host != gotHost { return "expected redirected hostname to be \"\(host)\", got \"\(gotHost)\" (Location \(location))" }
        if let port = want.port {
            if port != gotPort { return "expected redirected port to be \"\(port)\", got \"\(gotPort)\" (Location \(location))" }
        } else if gotScheme.lowercased() == "http", gotPort != "80", gotPort != "" {
            return "for http scheme, expected redirected port to be 80 or not set, got \"\(gotPort)\" (Location \(location))"
        } else if gotScheme.lowercased() == "https", gotPort != "443", gotPort != "" {
            return "for https scheme, expected redirected port to be 443 or not set, got \"\(gotPort)\" (Location \(location))"
        }
        let scheme = want.scheme ?? "http"
        if scheme != gotScheme { return "expected redirected scheme to be \"\(scheme)\", got \"\(gotScheme)\" (Location \(location))" }
        let path = want.path ?? request.pathOnly
        if path != gotPath { return "expected redirected path to be \"\(path)\", got \"\(gotPath)\" (Location \(location))" }
        return nil
    }
}
