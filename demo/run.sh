#!/usr/bin/env bash
# `make demo`: Linkerd's dynamic request routing tutorial on Switchyard, in network namespaces.
#
#   demo/run.sh [SWITCHYARD_BINARY]       (as root; the binary defaults to .build/release/switchyard)
#
# Builds the world (demo/world.sh: two node namespaces, a daemon and its redirect rules in each,
# the frontend pod on node-1, backend-a and backend-b on node-2, examples/podinfo/ as the
# manifests), sends the tutorial's two requests from the frontend pod, shows that the hop from
# node-1 to node-2 was mutual TLS, and deletes everything it made, also when something fails or
# on Ctrl-C. Exit status 0 when every result was the tutorial's.
# DEMO_PREFIX (default sy) names the namespaces: sy-node1, sy-node2, sy-frontend, ...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
switchyard=$(realpath "${1:-$root/.build/release/switchyard}")
prefix=${DEMO_PREFIX:-sy}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces and iptables rules in them)" >&2; exit 1; }
[ -x "$switchyard" ] || { echo "demo: no switchyard binary at $switchyard" >&2; exit 1; }
for tool in ip iptables curl python3 setsid; do
    command -v "$tool" >/dev/null || { echo "demo: $tool is missing (make deps installs it)" >&2; exit 1; }
done
for role in node1 node2 frontend backend-a backend-b; do
    if [ -e "/run/netns/$prefix-$role" ]; then
        echo "demo: $prefix-$role already exists: another demo running? (demo/world.sh down $prefix removes a stale one)" >&2
        exit 1
    fi
done

world=(--switchyard "$switchyard" --dir "/tmp/$prefix-world")
failed=0
cleanup() {
    # Ignored until the end (and by the commands below): a second Ctrl-C must not stop the cleanup.
    trap '' INT TERM
    trap - EXIT
    echo
    echo "== cleaning up"
    "$here/world.sh" down "$prefix" "${world[@]}" || failed=1
}
trap 'rc=$?; cleanup; exit $((rc ? rc : failed))' EXIT
trap 'echo; echo "demo: interrupted"; cleanup; exit 130' INT
trap 'echo; echo "demo: terminated"; cleanup; exit 143' TERM

section() { printf '\n== %s\n' "$*"; }
frontend() { ip netns exec "$prefix-frontend" "$@"; }
node() { local n=$1; shift; ip netns exec "$prefix-node$n" "$@"; }
metric() { awk -v name="$1" -v want="$2" 'index($0, name) == 1 && index($0, want) { sum += $NF } END { print sum + 0 }'; }

section "the world ($switchyard)"
"$here/world.sh" up "$prefix" "${world[@]}"

section "the tutorial: from the frontend pod ($prefix-frontend), as after kubectl port-forward"
# The frontend's app POSTs each /echo on to http://backend-a-podinfo:9898/env, passing
# x-request-id; its plain connection to 10.96.0.20:9898 is REDIRECTed to node-1's daemon,
# which routes by the HTTPRoute and carries the request over mTLS to node-2's daemon.
expect=("PODINFO_UI_MESSAGE=A backend" "PODINFO_UI_MESSAGE=B backend")
headers=("" "x-request-id: alternative")
bodies=()
for i in 0 1; do
    [ "$i" = 0 ] || echo
    shown="curl -sX POST${headers[$i]:+ -H '${headers[$i]}'} localhost:9898/echo | grep -o 'PODINFO_UI_MESSAGE=. backend'"
    printf '$ %s\n' "$shown"
    body=$(frontend curl -sS -X POST ${headers[$i]:+-H "${headers[$i]}"} --max-time 10 localhost:9898/echo) || body=""
    bodies+=("$body")
    got=$(grep -o 'PODINFO_UI_MESSAGE=. backend' <<<"$body" || true)
    printf '%s\n' "${got:-(no answer: $body)}"
    [ "$got" = "${expect[$i]}" ] || { echo "demo: expected ${expect[$i]}" >&2; failed=1; }
done

section "mutual TLS between the nodes"
identity=default.test.serviceaccount.identity.linkerd.cluster.local
for i in 0 1; do
    backend=$(grep -o 'HOSTNAME=[a-z0-9-]*' <<<"${bodies[$i]}" | cut -d= -f2)
    seen=$(grep -o 'l5d-client-id: .*' <<<"${bodies[$i]}" || echo "l5d-client-id: (none)")
    echo "${backend:-the backend} saw $seen"
    [ "$seen" = "l5d-client-id: $identity" ] || { echo "demo: expected l5d-client-id: $identity" >&2; failed=1; }
done
echo "(node-2's daemon sets l5d-client-id only from the client certificate it verified on the mTLS hop"
echo " from node-1; anything a client sends under that name is dropped)"

section "what the daemons counted"
m1=$(node 1 curl -s --max-time 5 http://10.0.0.1:4191/metrics)
m2=$(node 2 curl -s --max-time 5 http://10.0.0.2:4191/metrics)
echo "node-1: plain connections redirected to the outbound listener: $(metric 'tcp_open_total{' 'direction="outbound",tls="false"' <<<"$m1")"
echo "node-1: requests by route: rule 0 (x-request-id: alternative) -> B: $(metric outbound_http_route_request_total 'route="test/backend-router/0"' <<<"$m1"), rule 1 -> A: $(metric outbound_http_route_request_total 'route="test/backend-router/1"' <<<"$m1")"
echo "node-1: mTLS connections made to node-2: $(metric switchyard_upstream_connect_total 'tls="true",result="success"' <<<"$m1")"
echo "node-2: mTLS connections accepted on the inbound listener: $(metric 'tcp_open_total{' 'direction="inbound",tls="true"' <<<"$m2"), requests: $(metric 'request_total{' 'direction="inbound",tls="true"' <<<"$m2")"
echo "node-1's IPv4 redirect rules (switchyard redirect show --mode node, in $prefix-node1):"
node 1 "$switchyard" redirect show --mode node 2>/dev/null \
    | awk '/^# / { ipv4 = /IPv4/; next } ipv4 && /^-A / { print "  " $0 }' || true

if [ "$failed" = 0 ]; then
    section "ok: A, then B, over mTLS"
else
    section "FAILED; the end of each log in /tmp/$prefix-world:"
    for log in node-1 node-2 frontend backend-a backend-b; do
        echo "--- $log.log"
        tail -n 15 "/tmp/$prefix-world/$log.log" 2>/dev/null || true
    done
fi
