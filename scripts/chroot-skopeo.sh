#!/usr/bin/env bash
# Runs Debian 13's skopeo 1.18 (with ocicrypt key-provider support) from the cached trixie rootfs.
#
#   scripts/chroot-skopeo.sh [--bind DIR]... SKOPEO-ARGS...
#
# Host directories are visible inside only when bound (--bind DIR, or $IRONROOT_CHROOT_BIND), at
# the same path. OCICRYPT_KEYPROVIDER_CONFIG is passed through; the file and the provider commands
# it names must be inside a bound directory (they run inside the rootfs, with its libraries).
# The registry on 127.0.0.1 is reachable: the chroot shares the host's network.
# Details: scripts/trixie-chroot.sh and docs/peers.md.
set -euo pipefail
opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bind) opts+=(--bind "$2"); shift 2 ;;
    --bind=*) opts+=("$1"); shift ;;
    *) break ;;
  esac
done
exec "$(dirname "$0")/trixie-chroot.sh" ${opts[@]+"${opts[@]}"} -- /usr/bin/skopeo "$@"
