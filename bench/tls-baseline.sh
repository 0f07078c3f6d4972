#!/usr/bin/env bash
# The openssl baseline for `make bench-tls`, on this machine with the same kind of certificates
# as SwitchyardTLSBench (ECDSA P-256 workloads from an issuer under a trust anchor, made by
# `switchyard certs init` / `certs issue`, client certificate required):
#
#   - full mTLS 1.3 handshakes/s: `openssl s_time -new` against `openssl s_server -Verify 1`,
#     both pinned to CPU 0 (`taskset -c 0`: one core, as our bench), then unpinned (2 cores);
#     with openssl's default key share (X25519) and with P-256 (ours). Like our contexts, the
#     server issues no session tickets and keeps no session cache (`-num_tickets 0 -no_cache`),
#     and both ends trust only the bundle (`-no-CApath -no-CAstore`);
#   - bulk MB/s: `openssl s_client` sending a 256 MiB file to `openssl s_server`, both pinned to
#     CPU 0, then unpinned; AES-256-GCM (what they agree on by default) and AES-128-GCM (ours);
#   - `openssl speed -evp aes-{128,256}-gcm` (16 KiB blocks, encrypt and decrypt, CPU 0): the
#     cipher alone, and from it the ceiling for encrypting and decrypting on one core.
#
# Usage: bench/tls-baseline.sh [RESULTS]   (RESULTS: what `SwitchyardTLSBench --results` wrote,
# printed beside openssl's figures). Settings: SY_BASELINE_SECONDS (5), SY_BASELINE_BULK_MIB (256).
# Everything goes to a temporary /tmp/sy-tls-baseline.* directory, removed on exit together
# with the openssl servers started here. Each measurement is bounded (timeout).
set -euo pipefail
cd "$(dirname "$0")/.."

ours=${1:-}
seconds=${SY_BASELINE_SECONDS:-5}
bulk_mib=${SY_BASELINE_BULK_MIB:-256}
swift=${SWIFT:-swift}
for tool in openssl taskset ss timeout; do
  command -v $tool >/dev/null || { echo "tls-baseline: needs $tool" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sy-tls-baseline.XXXXXX)
servers=()
cleanup() {
  local pid
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  exec 9>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
die() { echo "tls-baseline: $*" >&2; exit 1; }
# Functions that start servers run in this shell (never in $(...), where the EXIT trap would not
# know their servers) and leave their figure in $result.
result=

# --- certificates: switchyard certs, as certs/README.md shows -----------------------------------
server_id=backend.bench.serviceaccount.identity.linkerd.cluster.local
client_id=web.bench.serviceaccount.identity.linkerd.cluster.local
echo "tls-baseline: certificates by 'swift run -c release switchyard certs init/issue' in $work"
$swift run -c release switchyard certs init --out "$work/ca" >"$work/certs.log" 2>&1 ||
  { cat "$work/certs.log" >&2; die "certs init failed"; }
for id in server:$server_id client:$client_id; do
  $swift run -c release --skip-build switchyard certs issue --ca "$work/ca" --identity "${id#*:}" \
    --out "$work/identity/bench/${id%%:*}" >>"$work/certs.log" 2>&1 ||
    { cat "$work/certs.log" >&2; die "certs issue failed"; }
done
srv=$work/identity/bench/server
cli=$work/identity/bench/client
bundle=$work/ca/trust-bundle.pem
issuer=$work/ca/issuer.crt
# s_time sends only the first certificate of its -cert file (it has no -cert_chain), so the
# server s_time dials also holds the issuer (it still verifies leaf -> issuer -> anchor).
cat "$bundle" "$issuer" >"$work/bundle+issuer.pem"
# A P-256 key share at both ends (s_time has no -groups): an OpenSSL config naming the groups.
p256=$work/p256.cnf
printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' 'ssl_conf = ssl_sect' '[ssl_sect]' \
  'system_default = system_default_sect' '[system_default_sect]' 'Groups = P-256:X25519' >"$p256"

# s_server ends a connection when its stdin ends: give it a FIFO this shell holds open.
mkfifo "$work/stdin"
exec 9<>"$work/stdin"

port=$((20000 + RANDOM % 20000))
# start_server PIN CONF CAFILE OUT ERR [ARGS...]: s_server on a new $port, pinned to CPU PIN
# ("" = any), with OPENSSL_CONF=CONF ("" = the system's); waits until it listens. Pid: $server.
# Its stdin is the FIFO (it reads until the client closes), or with server_stdin=/dev/null it
# answers each handshake with close_notify at once (as s_time, which sends none, wants).
server_stdin=
start_server() {
  local pin=$1 conf=$2 cafile=$3 out=$4 err=$5
  shift 5
  port=$((port + 1))
  env ${conf:+OPENSSL_CONF=$conf} ${pin:+taskset -c "$pin"} openssl s_server -accept "127.0.0.1:$port" -tls1_3 \
    -cert "$srv/tls.crt" -cert_chain "$issuer" -key "$srv/tls.key" -CAfile "$cafile" \
    -Verify 1 -verify_return_error -num_tickets 0 -no_cache -no-CApath -no-CAstore -quiet "$@" \
    <"${server_stdin:-/dev/fd/9}" >"$out" 2>"$err" &
  server=$!
  servers+=("$server")
  local i
  for i in $(seq 100); do
    ss -Hltn "sport = :$port" | grep -q . && return 0
    kill -0 "$server" 2>/dev/null || { cat "$err" >&2; die "s_server did not start"; }
    sleep 0.05
  done
  die "s_server did not listen on $port"
}
stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}

