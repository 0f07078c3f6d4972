#!/usr/bin/env bash
# The mesh benchmark behind `make bench`: the same mesh work through Switchyard, nginx and
# HAProxy on loopback, one system at a time, alternating rounds, plus the client straight to
# the backend as the ceiling:
#
#   client -> outbound proxy (routes on x-request-id: the tutorial's HTTPRoute,
#             examples/podinfo/backend-router.yaml; alternative -> B, else A)
#          -> mTLS 1.3, P-256 certificates from `switchyard certs init/issue`, pooled, kept alive
#          -> inbound proxy (client certificate required; the outbound checks the inbound's SAN)
#          -> a static nginx backend (server A on $net.20:9898, server B on $net.30:9898)
#
#   - Switchyard: two daemons in node mode with --ingress-mode (node-1 on $net.2, node-2 on
#     $net.3), --threads 1, --log-level warning; the client sends l5d-dst-override.
#   - nginx: an outbound nginx ($net.4:4140; `map $http_x_request_id` picks the upstream and the
#     identity it verifies) and an inbound nginx ($net.5:4143, the backends' certificates chosen
#     by SNI, ssl_verify_client on). One worker each, access logs off.
#   - HAProxy: the same as two haproxy processes ($net.6:4140 -> $net.7:4143), nbthread 1.
#   Every proxy, server and upstream keeps connections for 10^6 requests (nginx's default of
#   1,000 would add handshakes to nginx's figures only).
#
# Before measuring, each system must route `x-request-id: alternative` to B ("B backend") and
# anything else to A, and its inbound must refuse a TLS client without a certificate.
#
# Figures (each the median of the rounds, and as a ratio to nginx from the same run):
#   - requests/s at saturation: wrk -t 2 -c 50 -d $seconds, keep-alive;
#   - latency p50/p99/p99.9 at a fixed rate well below saturation: h2load --h1 -c 10
#     --rps $rate (per client) -D $seconds, from its --log-file;
#   - CPU microseconds per request: utime + stime of the proxy processes (/proc/PID/stat)
#     over the saturation run, divided by wrk's request count;
#   - resident memory (VmRSS, all processes of both proxies) idle, with $conns open keep-alive
#     client connections that each made one request (bench/mesh/hold.py), and the slope;
#   - new mTLS handshakes per second with connection reuse off: a second outbound of each
#     system that opens a new mTLS connection (a full handshake: no session resumption) to
#     the inbound for every request (Switchyard --upstream-idle-connections 0 --mesh-http1 http1,
#     as otherwise its HTTP/1 requests ride shared HTTP/2 connections; nginx without upstream
#     keepalive, proxy_ssl_session_reuse off; HAProxy http-reuse never, http-server-close,
#     no-ssl-reuse),
#     driven by wrk -c 50 keep-alive clients: requests/s = handshakes/s; CPU µs per handshake;
#   - HTTP/2 requests/s, Switchyard and HAProxy only (nginx does not speak HTTP/2 upstream):
#     h2load -c 10 -m 10 with prior knowledge to the outbound, HTTP/2 over the mTLS hop, h2c
#     to the backend (nginx `listen ... http2` on port 9899 of the same pods).
#
# Usage: bench/mesh/run.sh SWITCHYARD_BINARY [RESULTS_DIR]   (RESULTS_DIR: bench/results)
# Settings: SY_BENCH_THREADS (1: one worker/thread per proxy; default: each system's default,
# Switchyard one thread per CPU, nginx worker_processes auto, HAProxy nbthread unset),
# SY_BENCH_ROUNDS (3), SY_BENCH_SECONDS (10), SY_BENCH_RATE (50 requests/s per
# client, 10 clients), SY_BENCH_CONNECTIONS (1000), SY_BENCH_NET (127.0.40: the loopback /24
# every listener uses; pick another if it is busy). Needs root only to raise the open-files
# limit. Everything it starts is stopped, and its /tmp/sy-mesh-bench.* directory removed, on
# exit, failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

switchyard=${1:?usage: bench/mesh/run.sh SWITCHYARD_BINARY [RESULTS_DIR]}
switchyard=$(readlink -f "$switchyard")
results_dir=${2:-bench/results}
rounds=${SY_BENCH_ROUNDS:-3}
seconds=${SY_BENCH_SECONDS:-10}
rate=${SY_BENCH_RATE:-50}
conns=${SY_BENCH_CONNECTIONS:-1000}
net=${SY_BENCH_NET:-127.0.40}
threads=${SY_BENCH_THREADS:-1}
case $threads in
  1) sy_threads=(--threads 1) ngx_workers=1 hap_threads="nbthread 1" series="one worker/thread per proxy" ;;
  default) sy_threads=() ngx_workers=auto hap_threads="" series="each proxy's default threads/workers ($(nproc) CPUs)" ;;
  *) echo "mesh-bench: SY_BENCH_THREADS is 1 or default, not $threads" >&2; exit 1 ;;
