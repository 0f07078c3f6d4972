// SwitchyardProxy: the data plane.
//
// The pieces the outbound (:4140) and inbound (:4143) proxies are made of: for now the
// transport preface that follows the mTLS handshake on a mesh hop (docs/transport.md);
// listeners, protocol detection, HTTP/1, HTTP/2, pools and balancing build on it.
