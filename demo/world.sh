#!/usr/bin/env bash
# The tutorial's world in network namespaces: two nodes, three pods, a Switchyard daemon per node.
#
#   demo/world.sh up PREFIX [--switchyard PATH] [--dir DIR] [--user NAME] [--unmeshed]
#                           [--extra-manifests DIR] [--log-level LEVEL]
#   demo/world.sh down PREFIX [--dir DIR] [--switchyard PATH] [--keep-dir]
#
# PREFIX names everything: `sy` gives the namespaces sy-node1, sy-node2, sy-frontend,
# sy-backend-a, sy-backend-b; it must be `sy` or start with `sy-`. The files (PKI, manifests,
# logs, pid files) go to DIR, by default /tmp/PREFIX-world. --switchyard: the binary (default
# .build/release/switchyard, or $SWITCHYARD). --user: who the daemons run as (default switchyard
# when that user exists, else root; either way with CAP_NET_ADMIN only). --unmeshed adds the pod
# namespace PREFIX-unmeshed, 10.244.2.40 on node-2, and the name unmeshed-podinfo (10.96.0.40)
# to the hosts files; its manifest comes with --extra-manifests DIR (*.yaml copied in too).
#
#   sy-node1 (node-1)                                sy-node2 (node-2)
#     to-node2 10.0.0.1/24  <---- veth ---->  to-node1 10.0.0.2/24
#     pod-frontend 10.244.1.1/32                       pod-backend-a, pod-backend-b 10.244.2.1/32
#       | veth                                           | veth            | veth
#   sy-frontend eth0 10.244.1.10/32          sy-backend-a 10.244.2.20/32   sy-backend-b 10.244.2.30/32
#
# Each pod's default route goes via its node (10.244.N.1, the node side of its veth); each node
# routes its pods by /32 routes and the other node's pod range 10.244.M.0/24 via the peer, with
# ip_forward=1 and rp_filter=0 inside the node namespaces. ClusterIPs (10.96.0.0/12) are assigned
# nowhere and there is no kube-proxy: a meshed pod's connection to one goes to its node by the
# default route, where `switchyard redirect install --mode node` REDIRECTs it (PREROUTING, by the
# pod's source IP) to the daemon's outbound listener, which finds the destination with
# SO_ORIGINAL_DST. Meshed hops go node to node over mTLS to InternalIP:4143.
#
# In each node namespace: `switchyard run --mode node` (outbound 0.0.0.0:4140; inbound
# 0.0.0.0:4143, so that plaintext REDIRECTed to it on any interface is accepted too; admin
# 10.0.0.N:4191), with examples/podinfo/ copied as its manifests and a dev PKI from `switchyard
# certs`: one trust anchor, and a certificate for default.test (every pod's service account) in
# each node's identity directory DIR/identity-nodeN/test/default.
# In each pod namespace: demo/podinfo.py on 0.0.0.0:9898; the frontend's backend is
# http://backend-a-podinfo:9898/env, a name /etc/netns/<pod namespace>/hosts resolves (ip netns
# exec bind-mounts it over /etc/hosts) to the Service's ClusterIP.
#
# Nothing is done in the root namespace: no address, route, rule or sysctl. `down` removes
# everything `up` made (whatever state `up` got to): it stops the processes in the namespaces,
# deletes the namespaces (and so the veths and the rules), /etc/netns/<namespace> and DIR.
set -euo pipefail

# Close whatever descriptors the caller left open (bash keeps the script itself on 255): the
# daemons and apps started below would inherit them, and a caller that waits for EOF on one
# (Foundation's Process does) would wait for them too.
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ]; then eval "exec $fd>&-"; fi
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

# The proxy settings of a shell must not send the pods' HTTP anywhere else.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

IDENTITY=default.test.serviceaccount.identity.linkerd.cluster.local

# The pods, as examples/podinfo/ places them: role, node, IP, the message of its app, pod name.
POD_ROLES=(frontend backend-a backend-b)
declare -A POD_NODE=([frontend]=1 [backend-a]=2 [backend-b]=2 [unmeshed]=2)
declare -A POD_IP=([frontend]=10.244.1.10 [backend-a]=10.244.2.20 [backend-b]=10.244.2.30 [unmeshed]=10.244.2.40)
declare -A POD_MESSAGE=([frontend]=frontend [backend-a]="A backend" [backend-b]="B backend" [unmeshed]="unmeshed backend")
declare -A POD_NAME=([frontend]=frontend-podinfo-5d8f7c9b4-x7k2p [backend-a]=backend-a-podinfo-5d8f7c9b4-q9w4z
                     [backend-b]=backend-b-podinfo-5d8f7c9b4-m3n8r [unmeshed]=unmeshed-podinfo-7c5b9d8f4-h2j6k)
