#!/usr/bin/env bash
# Encrypted image layers: ironroot's ocicrypt against skopeo 1.18, on the same layer, same run.
#
#   scripts/bench-layers.sh [SIZE_MB]        (default 1024; run as root, like the peers)
#
# Makes an incompressible layer of SIZE_MB MiB (one file from /dev/urandom in a tar, gzipped with
# stored blocks, so it is a valid tar+gzip that skopeo encrypts as it is instead of compressing
# it again), packs it as an OCI image layout, then times, alternating, ROUNDS times (default 3):
#   skopeo copy --encryption-key jwe:pub.pem oci:plain oci:enc    (RSA-2048 recipient)
#   ironroot-layers encrypt pub.pem LAYER OUT
#   skopeo copy --decryption-key priv.pem oci:enc oci:dec
#   ironroot-layers decrypt priv.pem OUT PLAIN
# each under /usr/bin/time (wall, user+sys CPU of the process tree, peak RSS of its largest
# process). Both sides read the layer, encrypt (AES-256-CTR + HMAC-SHA256), hash what they read
# and what they write (sha256), wrap or unwrap the key, and write the result to a file. Works in
# /dev/shm when it has room (so the disk is out of the figure), else in $TMPDIR; says which.
# Env: ROUNDS, BENCH_DIR (work directory, lowercase path), KEEP=1 keeps it.
set -euo pipefail
size_mb=${1:-1024}
rounds=${ROUNDS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/ironroot/target-bench}

need_kib=$(( size_mb * 1024 * 6 + 65536 ))   # plain, 2 encrypted, 2 decrypted, source file
if [ -z "${BENCH_DIR:-}" ]; then
  shm_kib=$(df -k --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
  if [ "${shm_kib:-0}" -gt "$need_kib" ]; then BENCH_DIR=/dev/shm/ironroot-bench-layers
  else BENCH_DIR=${TMPDIR:-/tmp}/ironroot-bench-layers; fi
fi
W=$BENCH_DIR
rm -rf "$W"; mkdir -p "$W"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
echo "work directory: $W ($(df -h --output=fstype,avail "$W" | tail -1 | tr -s ' '))"

cargo build -q --release -p ironroot-bench --bin ironroot-layers
ir=$CARGO_TARGET_DIR/release/ironroot-layers
skopeo=("$root/scripts/chroot-skopeo.sh" --bind "$W")
"${skopeo[@]}" --version

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/priv.pem"
openssl pkey -in "$W/priv.pem" -pubout -out "$W/pub.pem"

# The layer: tar of one random file, gzip with stored (level 0) blocks.
mkdir -p "$W/src" "$W/plain/blobs/sha256" "$W/ir"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$W/src/random.bin"
tar -C "$W/src" --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - random.bin |
  python3 -c 'import sys,zlib
c=zlib.compressobj(0,zlib.DEFLATED,31)
for b in iter(lambda: sys.stdin.buffer.read(1<<20), b""): sys.stdout.buffer.write(c.compress(b))
sys.stdout.buffer.write(c.flush())' >"$W/layer.tar.gz"
rm -rf "$W/src"
blob() { local h; h=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$W/plain/blobs/sha256/$h"; echo "$h"; }
lsize=$(stat -c %s "$W/layer.tar.gz")
lh=$(blob "$W/layer.tar.gz")
layer=$W/plain/blobs/sha256/$lh
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$lh" >"$W/config.json"   # diff_id is not checked on these copies; no need to gunzip 1 GB
csize=$(stat -c %s "$W/config.json"); ch=$(blob "$W/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$ch" "$csize" "$lh" "$lsize" >"$W/manifest.json"
msize=$(stat -c %s "$W/manifest.json"); mh=$(blob "$W/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$W/plain/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$mh" "$msize" >"$W/plain/index.json"
echo "layer: $lsize bytes (tar+gzip, stored), sha256:$lh"

# timed NAME CMD...: appends "NAME wall user sys maxrss_kib" to $W/times.
timed() {
  local name=$1; shift
  sync
  /usr/bin/time -f "$name %e %U %S %M" -a -o "$W/times" "$@" >"$W/last.out" 2>&1 ||
    { cat "$W/last.out" >&2; echo "$name failed" >&2; exit 1; }
}
: >"$W/times"
for r in $(seq "$rounds"); do
  rm -rf "$W/enc" "$W/dec" "$W/ir/"*
  timed skopeo-encrypt "${skopeo[@]}" copy -q --encryption-key "jwe:$W/pub.pem" "oci:$W/plain:latest" "oci:$W/enc:latest"
  timed ironroot-encrypt "$ir" encrypt "$W/pub.pem" "$layer" "$W/ir/enc"
  timed skopeo-decrypt "${skopeo[@]}" copy -q --decryption-key "$W/priv.pem" "oci:$W/enc:latest" "oci:$W/dec:latest"
  timed ironroot-decrypt "$ir" decrypt "$W/priv.pem" "$W/ir/enc" "$W/ir/dec"
  echo "round $r: $(tail -4 "$W/times" | awk '{printf "%s %.2fs  ", $1, $2}')"
done

# Both round trips give back the layer, and skopeo really encrypted it.
cmp -s "$layer" "$W/ir/dec" || { echo "ironroot round trip differs" >&2; exit 1; }
[ -f "$W/dec/blobs/sha256/$lh" ] || { echo "skopeo round trip lost the layer sha256:$lh" >&2; exit 1; }
grep -q 'tar+gzip+encrypted' "$W"/enc/blobs/sha256/* 2>/dev/null ||
  { echo "skopeo's copy is not encrypted" >&2; exit 1; }

echo
echo "layer $size_mb MiB ($lsize bytes), best of $rounds alternating rounds (wall min..max), machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
awk -v bytes="$lsize" '
  { n[$1]++; w=$2; c=$3+$4
    if (!($1 in bw) || w < bw[$1]) bw[$1]=w
    if (!($1 in ww) || w > ww[$1]) ww[$1]=w
    if (!($1 in bc) || c < bc[$1]) { bc[$1]=c; bu[$1]=$3; bs[$1]=$4 }
    if ($5 > rss[$1]) rss[$1]=$5 }
  END {
    printf "| %-16s | %13s | %8s | %14s | %10s | %12s |\n", "case", "wall s", "MB/s", "CPU s (u+s)", "GB/s/core", "peak RSS MiB"
    printf "|%s|%s|%s|%s|%s|%s|\n", "---", "---:", "---:", "---:", "---:", "---:"
    split("skopeo-encrypt ironroot-encrypt skopeo-decrypt ironroot-decrypt", order, " ")
    for (i = 1; i <= 4; i++) { k = order[i]
      printf "| %-16s | %5.2f..%-5.2f | %8.0f | %5.2f (%.2f+%.2f) | %10.2f | %12.1f |\n", k, bw[k], ww[k],
        bytes/1e6/bw[k], bc[k], bu[k], bs[k], bytes/1e9/bc[k], rss[k]/1024 }
    printf "\nironroot/skopeo: encrypt %.2fx wall, %.2fx CPU; decrypt %.2fx wall, %.2fx CPU\n",
      bw["skopeo-encrypt"]/bw["ironroot-encrypt"], bc["skopeo-encrypt"]/bc["ironroot-encrypt"],
      bw["skopeo-decrypt"]/bw["ironroot-decrypt"], bc["skopeo-decrypt"]/bc["ironroot-decrypt"] }
' "$W/times"
echo "(MB = 10^6 bytes; GB/s/core = bytes / CPU-seconds of the best-CPU round; RSS = largest process, MiB)"
