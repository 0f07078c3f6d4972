// SwitchyardTLS: mutual TLS 1.3 on the system OpenSSL 3 (through COpenSSL), for SwiftNIO.
//
// Typed OpenSSL objects (certificates, keys, trust bundles), immutable client and server
// contexts built from a typed configuration, a ChannelDuplexHandler over memory BIOs, the
// credential store that loads workload identities from disk and rotates them without
// touching established connections, and the dev PKI behind `switchyard certs`.
// No swift-nio-ssl, no BoringSSL.
