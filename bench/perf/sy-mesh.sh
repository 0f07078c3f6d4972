#!/usr/bin/env bash
# The Switchyard part of bench/mesh/run.sh, for before/after numbers and profiles during speed
# work (docs/performance.md): a static nginx backend (A and B), two `switchyard run` daemons in
# node mode with --ingress-mode, --threads 1 (node-1 outbound -> mTLS 1.3 -> node-2 inbound),
# then wrk -t 2 -c 50 against node-1's outbound, ROUNDS times.
#
# Usage: bench/perf/sy-mesh.sh SWITCHYARD_BINARY [ROUNDS] [SECONDS]
# Settings: SY_PERF_NET (127.0.41: the loopback /24 used), SY_PERF_RECORD=FILE (perf record -g of
# both daemons during the first round into FILE), SY_PERF_CONNECTIONS (wrk -c, 50).
# Prints one line per round: requests/s and the daemons' CPU microseconds per request.
set -euo pipefail
cd "$(dirname "$0")/../.."
switchyard=$(readlink -f "${1:?usage: bench/perf/sy-mesh.sh SWITCHYARD_BINARY [ROUNDS] [SECONDS]}")
rounds=${2:-2}
seconds=${3:-8}
net=${SY_PERF_NET:-127.0.41}
conns=${SY_PERF_CONNECTIONS:-50}
ulimit -n 65536 2>/dev/null || true
work=$(mktemp -d /tmp/sy-perf-mesh.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "sy-mesh: $*" >&2; exit 1; }

node1=$net.2 node2=$net.3 frontend_ip=$net.10 backend_a=$net.20 backend_b=$net.30
td=serviceaccount.identity.linkerd.cluster.local
"$switchyard" certs init --out "$work/ca" >"$work/certs.log" 2>&1 || die "certs init failed"
for sa in frontend backend-a backend-b; do
  "$switchyard" certs issue --ca "$work/ca" --identity "$sa.test.$td" --out "$work/id/test/$sa" >>"$work/certs.log" 2>&1 || die "certs issue failed"
done

mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF2
worker_processes 1;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type text/plain;
  server { listen $backend_a:9898; location / { return 200 'A backend\n'; } }
  server { listen $backend_b:9898; location / { return 200 'B backend\n'; } }
}
EOF2
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
pids+=($!)

m=$work/manifests
mkdir -p "$m"
cp examples/podinfo/namespace.yaml examples/podinfo/backend-router.yaml "$m/"
{
  for n in 1 2; do ip=$node1; [ $n = 2 ] && ip=$node2
    printf -- '---\napiVersion: v1\nkind: Node\nmetadata: {name: node-%s}\nstatus: {addresses: [{type: InternalIP, address: %s}]}\n' $n $ip; done
  w() { printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: test, labels: {app: %s}}\nspec:\n  serviceAccountName: %s\n  nodeName: %s\n  containers: [{name: app, image: nginx, ports: [{name: http, containerPort: 9898, protocol: TCP}]}]\nstatus: {phase: Running, podIP: %s, podIPs: [{ip: %s}], conditions: [{type: Ready, status: "True"}]}\n' "$1" "$1" "$1" "$2" "$3" "$3"; }
  s() { printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: test}\nspec:\n  selector: {app: %s}\n  ports: [{name: http, port: 9898, protocol: TCP, targetPort: http}]\n' "$1" "$2"; }
  w frontend node-1 "$frontend_ip"
  w backend-a node-2 "$backend_a"; s backend-a-podinfo backend-a
  w backend-b node-2 "$backend_b"; s backend-b-podinfo backend-b
} >"$m/workloads.yaml"
for n in 1 2; do ip=$node1; [ $n = 2 ] && ip=$node2
  "$switchyard" run --config /dev/null --manifests "$m" --node node-$n --pod test/frontend \
    --identity-dir "$work/id" --trust-bundle "$work/ca/trust-bundle.pem" --outbound-listen "$ip:4140" \
    --inbound-listen "$ip:4143" --admin-listen "$ip:4191" --ingress-mode --user root --threads 1 \
    --log-level warning 2>"$work/switchyard-$n.log" &
  pids+=($!)
  declare "sy$n=$!"
done
for i in $(seq 200); do
  curl -sf -o /dev/null "http://$node1:4191/ready" && curl -sf -o /dev/null "http://$node2:4191/ready" && break
  sleep 0.1
done
hdr='l5d-dst-override: backend-a-podinfo.test:9898'
a=$(curl -sS --max-time 5 -H "$hdr" "http://$node1:4140/")
b=$(curl -sS --max-time 5 -H "$hdr" -H 'x-request-id: alternative' "http://$node1:4140/")
[ "$a" = "A backend" ] && [ "$b" = "B backend" ] || die "routing check failed: '$a' '$b'"
wrk -t 1 -c 10 -d 1s -H "$hdr" "http://$node1:4140/" >/dev/null
ticks() { local p; for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ n += $1 } END { print n + 0 }'; }
hz=$(getconf CLK_TCK)
for r in $(seq "$rounds"); do
  perf_pid=
  if [ -n "${SY_PERF_RECORD:-}" ] && [ "$r" = 1 ]; then
    perf record -g -F 999 -o "$SY_PERF_RECORD" -p "$sy1,$sy2" -- sleep "$seconds" >"$work/perf.log" 2>&1 &
    perf_pid=$!
  fi
  t0=$(ticks "$sy1" "$sy2")
  out=$(wrk -t 2 -c "$conns" -d "${seconds}s" --timeout 5s -H "$hdr" "http://$node1:4140/" 2>&1)
  t1=$(ticks "$sy1" "$sy2")
  [ -n "$perf_pid" ] && wait "$perf_pid"
  grep -q "Non-2xx\|Socket errors" <<<"$out" && { echo "$out" >&2; die "errors under load"; }
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  echo "round $r: $rps requests/s, $(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }') CPU us/request (both daemons)"
done
