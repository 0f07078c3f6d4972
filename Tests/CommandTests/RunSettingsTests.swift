import Foundation
import Testing
import SwitchyardTestSupport

/// `switchyard run`'s settings: flags, `SWITCHYARD_*` variables, `switchyard.yaml`, defaults,
/// their precedence (seen through the hidden `--print-settings`) and their errors (exit 1,
/// each naming where the bad value was written).
@Suite("switchyard run settings", .dedicatedThread)
struct RunSettingsTests {
    /// `run --print-settings` with these arguments, variables and settings file; the settings
    /// object, or nil (with the result) when it failed.
    private func effective(_ arguments: [String], environment: [String: String] = [:], file: String? = "")
        throws -> (settings: [String: Any]?, configFile: Any?, result: CommandResult) {
        var args = ["run", "--print-settings"] + arguments
        var dir: URL?
        if let file {
            let created = try Switchyard.manifests(["switchyard.yaml": file])
            dir = created
            if !arguments.contains("--config"), environment["SWITCHYARD_CONFIG"] == nil {
                args += ["--config", created.appendingPathComponent("switchyard.yaml").path]
            }
        }
        defer { if let dir { try? FileManager.default.removeItem(at: dir) } }
        let result = try Switchyard.run(args, environment: environment)
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { return (nil, nil, result) }
        return (object["settings"] as? [String: Any], object["configFile"], result)
    }

    private func entry(_ settings: [String: Any]?, _ key: String) -> (value: Any?, source: String?) {
        let entry = settings?[key] as? [String: Any]
        return (entry?["value"], entry?["source"] as? String)
    }

    @Test("the defaults: only --manifests and --node given")
    func defaults() throws {
        let (settings, _, result) = try effective(["--manifests", "examples/podinfo", "--node", "node-1"])
        #expect(result.status == 0, "\(result.stderr)")
        let expected: [(String, String)] = [
            ("mode", "node"), ("identityDir", "/var/lib/switchyard/identities"),
            ("trustBundle", "/etc/switchyard/trust-bundle.pem"), ("trustDomain", "cluster.local"),
            ("outboundListen", "0.0.0.0:4140"), ("inboundListen", "0.0.0.0:4143"), ("adminListen", "0.0.0.0:4191"),
            ("opaquePorts", "25,587,3306,4444,5432,6379,9300,11211"), ("logLevel", "info"), ("user", "switchyard"),
            ("meshHTTP1", "http2"),
        ]
        for (key, value) in expected {
            #expect(entry(settings, key).value as? String == value, "\(key)")
            #expect(entry(settings, key).source == "default", "\(key)")
        }
        for key in ["ingressMode", "requireMTLS", "accessLog", "manageRedirect"] {
            #expect(entry(settings, key).value as? Bool == false, "\(key)")
        }
        #expect(entry(settings, "pod").value is NSNull)
        #expect(entry(settings, "shutdownGrace").value as? Int == 10)
        #expect(entry(settings, "peerInboundPort").value as? Int == 4143)
        #expect(entry(settings, "upstreamIdleConnections").value as? Int == 1024)
        #expect((entry(settings, "threads").value as? Int ?? 0) >= 1)
        #expect(entry(settings, "threads").source == "default")
        #expect(entry(settings, "node").value as? String == "node-1")
        #expect(entry(settings, "node").source == "flag")
        #expect(settings?.count == 22)
    }

    @Test("a flag wins over a variable, a variable over the file, the file over the default")
    func precedence() throws {
        let file = """
            node: from-file
            threads: 3
            outboundListen: 127.0.0.1:14140
            ingressMode: true
            accessLog: true
            trustDomain: file.example
            """
        let (settings, _, result) = try effective(
            ["--manifests", "examples/podinfo", "--node", "from-flag", "--no-access-log"],
            environment: ["SWITCHYARD_NODE": "from-env", "SWITCHYARD_THREADS": "5", "SWITCHYARD_TRUST_DOMAIN": "env.example"],
            file: file)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(entry(settings, "node").value as? String == "from-flag")
        #expect(entry(settings, "node").source == "flag")
        #expect(entry(settings, "threads").value as? Int == 5)
        #expect(entry(settings, "threads").source == "env")
        #expect(entry(settings, "trustDomain").value as? String == "env.example")
        #expect(entry(settings, "outboundListen").value as? String == "127.0.0.1:14140")
        #expect(entry(settings, "outboundListen").source == "file")
        #expect(entry(settings, "ingressMode").value as? Bool == true)
        #expect(entry(settings, "ingressMode").source == "file")
        #expect(entry(settings, "accessLog").value as? Bool == false, "--no-access-log overrides the file")
        #expect(entry(settings, "accessLog").source == "flag")
        #expect(entry(settings, "inboundListen").source == "default")
    }