esac
for tool in nginx haproxy wrk h2load curl openssl python3 ss awk; do
  command -v $tool >/dev/null || { echo "mesh-bench: needs $tool (make deps / make bench installs it)" >&2; exit 1; }
done
[ -x "$switchyard" ] || { echo "mesh-bench: $switchyard is not an executable" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/sy-mesh-bench.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "mesh-bench: $*" >&2; exit 1; }
log() { echo "mesh-bench: $*"; }

# --- addresses ---------------------------------------------------------------------------------
node1=$net.2 node2=$net.3 ngx_out=$net.4 ngx_in=$net.5 hap_out=$net.6 hap_in=$net.7 node1_fresh=$net.8
frontend_ip=$net.10 backend_a=$net.20 backend_b=$net.30
for a in $node1:4140 $node1:4143 $node1:4191 $node2:4140 $node2:4143 $node2:4191 $ngx_out:4140 \
  $ngx_in:4143 $hap_out:4140 $hap_in:4143 $backend_a:9898 $backend_b:9898 $node1_fresh:4140 \
  $node1_fresh:4143 $node1_fresh:4191 $ngx_out:4141 $hap_out:4141 $hap_out:4142 $hap_in:4144 \
  $backend_a:9899 $backend_b:9899; do
  ss -Hltn "src ${a%:*} and sport = :${a#*:}" | grep -q . && die "$a is in use (set SY_BENCH_NET to a free 127.x.y)"
done
declare -A url=(
  [direct]="http://$backend_a:9898/" [switchyard]="http://$node1:4140/"
  [nginx]="http://$ngx_out:4140/" [haproxy]="http://$hap_out:4140/")
# the outbounds with connection reuse off (the handshake series)
declare -A fresh_url=([switchyard]="http://$node1_fresh:4140/" [nginx]="http://$ngx_out:4141/" [haproxy]="http://$hap_out:4141/")
dst_override='l5d-dst-override: backend-a-podinfo.test:9898'
dst_override_h2='l5d-dst-override: backend-a-h2.test:9899'
declare -A h2_url=([switchyard]="http://$node1:4140/" [haproxy]="http://$hap_out:4142/")

# --- PKI: switchyard certs --------------------------------------------------------------------
td=serviceaccount.identity.linkerd.cluster.local
id_frontend=frontend.test.$td id_a=backend-a.test.$td id_b=backend-b.test.$td
"$switchyard" certs init --out "$work/ca" >"$work/certs.log" 2>&1 || { cat "$work/certs.log" >&2; die "certs init failed"; }
bundle=$work/ca/trust-bundle.pem
for sa in frontend backend-a backend-b; do
  "$switchyard" certs issue --ca "$work/ca" --identity "$sa.test.$td" --out "$work/id/test/$sa" >>"$work/certs.log" 2>&1 ||
    { cat "$work/certs.log" >&2; die "certs issue $sa failed"; }
  cat "$work/id/test/$sa/tls.crt" "$work/id/test/$sa/tls.key" >"$work/$sa.pem"   # HAProxy's crt
done
openssl x509 -noout -text -in "$work/id/test/frontend/tls.crt" | grep -q "ASN1 OID: prime256v1" || die "workload keys are not P-256"

# --- the backend: static nginx, A and B ------------------------------------------------------------
# nginx_conf NAME BODY: an nginx.conf for one instance (one worker, no access log, its own temp
# paths and pid) with BODY inside http {}; start_nginx NAME: run it in the foreground.
nginx_conf() {
  local d=$work/nginx-$1 workers=$ngx_workers
  [ "$1" = backend ] && workers=1
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<EOF
worker_processes $workers;
worker_rlimit_nofile 16384;
user root;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server_names_hash_bucket_size 128;
$2
}
EOF
}
start_nginx() {
  nginx -t -q -c "$work/nginx-$1/nginx.conf" -p "$work/nginx-$1" 2>"$work/nginx-$1/test.log" ||
    { cat "$work/nginx-$1/test.log" >&2; die "nginx $1: bad configuration"; }
  nginx -c "$work/nginx-$1/nginx.conf" -p "$work/nginx-$1" -g 'daemon off;' &
  pids+=($!)
  declare -g "pid_nginx_$1=$!"
}
nginx_conf backend "
  default_type text/plain;
  server { listen $backend_a:9898; location / { return 200 'A backend\n'; } }
  server { listen $backend_b:9898; location / { return 200 'B backend\n'; } }
  http2_max_requests 1000000;
  server { listen $backend_a:9899 http2; location / { return 200 'A backend\n'; } }
  server { listen $backend_b:9899 http2; location / { return 200 'B backend\n'; } }"
