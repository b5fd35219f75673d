#!/usr/bin/env bash
# Keeps the dependency tree honest (issue 12, "one crypto stack"): cargo-deny checks bans
# (ring, OpenSSL, a second TLS stack), licences, sources (crates.io only) and RustSec
# advisories, configured by deny.toml at the root.
#
# Advisories need the RustSec database. It is fetched when the network allows; otherwise the
# copy cached by an earlier fetch ($IRONROOT_ADVISORY_DB, default
# /var/cache/ironroot/advisory-dbs) is used. With neither, the advisories check cannot run:
# it fails when IRONROOT_REQUIRE_ADVISORIES=1, and is otherwise reported as SKIPPED (and
# recorded in $IRONROOT_SKIP_LOG, so .ci/run's closing line counts it) while bans,
# licences and sources are still checked.
#
#   scripts/deny.sh     installs cargo-deny once (cached), then checks; exits 1 on a failure
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${CARGO_TOOLS_DIR:-/var/cache/ironroot/cargo-tools}"
cargo_deny_version="0.20.2"
export IRONROOT_ADVISORY_DB="${IRONROOT_ADVISORY_DB:-/var/cache/ironroot/advisory-dbs}"
export PATH="$tools/bin:$PATH"

if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $cargo_deny_version" ]; then
  echo "installing cargo-deny $cargo_deny_version into $tools (about 6 min once, see docs/peers.md)"
  mkdir -p "$tools"
  # Its own build directory: a CARGO_TARGET_DIR exported by the Makefile would mix it into
  # the workspace's.
  (unset CARGO_TARGET_DIR; cargo install cargo-deny --version "$cargo_deny_version" --locked --root "$tools")
fi

cd "$root"
# --offline for the checks: the database is fetched (or not) once, by `fetch db`.
deny=(cargo deny --locked --color never)
if "${deny[@]}" fetch db; then
  "${deny[@]}" --offline check
elif compgen -G "$IRONROOT_ADVISORY_DB/*/crates" >/dev/null; then
  echo "deny: the RustSec database cannot be fetched; using the copy cached in $IRONROOT_ADVISORY_DB"
  "${deny[@]}" --offline check
else
  what="RustSec advisory database neither fetchable nor cached in $IRONROOT_ADVISORY_DB"
  if [ "${IRONROOT_REQUIRE_ADVISORIES:-}" = 1 ]; then
    echo "deny: $what (IRONROOT_REQUIRE_ADVISORIES=1)" >&2
    exit 1
  fi
  "${deny[@]}" --offline check bans licenses sources
  echo "SKIPPED scripts/deny.sh advisories: $what" >&2
  # .ci/run's closing line counts it as skipped (a name under scripts/: not a cargo test).
  [ -z "${IRONROOT_SKIP_LOG:-}" ] || echo "scripts/deny.sh advisories: $what" >>"$IRONROOT_SKIP_LOG"
fi
