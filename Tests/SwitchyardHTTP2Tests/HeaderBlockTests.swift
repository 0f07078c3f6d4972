import SwitchyardHTTP2
import Testing

@Suite("HTTP2HeaderBlock")
struct HeaderBlockTests {
    @Test("fields keep their order and repeats; names are lowercased; lookups ignore case")
    func basics() {
        var block: HTTP2HeaderBlock = [":method": "GET", ":path": "/x?y=1", "X-Request-Id": "alternative", "accept": "a", "Accept": "b"]
        #expect(block.count == 5)
        #expect(block[2].name == "x-request-id")
        #expect(block.first(name: "X-REQUEST-ID") == "alternative")
        #expect(block.values(name: "accept") == ["a", "b"])
        #expect(block.method == "GET")
        #expect(block.path == "/x?y=1")
        #expect(block.status == nil)
        #expect(block.contains(name: "accept"))
        block.remove(name: "Accept")
        #expect(!block.contains(name: "accept"))
        #expect(block.count == 3)
        block.add(name: "grpc-status", value: "0")
        #expect(block.map(\.name) == [":method", ":path", "x-request-id", "grpc-status"])
        #expect(block.listSize == block.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 })
    }

    @Test("equality compares fields in order")
    func equality() {
        let a: HTTP2HeaderBlock = [":status": "200", "x": "1"]
        let b = HTTP2HeaderBlock([(name: ":status", value: "200"), (name: "X", value: "1")])
        let c: HTTP2HeaderBlock = ["x": "1", ":status": "200"]
        #expect(a == b)
        #expect(a != c)
        #expect(a.status == 200)
        #expect(HTTP2HeaderBlock().isEmpty)
    }

    @Test("non-ASCII values survive")
    func unicodeValues() {
        var block = HTTP2HeaderBlock()
        block.add(name: "x-name", value: "caf\u{e9} \u{2603}")
        #expect(block.first(name: "x-name") == "caf\u{e9} \u{2603}")
    }
}
