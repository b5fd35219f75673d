#!/usr/bin/env bash
# Installs the system packages ironroot's build, tests and demo need, when missing.
set -euo pipefail
packages=(swtpm swtpm-tools tpm2-tools libtss2-dev pkg-config gcc runc conmon postgresql
  # real peers for encrypted images (docs/peers.md): the distribution registry, podman,
  # debootstrap for the Debian 13 root filesystem with skopeo 1.18 (scripts/trixie-rootfs.sh;
  # Debian 12's skopeo 1.9 predates ocicrypt key providers, so it is not installed here),
  # busybox-static for scripts/make-test-image.sh, softhsm2/opensc for PKCS#11, gnupg for signing;
  # rpm (rpm 4.18: rpm.vercmp is the oracle of crates/vercmp's rpm ordering, and its tools made
  # crates/pkgdb's rpmdb.sqlite fixture); whois for mkpasswd (bcrypt entries of the test
  # registry's htpasswd file, and crypt hashes of crates/imagecheck's fixtures)
  rsyslog rsyslog-gnutls  # the syslog sink's real receiver (crates/peers/src/rsyslog.rs)
  docker-registry podman debootstrap busybox-static softhsm2 opensc gnupg jq curl openssl python3 zstd
  rpm whois
  chromium  # headless, driven over the DevTools protocol by the dashboard tests (crates/peers/src/chromium.rs)
  )
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# the Debian 13 rootfs with skopeo 1.18 (about 30 s and 250 MB once, then cached; see docs/peers.md)
if [ -z "${IRONROOT_SKIP_ROOTFS:-}" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env IRONROOT_CACHE="${IRONROOT_CACHE:-/var/cache/ironroot}" "$(dirname "$0")/trixie-rootfs.sh" >/dev/null
fi
"$(dirname "$0")/kube-peers.sh" --check >/dev/null || { echo "building the Kubernetes control plane once (scripts/kube-peers.sh: about 11 minutes, then cached by version)"; "$(dirname "$0")/kube-peers.sh" >/dev/null; }
"$(dirname "$0")/dex.sh" --check >/dev/null || { echo "building Dex once (scripts/dex.sh: 2 to 3 minutes, then cached by version)"; "$(dirname "$0")/dex.sh" >/dev/null; }
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)"; exit 1; }
