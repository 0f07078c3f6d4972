import SwitchyardModel
import Testing

@Suite("HTTP tokens")
struct HTTPTokenTests {
    @Test("token characters are exactly RFC 9110's tchar")
    func tokenCharacters() {
        let tchar = Set(Array("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8))
        for byte in UInt8.min...UInt8.max {
            #expect(HTTPToken.isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test("tokens", arguments: [("x-request-id", true), ("GET", true), ("", false), ("x request", false), ("x:y", false), ("naïve", false)])
    func tokens(text: String, isToken: Bool) {
        #expect(HTTPToken.isToken(text) == isToken)
    }
}
