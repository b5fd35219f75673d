#!/usr/bin/env bash
# Fleet load benchmark (docs/benchmarks.md, "Fleet load"): builds the service with
# benchmark enrollment and the load generator, starts the service on SQLite in a fresh
# temporary directory, plays the fleet against it, and stops everything.
#
#   scripts/bench-load.sh                                  # 2,000 nodes, 1,700/s for 60 s
#   scripts/bench-load.sh --rates 500,1000,1700,2500,3500 --step-secs 30   # ramp
#   scripts/bench-load.sh --ima-files 1000                 # larger IMA lists
#
# Every argument goes to ironroot-loadgen (see `ironroot-loadgen --help`).
# Environment: PORT (default 18443), KEEP_DATA=1 keeps the data directory and server log,
# SERVER_ARGS adds arguments to `ironroot server` (word-split),
# IRONROOT_BIN_DIR runs ironroot and ironroot-loadgen from that directory instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/ironroot/target}"
PORT="${PORT:-18443}"

# IRONROOT_BIN_DIR: binaries built elsewhere (scripts/bench-load-vs.sh's baseline).
if [[ -n "${IRONROOT_BIN_DIR:-}" ]]; then
    BIN="$IRONROOT_BIN_DIR"
else
    cargo build --release --quiet -p ironroot-cli --features bench-enrollment
    cargo build --release --quiet -p ironroot-loadgen
    BIN="$CARGO_TARGET_DIR/release"
fi

# One connection per node on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

DATA="$(mktemp -d /tmp/ironroot-load.XXXXXX)"
"$BIN/ironroot" server --data "$DATA" --listen "127.0.0.1:$PORT" \
    --ek-cert-policy if-present --allow-bench-enrollment ${SERVER_ARGS:-} >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    if [[ "${KEEP_DATA:-0}" == 1 ]]; then
        echo "data and server log kept in $DATA"
    else
        rm -rf "$DATA"
    fi
}
trap cleanup EXIT

for _ in $(seq 100); do
    if [[ -s "$DATA/ca.pem" && -s "$DATA/admin.token" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        break
    fi
    kill -0 "$SERVER" 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
    sleep 0.1
done

echo "service pid $SERVER on 127.0.0.1:$PORT, SQLite in $DATA; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
"$BIN/ironroot-loadgen" --server "127.0.0.1:$PORT" --ca "$DATA/ca.pem" \
    --admin-token "$DATA/admin.token" --server-pid "$SERVER" "$@"
