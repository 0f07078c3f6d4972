// SwitchyardInterception: how intercepted traffic is recognised.
//
// The original destination of a connection iptables REDIRECTed to a listener
// (SO_ORIGINAL_DST, IPv4 and IPv6), the iptables rule plan (pure) and its application with
// iptables-restore, and the capabilities the daemon keeps after dropping privileges. The
// executable decides when to apply rules or drop privileges; this module does the work.
//
// Addresses are typed, as in linkerd2-proxy, so the compiler catches a mix-up between them:
// `IPEndpoint` is a plain IP address and port; `OriginalDestination` is one the kernel reported
// through SO_ORIGINAL_DST (where the client meant to go); `ClientAddress` is the peer of an
// accepted connection (who is asking). See docs/interception.md.
