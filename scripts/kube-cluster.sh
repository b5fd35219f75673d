#!/usr/bin/env bash
# Runs a real Kubernetes control plane on loopback, for tests and the demo (docs/peers.md,
# "Kubernetes"): etcd, kube-apiserver (NodeRestriction on, Node,RBAC authorization),
# kube-controller-manager, kube-scheduler and kwok driving N fake nodes.
#
#   scripts/kube-cluster.sh up DIR [--nodes N] [--owner PID]   # N defaults to 2
#   scripts/kube-cluster.sh down DIR
#   scripts/kube-cluster.sh status DIR                          # exit 0 and the lines below if up
#   scripts/kube-cluster.sh user DIR NAME [GROUP]               # prints DIR/user-NAME.kubeconfig
#
# `up` prints, as its last three lines:
#   KUBECONFIG=DIR/admin.kubeconfig
#   APISERVER=https://127.0.0.1:PORT
#   CA=DIR/pki/ca.crt
# once /readyz answers, every node is Ready without node.kubernetes.io/ taints and the default
# service account exists. `--owner PID` starts a watchdog that runs `down` when PID exits, so a
# killed test leaves nothing running.
#
# DIR holds pki/ (EC P-256: the cluster CA, the API server's serving certificate, the
# service-account key pair and one client certificate per identity), a kubeconfig per identity
# (admin = system:masters; kube-scheduler; kube-controller-manager; kwok; node-NODE = the node's own
# kubelet identity system:node:NODE in system:nodes, for NodeRestriction tests; user-NAME), etcd/
# (data), ports, NAME.pid and NAME.log for each process. Everything listens on 127.0.0.1 on ports
# chosen free at the first `up`, so several clusters run at once, one per DIR. Idempotent: `up` on
# a running cluster prints its lines, `down` on a stopped one does nothing. The binaries come from
# $IRONROOT_KUBE_BIN, else scripts/kube-peers.sh (which builds them once).
set -euo pipefail

S=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 up DIR [--nodes N] [--owner PID] | down DIR | status DIR | user DIR NAME [GROUP]" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
log() { echo "kube-cluster: $*" >&2; }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.1f\", $(now) - $1}"; }

# Whether process NAME of this DIR runs: its pid file names a live process whose command line
# mentions DIR (a recycled pid does not).
running() {
  local f=$dir/$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  ours "$pid"
}

# Whether PID is alive and its command line mentions DIR. Read whole into a variable: in a
# pipeline into `grep -q` (with pipefail), grep's early exit could kill `tr` with SIGPIPE and
# fail the pipeline for a process that is running.
ours() {
  local cmd
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ "$cmd" == *"$dir/"* ]]
}

# Fails loudly: the message and the tail of the log that explains it.
die() { # MESSAGE [LOGNAME]
  echo "kube-cluster: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$dir/$2.log" ]; then
    echo "--- last lines of $dir/$2.log:" >&2
    tail -n 30 "$dir/$2.log" >&2
  fi
  # A failed `up` leaves nothing running behind it.
  if [ -n "${starting:-}" ]; then down; fi
  exit 1
}

bindir() {
  if [ -n "${IRONROOT_KUBE_BIN:-}" ]; then echo "$IRONROOT_KUBE_BIN"; else "$S/kube-peers.sh"; fi
}

# ---- PKI -------------------------------------------------------------------------------------
pki_config() {
  cat >"$dir/pki/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[apiserver]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1
EOF
}

eckey() { (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null); }

pki_ca() {
  local p=$dir/pki
  [ -s "$p/ca.crt" ] && return 0
  mkdir -p "$p"
  chmod 700 "$p"
  pki_config
  eckey "$p/ca.key"
  openssl req -x509 -new -config "$p/openssl.cnf" -extensions ca -key "$p/ca.key" \
    -subj "/CN=ironroot-test-cluster-ca" -days 3650 -sha256 -out "$p/ca.crt"
  eckey "$p/sa.key"
  openssl pkey -in "$p/sa.key" -pubout -out "$p/sa.pub"
  # The aggregation layer's own CA, so no client of the cluster CA can pose as the front proxy.
  eckey "$p/front-proxy-ca.key"
  openssl req -x509 -new -config "$p/openssl.cnf" -extensions ca -key "$p/front-proxy-ca.key" \
    -subj "/CN=ironroot-test-front-proxy-ca" -days 3650 -sha256 -out "$p/front-proxy-ca.crt"
}

