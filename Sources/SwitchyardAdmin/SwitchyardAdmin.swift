// SwitchyardAdmin: what operators and systemd see of the daemon.
//
// A metrics registry whose counters, gauges and histograms cost no allocation and no lock on
// the data path, rendered as Prometheus text; the admin HTTP server (`/live`, `/ready`,
// `/metrics`, default :4191); and sd_notify written to the protocol without libsystemd.
