// SwitchyardInterception: how intercepted traffic is recognised.
//
// The original destination of a connection iptables REDIRECTed to a listener
// (SO_ORIGINAL_DST, IPv4 and IPv6), and later the iptables rule plan and its application,
// and the capabilities the daemon keeps. Only the executable runs commands or changes
// process-wide state; this module reads sockets it is handed.
//
// Addresses are typed, as in linkerd2-proxy, so the compiler catches a mix-up between them:
// `IPEndpoint` is a plain IP address and port; `OriginalDestination` is one the kernel reported
// through SO_ORIGINAL_DST (where the client meant to go); `ClientAddress` is the peer of an
// accepted connection (who is asking). See docs/interception.md.
