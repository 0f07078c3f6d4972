import Foundation

/// One HTTP response as curl printed it (`-i`).
struct HTTPResult: CustomStringConvertible, Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var description: String {
        "HTTP \(status)\n" + headers.map { "\($0.name): \($0.value)\n" }.joined() + "\n" + body
    }
}

/// Runs `curl` as a pod would, from the pod's IP (`--interface`).
enum Curl {
    /// `curl -sS -i` with `arguments`; the responses it printed, in order (1xx interim heads dropped).
    static func run(_ arguments: [String], dir: URL, timeout: Double = 30) async throws -> (responses: [HTTPResult], result: CommandResult) {
        let result = try await ChildProcess.run(
            "/usr/bin/curl", ["-sS", "-i", "--max-time", String(Int(timeout))] + arguments,
            outputDir: dir, label: "curl", timeout: timeout + 10)
        return (parse(result.stdout), result)
    }

    /// One request; throws when curl failed or printed no response.
    static func request(_ url: String, from source: String?, headers: [String] = [], extra: [String] = [],
                        dir: URL, timeout: Double = 30) async throws -> HTTPResult {
        let args = (source.map { ["--interface", $0] } ?? []) + headers.flatMap { ["-H", $0] } + extra + [url]
        let (responses, result) = try await run(args, dir: dir, timeout: timeout)
        guard result.status == 0, let response = responses.last else {
            throw ChildProcessError(description: "curl \(args.joined(separator: " ")) failed: \(result)")
        }
        return response
    }

    /// Splits `-i` output into responses, using Content-Length to find where each body ends.
    static func parse(_ text: String) -> [HTTPResult] {
        var results: [HTTPResult] = []
        var rest = Substring(text)
        while rest.hasPrefix("HTTP/") {
            guard let end = rest.range(of: "\r\n\r\n") else { break }
            let lines = rest[..<end.lowerBound].components(separatedBy: "\r\n")
            rest = rest[end.upperBound...]
            let statusFields = lines[0].split(separator: " ")
            let status = statusFields.count > 1 ? Int(statusFields[1]) ?? 0 : 0
            let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            if (100..<200).contains(status) { continue }
            var response = HTTPResult(status: status, headers: headers, body: "")
            if let length = response.header("content-length").flatMap(Int.init) {
                let bodyEnd = rest.utf8.index(rest.startIndex, offsetBy: min(length, rest.utf8.count))
                response.body = String(rest[..<bodyEnd])
                rest = rest[bodyEnd...]
            } else {
                response.body = String(rest)
                rest = ""
            }
            results.append(response)
        }
        return results
    }
}
