#!/usr/bin/env bash
# Runs Debian's OCI distribution registry (docker-registry) on loopback, for tests.
#
#   scripts/registry.sh start DIR [PORT]   # prints 127.0.0.1:PORT once /v2/ answers
#   scripts/registry.sh stop DIR
#   scripts/registry.sh status DIR         # exit 0 and the address if running
#
# DIR holds config.yml, storage/, registry.log, registry.pid and addr. PORT defaults to a free one.
# Plain HTTP: skopeo needs --dest-tls-verify=false / --src-tls-verify=false, podman
# --tls-verify=false. Each DIR is an independent registry, so concurrent tests use their own DIR.
# No auth, unless REGISTRY_HTPASSWD names an htpasswd file (bcrypt entries, as
# `mkpasswd -m bcrypt` makes them): then every request needs HTTP basic auth.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR | status DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
pidfile=$dir/registry.pid

running() {
  [ -s "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  # Read whole first: `tr | grep -q` under pipefail fails when grep's early exit kills tr.
  local cmd; cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ "$cmd" == *"docker-registry serve $dir/config.yml"* ]]
}

case "$cmd" in
start)
  command -v docker-registry >/dev/null || { echo "docker-registry missing: run scripts/install-deps.sh" >&2; exit 1; }
  mkdir -p "$dir/storage"
  dir=$(realpath "$dir"); pidfile=$dir/registry.pid
  if running; then cat "$dir/addr"; exit 0; fi
  port=${3:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF
  if [ -n "${REGISTRY_HTPASSWD:-}" ]; then
    printf 'auth:\n  htpasswd:\n    realm: ironroot-test\n    path: %s\n' "$(realpath "$REGISTRY_HTPASSWD")" >>"$dir/config.yml"
  fi
  setsid docker-registry serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 &
  echo $! >"$pidfile"
  echo "127.0.0.1:$port" >"$dir/addr"
  for _ in $(seq 100); do
    # 200, or 401 when it asks for credentials: either way it answers.
    code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null || true)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then
      echo "127.0.0.1:$port"; exit 0
    fi
    running || { echo "registry exited; $dir/registry.log:" >&2; cat "$dir/registry.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "registry did not answer on 127.0.0.1:$port within 10 s; $dir/registry.log:" >&2
  cat "$dir/registry.log" >&2
  kill "$(cat "$pidfile")" 2>/dev/null || true
  exit 1
  ;;
stop)
  [ -d "$dir" ] || exit 0
  dir=$(realpath "$dir"); pidfile=$dir/registry.pid
  if running; then
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -e "/proc/$pid" ] || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  ;;
status)
  dir=$(realpath "$dir" 2>/dev/null || echo "$dir"); pidfile=$dir/registry.pid
  if running; then cat "$dir/addr"; else exit 1; fi
  ;;
*) usage ;;
esac
