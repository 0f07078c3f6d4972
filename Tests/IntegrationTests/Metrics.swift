import Foundation

/// A scrape of a daemon's `/metrics` (Prometheus text format 0.0.4).
struct Metrics: Sendable {
    struct Sample: Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample]
    var text: String

    init(text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap(Self.sample)
    }

    /// The sum of every sample of `name` whose labels include `labels`.
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }

    /// The sum of every sample of `name` whose labels satisfy `predicate`.
    func sum(_ name: String, where predicate: ([String: String]) -> Bool) -> Double {
        samples.filter { $0.name == name && predicate($0.labels) }.reduce(0) { $0 + $1.value }
    }

    /// The lines of family `name` (for failure messages).
    func lines(_ name: String) -> String {
        text.split(separator: "\n").filter { $0.hasPrefix(name) }.joined(separator: "\n")
    }

    /// `name{a="x",b="y"} 12` (label values unescaped for \\, \" and \n).
    static func sample(_ line: Substring) -> Sample? {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
              let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else {
            return Sample(name: String(series), labels: [:], value: value)
        }
        var labels: [String: String] = [:]
        var i = series.index(after: brace)
        while i < series.endIndex, series[i] != "}" {
            guard let eq = series[i...].firstIndex(of: "=") else { break }
            let key = String(series[i..<eq]).trimmingCharacters(in: [","])
            var j = series.index(eq, offsetBy: 2)  // past ="
            var value = ""
            while j < series.endIndex, series[j] != "\"" {
                if series[j] == "\\", series.index(after: j) < series.endIndex {
                    j = series.index(after: j)
                    value.append(series[j] == "n" ? "\n" : series[j])
                } else {
                    value.append(series[j])
                }
                j = series.index(after: j)
            }
            labels[key] = value
            i = series.index(after: j)
            if i < series.endIndex, series[i] == "," { i = series.index(after: i) }
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }
}