    @Test("every setting has its variable: SWITCHYARD_<UPPER_SNAKE>")
    func variables() throws {
        let environment = [
            "SWITCHYARD_MANIFESTS": "/srv/manifests", "SWITCHYARD_NODE": "node-9", "SWITCHYARD_MODE": "sidecar",
            "SWITCHYARD_POD": "test/web-0", "SWITCHYARD_IDENTITY_DIR": "/srv/ids", "SWITCHYARD_TRUST_BUNDLE": "/srv/bundle.pem",
            "SWITCHYARD_TRUST_DOMAIN": "example.org", "SWITCHYARD_OUTBOUND_LISTEN": "127.0.0.1:1",
            "SWITCHYARD_INBOUND_LISTEN": "[::1]:2", "SWITCHYARD_ADMIN_LISTEN": "127.0.0.1:3", "SWITCHYARD_INGRESS_MODE": "true",
            "SWITCHYARD_THREADS": "7", "SWITCHYARD_OPAQUE_PORTS": "3307-3306", "SWITCHYARD_REQUIRE_MTLS": "1",
            "SWITCHYARD_ACCESS_LOG": "yes", "SWITCHYARD_LOG_LEVEL": "DEBUG", "SWITCHYARD_SHUTDOWN_GRACE": "30s",
            "SWITCHYARD_PEER_INBOUND_PORT": "14143", "SWITCHYARD_USER": "nobody", "SWITCHYARD_MANAGE_REDIRECT": "false",
            "SWITCHYARD_UPSTREAM_IDLE_CONNECTIONS": "0", "SWITCHYARD_MESH_HTTP1": "http1",
        ]
        var bad = environment
        bad["SWITCHYARD_OPAQUE_PORTS"] = "3306-3307,25"
        let (settings, _, result) = try effective([], environment: bad)
        #expect(result.status == 0, "\(result.stderr)")
        for key in (settings ?? [:]).keys {
            #expect(entry(settings, key).source == "env", "\(key)")
        }
        #expect(entry(settings, "mode").value as? String == "sidecar")
        #expect(entry(settings, "pod").value as? String == "test/web-0")
        #expect(entry(settings, "inboundListen").value as? String == "[::1]:2")
        #expect(entry(settings, "opaquePorts").value as? String == "25,3306-3307")
        #expect(entry(settings, "requireMTLS").value as? Bool == true)
        #expect(entry(settings, "accessLog").value as? Bool == true)
        #expect(entry(settings, "logLevel").value as? String == "debug")
        #expect(entry(settings, "shutdownGrace").value as? Int == 30)
        #expect(entry(settings, "peerInboundPort").value as? Int == 14143)
        #expect(entry(settings, "upstreamIdleConnections").value as? Int == 0)
        #expect(entry(settings, "meshHTTP1").value as? String == "http1")
        #expect(entry(settings, "user").value as? String == "nobody")

        // The range written backwards is an error naming the variable.
        let inverted = try effective([], environment: environment).result
        #expect(inverted.status == 1)
        #expect(inverted.stderr.contains(#"SWITCHYARD_OPAQUE_PORTS "3307-3306""#), "\(inverted.stderr)")
    }

    @Test("the file: camelCase keys, ports as a list, null as unset, paths relative to the file")
    func file() throws {
        let file = """
            manifests: manifests
            node: node-2
            identityDir: ../ids
            trustBundle: /abs/bundle.pem
            opaquePorts: [25, "3306-3307", 8080]
            pod: ~
            requireMTLS: true
            shutdownGrace: 0
            meshHTTP1: http1
            """
        let (settings, configFile, result) = try effective([], file: file)
        #expect(result.status == 0, "\(result.stderr)")
        let path = try #require(configFile as? String)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        #expect(entry(settings, "manifests").value as? String == dir.appendingPathComponent("manifests").path)
        #expect(entry(settings, "identityDir").value as? String == dir.deletingLastPathComponent().appendingPathComponent("ids").path)
        #expect(entry(settings, "trustBundle").value as? String == "/abs/bundle.pem")
        #expect(entry(settings, "opaquePorts").value as? String == "25,3306-3307,8080")
        #expect(entry(settings, "pod").value is NSNull)
        #expect(entry(settings, "pod").source == "default")
        #expect(entry(settings, "requireMTLS").value as? Bool == true)
        #expect(entry(settings, "shutdownGrace").value as? Int == 0)
        #expect(entry(settings, "meshHTTP1").value as? String == "http1")
        #expect(entry(settings, "meshHTTP1").source == "file")
    }

