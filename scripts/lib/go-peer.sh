# shellcheck shell=bash
# Sourced by the scripts that build a peer from Go modules once per pinned version into a cache
# outside the clone (scripts/dex.sh, scripts/kube-peers.sh; crates/peers/src/go_peer.rs runs
# them): where the build lives, `--check`, one builder at a time (flock), and the stamp that marks
# a finished build. A build goes into a temporary directory that is renamed into place, so a
# killed build leaves nothing that looks finished.

# go_peer_start NAME KEY RESULT [--check]
#   NAME names the peer in messages (dex), KEY is its cache entry (the name and the pinned
#   versions), RESULT is what the script prints, relative to the entry (bin/dex).
#   When the entry is stamped: prints it and exits 0. With --check and no stamp: exits 1.
#   Otherwise holds the build lock (fd 9) and sets dest, stamp, tmp (an empty build
#   directory), log and start for the build and go_peer_finish.
go_peer_start() {
  local name=$1 check=${4:-}
  local cache=${IRONROOT_CACHE:-/var/cache/ironroot}/peers
  key=$2
  dest=$cache/$key
  stamp=$dest/.ironroot-stamp
  go_peer_result=$dest/$3
  if [ "$check" = --check ]; then
    [ -s "$stamp" ] && { echo "$go_peer_result"; exit 0; }
    exit 1
  fi
  [ -s "$stamp" ] && { echo "$go_peer_result"; exit 0; }
  command -v go >/dev/null || { echo "$name: go is missing (the polyglot machine has Go 1.26)" >&2; exit 1; }
  mkdir -p "$cache"
  exec 9>"$cache/$key.lock"
  flock 9
  # Another builder may have finished while this one waited for the lock.
  [ -s "$stamp" ] && { echo "$go_peer_result"; exit 0; }
  rm -rf "$cache/$key".tmp.*
  tmp=$(mktemp -d "$cache/$key.tmp.XXXXXX")
  log=$cache/$key.log
  start=$(date +%s)
}

# go_peer_finish NAME: stamps the build in $tmp, renames it into place and prints RESULT.
go_peer_finish() {
  echo "$key built in $(( $(date +%s) - start )) s" >"$tmp/.ironroot-stamp"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  echo "$1: $(cat "$stamp")" >&2
  echo "$go_peer_result"
}
