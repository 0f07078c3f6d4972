extension RunSettings {
    /// A setting's value as written, before it is parsed, and where it was written.
    struct RawValue {
        var text: String
        var source: Source
        /// How the place is named in errors: `--threads`, `SWITCHYARD_THREADS`,
        /// `/etc/switchyard/switchyard.yaml: threads`.
        var origin: String

        /// `--threads "x": <reason>`.
        func problem(_ reason: String) -> String {
            "\(origin) \"\(text)\": \(reason)"
        }
    }

    /// Every problem found in the settings, each naming its source; `switchyard run` prints
    /// them all and exits 1.
    struct Invalid: Error, CustomStringConvertible {
        var problems: [String]

        var description: String { problems.joined(separator: "\n") }
    }

    /// Why a value was refused (the parsers' error; the caller adds where the value came from).
    struct Refusal: Error {
        var reason: String

        init(_ reason: String) { self.reason = reason }
    }
}