start_nginx backend

# --- Switchyard: two node-mode daemons, ingress mode -----------------------------------------------
m=$work/manifests
mkdir -p "$m"
cp examples/podinfo/namespace.yaml examples/podinfo/backend-router.yaml "$m/"
cat >"$m/nodes.yaml" <<EOF
apiVersion: v1
kind: Node
metadata: {name: node-1}
status: {addresses: [{type: InternalIP, address: $node1}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
status: {addresses: [{type: InternalIP, address: $node2}]}
EOF
workload() { # NAME SERVICE_ACCOUNT NODE IP
  cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: test, labels: {app: $1}}
spec:
  serviceAccountName: $2
  nodeName: $3
  containers: [{name: app, image: nginx, ports: [{name: http, containerPort: 9898, protocol: TCP}, {name: h2c, containerPort: 9899, protocol: TCP}]}]
status: {phase: Running, podIP: $4, podIPs: [{ip: $4}], conditions: [{type: Ready, status: "True"}]}
EOF
}
service() { # NAME SELECTOR [PORT TARGET]
  cat <<EOF
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: test}
spec:
  selector: {app: $2}
  ports: [{name: http, port: ${3:-9898}, protocol: TCP, targetPort: ${4:-http}}]
EOF
}
{
  workload frontend frontend node-1 "$frontend_ip"
  workload backend-a backend-a node-2 "$backend_a"; service backend-a-podinfo backend-a
  workload backend-b backend-b node-2 "$backend_b"; service backend-b-podinfo backend-b
  service backend-a-h2 backend-a 9899 h2c; service backend-b-h2 backend-b 9899 h2c
} >"$m/workloads.yaml"
# the tutorial's route again, on the HTTP/2 Services
sed -e 's/backend-b-podinfo/backend-b-h2/; s/backend-a-podinfo/backend-a-h2/g; s/9898/9899/g; s/name: backend-router/name: backend-router-h2/' \
  examples/podinfo/backend-router.yaml >"$m/backend-router-h2.yaml"
"$switchyard" check --manifests "$m" >"$work/check.txt" 2>&1 || { cat "$work/check.txt" >&2; die "the bench manifests do not check"; }
start_switchyard() { # NODE IP NAME [FLAGS...]
  "$switchyard" run --config /dev/null --manifests "$m" --node "$1" --pod test/frontend \
    --identity-dir "$work/id" --trust-bundle "$bundle" --outbound-listen "$2:4140" \
    --inbound-listen "$2:4143" --admin-listen "$2:4191" --ingress-mode --user root "${sy_threads[@]}" \
    --log-level warning "${@:4}" 2>"$work/switchyard-$3.log" &
  pids+=($!)
  declare -g "pid_sy_$3=$!"
}
start_switchyard node-1 "$node1" 1
start_switchyard node-2 "$node2" 2
# node-1 again, with connection reuse off: every request a new mTLS connection to node-2 (HTTP/1
# between the proxies: with the default --mesh-http1 http2 requests share HTTP/2 connections)
start_switchyard node-1 "$node1_fresh" fresh --upstream-idle-connections 0 --mesh-http1 http1

# --- nginx as the mesh -----------------------------------------------------------------------------
f=$work/id/test/frontend
nginx_conf out "
  map \$http_x_request_id \$mesh_upstream { default mesh_a; alternative mesh_b; }
  map \$http_x_request_id \$mesh_identity { default $id_a; alternative $id_b; }
  upstream mesh_a { server $ngx_in:4143; keepalive 64; keepalive_requests 1000000; keepalive_timeout 300s; }
  upstream mesh_b { server $ngx_in:4143; keepalive 64; keepalive_requests 1000000; keepalive_timeout 300s; }
  upstream fresh_a { server $ngx_in:4143; }
  upstream fresh_b { server $ngx_in:4143; }
  map \$http_x_request_id \$fresh_upstream { default fresh_a; alternative fresh_b; }
  server {
    listen $ngx_out:4141 backlog=4096;
    location / {
      proxy_pass https://\$fresh_upstream;
      proxy_http_version 1.1;
      proxy_set_header Host \$mesh_identity;
      proxy_ssl_certificate $f/tls.crt;
      proxy_ssl_certificate_key $f/tls.key;
      proxy_ssl_trusted_certificate $bundle;
      proxy_ssl_verify on;
      proxy_ssl_verify_depth 3;
      proxy_ssl_name \$mesh_identity;
      proxy_ssl_server_name on;
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_session_reuse off;
    }
  }
  server {
    listen $ngx_out:4140 backlog=4096;
    location / {
      proxy_pass https://\$mesh_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      # nginx answers 421 when Host names another server than the SNI did (client certificates on)
      proxy_set_header Host \$mesh_identity;
      proxy_ssl_certificate $f/tls.crt;
      proxy_ssl_certificate_key $f/tls.key;
      proxy_ssl_trusted_certificate $bundle;
      proxy_ssl_verify on;
      proxy_ssl_verify_depth 3;
      proxy_ssl_name \$mesh_identity;
      proxy_ssl_server_name on;
      proxy_ssl_protocols TLSv1.3;
    }
  }"
