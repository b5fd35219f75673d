#!/usr/bin/env bash
# End-to-end check of the real peers for encrypted images (docs/peers.md), with timings:
# busybox OCI image -> docker-registry -> skopeo 1.18 encrypts (JWE RSA-2048, JWE EC P-256, test
# key provider) -> skopeo decrypts into an oci: layout -> podman pulls it and runs it with runc.
#
#   scripts/peers-smoke.sh [WORKDIR]   # default: a fresh temporary directory, removed afterwards
#
# Needs root and scripts/install-deps.sh. Leaves no process, mount or podman state behind.
set -euo pipefail
S=$(cd "$(dirname "$0")" && pwd)
keep=""
if [ $# -ge 1 ]; then W=$1; mkdir -p "$W"; W=$(realpath "$W"); keep=1; else W=$(mktemp -d); fi
P=(podman --root "$W/podman/root" --runroot "$W/podman/runroot" --tmpdir "$W/podman/tmp"
   --storage-driver vfs --runtime /usr/sbin/runc --cgroup-manager cgroupfs --events-backend file)
RUN=(run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
cleanup() {
  "${P[@]}" rm -af >/dev/null 2>&1 || true
  "$S/registry.sh" stop "$W/registry" || true
  [ -n "$keep" ] || rm -rf "$W"
}
trap cleanup EXIT
t0=$(date +%s.%N)
step() { # LABEL CMD...: runs CMD, prints its wall time
  local s e; s=$(date +%s.%N)
  "${@:2}"
  e=$(date +%s.%N)
  printf '%-38s %6.2f s\n' "$1" "$(awk "BEGIN{print $e - $s}")" >&2
}
sk() { "$S/chroot-skopeo.sh" --bind "$W" --bind "$S" "$@"; }

step "rootfs (cached after the first run)" "$S/trixie-rootfs.sh" >/dev/null
REG=$("$S/registry.sh" start "$W/registry")
step "make busybox image" "$S/make-test-image.sh" "$W/bb"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/rsa-priv.pem" 2>/dev/null
openssl pkey -in "$W/rsa-priv.pem" -pubout -out "$W/rsa-pub.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/ec-priv.pem"
openssl pkey -in "$W/ec-priv.pem" -pubout -out "$W/ec-pub.pem"

step "skopeo push plain" sk copy --quiet --dest-tls-verify=false "oci:$W/bb:latest" "docker://$REG/app:plain"
step "skopeo encrypt+push (JWE RSA)" sk copy --quiet --dest-tls-verify=false \
  --encryption-key "jwe:$W/rsa-pub.pem" "oci:$W/bb:latest" "docker://$REG/app:enc"
step "skopeo encrypt+push (JWE EC P-256)" sk copy --quiet --dest-tls-verify=false \
  --encryption-key "jwe:$W/ec-pub.pem" "oci:$W/bb:latest" "docker://$REG/app:enc-ec"
step "skopeo pull+decrypt (RSA) to oci:" sk copy --quiet --src-tls-verify=false \
  --decryption-key "$W/rsa-priv.pem" "docker://$REG/app:enc" "oci-archive:$W/dec-rsa.tar:localhost/ironroot/app:dec-rsa"
step "skopeo pull+decrypt (EC) to oci:" sk copy --quiet --src-tls-verify=false \
  --decryption-key "$W/ec-priv.pem" "docker://$REG/app:enc-ec" "oci-archive:$W/dec-ec.tar:localhost/ironroot/app:dec-ec"
if sk copy --quiet --src-tls-verify=false --decryption-key "$W/ec-priv.pem" \
    "docker://$REG/app:enc" "oci:$W/wrong:latest" 2>/dev/null; then
  echo "FAIL: decrypted with the wrong key" >&2; exit 1
fi

# podman 4.3 names an image pulled from oci:DIR after DIR's path, which fails when the path has
# capitals; an oci-archive written with a reference name (skopeo's oci-archive:FILE:NAME) is
# named NAME whatever the path
for img in dec-rsa dec-ec; do
  id=$("${P[@]}" pull -q "oci-archive:$W/$img.tar")
  out=$(step "podman run ($img)" "${P[@]}" "${RUN[@]}" "$id" /bin/busybox echo hello)
  [ "$out" = hello ] || { echo "FAIL: podman run printed '$out'" >&2; exit 1; }
done
if "${P[@]}" pull -q --tls-verify=false "docker://$REG/app:enc" >/dev/null 2>&1; then
  echo "FAIL: podman pulled an encrypted image without a key" >&2; exit 1
fi

# test-only identity key provider, with the requests captured
mkdir -p "$W/cap"
printf '{"key-providers":{"testkp":{"cmd":{"path":"%s","args":[]}}}}\n' "$S/test-keyprovider.sh" >"$W/kp.json"
export OCICRYPT_KEYPROVIDER_CONFIG=$W/kp.json TESTKP_CAPTURE_DIR=$W/cap IRONROOT_CHROOT_PASSENV=TESTKP_CAPTURE_DIR
step "skopeo encrypt+push (provider:testkp)" sk copy --quiet --dest-tls-verify=false \
  --encryption-key provider:testkp:hello "oci:$W/bb:latest" "docker://$REG/app:enc-kp"
step "skopeo pull+decrypt (provider:testkp)" sk copy --quiet --src-tls-verify=false \
  --decryption-key provider:testkp "docker://$REG/app:enc-kp" "oci-archive:$W/dec-kp.tar:localhost/ironroot/app:dec-kp"
id=$("${P[@]}" pull -q "oci-archive:$W/dec-kp.tar")
out=$("${P[@]}" "${RUN[@]}" "$id" /bin/busybox echo hello)
[ "$out" = hello ] || { echo "FAIL: podman run printed '$out'" >&2; exit 1; }
wraps=$(ls "$W"/cap/keywrap-*.json | wc -l) unwraps=$(ls "$W"/cap/keyunwrap-*.json | wc -l)
[ "$wraps" = 1 ] && [ "$unwraps" = 1 ] || { echo "FAIL: provider called $wraps/$unwraps times" >&2; exit 1; }
printf 'all peers OK in %.1f s\n' "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" >&2