# The Services' ClusterIPs (examples/podinfo/; unmeshed-podinfo is the tests' own).
SERVICES=("10.96.0.10 frontend-podinfo" "10.96.0.20 backend-a-podinfo" "10.96.0.30 backend-b-podinfo")
UNMESHED_SERVICE="10.96.0.40 unmeshed-podinfo"
ALL_ROLES=(node1 node2 frontend backend-a backend-b unmeshed)

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

log() { printf '%s\n' "$*"; }
die() { printf 'world.sh: %s\n' "$*" >&2; exit 1; }

[ $# -ge 2 ] || usage
action=$1 prefix=$2
shift 2
[[ "$prefix" == sy || "$prefix" == sy-* ]] || die "PREFIX must be sy or start with sy- (got $prefix)"
[[ "$prefix" =~ ^[a-z0-9-]+$ ]] || die "PREFIX may hold only a-z, 0-9 and - (got $prefix)"

switchyard=${SWITCHYARD:-$root/.build/release/switchyard}
dir="" user="" unmeshed=0 extra="" log_level=info keep_dir=0
while [ $# -gt 0 ]; do
    case $1 in
        --switchyard) switchyard=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --user) user=$2; shift 2 ;;
        --unmeshed) unmeshed=1; shift ;;
        --extra-manifests) extra=$2; shift 2 ;;
        --log-level) log_level=$2; shift 2 ;;
        --keep-dir) keep_dir=1; shift ;;
        *) usage ;;
    esac
done
dir=${dir:-/tmp/$prefix-world}
[ "$unmeshed" = 1 ] && POD_ROLES+=(unmeshed)

ns() { printf '%s-%s' "$prefix" "$1"; }
ns_exists() { [ -e "/run/netns/$(ns "$1")" ]; }
# `run_in ROLE command...`: run it in that namespace (with its /etc/netns hosts file).
run_in() { local role=$1; shift; ip netns exec "$(ns "$role")" "$@"; }
node_ip() { printf '10.0.0.%s' "$1"; }

# ---------------------------------------------------------------------------------------- down

# Whether process $1 still runs (a zombie waiting for its reaper does not).
alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

