#!/usr/bin/env bash
# Creates once, and caches, a Debian 13 (trixie) root filesystem holding skopeo 1.18, the peer for
# ocicrypt key providers (Debian 12's skopeo 1.9 predates them). See docs/peers.md.
#
#   scripts/trixie-rootfs.sh        # prints the rootfs path on stdout, progress on stderr
#
# Where:  ${IRONROOT_CACHE:-/var/cache/ironroot}/trixie-rootfs
# Mirror: ${IRONROOT_DEBIAN_MIRROR}, else the first Debian mirror in /etc/apt/sources.list*,
#         else http://deb.debian.org/debian
#
# Safe under concurrent invocation: one builder at a time (flock), built in a temporary directory
# beside the target and renamed into place, so a reader sees either nothing or a finished rootfs.
# The rootfs is complete when its stamp file (.ironroot-stamp, holding the skopeo version) exists;
# a rootfs without a stamp is removed and built again. Needs root, debootstrap and about 350 MB.
set -euo pipefail

cache=${IRONROOT_CACHE:-/var/cache/ironroot}
root=$cache/trixie-rootfs
stamp=$root/.ironroot-stamp
# packages inside the rootfs: skopeo and its TLS roots; gnupg for simple-signing tests; jq so that
# test-only shell key providers can parse the keyprovider JSON inside the chroot
packages=(skopeo ca-certificates gnupg jq)

log() { echo "trixie-rootfs: $*" >&2; }

if [ -s "$stamp" ]; then echo "$root"; exit 0; fi

[ "$(id -u)" -eq 0 ] || { log "must run as root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap missing: run scripts/install-deps.sh"; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/trixie-rootfs.lock"
if ! flock -n 9; then
  log "another process is building $root; waiting"
  flock 9
fi
if [ -s "$stamp" ]; then echo "$root"; exit 0; fi

# refuses to delete anything that has a mount under it (in this mount namespace)
safe_rm() {
  local d=$1
  [ -e "$d" ] || return 0
  # The list is read whole before grep: with pipefail, `findmnt | grep -q` fails (and would
  # report no mounts) when grep's early exit kills findmnt with SIGPIPE.
  if grep -q "^$(realpath "$d")\(/\|$\)" <<<"$(findmnt -rn -o TARGET)"; then
    log "refusing to remove $d: mounts are still active under it:"
    findmnt -rn -o TARGET | grep "^$(realpath "$d")\(/\|$\)" >&2
    return 1
  fi
  rm -rf --one-file-system "$d"
}

if [ -e "$root" ]; then
  log "$root has no stamp (interrupted or older build): removing it"
  safe_rm "$root"
fi
# leftovers of a killed build (we hold the lock, so nobody else uses them); a SIGKILLed
# debootstrap can leave its /proc and /sys mounts behind, which are unmounted first
for old in "$cache"/trixie-rootfs.tmp.*; do
  [ -e "$old" ] || continue
  log "removing leftover $old"
  { findmnt -rn -o TARGET | grep "^$(realpath "$old")/" || true; } | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  safe_rm "$old"
done

mirror=${IRONROOT_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$( { grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
              grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } |
            grep -E '/debian/?$' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

tmp=$(mktemp -d "$cache/trixie-rootfs.tmp.XXXXXX")
chmod 755 "$tmp"   # mktemp makes it 0700; it becomes the chroot's /
proc_mounted=""
cleanup() {
  if [ -n "$proc_mounted" ]; then umount "$tmp/proc" 2>/dev/null || umount -l "$tmp/proc" || true; fi
  if [ -d "$tmp" ]; then safe_rm "$tmp" || log "left $tmp behind"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
log "debootstrap --variant=minbase trixie from $mirror (about a minute)"
if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    trixie "$tmp" "$mirror" >"$cache/trixie-rootfs.debootstrap.log" 2>&1; then
  log "debootstrap failed; last lines of $cache/trixie-rootfs.debootstrap.log:"
  tail -n 20 "$cache/trixie-rootfs.debootstrap.log" >&2
  exit 1
fi
log "debootstrap done after $(( $(date +%s) - start )) s; installing ${packages[*]}"

# no daemons may start inside the chroot during package installation
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"
mount -t proc proc "$tmp/proc"; proc_mounted=1
chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
  sh "${packages[@]}" >"$cache/trixie-rootfs.apt.log" 2>&1 || {
  log "apt-get install failed; last lines of $cache/trixie-rootfs.apt.log:"
  tail -n 20 "$cache/trixie-rootfs.apt.log" >&2
  exit 1
}
umount "$tmp/proc"; proc_mounted=""
rm -f "$tmp/usr/sbin/policy-rc.d"
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin

version=$(chroot "$tmp" /usr/bin/skopeo --version)
# skopeo needs a signature policy; trixie's containers-common ships one, this is a fallback
[ -s "$tmp/etc/containers/policy.json" ] || {
  mkdir -p "$tmp/etc/containers"
  echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$tmp/etc/containers/policy.json"
}
mkdir -p "$tmp/run/ironroot"
printf '%s\nmirror: %s\ncreated: %s\n' "$version" "$mirror" "$(date -u +%FT%TZ)" >"$tmp/.ironroot-stamp"
mv -T "$tmp" "$root"
log "ready after $(( $(date +%s) - start )) s: $root ($version)"
echo "$root"
