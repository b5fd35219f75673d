#!/usr/bin/env bash
# Builds a small OCI image layout directory without any container daemon.
#
#   scripts/make-test-image.sh [--gzip] [--tag TAG] [--config JSON] OUTDIR [LAYERDIR...]
#
# Each LAYERDIR becomes one layer: a deterministic tar of its contents (sorted, mtime 0, uid/gid 0,
# 512-byte blocking so a one-file layer is 2 KiB). Without LAYERDIR the single layer holds Debian's
# static busybox at /bin/busybox with /bin/sh -> busybox, enough for `podman run IMAGE /bin/sh`.
# --gzip compresses layers (tar+gzip, gzip -n); the default is uncompressed tar.
# --config gives the image config's "config" object (User, Env, Healthcheck, ...); the default
# is {"Env":["PATH=/bin"],"Cmd":["/bin/sh"]}.
# OUTDIR gets oci-layout, index.json (ref name TAG, default "latest") and blobs/sha256/, ready for
# skopeo's or podman's oci:OUTDIR:TAG. The same inputs give the same digests.
set -euo pipefail

gzip_layers="" tag=latest config='{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]}'
while [ $# -gt 0 ]; do
  case "$1" in
    --gzip) gzip_layers=1; shift ;;
    --tag) tag=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--gzip] [--tag TAG] OUTDIR [LAYERDIR...]" >&2; exit 2; }
out=$1; shift

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layerdirs=("$@")
if [ ${#layerdirs[@]} -eq 0 ]; then
  [ -x /bin/busybox ] || { echo "/bin/busybox missing: install busybox-static (scripts/install-deps.sh)" >&2; exit 1; }
  grep -q 'statically linked' <<<"$(file -L /bin/busybox 2>/dev/null)" ||
    grep -q 'not a dynamic' <<<"$(ldd /bin/busybox 2>&1)" ||
    { echo "/bin/busybox is not static: install busybox-static" >&2; exit 1; }
  mkdir -p "$work/busybox/bin"
  cp /bin/busybox "$work/busybox/bin/busybox"
  ln -s busybox "$work/busybox/bin/sh"
  layerdirs=("$work/busybox")
fi

mkdir -p "$out/blobs/sha256"
blob() { # FILE -> moves it into blobs, prints its hex digest
  local h; h=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$out/blobs/sha256/$h"; echo "$h"
}

layers_json="" diffids_json="" i=0
for d in "${layerdirs[@]}"; do
  t=$work/layer$i.tar
  tar -C "$d" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    --blocking-factor=1 -cf "$t" .
  diffid=$(sha256sum "$t" | cut -d' ' -f1)
  size=$(stat -c %s "$t")
  mt=application/vnd.oci.image.layer.v1.tar
  if [ -n "$gzip_layers" ]; then
    gzip -n -9 "$t"; t=$t.gz; mt=$mt+gzip; size=$(stat -c %s "$t")
  fi
  h=$(blob "$t")
  layers_json+="${layers_json:+,}{\"mediaType\":\"$mt\",\"digest\":\"sha256:$h\",\"size\":$size}"
  diffids_json+="${diffids_json:+,}\"sha256:$diffid\""
  i=$((i + 1))
done

case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
printf '{"created":"1970-01-01T00:00:00Z","architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$arch" "$config" "$diffids_json" >"$work/config.json"
csize=$(stat -c %s "$work/config.json")
ch=$(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$ch" "$csize" "$layers_json" >"$work/manifest.json"
msize=$(stat -c %s "$work/manifest.json")
mh=$(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$mh" "$msize" "$tag" >"$out/index.json"
echo "$out: manifest sha256:$mh, $i layer(s)" >&2
