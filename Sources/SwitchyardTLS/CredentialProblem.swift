/// Why a certificate, key or trust bundle on disk was not (or no longer) used.
public struct CredentialProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file or identity directory at fault.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
