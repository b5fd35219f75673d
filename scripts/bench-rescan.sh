#!/usr/bin/env bash
# Rescanning stored inventories after a database update (issue 5: 10,000 inventories in
# under 5 s). Stores 10,000 synthetic Debian 12 inventories of 1,000 packages in ironroot's
# inventory store, drawn from 30,000 source packages in 3 versions each (a fleet's images
# share base images; 90,000 distinct packages), loads the synthetic 60,000-record database
# of ironroot-match-bench, then times `ironroot rescan`:
#   1. the first rescan (every match is new: the store's initial state),
#   2. a rescan with the database unchanged,
#   3. a rescan after an update bringing 600 more advisories (1 %).
# The baseline, in the same process, is loading the vulnerability database, which any
# rescan must do: the figures print the rescan's own time next to it.
#
#   scripts/bench-rescan.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-/var/cache/ironroot/target}
cd "$root"
cargo build --release --locked -p ironroot-cli -p ironroot-bench --bin ironroot --bin ironroot-match-bench >&2
bin=$target/release
W=$(mktemp -d /var/tmp/ironroot-bench-rescan.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/feed" "$W/feed2"
"$bin/ironroot-match-bench" --write-feed "$W/feed/osv.json"
"$bin/ironroot-match-bench" --write-feed "$W/feed2/osv.json" 600
export IRONROOT_DB=$W/db IRONROOT_INVENTORIES=$W/inv
"$bin/ironroot" db update --from "$W/feed" >/dev/null
"$bin/ironroot" rescan --max-db-age 100000d --summary >/dev/null   # creates the store
python3 - "$W/inv/inventories.sqlite" <<'PY'
import random, sqlite3, sys
random.seed(7)
db = sqlite3.connect(sys.argv[1])
SOURCES, VERSIONS, IMAGES, SIZE = 30_000, 3, 10_000, 1_000
def version(src, v):
    # Mostly newer than the fixes (majors 1-3 in the feed), like ironroot-match-bench.
    return f"{2 + (src + v) % 3}.{(src * 7 + v) % 20}.{(src + v) % 7}-{1 + v}+deb12u{v % 5}"
pkgs = []
for src in range(SOURCES):
    for v in range(VERSIONS):
        pkgs.append((len(pkgs) + 1, "debian", "12", "dpkg", f"bin{src}", version(src, v), f"src{src}", "", "amd64"))
db.executemany("INSERT INTO packages VALUES (?,?,?,?,?,?,?,?,?)", pkgs)
db.executemany("INSERT INTO images VALUES (?,?,?,?,?,?,?)",
    [(f"sha256:{i:064x}", f"registry.example/app{i}:1", "registry", f"sha256:{i:064x}", "debian", "12", 0) for i in range(IMAGES)])
def rows():
    for i in range(IMAGES):
        srcs = random.sample(range(SOURCES), SIZE)
        for s in srcs:
            yield (f"sha256:{i:064x}", s * VERSIONS + random.randrange(VERSIONS) + 1, 0)
db.executemany("INSERT INTO image_packages VALUES (?,?,?)", rows())
db.commit()
PY
run() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  out=$("$bin/ironroot" --output json rescan --max-db-age 100000d --summary)
  t1=$(date +%s.%N)
  python3 -c '
import json, sys
label, t0, t1, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4])
t = out["timings"]; wall = t1 - t0; db = t["database_ms"] / 1000; own = wall - db
n, p, new = out["inventories"], out["packages"], out["new"]
r, m, w = t["read_ms"] / 1000, t["match_ms"] / 1000, t["write_ms"] / 1000
print(f"| {label:<34} | {n:>6} | {p:>8} | {new:>9} | {wall:7.2f} | {db:9.2f} | {own:8.2f} | {r:5.2f} | {m:5.2f} | {w:5.2f} |")
' "$label" "$t0" "$t1" "$out"
}
echo "| rescan                             | images | distinct | new finds |  wall s | db load s | rescan s | read  | match | write |"
echo "|------------------------------------|--------|----------|-----------|---------|-----------|----------|-------|-------|-------|"
run "first (store's initial state)"
run "database unchanged"
"$bin/ironroot" db update --from "$W/feed2" >/dev/null
run "after +600 advisories (1 %)"
echo "(rescan s = wall minus loading the database; read/match/write = its parts)"
