#!/usr/bin/env bash
# Fleet load (docs/benchmarks.md, "Fleet load") of this tree against a baseline revision,
# one after the other in the same run on the same machine, then each step's ratio:
#
#   scripts/bench-load-vs.sh f01a2b5 --nodes 2000 --rates 1300,1700,1900 --step-secs 15 --warmup-secs 5
#
# The baseline is exported with `git archive` to /var/cache/ironroot/base-src/REV and built
# with its own load generator (the wire may differ between revisions) in
# BASE_TARGET_DIR (default /var/cache/ironroot/target-base, seeded from this tree's
# release build so that only the workspace's crates build again).
#
#   scripts/bench-load-vs.sh --without-trust-audit --nodes 2000 --rates 1100,1300,1500 ...
#
# compares this tree with itself, the baseline writing verdicts without their audit
# entries (`server --bench-without-trust-audit`): what logging every trust decision costs.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: $0 BASE_REV|--without-trust-audit [ironroot-loadgen arguments]" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/ironroot/target}"
cargo build --release --quiet -p ironroot-cli --features bench-enrollment
cargo build --release --quiet -p ironroot-loadgen

runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
if [[ "$1" == --without-trust-audit ]]; then
    shift
    rev="self without trust.decision entries"
    base_bin="$CARGO_TARGET_DIR/release"
    base_args="--bench-without-trust-audit"
else
    rev="$(git rev-parse --short "$1")"
    shift
    base_target="${BASE_TARGET_DIR:-/var/cache/ironroot/target-base}"
    src="/var/cache/ironroot/base-src/$rev"
    if [[ ! -d "$src" ]]; then
        mkdir -p "$src"
        git archive "$rev" | tar -x -C "$src"
    fi
    if [[ ! -d "$base_target/release" ]]; then
        mkdir -p "$base_target"
        cp -a "$CARGO_TARGET_DIR/release" "$base_target/"
    fi
    (cd "$src" && CARGO_TARGET_DIR="$base_target" cargo build --release --quiet -p ironroot-cli --features bench-enrollment \
        && CARGO_TARGET_DIR="$base_target" cargo build --release --quiet -p ironroot-loadgen)
    base_bin="$base_target/release"
    base_args=""
fi

echo "== baseline $rev"
# The load generator exits 2 when no step kept p99 within its limit: a result, not an error.
SERVER_ARGS="$base_args" IRONROOT_BIN_DIR="$base_bin" scripts/bench-load.sh "$@" | tee "$runs/base" || true
echo "== this tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'))"
IRONROOT_BIN_DIR="$CARGO_TARGET_DIR/release" scripts/bench-load.sh "$@" | tee "$runs/new" || true

# The summary rows: target/s achieved/s ok errors p50 p90 p99 max CPU% RSS loadgen%.
rows() { sed -n '/^summary (measured steps):/,/^$/p' "$1" | awk 'NR > 2 && NF >= 11'; }
echo
echo "this tree / baseline $rev, per step (achieved rate: higher is better; p99 and CPU: lower is better)"
printf '%8s  %14s  %10s  %10s  %12s\n' target/s achieved-ratio p50-ratio p99-ratio CPU-ratio
join <(rows "$runs/new" | awk '{print $1, $2, $5, $7, $9}' | sort -k1,1) \
     <(rows "$runs/base" | awk '{print $1, $2, $5, $7, $9}' | sort -k1,1) |
    sort -n | awk '{ printf "%8s  %14.3f  %10.3f  %10.3f  %12.3f\n", $1, $2/$6, $3/$7, $4/$8, $5/$9 }'
