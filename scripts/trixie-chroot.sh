#!/usr/bin/env bash
# Runs a command inside the cached Debian 13 rootfs (scripts/trixie-rootfs.sh, built on first use).
#
#   scripts/trixie-chroot.sh [--bind DIR]... [--] CMD [ARGS...]
#
# --bind DIR   makes host directory DIR available read-write at the same path inside the rootfs
#              (repeatable; also every directory in $IRONROOT_CHROOT_BIND, separated by spaces).
#              Without it, host paths do not exist inside.
# Environment: only PATH, HOME=/root, LANG=C.UTF-8, OCICRYPT_KEYPROVIDER_CONFIG (if set, as given;
#              it must name a path that exists inside, e.g. in a bound directory) and the variables
#              named in $IRONROOT_CHROOT_PASSENV (space-separated) reach the command.
# Working directory: the caller's, when it is inside a bound directory, else /.
#
# Every invocation runs in its own private mount namespace (unshare --mount), where it mounts
# /proc, /dev, /sys and the --bind directories over the shared rootfs. Those mounts are invisible
# to the host and to concurrent invocations, and the kernel drops them when the last process of
# the invocation exits, however it exits: nothing can dangle and nothing needs unmounting. The
# network namespace is the host's, so 127.0.0.1 (a registry, a gRPC key provider) is shared.
# /tmp inside is a fresh tmpfs per invocation; the only trace left in the rootfs is the empty
# mount-point directories for --bind paths outside /tmp.
set -euo pipefail

if [ "${1:-}" != "--in-namespace" ]; then
  binds=()
  for d in ${IRONROOT_CHROOT_BIND:-}; do binds+=("$d"); done
  while [ $# -gt 0 ]; do
    case "$1" in
      --bind) binds+=("$2"); shift 2 ;;
      --bind=*) binds+=("${1#--bind=}"); shift ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ $# -gt 0 ] || { echo "usage: $0 [--bind DIR]... [--] CMD [ARGS...]" >&2; exit 2; }
  [ "$(id -u)" -eq 0 ] || { echo "trixie-chroot: must run as root" >&2; exit 1; }
  root=$("$(dirname "$0")/trixie-rootfs.sh")
  resolved=()
  for d in ${binds[@]+"${binds[@]}"}; do
    r=$(realpath -e "$d") || { echo "trixie-chroot: no such directory: $d" >&2; exit 1; }
    [ -d "$r" ] || { echo "trixie-chroot: not a directory: $d" >&2; exit 1; }
    resolved+=("$r")
  done
  # the bind list travels as one NUL-free, newline-separated argument
  exec unshare --mount --propagation private -- "$0" --in-namespace "$root" \
    "$(printf '%s\n' ${resolved[@]+"${resolved[@]}"})" "$@"
fi

# --- inside the private mount namespace ---
shift
root=$1 bindlist=$2
shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys" 2>/dev/null || mount --rbind -o ro /sys "$root/sys" || true
# a private /tmp, so that mount points for bound temporary directories do not pile up in the rootfs
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
workdir=/
while IFS= read -r d; do
  [ -n "$d" ] || continue
  # a symlink inside the rootfs (e.g. /var/run -> /run) would make the mount land elsewhere
  if [ "$(realpath -m "$root$d")" != "$root$d" ]; then
    echo "trixie-chroot: $d resolves through a symlink inside the rootfs; bind a different path" >&2
    exit 1
  fi
  mkdir -p "$root$d"
  mount --bind "$d" "$root$d"
  case "$PWD/" in "$d"/*) workdir=$PWD ;; esac
done <<<"$bindlist"

envs=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)
[ -z "${OCICRYPT_KEYPROVIDER_CONFIG+x}" ] || envs+=("OCICRYPT_KEYPROVIDER_CONFIG=$OCICRYPT_KEYPROVIDER_CONFIG")
for v in ${IRONROOT_CHROOT_PASSENV:-}; do
  [ -z "${!v+x}" ] || envs+=("$v=${!v}")
done
exec chroot "$root" /usr/bin/env -i -C "$workdir" "${envs[@]}" "$@"
