// SwitchyardHTTP2: an HTTP/2 codec for SwiftNIO on the system nghttp2.
//
// `HTTP2ConnectionHandler` sits on a byte channel (plain TCP, or behind `TLSHandler`) and runs
// one nghttp2 session, server or client, fed from memory. It turns the connection's bytes into
// `HTTP2Event`s (stream-level: headers, data, trailers, close, GOAWAY) fired down the pipeline,
// and takes `HTTP2Command`s (open a stream, send headers, data, trailers, reset, consume,
// GOAWAY) written into it. Flow control follows the consumer: the peer's window reopens only as
// `HTTP2Command.consume` says data was processed, and output stops while the channel is not
// writable. `docs/http2.md` describes the design, the limits and their defaults.
