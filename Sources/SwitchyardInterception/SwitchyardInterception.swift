// SwitchyardInterception: how intercepted traffic is recognised.
//
// The original destination of a connection iptables REDIRECTed to a listener
// (SO_ORIGINAL_DST, IPv4 and IPv6), and later the iptables rule plan and its application,
// and the capabilities the daemon keeps. Only the executable runs commands or changes
// process-wide state; this module reads sockets it is handed.
