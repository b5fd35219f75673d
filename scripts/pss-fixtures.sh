#!/usr/bin/env bash
# Prints the directory of the Pod Security Standards' own fixtures
# (k8s.io/pod-security-admission v0.37.2, test/testdata/{baseline,restricted}/v1.N/{pass,fail}),
# downloading the Go module into the module cache when it is not there yet. The policy
# engine's conformance test (crates/policy/tests/pss_fixtures.rs) runs it; nothing is copied
# into the repository.
set -euo pipefail
module="k8s.io/pod-security-admission@v0.37.2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# `go mod download` wants a module to run in; a throwaway one keeps the repository clean.
go mod init ironroot.invalid/pss-fixtures >/dev/null 2>&1
dir=$(GOFLAGS=-mod=mod go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir/test/testdata" ]; then
  echo "pss-fixtures: go mod download $module gave no test/testdata" >&2
  exit 1
fi
echo "$dir/test/testdata"