    @Test("the file is --config, else SWITCHYARD_CONFIG")
    func whichFile() throws {
        let dir = try Switchyard.manifests(["a.yaml": "node: a\nmanifests: /m\n", "b.yaml": "node: b\nmanifests: /m\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.yaml").path, b = dir.appendingPathComponent("b.yaml").path
        let byVariable = try effective([], environment: ["SWITCHYARD_CONFIG": b], file: nil)
        #expect(entry(byVariable.settings, "node").value as? String == "b")
        #expect(byVariable.configFile as? String == b)
        let byFlag = try effective(["--config", a], environment: ["SWITCHYARD_CONFIG": b], file: nil)
        #expect(entry(byFlag.settings, "node").value as? String == "a")
        #expect(byFlag.configFile as? String == a)
    }

    @Test("every bad value is an error naming where it was written, and all are reported at once")
    func errorsNameTheirSource() throws {
        let result = try effective(
            ["--manifests", "m", "--node", "n", "--outbound-listen", "1.2.3:4"],
            environment: ["SWITCHYARD_THREADS": "x"],
            file: "adminListen: localhost:4191\nlogLevel: loud\n").result
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(#"error: --outbound-listen "1.2.3:4": not an IP address"#), "\(result.stderr)")
        #expect(result.stderr.contains(#"error: SWITCHYARD_THREADS "x": must be a whole number"#))
        #expect(result.stderr.contains(#"switchyard.yaml: adminListen "localhost:4191": not an IP address"#))
        #expect(result.stderr.contains(#"switchyard.yaml: logLevel "loud": must be one of trace, debug, info"#))
    }

    @Test("bad values of each setting", arguments: [
        (["--mode", "edge"], #"--mode "edge": must be one of node, sidecar"#),
        (["--pod", "web"], #"--pod "web": must be NAMESPACE/NAME"#),
        (["--pod", "a/b/c"], #"--pod "a/b/c": must be NAMESPACE/NAME"#),
        (["--trust-domain", "Cluster.Local"], #"--trust-domain "Cluster.Local": not a DNS domain"#),
        (["--inbound-listen", "0.0.0.0"], #"--inbound-listen "0.0.0.0": has no port"#),
        (["--admin-listen", "::1:4191"], #"--admin-listen "::1:4191": put an IPv6 address between brackets"#),
        (["--admin-listen", "0.0.0.0:65536"], #"--admin-listen "0.0.0.0:65536": the port must be"#),
        (["--threads", "0"], #"--threads "0": must be a whole number of threads from 1 to 1024"#),
        (["--opaque-ports", "25,,587"], #"--opaque-ports "25,,587": item 2 is empty"#),
        (["--opaque-ports", "70000"], #"--opaque-ports "70000": item 1 "70000": ports are 1-65535"#),
        (["--log-level", "verbose"], #"--log-level "verbose": must be one of"#),
        (["--shutdown-grace=-1"], #"--shutdown-grace "-1": must be a whole number of seconds"#),
        (["--shutdown-grace", "1.5"], #"--shutdown-grace "1.5": must be a whole number of seconds"#),
        (["--peer-inbound-port", "0"], #"--peer-inbound-port "0": must be a port from 1 to 65535"#),
        (["--upstream-idle-connections=-1"], #"--upstream-idle-connections "-1": must be a whole number of connections from 0 to 65536"#),
        (["--mesh-http1", "h2"], #"--mesh-http1 "h2": must be one of http2, http1"#),
        (["--mesh-http1", "HTTP1"], #"--mesh-http1 "HTTP1": must be one of http2, http1"#),
        (["--identity-dir", ""], #"--identity-dir "": must not be empty"#),
        (["--node", "node 1"], #"--node "node 1": must be a Kubernetes object name"#),
        (["--user", "a:b"], #"--user "a:b": must be a user name"#),
        (["--outbound-listen", "127.0.0.1:7000", "--inbound-listen", "127.0.0.1:7000"],
         "--inbound-listen 127.0.0.1:7000 is also --outbound-listen"),
    ])
    func badValues(arguments: [String], message: String) throws {
        let result = try effective(["--manifests", "m", "--node", "n"] + arguments).result
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: " + message), "\(result.stderr)")
    }

    @Test("--mesh-http1: http2 by default, http1 from the flag over the variable and the file; bad values name their source")
    func meshHTTP1() throws {
        let byFlag = try effective(["--manifests", "m", "--node", "n", "--mesh-http1", "http1"],
                                   environment: ["SWITCHYARD_MESH_HTTP1": "http2"], file: "meshHTTP1: http2\n")
        #expect(byFlag.result.status == 0, "\(byFlag.result.stderr)")
        #expect(entry(byFlag.settings, "meshHTTP1").value as? String == "http1")
        #expect(entry(byFlag.settings, "meshHTTP1").source == "flag")
        let byVariable = try effective(["--manifests", "m", "--node", "n"],
                                       environment: ["SWITCHYARD_MESH_HTTP1": "http1"], file: "meshHTTP1: http2\n")
        #expect(entry(byVariable.settings, "meshHTTP1").value as? String == "http1")
        #expect(entry(byVariable.settings, "meshHTTP1").source == "env")

        let bad = try effective(["--manifests", "m", "--node", "n"], environment: ["SWITCHYARD_MESH_HTTP1": "yes"]).result
        #expect(bad.status == 1)
        #expect(bad.stderr.contains(#"error: SWITCHYARD_MESH_HTTP1 "yes": must be one of http2, http1"#), "\(bad.stderr)")
        let badFile = try effective(["--manifests", "m", "--node", "n"], file: "meshHTTP1: http3\n").result
        #expect(badFile.status == 1)
        #expect(badFile.stderr.contains(#"switchyard.yaml: meshHTTP1 "http3": must be one of http2, http1"#), "\(badFile.stderr)")
    }

    @Test("bad switch values in variables and in the file")
    func badSwitches() throws {
        let result = try effective(["--manifests", "m", "--node", "n"], environment: ["SWITCHYARD_INGRESS_MODE": "maybe"],
                                   file: "requireMTLS: sometimes\n").result
        #expect(result.status == 1)
        #expect(result.stderr.contains(#"SWITCHYARD_INGRESS_MODE "maybe": must be true or false"#), "\(result.stderr)")
        #expect(result.stderr.contains(#"switchyard.yaml: requireMTLS "sometimes": must be true or false"#))
    }

    @Test("--manifests and --node are required, from any source")
    func required() throws {
        let result = try effective([]).result
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: --manifests is required (or SWITCHYARD_MANIFESTS"), "\(result.stderr)")
        #expect(result.stderr.contains("error: --node is required (or SWITCHYARD_NODE"))
    }

    @Test("sidecar mode needs --pod")
    func sidecarNeedsPod() throws {
        let missing = try effective(["--manifests", "m", "--node", "n"], environment: ["SWITCHYARD_MODE": "sidecar"]).result
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("sidecar mode (SWITCHYARD_MODE) needs the pod it serves: --pod NAMESPACE/NAME"),
                "\(missing.stderr)")
        let given = try effective(["--manifests", "m", "--node", "n", "--mode", "sidecar", "--pod", "test/web-0"])
        #expect(given.result.status == 0, "\(given.result.stderr)")
        #expect(entry(given.settings, "pod").value as? String == "test/web-0")
    }

    @Test("settings files that cannot be used", arguments: [
        ("threds: 2\n", #"threds: unknown setting (did you mean "threads"?)"#),
        ("outbound-listen: 0.0.0.0:1\n", #"outbound-listen: unknown setting (did you mean "outboundListen"?)"#),
        ("config: /x\n", "config: unknown setting (the settings file is named with --config or SWITCHYARD_CONFIG)"),
        ("node: [a, b]\n", "node: expected a single value, found a sequence"),
        ("- node\n", "expected a mapping of settings (key: value), found a sequence"),
        ("node: a\nnode: b\n", "not valid YAML"),
        ("node: {a\n", "not valid YAML"),
    ])
    func badFiles(file: String, message: String) throws {
        let result = try effective(["--manifests", "m", "--node", "n"], file: file).result
        #expect(result.status == 1)
        #expect(result.stderr.contains("switchyard.yaml: " + message), "\(result.stderr)")
    }

    @Test("a settings file named but missing is an error")
    func missingFile() throws {
        let result = try effective(["--manifests", "m", "--node", "n", "--config", "/nonexistent/sy.yaml"], file: nil).result
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: /nonexistent/sy.yaml: cannot read the settings file: no such file"), "\(result.stderr)")
        #expect(!result.stderr.contains("is required"))
    }

    @Test("an unknown SWITCHYARD_ variable is a note, not an error")
    func unknownVariable() throws {
        let (settings, _, result) = try effective(["--manifests", "m", "--node", "n"], environment: ["SWITCHYARD_NOED": "x"])
        #expect(result.status == 0)
        #expect(settings != nil)
        #expect(result.stderr.contains("SWITCHYARD_NOED is not a setting; ignored"))
    }

    @Test("a command line ArgumentParser cannot parse exits 64")
    func unparseable() throws {
        let unknown = try Switchyard.run(["run", "--manifests", "m", "--node", "n", "--bogus"], environment: [:])
        #expect(unknown.status == 64)
        let missingValue = try Switchyard.run(["run", "--node"], environment: [:])
        #expect(missingValue.status == 64)
    }
}