inbound_server() { # IDENTITY SA BACKEND_UPSTREAM [default_server]
  echo "
  server {
    listen $ngx_in:4143 ssl ${4:-};
    server_name $1;
    ssl_certificate $work/id/test/$2/tls.crt;
    ssl_certificate_key $work/id/test/$2/tls.key;
    ssl_client_certificate $bundle;
    ssl_verify_client on;
    ssl_verify_depth 3;
    ssl_protocols TLSv1.3;
    location / { proxy_pass http://$3; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
  }"
}
nginx_conf in "
  upstream app_a { server $backend_a:9898; keepalive 64; keepalive_requests 1000000; }
  upstream app_b { server $backend_b:9898; keepalive 64; keepalive_requests 1000000; }
  $(inbound_server "$id_a" backend-a app_a "default_server backlog=4096")
  $(inbound_server "$id_b" backend-b app_b)"
start_nginx out
start_nginx in

# --- HAProxy as the mesh ---------------------------------------------------------------------------
haproxy_cfg() { # NAME BODY
  cat >"$work/haproxy-$1.cfg" <<EOF
global
  $hap_threads
  maxconn 8000
  ssl-server-verify required
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  maxconn 8000
$2
EOF
  haproxy -c -q -f "$work/haproxy-$1.cfg" >"$work/haproxy-$1.check" 2>&1 || { cat "$work/haproxy-$1.check" >&2; die "haproxy $1: bad configuration"; }
  haproxy -db -f "$work/haproxy-$1.cfg" 2>"$work/haproxy-$1.log" &
  pids+=($!)
  declare -g "pid_haproxy_$1=$!"
}
haproxy_cfg out "
frontend outbound
  bind $hap_out:4140
  use_backend mesh_b if { req.hdr(x-request-id) -m str alternative }
  default_backend mesh_a
backend mesh_a
  http-reuse always
  server in $hap_in:4143 ssl verify required ca-file $bundle crt $work/frontend.pem sni str($id_a) verifyhost $id_a ssl-min-ver TLSv1.3
backend mesh_b
  http-reuse always
  server in $hap_in:4143 ssl verify required ca-file $bundle crt $work/frontend.pem sni str($id_b) verifyhost $id_b ssl-min-ver TLSv1.3
frontend outbound_h2
  bind $hap_out:4142 proto h2
  use_backend mesh_b_h2 if { req.hdr(x-request-id) -m str alternative }
  default_backend mesh_a_h2
backend mesh_a_h2
  http-reuse always
  server in $hap_in:4144 ssl verify required ca-file $bundle crt $work/frontend.pem sni str($id_a) verifyhost $id_a ssl-min-ver TLSv1.3 alpn h2
backend mesh_b_h2
  http-reuse always
  server in $hap_in:4144 ssl verify required ca-file $bundle crt $work/frontend.pem sni str($id_b) verifyhost $id_b ssl-min-ver TLSv1.3 alpn h2
frontend outbound_fresh
  bind $hap_out:4141
  use_backend fresh_b if { req.hdr(x-request-id) -m str alternative }
  default_backend fresh_a
backend fresh_a
  http-reuse never
  option http-server-close
  server in $hap_in:4143 ssl verify required ca-file $bundle crt $work/frontend.pem sni str($id_a) verifyhost $id_a ssl-min-ver TLSv1.3 no-ssl-reuse
backend fresh_b
  http-reuse never
  option http-server-close
  server in $hap_in:4143 ssl verify required ca-file $bundle crt $work/frontend.pem sni str($id_b) verifyhost $id_b ssl-min-ver TLSv1.3 no-ssl-reuse"
haproxy_cfg in "
frontend inbound
  bind $hap_in:4143 ssl crt $work/backend-a.pem crt $work/backend-b.pem verify required ca-file $bundle ssl-min-ver TLSv1.3
  use_backend app_b if { ssl_fc_sni -m str $id_b }
  default_backend app_a
backend app_a
  http-reuse always
  server a $backend_a:9898
backend app_b
  http-reuse always
  server b $backend_b:9898
frontend inbound_h2
  bind $hap_in:4144 ssl crt $work/backend-a.pem crt $work/backend-b.pem verify required ca-file $bundle ssl-min-ver TLSv1.3 alpn h2
  use_backend app_b_h2 if { ssl_fc_sni -m str $id_b }
  default_backend app_a_h2
backend app_a_h2
  http-reuse always
  server a $backend_a:9899 proto h2
backend app_b_h2
  http-reuse always
  server b $backend_b:9899 proto h2"

# --- wait until everything listens and is ready -----------------------------------------------------
for i in $(seq 200); do
  ok=1
  for a in $backend_a:9898 $backend_b:9898 $ngx_out:4140 $ngx_in:4143 $hap_out:4140 $hap_in:4143 $ngx_out:4141 $hap_out:4141 \
    $hap_out:4142 $hap_in:4144 $backend_a:9899 $backend_b:9899; do
    ss -Hltn "src ${a%:*} and sport = :${a#*:}" | grep -q . || ok=
  done
  for n in $node1 $node2 $node1_fresh; do curl -sf -o /dev/null "http://$n:4191/ready" || ok=; done
  [ -n "$ok" ] && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { tail -n 5 "$work"/*.log >&2 || true; die "a server exited at start"; }; done
  [ "$i" -lt 200 ] || { curl -s "http://$node1:4191/ready" "http://$node2:4191/ready" >&2 || true; die "not ready after 20 s"; }
  sleep 0.1
done
# processes of each system (nginx: master and worker of each instance), for CPU and memory
children() { local p; for p in "$@"; do echo "$p"; cat "/proc/$p/task/$p/children" 2>/dev/null | tr ' ' '\n' | grep . || true; done; }
declare -A procs=(
  [direct]="$(children "$pid_nginx_backend" | xargs)"
  [switchyard]="$(children "$pid_sy_1" "$pid_sy_2" | xargs)"
  [switchyard_fresh]="$(children "$pid_sy_fresh" "$pid_sy_2" | xargs)"
  [nginx]="$(children "$pid_nginx_out" "$pid_nginx_in" | xargs)"
  [haproxy]="$(children "$pid_haproxy_out" "$pid_haproxy_in" | xargs)")
log "up: ${!procs[*]}; processes: $(for s in switchyard nginx haproxy; do printf '%s [%s] ' "$s" "${procs[$s]}"; done)"

# --- check the work ------------------------------------------------------------------------------
systems=(direct switchyard nginx haproxy)
for s in switchyard nginx haproxy; do
  a=$(curl -sS --max-time 5 -H "$dst_override" "${url[$s]}" 2>&1 || true)
  b=$(curl -sS --max-time 5 -H "$dst_override" -H 'x-request-id: alternative' "${url[$s]}" 2>&1 || true)
  [ "$a" = "A backend" ] || die "$s: a plain request got '$a', not 'A backend'"
  [ "$b" = "B backend" ] || die "$s: x-request-id: alternative got '$b', not 'B backend'"
  a=$(curl -sS --max-time 5 -H "$dst_override" "${fresh_url[$s]}" 2>&1 || true)
  b=$(curl -sS --max-time 5 -H "$dst_override" -H 'x-request-id: alternative' "${fresh_url[$s]}" 2>&1 || true)
  [ "$a" = "A backend" ] && [ "$b" = "B backend" ] || die "$s without reuse: got '$a' and '$b'"
done
declare -A inbound=([switchyard]=$node2:4143 [nginx]=$ngx_in:4143 [haproxy]=$hap_in:4143)
for s in switchyard nginx haproxy; do
  # TLS 1.3, the bundle trusted and the server's name checked, but no client certificate.
  # Refused: the handshake or the connection fails, or (nginx) a 400 without the backend's answer.
  code=$(curl -sS --max-time 5 --tlsv1.3 --cacert "$bundle" --resolve "$id_a:4143:${inbound[$s]%:*}" \
    -o "$work/nocert.body" -w '%{http_code}' "https://$id_a:4143/" 2>"$work/nocert.err") && rc=0 || rc=$?
  if [ "$rc" = 0 ]; then
    { [ "$code" -ge 400 ] && ! grep -q backend "$work/nocert.body"; } ||
      die "$s: the inbound answered a client without a certificate: HTTP $code $(head -c 200 "$work/nocert.body")"
    how="HTTP $code $(grep -o '<center>[^<]*</center>' "$work/nocert.body" | sed -n '2s/<[^>]*>//gp')"
  else how=$(head -1 "$work/nocert.err"); fi
  log "$s: x-request-id routes to A and B; the inbound refuses a client without a certificate ($how)"
done
plain=$(curl -sS --max-time 5 -H "Host: backend-a-podinfo.test:9898" "http://$node2:4143/" 2>&1 || true)
for s in switchyard haproxy; do
  a=$(curl -sS --max-time 5 --http2-prior-knowledge -H "$dst_override_h2" "${h2_url[$s]}" 2>&1 || true)
  b=$(curl -sS --max-time 5 --http2-prior-knowledge -H "$dst_override_h2" -H 'x-request-id: alternative' "${h2_url[$s]}" 2>&1 || true)
  [ "$a" = "A backend" ] && [ "$b" = "B backend" ] || die "$s over HTTP/2: got '$a' and '$b'"
done
log "switchyard and haproxy: HTTP/2 routes to A and B"
log "switchyard: plaintext to the inbound (no --require-mtls): '${plain//$'\n'/ }'"

# --- helpers --------------------------------------------------------------------------------------
# cpu_ticks PIDS...: utime + stime (clock ticks) of the processes and their threads.
cpu_ticks() { local p; for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ n += $1 } END { print n + 0 }'; }
# rss_kib PIDS...: summed VmRSS.
rss_kib() { local p; for p in "$@"; do awk '/^VmRSS:/ { print $2 }' "/proc/$p/status"; done | awk '{ n += $1 } END { print n + 0 }'; }
hz=$(getconf CLK_TCK)
median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A rps p50 p99 p999 cpu_us mem_idle mem_conns hs hs_cpu h2rps

saturation() { # SYSTEM ROUND
  local s=$1 out reqs t0 t1 r
  t0=$(cpu_ticks ${procs[$s]})
  out=$(wrk -t 2 -c 50 -d "${seconds}s" --timeout 5s -H "$dst_override" "${url[$s]}" 2>&1) || { echo "$out" >&2; die "$s: wrk failed"; }
  t1=$(cpu_ticks ${procs[$s]})
  grep -q "Non-2xx\|Socket errors" <<<"$out" && { echo "$out" >&2; die "$s: errors under load"; }
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  r=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  rps[$s]+="$r "
  [ "$s" = direct ] || cpu_us[$s]+="$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }') "
  printf '  %-10s round %s: %7s req/s' "$s" "$2" "$r"
}
handshakes() { # SYSTEM: wrk through the outbound without reuse; every request a new mTLS connection
  local s=$1 out reqs t0 t1 r p=${procs[$s]}
  [ "$s" = switchyard ] && p=${procs[switchyard_fresh]}
  t0=$(cpu_ticks $p)
  out=$(wrk -t 2 -c 50 -d "${seconds}s" --timeout 5s -H "$dst_override" "${fresh_url[$s]}" 2>&1) || { echo "$out" >&2; die "$s: wrk (no reuse) failed"; }
  t1=$(cpu_ticks $p)
  grep -q "Non-2xx\|Socket errors" <<<"$out" && { echo "$out" >&2; die "$s: errors under load without reuse"; }
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  r=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  hs[$s]+="$r "
  hs_cpu[$s]+="$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }') "
  printf '  %-10s no reuse: %6s handshakes/s\n' "$s" "$r"
}
http2() { # SYSTEM: h2load with prior knowledge through the outbound, HTTP/2 all the way
  local s=$1 out r
  out=$(timeout $((seconds * 3 + 30)) h2load -c 10 -m 10 -t 1 -D "$seconds" --warm-up-time 1 -H "$dst_override_h2" "${h2_url[$s]}" 2>&1) ||
    { echo "$out" >&2; die "$s: h2load (HTTP/2) failed"; }
  grep -q "0 failed, 0 errored" <<<"$out" || { grep "requests:" <<<"$out" >&2; die "$s: HTTP/2 requests failed"; }
  r=$(awk '/^finished in/ { gsub(",", "", $4); printf "%.0f", $4 }' <<<"$out")
  h2rps[$s]+="$r "
  printf '  %-10s HTTP/2: %7s req/s\n' "$s" "$r"
}
latency() { # SYSTEM
  local s=$1 out
  rm -f "$work/h2load.log"
  out=$(timeout $((seconds + 20)) h2load --h1 -c 10 -t 1 --rps "$rate" -D "$seconds" --warm-up-time 1 -H "$dst_override" \
    --log-file "$work/h2load.log" "${url[$s]}" 2>&1) || { echo "$out" >&2; die "$s: h2load failed"; }
  grep -q "0 failed, 0 errored" <<<"$out" || { grep "requests:" <<<"$out" >&2; die "$s: h2load saw failures"; }
  awk '$2 != 200 { bad++ } END { exit bad > 0 }' "$work/h2load.log" || die "$s: h2load got non-200 answers"
  read -r a b c < <(sort -n -k3,3 "$work/h2load.log" | awk '{ v[NR] = $3 } END {
    q = int(NR * 0.5); if (q < 1) q = 1; r = int(NR * 0.99); if (r < 1) r = 1; t = int(NR * 0.999); if (t < 1) t = 1
    printf "%.0f %.0f %.0f\n", v[q], v[r], v[t] }')
  p50[$s]+="$a " p99[$s]+="$b " p999[$s]+="$c "
  printf ';  at %s req/s: p50 %s us, p99 %s us, p99.9 %s us\n' "$((rate * 10))" "$a" "$b" "$c"
}
memory() { # SYSTEM
  local s=$1 h=${url[$1]#http://} idle held
  h=${h%/}
  idle=$(rss_kib ${procs[$s]})
  rm -f "$work/ready" "$work/stop"
  python3 bench/mesh/hold.py "${h%:*}" "${h#*:}" --connections "$conns" --header "$dst_override" \
    --ready-file "$work/ready" --stop-file "$work/stop" --max-seconds 120 &
  local hold=$!
  pids+=($hold)
  for i in $(seq 600); do [ -e "$work/ready" ] && break; kill -0 $hold 2>/dev/null || die "$s: hold.py failed"; sleep 0.1; done
  [ -e "$work/ready" ] || die "$s: $conns connections not open after 60 s"
  sleep 1
  held=$(rss_kib ${procs[$s]})
  touch "$work/stop"
  wait $hold || die "$s: hold.py failed"
  mem_idle[$s]=$idle mem_conns[$s]=$held
  log "$s: resident $idle KiB idle, $held KiB with $conns connections"
}

# --- measure ---------------------------------------------------------------------------------------
# Memory first, before any load has grown the proxies' pools and caches ("idle" = just started
# and checked), then the rounds, each system in turn, the order rotating every round.
for s in switchyard nginx haproxy; do memory "$s"; done
for s in "${systems[@]}"; do curl -s -o /dev/null -H "$dst_override" "${url[$s]}"; wrk -t 1 -c 10 -d 1s -H "$dst_override" "${url[$s]}" >/dev/null; done
for r in $(seq "$rounds"); do
  log "round $r of $rounds"
  order=("${systems[@]:$(( (r - 1) % 4 ))}" "${systems[@]:0:$(( (r - 1) % 4 ))}")
  for s in "${order[@]}"; do
    saturation "$s" "$r"
    latency "$s"
  done
  for s in "${order[@]}"; do [ "$s" = direct ] || handshakes "$s"; done
  for s in "${order[@]}"; do case $s in switchyard|haproxy) http2 "$s" ;; esac; done
done
# Reuse really was off: node-1-fresh made (about) one mTLS connection per request.
fresh_connects=$(curl -s "http://$node1_fresh:4191/metrics" | awk '/^switchyard_upstream_connect_total\{.*tls="true".*result="success"/ { n += $2 } END { print n + 0 }')
fresh_requests=$(curl -s "http://$node1_fresh:4191/metrics" | awk '/^request_total\{.*direction="outbound"/ { n += $2 } END { print n + 0 }')
log "switchyard without reuse: $fresh_connects mTLS connections for $fresh_requests requests"

# --- the table ------------------------------------------------------------------------------------
declare -A m_rps m_p50 m_p99 m_p999 m_cpu m_hs m_hs_cpu
for s in switchyard nginx haproxy; do m_hs[$s]=$(median <<<"${hs[$s]}"); m_hs_cpu[$s]=$(median <<<"${hs_cpu[$s]}"); done
declare -A m_h2; for s in switchyard haproxy; do m_h2[$s]=$(median <<<"${h2rps[$s]}"); done
for s in "${systems[@]}"; do
  m_rps[$s]=$(median <<<"${rps[$s]}"); m_p50[$s]=$(median <<<"${p50[$s]}")
  m_p99[$s]=$(median <<<"${p99[$s]}"); m_p999[$s]=$(median <<<"${p999[$s]}")
  m_cpu[$s]=$(median <<<"${cpu_us[$s]:-}")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f×", a / b }'; }
cell() { # VALUE NGINX_VALUE FORMAT
  [ "$1" = "-" ] && { echo "—"; return; }
  printf "%s (%s)" "$(awk -v v="$1" -v f="$3" 'BEGIN { printf f, v }')" "$(ratio "$1" "$2")"
}
sy_commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || sy_commit="$sy_commit + local changes"
date=$(date -u +%Y-%m-%d)
stamp=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$results_dir"
suffix=; [ "$threads" = default ] && suffix=-default-threads
out=$results_dir/$date$suffix.md
[ -e "$out" ] && out=$results_dir/$stamp$suffix.md
{
  echo "# Mesh benchmark, $stamp"
  echo
  echo "\`make bench\` (bench/mesh/run.sh): client → outbound proxy (routes on \`x-request-id\`) → mTLS 1.3,"
  echo "P-256, pooled → inbound proxy (client certificate required) → static nginx backend, all on"
  echo "loopback; $series, logs off. Median of $rounds rounds (order rotating);"
  echo "in brackets, the ratio to nginx in the same run. Memory: VmRSS of both proxies together."
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, Linux $(uname -r);"
  echo "Switchyard $sy_commit (release), $(nginx -v 2>&1 | sed 's/^nginx version: //'), HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }'),"
  echo "$(openssl version | awk '{ print $1, $2 }'), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), h2load (nghttp2 $(h2load --version | awk '{ print $NF }'))."
  echo "Load: wrk -t 2 -c 50 -d ${seconds}s; latency: h2load --h1 -c 10 --rps $rate (= $((rate * 10)) req/s) -D $seconds;"
  echo "memory: $conns keep-alive client connections, each after one request. The machine is shared."
  echo
  echo "| system | requests/s | p50 µs | p99 µs | p99.9 µs | proxy CPU µs/request | RSS idle MiB | RSS with $conns conns MiB | KiB per connection |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for s in switchyard nginx haproxy direct; do
    if [ "$s" = direct ]; then mi="-" mc="-" slope="-"; else
      mi=$(awk -v k="${mem_idle[$s]}" 'BEGIN { print k / 1024 }'); mc=$(awk -v k="${mem_conns[$s]}" 'BEGIN { print k / 1024 }')
      slope=$(awk -v a="${mem_idle[$s]}" -v b="${mem_conns[$s]}" -v n="$conns" 'BEGIN { print (b - a) / n }'); fi
    ni=$(awk -v k="${mem_idle[nginx]}" 'BEGIN { print k / 1024 }'); nc=$(awk -v k="${mem_conns[nginx]}" 'BEGIN { print k / 1024 }')
    ns=$(awk -v a="${mem_idle[nginx]}" -v b="${mem_conns[nginx]}" -v n="$conns" 'BEGIN { print (b - a) / n }')
    label=$s; [ "$s" = direct ] && label="direct (client → backend, the ceiling)"
    echo "| $label | $(cell "${m_rps[$s]}" "${m_rps[nginx]}" %.0f) | $(cell "${m_p50[$s]}" "${m_p50[nginx]}" %.0f) | $(cell "${m_p99[$s]}" "${m_p99[nginx]}" %.0f) | $(cell "${m_p999[$s]}" "${m_p999[nginx]}" %.0f) | $(cell "${m_cpu[$s]}" "${m_cpu[nginx]}" %.1f) | $(cell "$mi" "$ni" %.1f) | $(cell "$mc" "$nc" %.1f) | $(cell "$slope" "$ns" %.1f) |"
  done
  echo
  echo "New mTLS connections (full handshakes) with reuse off, wrk -c 50 through a second outbound of each system:"
  echo
  echo "| system | handshakes/s | CPU µs per handshake (both proxies) |"
  echo "| --- | --- | --- |"
  for s in switchyard nginx haproxy; do
    echo "| $s | $(cell "${m_hs[$s]}" "${m_hs[nginx]}" %.0f) | $(cell "${m_hs_cpu[$s]}" "${m_hs_cpu[nginx]}" %.1f) |"
  done
  echo
  echo "Switchyard without reuse made $fresh_connects mTLS connections for $fresh_requests requests."
  echo
  echo "HTTP/2 all the way (h2load -c 10 -m 10 -D ${seconds}s, prior knowledge to the outbound, h2 over mTLS, h2c to the"
  echo "backend); nginx has no HTTP/2 upstream, so the ratio is to HAProxy:"
  echo
  echo "| system | HTTP/2 requests/s |"
  echo "| --- | --- |"
  for s in switchyard haproxy; do echo "| $s | $(cell "${m_h2[$s]}" "${m_h2[haproxy]}" %.0f) |"; done
  echo
  echo "Rounds (requests/s): $(for s in "${systems[@]}"; do printf '%s: %s; ' "$s" "${rps[$s]% }"; done)"
  echo "Rounds (p99 µs): $(for s in "${systems[@]}"; do printf '%s: %s; ' "$s" "${p99[$s]% }"; done)"
  echo "Rounds (handshakes/s): $(for s in switchyard nginx haproxy; do printf '%s: %s; ' "$s" "${hs[$s]% }"; done)"
  echo "Rounds (HTTP/2 requests/s): $(for s in switchyard haproxy; do printf '%s: %s; ' "$s" "${h2rps[$s]% }"; done)"
} >"$out"
echo
cat "$out"
log "wrote $out"
