#!/usr/bin/env bash
# Keeps the architecture's layers true (docs/architecture.md, "Crates and their layers"):
#  - pure crates (formats and decisions) have no I/O, network, database or TPM library
#    among their normal dependencies;
#  - nothing links the `ironroot` binary crate: it is a shell over libraries.
# Exit status 1 names every crate that breaks a rule.
set -euo pipefail
cd "$(dirname "$0")/.."

pure="alerts api contentscan crypto cvss evidence imagecheck layers ocicrypt pkgdb policy scanner
      severity signing timestamp tlog tls tpm-wire vercmp verifier vulndb"
forbidden='^(tokio|mio|hyper|reqwest|axum|tonic|sqlx|tss-esapi|oci-client|kube|kube-client|rusqlite)$'

status=0
for c in $pure; do
  # A crate cargo cannot resolve is an error, never a pass.
  deps=$(cargo tree --locked -p "ironroot-$c" -e normal --prefix none) || exit 1
  bad=$(awk '{print $1}' <<<"$deps" | sort -u | grep -E "$forbidden" | tr '\n' ' ' || true)
  if [ -n "$bad" ]; then
    echo "layers: ironroot-$c is a pure crate but depends on: $bad"
    status=1
  fi
done

tree=$(cargo tree --locked --workspace -i ironroot-cli -e normal,dev,build --prefix none) || exit 1
users=$(awk '{print $1}' <<<"$tree" | sort -u | grep -vx 'ironroot-cli' | tr '\n' ' ' || true)
if [ -n "$users" ]; then
  echo "layers: the ironroot binary crate is linked by: $users (move what they need into a library)"
  status=1
fi

# One way to declare an internal dependency: in [workspace.dependencies], used with
# `ironroot-NAME.workspace = true`.
if grep -nE '^ironroot-[a-z0-9-]+ = \{[^}]*path *=' crates/*/Cargo.toml; then
  echo "layers: declare internal dependencies in the root Cargo.toml's [workspace.dependencies]"
  status=1
fi

[ "$status" = 0 ] && echo "layers: $(echo $pure | wc -w) pure crates hold no I/O; nothing links the binary crate; internal dependencies declared one way"
exit "$status"
