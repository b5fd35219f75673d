#!/usr/bin/env bash
# Builds the real Kubernetes control plane the tests run against, from its Go modules, once per
# pinned version, into a cache outside the clone:
#
#   scripts/kube-peers.sh          # prints the bin directory (builds first if its stamp is missing)
#   scripts/kube-peers.sh --check  # exit 0 and the bin directory if built, 1 otherwise
#
# The bin directory holds kube-apiserver, kube-scheduler, kube-controller-manager and kubectl
# (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3's etcdmain) and kwok (sigs.k8s.io/kwok).
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with local directories, so
# `go install k8s.io/kubernetes/cmd/...@vX` refuses it. A throwaway module requires it and replaces
# every staging module with its published v0.X.Y instead; the module ships its generated OpenAPI
# code, so nothing needs generating. etcd's own main module has replace directives too, so a
# three-line main calls etcdmain.Main. The cache, the lock and the stamp: scripts/lib/go-peer.sh.
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
# The staging modules are published as v0.<minor>.<patch> of the same release.
STAGING_VERSION=v0.${K8S_VERSION#v1.}

# shellcheck source=lib/go-peer.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/go-peer.sh"
go_peer_start kube-peers "kube-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION" bin "${1:-}"
{
  echo "== $(date -u +%FT%TZ) building $key"
  mkdir -p "$tmp/mod" "$tmp/etcd" "$tmp/bin"
  # A build cache of its own, removed afterwards: it grows to about 5 GB, and nothing
  # reuses it once the binaries are cached by version.
  export GOCACHE="$tmp/gocache"

  # Kubernetes: the staging modules named in its own go.mod, each at the published version.
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  staging=$(sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$gomod")
  [ -n "$staging" ] || { echo "no staging replaces found in $gomod" >&2; exit 1; }
  goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  {
    echo "module ironroot.local/kubepeers"
    echo "go $goversion"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    for m in $staging; do echo "replace $m => $m $STAGING_VERSION"; done
  } >"$tmp/mod/go.mod"
  cat >"$tmp/mod/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$tmp/mod" && go mod tidy)
  (cd "$tmp/mod" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)

  # etcd
  cat >"$tmp/etcd/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  printf 'module ironroot.local/etcd\ngo %s\nrequire go.etcd.io/etcd/server/v3 %s\n' "$goversion" "$ETCD_VERSION" >"$tmp/etcd/go.mod"
  (cd "$tmp/etcd" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/bin/etcd" .)

  # kwok: fake nodes and pods, driven by the real API server.
  CGO_ENABLED=0 GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

  "$tmp/bin/kube-apiserver" --version
  "$tmp/bin/etcd" --version | head -1
  "$tmp/bin/kwok" --version 2>/dev/null | head -1 || true
  rm -rf "$tmp/mod" "$tmp/etcd" "$tmp/gocache"
} >"$log" 2>&1 || { echo "kube-peers: build failed, see $log" >&2; tail -20 "$log" >&2; rm -rf "$tmp"; exit 1; }
# `set -e` does not hold inside a `{ ...; } || ...` block: a failed step above does not
# stop it, so nothing is stamped unless every binary is there and runs.
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok; do
  if ! [ -x "$tmp/bin/$b" ] || ! "$tmp/bin/$b" --help >/dev/null 2>&1; then
    echo "kube-peers: $b was not built, see $log" >&2; tail -20 "$log" >&2; rm -rf "$tmp"; exit 1
  fi
done
go_peer_finish kube-peers