# A certificate NAME.crt/NAME.key signed by the CA, with SUBJECT and the EXTENSIONS section.
pki_cert() { # NAME SUBJECT EXTENSIONS [CA]
  local p=$dir/pki ca=${4:-ca}
  [ -s "$p/$1.crt" ] && return 0
  eckey "$p/$1.key"
  openssl req -new -config "$p/openssl.cnf" -key "$p/$1.key" -subj "$2" |
    openssl x509 -req -CA "$p/$ca.crt" -CAkey "$p/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 365 -sha256 -extfile "$p/openssl.cnf" -extensions "$3" -out "$p/$1.crt" 2>/dev/null
}

# DIR/NAME.kubeconfig for the client certificate pki/NAME.crt, credentials embedded.
kubeconfig() { # NAME
  local p=$dir/pki port
  port=$(sed -n 's/^apiserver=//p' "$dir/ports")
  (umask 077 && cat >"$dir/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ironroot
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 "$p/ca.crt")
users:
- name: "$1"
  user:
    client-certificate-data: $(base64 -w0 "$p/$1.crt")
    client-key-data: $(base64 -w0 "$p/$1.key")
contexts:
- name: ironroot
  context:
    cluster: ironroot
    user: "$1"
current-context: ironroot
EOF
  )
}

# Names go into certificate subjects and file names: keep them to what both allow.
check_name() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9:._@-]*$ ]] || die "invalid name '$1' (letters, digits, : . _ @ -)"; }

# ---- processes -------------------------------------------------------------------------------
start() { # NAME BINARY ARGS...: detached, own session, logs in DIR/NAME.log
  local name=$1
  shift
  setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/$name.pid"
  # Until the child has exec'd, its command line is this script's, which `running` would
  # read as "not ours": wait for the exec (or the child's end) before anyone asks.
  for _ in $(seq 100); do
    [ -e "/proc/$pid" ] || break
    ours "$pid" && break
    sleep 0.05
  done
}

exit_status() { # NAME: sets $status to how the process NAME (our child) ended. Not in
  # a $(...): a subshell cannot wait for its parent's children.
  local pid
  status="status unknown"
  pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 0
  # Never wait for a process that still runs (it is then not the one started here).
  if [ -e "/proc/$pid" ] && ! grep -q '^State:.*zombie' "/proc/$pid/status" 2>/dev/null; then
    status="pid $pid is another process"
    return 0
  fi
  if wait "$pid" 2>/dev/null; then status="status 0"; else status="status $?"; fi
}

wait_for() { # SECONDS NAME DESCRIPTION CMD...: until CMD succeeds, while NAME runs
  local secs=$1 deadline=$(( $(date +%s) + $1 )) name=$2 what=$3
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! running "$name"; then
      exit_status "$name"
      die "$name exited ($status) before $what" "$name"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || die "not within $secs s: $what" "$name"
    sleep 0.2
  done
}

