/// Fired once (as a user inbound event) by `TransportPrefaceDecoder` when a valid preface has
/// been read, before any byte that followed it is passed on. A handler reacting to it may
/// reshape the pipeline (HTTP/1, HTTP/2 or opaque after the decoder) or close the channel
/// (a target that is not a local meshed pod); the bytes after the preface then go through the
/// pipeline as it is by then, or nowhere if it closed.
public struct TransportPrefaceReceived: Sendable, Hashable {
    /// The preface read.
    public let preface: TransportPreface

    public init(preface: TransportPreface) {
        self.preface = preface
    }
}
