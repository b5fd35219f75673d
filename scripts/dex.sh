#!/usr/bin/env bash
# Builds Dex, the real OpenID Connect provider the sign-in tests run against (crates/peers/src/dex.rs,
# crates/oidc/tests), from its Go module, once per pinned version, into a cache outside the clone:
#
#   scripts/dex.sh          # prints the path of the dex binary (builds it first if its stamp is missing)
#   scripts/dex.sh --check  # exit 0 and the path if built, 1 otherwise
#
# The Go module proxy serves none of Dex's release tags: they are v2.x.y while its go.mod says
# `module github.com/dexidp/dex` (no /v2), so the proxy lists only a pseudo-version of master,
# which is pinned here. Its go.mod replaces github.com/dexidp/dex/api/v2 (the gRPC admin API's
# generated code, a module of its own) with a directory of its repository, so `go install
# .../cmd/dex@V` refuses it; and the api/v2 of that commit is not on the proxy (the published
# v2.4.0 lacks the MFA and identity calls server/apiserver makes). So the build uses a copy of
# the module with one patch: cmd/dex/serve.go no longer links server/apiserver, and a
# configured `grpc.addr` fails at start ("no gRPC API in this build"). The OpenID Connect side
# is Dex's own code, unchanged; the tests never use the gRPC API. A throwaway module requires
# Dex, replaced by that copy, and builds cmd/dex. CGO is off: the sqlite storage then compiles
# as a stub, and the tests use the memory storage. The cache, the lock and the stamp:
# scripts/lib/go-peer.sh.
set -euo pipefail

DEX_VERSION=v0.0.0-20260806151424-ab64ed778070

# shellcheck source=lib/go-peer.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/go-peer.sh"
go_peer_start dex "dex-$DEX_VERSION" bin/dex "${1:-}"
# Not `{ ...; } || cleanup`: bash ignores `set -e` inside a command whose status `||` tests,
# so a failed step would go on to stamp a build that produced nothing.
# The trap runs inside the block's redirection: fd 8 is the caller's stderr.
exec 8>&2
trap 'echo "dex: build failed, see $log" >&8; tail -20 "$log" >&8; rm -rf "$tmp"' ERR
{
  echo "== $(date -u +%FT%TZ) building $key"
  mkdir -p "$tmp/mod" "$tmp/bin"
  # A build cache of its own, removed afterwards: nothing reuses it once the binary is cached.
  export GOCACHE="$tmp/gocache"
  src=$(go mod download -json "github.com/dexidp/dex@$DEX_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  cp -r "$src" "$tmp/dex"
  chmod -R u+w "$tmp/dex"
  # The patch (see above); it fails loudly if serve.go is not the pinned one.
  python3 - "$tmp/dex/cmd/dex/serve.go" <<'PATCH'
import sys
path = sys.argv[1]
s = open(path).read()
edits = [
    ('\t"github.com/dexidp/dex/api/v2"\n', ''),
    ('\t"github.com/dexidp/dex/server/apiserver"\n', ''),
    ('\t\tapi.RegisterDexServer(grpcSrv, apiserver.NewAPI(serverConfig.Storage, logger, version, '
     'serv.Connectors(), serv.Discovery(), serv.Backchannel()))\n',
     '\t\t_ = grpcSrv\n'
     '\t\treturn fmt.Errorf("no gRPC API in this build of dex (ironroot test peer, scripts/dex.sh)")\n'),
]
for old, new in edits:
    if s.count(old) != 1:
        sys.exit(f"serve.go is not the pinned one: {old.strip()!r}")
    s = s.replace(old, new)
open(path, "w").write(s)
PATCH
  goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$tmp/dex/go.mod")
  printf 'module ironroot.local/dexpeer\ngo %s\nrequire github.com/dexidp/dex %s\nreplace github.com/dexidp/dex => ../dex\n' \
    "$goversion" "$DEX_VERSION" >"$tmp/mod/go.mod"
  cat >"$tmp/mod/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/dexidp/dex/cmd/dex"
EOF
  (cd "$tmp/mod" && go mod tidy)
  (cd "$tmp/mod" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=$DEX_VERSION" \
    -o "$tmp/bin/dex" github.com/dexidp/dex/cmd/dex)
  "$tmp/bin/dex" version
  rm -rf "$tmp/mod" "$tmp/dex" "$tmp/gocache"
} >"$log" 2>&1
trap - ERR
[ -x "$tmp/bin/dex" ] || { echo "dex: no binary was built, see $log" >&2; rm -rf "$tmp"; exit 1; }
go_peer_finish dex