free_ports() { # N distinct free loopback ports
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

port() { sed -n "s/^$1=//p" "$dir/ports"; }

stop_pids() { # NAME...: TERM, up to 10 s, then KILL
  local name pid pids=()
  for name in "$@"; do
    if running "$name"; then pid=$(cat "$dir/$name.pid"); kill "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -e "/proc/$pid" ] || kill -9 "$pid" 2>/dev/null || true
  done
  for name in "$@"; do rm -f "$dir/$name.pid"; done
}

down() {
  [ -d "$dir" ] || return 0
  # The control plane's clients first, then the API server, then its storage.
  stop_pids kwok kube-scheduler kube-controller-manager
  stop_pids kube-apiserver
  stop_pids etcd
  if [ -z "${KUBE_CLUSTER_WATCHDOG:-}" ]; then stop_pids watchdog; else rm -f "$dir/watchdog.pid"; fi
}

print_lines() {
  echo "KUBECONFIG=$dir/admin.kubeconfig"
  echo "APISERVER=https://127.0.0.1:$(port apiserver)"
  echo "CA=$dir/pki/ca.crt"
}

all_running() { local n; for n in "${PROCS[@]}"; do running "$n" || return 1; done; }

# ---- up --------------------------------------------------------------------------------------
up() {
  local nodes=$1 owner=$2 t0 bin k i
  t0=$(now)
  if all_running; then print_lines; return 0; fi
  down # a partly running cluster starts again from its pieces
  starting=1
  # From here on, the owner's death stops whatever has started.
  if [ -n "$owner" ]; then watchdog "$owner"; fi
  bin=$(bindir) || die "the Kubernetes binaries are not available (scripts/kube-peers.sh failed)"
  for i in "${PROCS[@]}" kubectl; do [ -x "$bin/$i" ] || die "$bin/$i is missing"; done
  k=("$bin/kubectl" --kubeconfig "$dir/admin.kubeconfig")

  if [ ! -s "$dir/ports" ]; then
    read -r pe pp pa pc ps < <(free_ports 5)
    printf 'etcd=%s\netcd-peer=%s\napiserver=%s\ncontroller-manager=%s\nscheduler=%s\n' \
      "$pe" "$pp" "$pa" "$pc" "$ps" >"$dir/ports"
  fi
  pki_ca
  pki_cert apiserver "/CN=kube-apiserver" apiserver
  pki_cert front-proxy-client "/CN=front-proxy-client" client front-proxy-ca
  pki_cert admin "/O=system:masters/CN=ironroot-admin" client
  pki_cert kube-scheduler "/CN=system:kube-scheduler" client
  pki_cert kube-controller-manager "/CN=system:kube-controller-manager" client
  pki_cert kwok "/O=system:masters/CN=kwok-controller" client
  for i in $(seq "$nodes"); do pki_cert "node-node-$i" "/O=system:nodes/CN=system:node:node-$i" client; done
  # Every identity's kubeconfig, the users minted earlier included.
  for i in "$dir"/pki/*.crt; do
    i=$(basename "$i" .crt)
    case "$i" in ca | apiserver | front-proxy-*) ;; *) kubeconfig "$i" ;; esac
  done

  local p=$dir/pki
  mkdir -p "$dir/etcd" "$dir/certs" "$dir/kwok-home"
  chmod 700 "$dir/etcd"
  local ep="http://127.0.0.1:$(port etcd)" pp="http://127.0.0.1:$(port etcd-peer)"
  # No fsync: test data, and it makes etcd about ten times faster on a shared disk.
  start etcd "$bin/etcd" --name ironroot --data-dir "$dir/etcd" \
    --listen-client-urls "$ep" --advertise-client-urls "$ep" \
    --listen-peer-urls "$pp" --initial-advertise-peer-urls "$pp" \
    --initial-cluster "ironroot=$pp" \
    --unsafe-no-fsync --log-level warn
  wait_for 30 etcd "etcd answered" curl -fsS "$ep/health"

  # NodeRestriction on top of the default plugins (webhooks included); the node authorizer
  # before RBAC so node identities are limited to their own objects. Nothing restricts the
  # API server's outgoing calls: webhooks on https://127.0.0.1:PORT are reached directly.
  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "$ep" --bind-address 127.0.0.1 --secure-port "$(port apiserver)" \
    --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
    --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
    --client-ca-file "$p/ca.crt" --cert-dir "$dir/certs" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --requestheader-client-ca-file "$p/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$p/front-proxy-client.crt" \
    --proxy-client-key-file "$p/front-proxy-client.key" \
    --allow-privileged=true --profiling=false
  wait_for 60 kube-apiserver "the API server was ready (/readyz)" \
    curl -fsS --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" \
    "https://127.0.0.1:$(port apiserver)/readyz"
  log "API server ready after $(since "$t0") s"

  local kc=$dir/kube-controller-manager.kubeconfig ks=$dir/kube-scheduler.kubeconfig
  # kwok renews each node's Lease every 10 s (40 s duration; the kwok binary keeps none unless
  # told), well inside the 50 s grace: fake nodes stay Ready.
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --secure-port "$(port controller-manager)" --cert-dir "$dir/certs" \
    --leader-elect=false --controllers '*' --use-service-account-credentials=true \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --node-monitor-period 5s --node-monitor-grace-period 50s --profiling=false
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$ks" --authentication-kubeconfig "$ks" --authorization-kubeconfig "$ks" \
    --bind-address 127.0.0.1 --secure-port "$(port scheduler)" --cert-dir "$dir/certs" \
    --leader-elect=false --profiling=false
  kwok_stages >"$dir/kwok.yaml"
  HOME=$dir/kwok-home start kwok "$bin/kwok" --kubeconfig "$dir/kwok.kubeconfig" \
    --config "$dir/kwok.yaml" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --cidr 10.244.0.0/16 \
    --node-lease-duration-seconds 40

  for i in $(seq "$nodes"); do node_yaml "$i"; done | "${k[@]}" apply -f - >/dev/null ||
    die "could not create the nodes" kube-apiserver
  wait_for 60 kube-controller-manager "kube-controller-manager was healthy" \
    curl -fsSk "https://127.0.0.1:$(port controller-manager)/healthz"
  wait_for 60 kube-scheduler "kube-scheduler was healthy" \
    curl -fsSk "https://127.0.0.1:$(port scheduler)/healthz"
  log "controller manager and scheduler healthy after $(since "$t0") s"
  wait_for 90 kwok "every node was Ready" nodes_ready "${k[@]}"
  log "nodes Ready after $(since "$t0") s"
  wait_for 60 kube-controller-manager "the default service account existed" \
    "${k[@]}" get serviceaccount default -n default
  for i in "${PROCS[@]}"; do running "$i" || die "$i exited" "$i"; done
  log "$nodes nodes Ready, cluster up in $(since "$t0") s"
  print_lines
}

# Ready, and without the node.kubernetes.io/ taints the node controller sets until then.
nodes_ready() { # KUBECTL...
  local out
  out=$("$@" get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}{"\n"}{end}')
  [ -n "$out" ] && awk '$2 != "True" || / node\.kubernetes\.io\// { bad = 1 } END { exit bad }' <<<"$out"
}

node_yaml() { # INDEX
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: node-$1
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: node-$1
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  addresses:
  - {type: InternalIP, address: "198.51.100.$1"}
  - {type: Hostname, address: "node-$1"}
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: v1.37.2
    kernelVersion: kwok-v0.8.0
    containerRuntimeVersion: kwok-v0.8.0
    osImage: kwok
    systemUUID: "$(cat /proc/sys/kernel/random/uuid)"
    machineID: "$(cat /proc/sys/kernel/random/uuid | tr -d -)"
    bootID: "$(cat /proc/sys/kernel/random/uuid)"
EOF
}

watchdog() { # OWNER-PID
  KUBE_CLUSTER_WATCHDOG=1 setsid bash -c '
    while [ -e "/proc/$1" ]; do sleep 1; done
    exec "$2" down "$3"' kube-cluster-watchdog "$1" "$S/kube-cluster.sh" "$dir/" \
    </dev/null >>"$dir/watchdog.log" 2>&1 &
  echo $! >"$dir/watchdog.pid"
}

# kwok's own binary applies no stages (kwokctl does). These are kwok v0.8.0's defaults
# (kustomize/stage/node/fast, node/heartbeat-with-lease, pod/fast), trimmed of what fake nodes
# created by node_yaml already carry (addresses, capacity, node info). Pods become Running on a
# managed node; a pod with a deletion timestamp (evicted, deleted) is really deleted.
kwok_stages() {
  cat <<'EOF'
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: node-initialize}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: NotIn, values: ['True']}
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: node-heartbeat-with-lease}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: In, values: ['True']}
  delay: {durationMilliseconds: 600000, jitterDurationMilliseconds: 610000}
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Pending]}
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: NotIn, values: ['True']}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}
      {{ range .spec.readinessGates }}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: {{ .conditionType | Quote }}}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state: {running: {startedAt: {{ $now | Quote }}}}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state: {terminated: {exitCode: 0, finishedAt: {{ $now | Quote }}, reason: Completed, startedAt: {{ $now | Quote }}}}
      {{ end }}
      {{ $hostIPs := NodeIPsWith .spec.nodeName }}
      {{ with $hostIPs }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-complete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.metadata.ownerReferences.[].kind', operator: In, values: [Job]}
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state: {terminated: {exitCode: 0, finishedAt: {{ $now | Quote }}, reason: Completed, startedAt: {{ $now | Quote }}}}
      {{ end }}
      phase: Succeeded
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: Exists}
  next: {delete: true}
EOF
}

# ---- main ------------------------------------------------------------------------------------
case "$cmd" in
up)
  nodes=2 owner=""
  while [ $# -gt 0 ]; do
    case "$1" in
    --nodes) nodes=${2:?}; shift 2 ;;
    --owner) owner=${2:?}; shift 2 ;;
    *) usage ;;
    esac
  done
  [[ "$nodes" =~ ^[1-9][0-9]?$ ]] || die "--nodes takes 1 to 99"
  command -v openssl >/dev/null || die "openssl is missing"
  mkdir -p "$dir"
  dir=$(realpath "$dir")
  up "$nodes" "$owner"
  ;;
down)
  [ -d "$dir" ] || exit 0
  dir=$(realpath "$dir")
  down
  ;;
status)
  [ -d "$dir" ] || exit 1
  dir=$(realpath "$dir")
  all_running || { for n in "${PROCS[@]}"; do running "$n" || echo "$n: not running" >&2; done; exit 1; }
  print_lines
  ;;
user)
  [ $# -ge 1 ] || usage
  [ -s "$dir/ports" ] || die "$dir is not a cluster directory (run up first)"
  dir=$(realpath "$dir")
  check_name "$1"
  subj="/CN=$1"
  if [ -n "${2:-}" ]; then check_name "$2"; subj="/O=$2$subj"; fi
  pki_cert "user-$1" "$subj" client
  kubeconfig "user-$1"
  echo "$dir/user-$1.kubeconfig"
  ;;
*) usage ;;
esac
