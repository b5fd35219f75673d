#!/usr/bin/env bash
# Scan time against the floor (issue 5): for each test image, `ironroot scan` (every check,
# matching against the test database) and `ironroot-scan-floor` (decompress and read every
# byte of every layer with the same crates, nothing else), alternated in the same run,
# each under /usr/bin/time. Prints wall time, peak RSS and the ratio scan/floor.
#
#   scripts/bench-scan.sh [ROUNDS]      # default 3
#
# Images: the three test images of crates/cli/tests/fixtures/scan/make-images.sh, a real
# Debian 13 root filesystem made by debootstrap (scripts/trixie-rootfs.sh) as one gzip
# layer, and the same plus a 512 MiB layer of random bytes (memory must not grow with it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
target=${CARGO_TARGET_DIR:-/var/cache/ironroot/target}
cache=${IRONROOT_CACHE:-/var/cache/ironroot}
cd "$root"
cargo build --release --locked -p ironroot-cli -p ironroot-bench --bin ironroot --bin ironroot-scan-floor >&2
bin=$target/release
W=$(mktemp -d /var/tmp/ironroot-bench-scan.XXXXXX)
trap 'rm -rf "$W"' EXIT

crates/cli/tests/fixtures/scan/make-images.sh "$W/img" 2>/dev/null
[ -x "$cache/trixie-rootfs/usr/bin/dpkg" ] || { echo "no Debian rootfs at $cache/trixie-rootfs (scripts/trixie-rootfs.sh)" >&2; exit 1; }
scripts/make-test-image.sh --gzip "$W/img/trixie" "$cache/trixie-rootfs" 2>/dev/null
mkdir -p "$W/noise"
head -c $((512 << 20)) /dev/urandom >"$W/noise/blob.bin"
scripts/make-test-image.sh --gzip "$W/img/trixie-noise" "$cache/trixie-rootfs" "$W/noise" 2>/dev/null
rm -rf "$W/noise"

mkdir -p "$W/feeds"
for f in osv/DSA-5514-1.json osv/DEBIAN-CVE-2023-45853.json osv/ALPINE-CVE-2024-5535.json \
  osv/ALPINE-CVE-2024-3094.json debian-tracker-excerpt.json; do
  cp "crates/vulndb/tests/fixtures/$f" "$W/feeds/"
done
export IRONROOT_DB=$W/db IRONROOT_INVENTORIES=$W/inv
"$bin/ironroot" db update --from "$W/feeds" >/dev/null

: >"$W/times"
for r in $(seq "$rounds"); do
  for img in debian alpine rpm trixie trixie-noise; do
    /usr/bin/time -f "floor $img %e %M" -a -o "$W/times" "$bin/ironroot-scan-floor" "$W/img/$img" >/dev/null
    /usr/bin/time -f "scan $img %e %M" -a -o "$W/times" \
      "$bin/ironroot" scan "$W/img/$img" --max-db-age 100000d --no-store --format json -o "$W/report.json"
  done
done

printf '| %-12s | %10s | %12s | %9s | %12s | %13s |\n' image "layers MB" "floor s" "scan s" "scan/floor" "scan RSS MiB"
printf '|%s|\n' "--------------|------------|--------------|-----------|--------------|---------------"
for img in debian alpine rpm trixie trixie-noise; do
  mb=$(du -sm --apparent-size "$W/img/$img/blobs" | cut -f1)
  awk -v img="$img" -v mb="$mb" '
    $2 == img { n[$1]++; v[$1, n[$1]] = $3; if ($4 > rss[$1]) rss[$1] = $4 }
    END {
      for (k in n) { m = n[k]; for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[k, j] < v[k, i]) { t = v[k, i]; v[k, i] = v[k, j]; v[k, j] = t }
        med[k] = v[k, int((m + 1) / 2)] }
      f = med["floor"] > 0 ? med["floor"] : 0.01
      printf "| %-12s | %10s | %12.2f | %9.2f | %12.2f | %13.1f |\n", img, mb, med["floor"], med["scan"], med["scan"] / f, rss["scan"] / 1024 }' "$W/times"
done
echo "(median of $rounds rounds; wall seconds; layers MB = compressed blobs on disk; scan includes the checks and matching)"