stop_processes() {
    local role pids=() pid deadline
    for role in "${ALL_ROLES[@]}"; do
        ns_exists "$role" || continue
        for pid in $(ip netns pids "$(ns "$role")" 2>/dev/null); do pids+=("$pid"); done
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while [ $SECONDS -lt $deadline ]; do
        local running=()
        for pid in "${pids[@]}"; do alive "$pid" && running+=("$pid"); done
        [ ${#running[@]} -gt 0 ] || return 0
        pids=("${running[@]}")
        sleep 0.1
    done
    printf 'world.sh: still running 5 s after SIGTERM, killed: %s\n' \
        "$(for pid in "${pids[@]}"; do printf '%s (%s) ' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"; done)" >&2
    kill -KILL "${pids[@]}" 2>/dev/null || true
}

down() {
    local role n removed=()
    # The rules go with the namespaces; removing them first is what a node would do.
    if [ -x "$switchyard" ]; then
        for n in 1 2; do
            ns_exists "node$n" && run_in "node$n" "$switchyard" redirect remove --mode node >/dev/null 2>&1 || true
        done
    fi
    stop_processes
    for role in "${ALL_ROLES[@]}"; do
        if ns_exists "$role"; then
            ip netns delete "$(ns "$role")" || true
            removed+=("$(ns "$role")")
        fi
        rm -rf "/etc/netns/$(ns "$role")"
    done
    rmdir /etc/netns 2>/dev/null || true
    if [ "$keep_dir" = 0 ] && [ -f "$dir/.switchyard-demo-world" ]; then rm -rf "$dir"; fi
    local left=()
    for role in "${ALL_ROLES[@]}"; do ns_exists "$role" && left+=("$(ns "$role")"); done
    [ ${#left[@]} -eq 0 ] || die "namespaces still there: ${left[*]}"
    log "removed ${removed[*]:-nothing}${removed[*]:+ and their veths, rules and /etc/netns files}"
}

# ------------------------------------------------------------------------------------------ up

make_namespace() {
    local role=$1
    ip netns add "$(ns "$role")"
    ip -n "$(ns "$role")" link set lo up
}

# The hosts file every pod gets: localhost, the pod's own name, and the Services as cluster DNS
# would answer them (name, name.namespace, ... .svc.cluster.local).
hosts_file() {
    local role=$1 entry ip name services=("${SERVICES[@]}")
    [ "$unmeshed" = 1 ] && services+=("$UNMESHED_SERVICE")
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    printf '%s\t%s\n' "${POD_IP[$role]}" "${POD_NAME[$role]}"
    for entry in "${services[@]}"; do
        read -r ip name <<<"$entry"
        printf '%s\t%s %s.test %s.test.svc %s.test.svc.cluster.local\n' "$ip" "$name" "$name" "$name" "$name"
    done
}

build_network() {
    local n role node pod_ip gateway
    for n in 1 2; do
        make_namespace "node$n"
        # Per namespace (a node namespace's own /proc/sys/net), never the root namespace's.
        run_in "node$n" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward
            echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter
            echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter'
    done
    # The node link: both ends are made inside the namespaces (nothing appears in the root one).
    ip -n "$(ns node1)" link add to-node2 type veth peer name to-node1 netns "$(ns node2)"
    ip -n "$(ns node1)" addr add "$(node_ip 1)/24" dev to-node2
    ip -n "$(ns node2)" addr add "$(node_ip 2)/24" dev to-node1
    ip -n "$(ns node1)" link set to-node2 up
    ip -n "$(ns node2)" link set to-node1 up
    ip -n "$(ns node1)" route add 10.244.2.0/24 via "$(node_ip 2)"
    ip -n "$(ns node2)" route add 10.244.1.0/24 via "$(node_ip 1)"

    for role in "${POD_ROLES[@]}"; do
        node=${POD_NODE[$role]} pod_ip=${POD_IP[$role]} gateway=10.244.${POD_NODE[$role]}.1
        mkdir -p "/etc/netns/$(ns "$role")"
        hosts_file "$role" >"/etc/netns/$(ns "$role")/hosts"
        # No DNS server in this world: a name not in the hosts file fails at once.
        printf '# demo/world.sh: names are in /etc/hosts\nnameserver 127.0.0.1\n' >"/etc/netns/$(ns "$role")/resolv.conf"
        make_namespace "$role"
        ip -n "$(ns "node$node")" link add "pod-$role" type veth peer name eth0 netns "$(ns "$role")"
        ip -n "$(ns "node$node")" addr add "$gateway/32" dev "pod-$role"
        ip -n "$(ns "node$node")" link set "pod-$role" up
        ip -n "$(ns "node$node")" route add "$pod_ip/32" dev "pod-$role"
        ip -n "$(ns "$role")" addr add "$pod_ip/32" dev eth0
        ip -n "$(ns "$role")" link set eth0 up
        ip -n "$(ns "$role")" route add "$gateway/32" dev eth0 scope link
        ip -n "$(ns "$role")" route add default via "$gateway" dev eth0
    done
}

make_pki() {
    local n
    "$switchyard" certs init --out "$dir/ca" >/dev/null
    # The CA directory is root's (0700); the daemons read a copy of the bundle, as a node would.
    install -m 0644 "$dir/ca/trust-bundle.pem" "$dir/trust-bundle.pem"
    for n in 1 2; do
        "$switchyard" certs issue --ca "$dir/ca" --identity "$IDENTITY" --out "$dir/identity-node$n/test/default" >/dev/null
    done
    if [ "$user" != root ]; then
        # The daemon drops to $user before it reads them.
        chown -R "$user:" "$dir/identity-node1" "$dir/identity-node2"
    fi
}

write_manifests() {
    mkdir -p "$dir/manifests"
    cp "$root"/examples/podinfo/*.yaml "$dir/manifests/"
    if [ -n "$extra" ]; then cp "$extra"/*.yaml "$dir/manifests/"; fi
    "$switchyard" check --manifests "$dir/manifests" >"$dir/check.txt" || { cat "$dir/check.txt" >&2; die "the manifests do not check"; }
}

start_daemons() {
    local n
    for n in 1 2; do
        run_in "node$n" "$switchyard" redirect install --mode node --manifests "$dir/manifests" --node "node-$n" \
            >"$dir/redirect-node$n.txt" 2>&1 || { cat "$dir/redirect-node$n.txt" >&2; die "redirect install failed in $(ns "node$n")"; }
        # --config /dev/null: this host's /etc/switchyard/switchyard.yaml is not this node's.
        # (ip netns exec and setsid exec what follows, so $! is the daemon's pid.)
        ip netns exec "$(ns "node$n")" setsid "$switchyard" run --config /dev/null --mode node --node "node-$n" \
            --manifests "$dir/manifests" --identity-dir "$dir/identity-node$n" --trust-bundle "$dir/trust-bundle.pem" \
            --outbound-listen 0.0.0.0:4140 --inbound-listen 0.0.0.0:4143 --admin-listen "$(node_ip "$n"):4191" \
            --user "$user" --log-level "$log_level" </dev/null >"$dir/node-$n.log" 2>&1 &
        echo $! >"$dir/node-$n.pid"
    done
}

start_apps() {
    local role args
    for role in "${POD_ROLES[@]}"; do
        args=(--message "${POD_MESSAGE[$role]}" --name "${POD_NAME[$role]}")
        [ "$role" = frontend ] && args+=(--backend http://backend-a-podinfo:9898/env)
        ip netns exec "$(ns "$role")" setsid python3 "$here/podinfo.py" "${args[@]}" </dev/null >"$dir/$role.log" 2>&1 &
        echo $! >"$dir/$role.pid"
    done
}

# Polls `curl URL` inside ROLE's namespace until it answers 200; gives up when the process
# whose pid and log are DIR/NAME.{pid,log} has ended (showing its log), or after 30 s.
wait_for() {
    local role=$1 url=$2 name=$3 deadline=$((SECONDS + 30)) code
    while :; do
        code=$(run_in "$role" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
        [ "$code" = 200 ] && return 0
        if ! alive "$(cat "$dir/$name.pid")"; then
            tail -n 20 "$dir/$name.log" >&2
            die "$name ended before $url answered"
        fi
        [ $SECONDS -lt $deadline ] || die "$name: $url answered ${code:-nothing} for 30 s"
        sleep 0.05
    done
}

up() {
    [ "$(id -u)" = 0 ] || die "run as root: it creates network namespaces and iptables rules in them"
    [ -x "$switchyard" ] || die "no switchyard binary at $switchyard (--switchyard PATH or SWITCHYARD=PATH)"
    local role
    for role in "${ALL_ROLES[@]}"; do
        ns_exists "$role" && die "$(ns "$role") already exists (another world with prefix $prefix? demo/world.sh down $prefix removes it)"
    done
    if [ -z "$user" ]; then
        if getent passwd switchyard >/dev/null; then user=switchyard; else user=root; fi
    fi
    if [ -e "$dir" ]; then
        [ -f "$dir/.switchyard-demo-world" ] || die "$dir exists and is not a world's directory"
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    touch "$dir/.switchyard-demo-world"
    chmod 0755 "$dir"

    write_manifests
    make_pki
    build_network
    start_daemons
    start_apps
    for role in "${POD_ROLES[@]}"; do wait_for "$role" http://127.0.0.1:9898/healthz "$role"; done
    wait_for node1 "http://$(node_ip 1):4191/ready" node-1
    wait_for node2 "http://$(node_ip 2):4191/ready" node-2
    log "namespaces: $(ns node1) (node-1, 10.0.0.1), $(ns node2) (node-2, 10.0.0.2); pods:$(for role in "${POD_ROLES[@]}"; do printf ' %s %s on node-%s;' "$(ns "$role")" "${POD_IP[$role]}" "${POD_NODE[$role]}"; done)"
    log "redirect rules: node-1: $(tail -n 1 "$dir/redirect-node1.txt"); node-2: $(tail -n 1 "$dir/redirect-node2.txt")"
    log "daemons ready (user $user): switchyard run --mode node in $(ns node1) and $(ns node2); files in $dir"
}

case $action in
    up) up ;;
    down) down ;;
    *) usage ;;
esac
