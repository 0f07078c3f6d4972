/// The destination ports whose connections skip protocol detection and are spliced as opaque
/// TCP from the first byte: protocols where the server speaks first (SMTP, MySQL, …), which a
/// peek at the client's bytes would only delay until the detection timeout (docs/detection.md).
///
/// Written as Linkerd writes `config.linkerd.io/opaque-ports`: a comma-separated list of ports
/// and inclusive ranges, `25,587,3306` or `8000-8010`. Kept as sorted, merged ranges, so
/// `description` is the canonical form and equal sets compare equal however they were written.
public struct OpaquePorts: Sendable, Hashable, CustomStringConvertible {
    /// Sorted, non-overlapping, non-adjacent.
    public private(set) var ranges: [ClosedRange<UInt16>]

    /// Linkerd's default opaque ports: SMTP 25 and 587, MySQL 3306, Galera 4444, PostgreSQL
    /// 5432, Redis 6379, Elasticsearch transport 9300, memcached 11211.
    public static let linkerdDefault = OpaquePorts(ports: [25, 587, 3306, 4444, 5432, 6379, 9300, 11211])

    /// No port skips detection.
    public static let none = OpaquePorts(ranges: [])

    public init(ranges: some Sequence<ClosedRange<UInt16>>) {
        var merged: [ClosedRange<UInt16>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, Int(range.lowerBound) <= Int(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    public init(ports: some Sequence<UInt16>) {
        self.init(ranges: ports.map { $0...$0 })
    }

    /// Parses `25,587,3306,8000-8010`. Spaces around items and around a range's `-` are
    /// allowed; an empty string (or only spaces) is the empty set. Every item must be a port
    /// 1–65535 in decimal or a range `low-high` with low ≤ high; empty items (`25,,587`, a
    /// trailing comma), signs, 0 and anything else are errors that name the item.
    public init(parsing text: String) throws(OpaquePortsError) {
        if text.allSatisfy({ $0 == " " || $0 == "\t" }) {
            self = .none
            return
        }
        var ranges: [ClosedRange<UInt16>] = []
        for (index, raw) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let item = Self.trimmed(raw)
            let position = index + 1
            guard !item.isEmpty else { throw .emptyItem(position: position) }
            let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            if bounds.count == 1 {
                let port = try Self.port(item, item: String(item), position: position)
                ranges.append(port...port)
            } else {
                let low = try Self.port(Self.trimmed(bounds[0]), item: String(item), position: position)
                let high = try Self.port(Self.trimmed(bounds[1]), item: String(item), position: position)
                guard low <= high else { throw .invertedRange(String(item), position: position) }
                ranges.append(low...high)
            }
        }
        self.init(ranges: ranges)
    }

    /// Whether connections to `port` skip detection.
    public func contains(_ port: UInt16) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < port {
                low = mid + 1
            } else if ranges[mid].lowerBound > port {
                high = mid
            } else {
                return true
            }
        }
        return false
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// The canonical list: `25,587,8000-8010`; empty for no ports.
    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = text.lastIndex(where: { !isSpace($0) })!
        return text[first...last]
    }

    private static func port(_ text: Substring, item: String, position: Int) throws(OpaquePortsError) -> UInt16 {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .notAPort(item, position: position)
        }
        guard let value = Int(text), value >= 1, value <= Int(UInt16.max) else {
            throw .outOfRange(item, position: position)
        }
        return UInt16(value)
    }
}

/// Why an opaque ports list was refused. `position` counts the comma-separated items from 1.
public enum OpaquePortsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing between two commas, or before or after one.
    case emptyItem(position: Int)
    /// Neither a decimal port nor `low-high` (letters, a sign, a second `-`, a missing bound).
    case notAPort(String, position: Int)
    /// A port of 0 or above 65535.
    case outOfRange(String, position: Int)
    /// `high-low`.
    case invertedRange(String, position: Int)

    public var description: String {
        switch self {
        case .emptyItem(let position):
            return "opaque ports: item \(position) is empty (expected a port or a range like 8000-8010)"
        case .notAPort(let item, let position):
            return "opaque ports: item \(position) \"\(item)\" is not a port or a range like 8000-8010"
        case .outOfRange(let item, let position):
            return "opaque ports: item \(position) \"\(item)\": ports are 1-65535"
        case .invertedRange(let item, let position):
            return "opaque ports: item \(position) \"\(item)\": the range's first port is above its last"
        }
    }
}