# --- what gets negotiated ---------------------------------------------------------------------
# negotiated CONF ("" = defaults): "suite, key share" of an s_client -> s_server connection.
negotiated() {
  start_server "" "$1" "$bundle" /dev/null "$work/neg.err"
  local out
  out=$(echo | env ${1:+OPENSSL_CONF=$1} timeout 10 openssl s_client -connect "127.0.0.1:$port" \
    -servername "$server_id" -cert "$cli/tls.crt" -cert_chain "$issuer" -key "$cli/tls.key" -CAfile "$bundle" \
    -no-CApath -no-CAstore -verify_return_error -verify_hostname "$server_id" -brief 2>&1) || { echo "$out" >&2; die "s_client could not connect"; }
  stop_server
  result="$(sed -n 's/^Ciphersuite: //p' <<<"$out"), key share $(sed -n 's/^Server Temp Key: //p' <<<"$out")"
}
echo "tls-baseline: $(openssl version); $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
negotiated "";      echo "  s_client -> s_server, defaults:     $result"
negotiated "$p256"; echo "  s_client -> s_server, P-256 config: $result"

# --- CPU time --------------------------------------------------------------------------------------
# children_cpu: CPU seconds (user + system) of every child this shell has waited for -> $cpu. A
# rate per CPU-second does not drop when something else shares the core, as one per second does.
children_cpu() {
  times >"$work/times"
  cpu=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); n += p[1] * 60 + p[2] }; printf "%.3f", n }' "$work/times")
}
# per COUNT SECONDS -> COUNT / SECONDS, rounded.
per() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# --- handshakes: s_time -new ------------------------------------------------------------------
# handshakes PIN CONF: full handshakes over ~$seconds s (s_time -verify: the client verifies the
# server's chain; s_server -Verify 1 -verify_return_error: the client's) -> $result (per
# wall-clock second) and $result_cpu (per CPU-second of s_time and s_server together).
handshakes() {
  local pin=$1 conf=$2 start end cpu0 count
  server_stdin=/dev/null start_server "$pin" "$conf" "$work/bundle+issuer.pem" /dev/null "$work/hs.err"
  children_cpu; cpu0=$cpu
  start=$(now)
  env ${conf:+OPENSSL_CONF=$conf} timeout $((seconds + 5)) ${pin:+taskset -c "$pin"} openssl s_time \
    -connect "127.0.0.1:$port" -new -time "$seconds" -cert "$cli/tls.crt" -key "$cli/tls.key" \
    -CAfile "$bundle" -no-CApath -no-CAstore -verify 3 >"$work/s_time.out" 2>&1 || { tail -5 "$work/s_time.out" >&2; die "s_time failed"; }
  end=$(now)
  stop_server
  children_cpu
  if grep -qi "error" "$work/hs.err"; then grep -i error "$work/hs.err" | head -3 >&2; die "s_server refused a handshake"; fi
  count=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' "$work/s_time.out")
  [ -n "$count" ] && [ "$count" -gt 0 ] || { tail -3 "$work/s_time.out" >&2; die "s_time made no connection"; }
  result=$(per "$count" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')")
  result_cpu=$(per "$count" "$(awk -v a="$cpu0" -v b="$cpu" 'BEGIN { print b - a }')")
}
echo "tls-baseline: full mTLS handshakes, openssl s_time -new -time $seconds: per wall-clock second, per CPU-second (s_time + s_server)"
handshakes 0 "";       hs_pinned_x25519="$result $result_cpu"; echo "  pinned to CPU 0, X25519 key share:  $result /s  $result_cpu per CPU-s"
handshakes 0 "$p256";  hs_pinned_p256="$result $result_cpu";   echo "  pinned to CPU 0, P-256 key share:   $result /s  $result_cpu per CPU-s"
handshakes "" "";      hs_free_x25519="$result $result_cpu";   echo "  unpinned (2 cores), X25519:         $result /s  $result_cpu per CPU-s"
handshakes "" "$p256"; hs_free_p256="$result $result_cpu";     echo "  unpinned (2 cores), P-256:          $result /s  $result_cpu per CPU-s"

# --- bulk: s_client < file -> s_server ----------------------------------------------------------
head -c $((bulk_mib << 20)) /dev/urandom >"$work/bulk.bin"
# bulk PIN SUITE IN OUT: s_client sends file IN to s_server (which writes it to OUT) -> $wall,
# from starting s_client until s_server has read everything and exited, and $cpu_used, the CPU
# seconds of both.
bulk() {
  local pin=$1 suite=$2 in=$3 out=$4 start end cpu0
  start_server "$pin" "" "$bundle" "$out" "$work/bulk.err" -naccept 1
  children_cpu; cpu0=$cpu
  start=$(now)
  timeout 20 ${pin:+taskset -c "$pin"} openssl s_client -connect "127.0.0.1:$port" -servername "$server_id" \
    -cert "$cli/tls.crt" -cert_chain "$issuer" -key "$cli/tls.key" -CAfile "$bundle" -no-CApath -no-CAstore \
    -verify_return_error -ciphersuites "$suite" -quiet -no_ign_eof -nocommands <"$in" >/dev/null 2>"$work/bulk-client.err" ||
    { cat "$work/bulk-client.err" >&2; die "s_client failed"; }
  wait "$server" || { cat "$work/bulk.err" >&2; die "s_server failed"; }
  end=$(now)
  children_cpu
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
  cpu_used=$(awk -v a="$cpu0" -v b="$cpu" 'BEGIN { print b - a }')
}
# best_bulk PIN SUITE: a warm-up whose output is compared with the file; the cost of sending
# nothing (process start, handshake, close: the least of 2), which is taken off; then the best
# of 3 -> $result (MB per wall-clock second), $result_cpu (MB per CPU-second), MB = 10^6 bytes.
best_bulk() {
  local best=0 best_cpu=0 base_wall=999 base_cpu=999 run mb
  mb=$(awk -v n=$((bulk_mib << 20)) 'BEGIN { print n / 1e6 }')
  bulk "$1" "$2" "$work/bulk.bin" "$work/received.bin"
  cmp -s "$work/received.bin" "$work/bulk.bin" || die "s_server did not receive the file intact"
  rm -f "$work/received.bin"
  for run in 1 2; do
    bulk "$1" "$2" /dev/null /dev/null
    base_wall=$(awk -v a="$base_wall" -v b="$wall" 'BEGIN { print (b < a ? b : a) }')
    base_cpu=$(awk -v a="$base_cpu" -v b="$cpu_used" 'BEGIN { print (b < a ? b : a) }')
  done
  for run in 1 2 3; do
    bulk "$1" "$2" "$work/bulk.bin" /dev/null
    result=$(per "$mb" "$(awk -v a="$wall" -v b="$base_wall" 'BEGIN { print a - b }')")
    result_cpu=$(per "$mb" "$(awk -v a="$cpu_used" -v b="$base_cpu" 'BEGIN { print a - b }')")
    if [ "$result" -gt "$best" ]; then best=$result; fi
    if [ "$result_cpu" -gt "$best_cpu" ]; then best_cpu=$result_cpu; fi
  done
  result=$best result_cpu=$best_cpu
  echo "    (sending nothing took $base_wall s, $base_cpu s CPU: taken off)"
}
echo "tls-baseline: bulk, openssl s_client -quiet < $bulk_mib MiB file -> s_server -quiet (s_client sends 8 KiB records), best of 3"
best_bulk 0 TLS_AES_256_GCM_SHA384;  bulk_pinned_256="$result $result_cpu"; echo "  pinned to CPU 0, AES-256-GCM:       $result MB/s  $result_cpu MB per CPU-s"
best_bulk 0 TLS_AES_128_GCM_SHA256;  bulk_pinned_128="$result $result_cpu"; echo "  pinned to CPU 0, AES-128-GCM:       $result MB/s  $result_cpu MB per CPU-s"
best_bulk "" TLS_AES_256_GCM_SHA384; bulk_free_256="$result $result_cpu";   echo "  unpinned (2 cores), AES-256-GCM:    $result MB/s  $result_cpu MB per CPU-s"
best_bulk "" TLS_AES_128_GCM_SHA256; bulk_free_128="$result $result_cpu";   echo "  unpinned (2 cores), AES-128-GCM:    $result MB/s  $result_cpu MB per CPU-s"
rm -f "$work/bulk.bin"

# --- the cipher alone: openssl speed --------------------------------------------------------------
# speed CIPHER [-decrypt]: MB/s on 16 KiB blocks, CPU 0.
speed() {
  taskset -c 0 timeout 10 openssl speed -seconds 2 -bytes 16384 "${@:2}" -evp "$1" 2>/dev/null |
    awk -v c="$1" 'toupper($1) == toupper(c) { v = $2; sub(/k$/, "", v); printf "%.0f", v / 1000 }'
}
echo "tls-baseline: openssl speed -evp, 16 KiB blocks, CPU 0 (the cipher alone)"
declare -A ceiling
for cipher in aes-128-gcm aes-256-gcm; do
  enc=$(speed $cipher)
  dec=$(speed $cipher -decrypt)
  ceiling[$cipher]=$(awk -v e="$enc" -v d="$dec" 'BEGIN { printf "%.0f", 1 / (1 / e + 1 / d) }')
  echo "  $cipher: encrypt $enc MB/s, decrypt $dec MB/s; both on one core: ${ceiling[$cipher]} MB/s"
done

# --- the table -----------------------------------------------------------------------------------
# ours KEY: "per-second per-CPU-second" from the bench's results, or "- -".
ours() {
  local line=
  if [ -n "$ours" ] && [ -f "$ours" ]; then line=$(awk -v k="$1" '$1 == k { printf "%.0f %.0f", $2, $3 }' "$ours"); fi
  echo "${line:--  -}"
}
# row LABEL "OURS OURS_CPU" "OPENSSL OPENSSL_CPU"
row() {
  local a=($2) b=($3)
  printf '%-52s %9s %9s %9s %9s\n' "$1" "${a[0]:--}" "${a[1]:--}" "${b[0]:--}" "${b[1]:--}"
}
echo
echo "one core (CPU 0) unless said; MB = 10^6 bytes                   Switchyard            openssl"
row "" "per-s per-CPU-s" "per-s per-CPU-s"
row "full mTLS 1.3 handshakes, P-256 key share" "$(ours handshakes_p256)" "$hs_pinned_p256"
row "full mTLS 1.3 handshakes, X25519 key share" "$(ours handshakes_x25519)" "$hs_pinned_x25519"
row "  openssl unpinned (2 cores), P-256" "" "$hs_free_p256"
row "  openssl unpinned (2 cores), X25519" "" "$hs_free_x25519"
row "bulk MB/s, AES-128-GCM (ours: flush every write)" "$(ours bulk_aes128_flush1)" "$bulk_pinned_128"
row "bulk MB/s, AES-128-GCM (ours: flush every 16 writes)" "$(ours bulk_aes128_flush16)" ""
row "bulk MB/s, AES-256-GCM (ours: flush every write)" "$(ours bulk_aes256_flush1)" "$bulk_pinned_256"
row "  openssl unpinned (2 cores), AES-128-GCM" "" "$bulk_free_128"
row "  openssl unpinned (2 cores), AES-256-GCM" "" "$bulk_free_256"
row "cipher alone (speed), enc+dec on one core, AES-128" "" "${ceiling[aes-128-gcm]}"
row "cipher alone (speed), enc+dec on one core, AES-256" "" "${ceiling[aes-256-gcm]}"
