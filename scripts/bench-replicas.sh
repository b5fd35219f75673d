#!/usr/bin/env bash
# Fleet load with PostgreSQL and several replicas (docs/benchmarks.md, "PostgreSQL
# replicas"): starts a throwaway PostgreSQL cluster (initdb/pg_ctl as the postgres user,
# in a temporary directory, on a free loopback port), starts REPLICAS copies of
# `ironroot server --database postgres://...` on loopback sharing one --data directory,
# and plays the fleet against all of them with ironroot-loadgen (each node takes its
# challenge from one replica and sends its evidence to the next).
#
#   scripts/bench-replicas.sh ramp            # ramp (RATES) across REPLICAS replicas
#   scripts/bench-replicas.sh kill            # kill test (below)
#   scripts/bench-replicas.sh all             # both (default)
#
# Kill test: steady KILL_RATE/s for KILL_SECS s; replica 1 gets SIGKILL KILL_AT s into the
# measured load; nodes retry a failed attestation at once on another replica. Then:
#   (a) verdicts after the kill come from the surviving replica(s) (loadgen's timeline);
#   (b) every report_id a node was answered is in the `reports` table (psql);
#   (c) the failed attempts in the kill window and how they ended (loadgen's summary);
#   (d) deadlines expire once: load stopped, wait past --trust-validity, every host is
#       `expired` in the database and appears in exactly one "trust changed ... expired"
#       line across the surviving replicas' logs.
# Each run (every ramp, the kill test) uses a fresh database and fresh replicas.
#
# Environment: REPLICAS (2), NODES (2000), RATES (600,900,1200,1500), STEP_SECS (20),
# WARMUP_SECS (5), KILL_RATE (600), KILL_SECS (30), KILL_AT (10), TRUST_VALIDITY (15),
# PG_DURABLE (1: PostgreSQL's default fsync/synchronous_commit; 0: the test suite's
# fsync=off), KEEP_DATA=1 keeps the temporary directory (logs, report ids).
# Extra arguments after the mode go to ironroot-loadgen.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/ironroot/target}"
MODE="${1:-all}"
shift || true
REPLICAS="${REPLICAS:-2}"
NODES="${NODES:-2000}"
RATES="${RATES:-600,900,1200,1500}"
STEP_SECS="${STEP_SECS:-20}"
WARMUP_SECS="${WARMUP_SECS:-5}"
KILL_RATE="${KILL_RATE:-600}"
KILL_SECS="${KILL_SECS:-30}"
KILL_AT="${KILL_AT:-10}"
TRUST_VALIDITY="${TRUST_VALIDITY:-15}"
PG_DURABLE="${PG_DURABLE:-1}"
# What agents are told (the load generator keeps its own schedule); must be below the validity.
INTERVAL=$((TRUST_VALIDITY > 20 ? 10 : TRUST_VALIDITY / 2))
case "$MODE" in ramp | kill | all) ;; *) echo "usage: $0 [ramp|kill|all] [loadgen args...]" >&2; exit 1 ;; esac
if ((REPLICAS < 1)) || { [[ "$MODE" != ramp ]] && ((REPLICAS < 2)); }; then
    echo "the kill test needs REPLICAS >= 2" >&2
    exit 1
fi

cargo build --release --quiet -p ironroot-cli --features bench-enrollment
cargo build --release --quiet -p ironroot-loadgen
BIN="$CARGO_TARGET_DIR/release"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# PostgreSQL binaries: Debian's postgresql package (installed if missing).
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [[ -z "$(pg_bindir)" ]]; then
    apt-get install -y postgresql >/dev/null || { apt-get update >/dev/null && apt-get install -y postgresql >/dev/null; }
fi
PGBIN="$(pg_bindir)"
[[ -x "$PGBIN/initdb" ]] || { echo "no PostgreSQL binaries found" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

WORK="$(mktemp -d /tmp/ironroot-replicas.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/pg" "$WORK/data"
[[ $EUID == 0 ]] && chown postgres: "$WORK/pg"
PGPORT="$(free_port)"
SERVERS=()
cleanup() {
    for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${SERVERS[@]}"; do wait "$p" 2>/dev/null || true; done
    (cd "$WORK/pg" && as_pg "$PGBIN/pg_ctl" -D data -m immediate -w stop >/dev/null 2>&1) || true
    if [[ "${KEEP_DATA:-0}" == 1 ]]; then echo "logs and data kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

(cd "$WORK/pg" && as_pg "$PGBIN/initdb" -D data -U postgres --auth=trust -E UTF8 --no-sync >/dev/null)
PGOPTS="-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=200"
[[ "$PG_DURABLE" == 1 ]] || PGOPTS+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
(cd "$WORK/pg" && as_pg "$PGBIN/pg_ctl" -D data -l server.log -w -o "$PGOPTS" start >/dev/null)
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (durable=$PG_DURABLE); $(nproc) cores:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

wait_listening() { # pid port log
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || { echo "replica on port $2 exited:" >&2; cat "$3" >&2; exit 1; }
        sleep 0.1
    done
    echo "replica on port $2 did not listen" >&2
    exit 1
}

# Starts REPLICAS replicas on a fresh database named $1. The first start on an empty
# --data directory creates the CA, the report-signing key and the admin token without
# any lock (two replicas racing there could write different keys), so replica 0 starts
# alone and the others only once it listens; later they only read those files.
PORTS=()
start_replicas() {
    local db="$1" k
    psql_ -d postgres -c "CREATE DATABASE $db"
    SERVERS=()
    PORTS=()
    for ((k = 0; k < REPLICAS; k++)); do
        PORTS+=("$(free_port)")
        IRONROOT_LOG=info "$BIN/ironroot" server --data "$WORK/data" --listen "127.0.0.1:${PORTS[k]}" \
            --database "postgres://postgres@127.0.0.1:$PGPORT/$db" --trust-validity "$TRUST_VALIDITY" --interval "$INTERVAL" \
            --ek-cert-policy if-present --allow-bench-enrollment >"$WORK/$db-replica$k.log" 2>&1 &
        SERVERS+=($!)
        ((k > 0)) || wait_listening "${SERVERS[0]}" "${PORTS[0]}" "$WORK/$db-replica0.log"
    done
    for ((k = 1; k < REPLICAS; k++)); do wait_listening "${SERVERS[k]}" "${PORTS[k]}" "$WORK/$db-replica$k.log"; done
    echo "$REPLICAS replicas (pids ${SERVERS[*]}) on ports ${PORTS[*]}, database $db"
}
stop_replicas() {
    for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${SERVERS[@]}"; do wait "$p" 2>/dev/null || true; done
    SERVERS=()
}
# CPU seconds of the PostgreSQL server and its live backends (the loadgen's "server CPU"
# column counts the replicas only).
pg_cpu() {
    local pm
    pm="$(head -1 "$WORK/pg/data/postmaster.pid")"
    ps -o times= -p "$pm" --ppid "$pm" | awk '{s += $1} END {print s + 0}'
}
loadgen() {
    local IFS=, rc=0 c0 c1 t0 t1
    local servers=() k
    for k in "${PORTS[@]}"; do servers+=("127.0.0.1:$k"); done
    c0="$(pg_cpu)" t0="$(date +%s.%N)"
    "$BIN/ironroot-loadgen" --server "${servers[*]}" --server-pid "${SERVERS[*]}" \
        --ca "$WORK/data/ca.pem" --admin-token "$WORK/data/admin.token" --nodes "$NODES" "$@" || rc=$?
    c1="$(pg_cpu)" t1="$(date +%s.%N)"
    awk -v c="$((c1 - c0))" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
        'BEGIN{printf "PostgreSQL CPU over the whole loadgen run (setup included): %d s in %.0f s = %.0f %% of one core\n", c, t, 100*c/t}'
    return "$rc"
}

# Deadlines expire exactly once: with the load stopped, wait past the trust validity;
# every host must be `expired` in the database and in exactly one "trust changed ...
# expired" line across the replicas' logs written since the load stopped.
declare -A OFFSET
mark_logs() { for ((k = 0; k < REPLICAS; k++)); do OFFSET[$k]=$(stat -c %s "$WORK/$1-replica$k.log"); done; }
check_expiries() {
    local db="$1" k
    echo "== deadlines ($db): load stopped, waiting $((TRUST_VALIDITY + 3)) s (trust validity $TRUST_VALIDITY s)"
    sleep $((TRUST_VALIDITY + 3))
    psql_ -d "$db" <<'SQL'
\pset footer off
SELECT count(*) AS hosts,
       count(*) FILTER (WHERE trust_state = 'expired') AS expired,
       count(*) FILTER (WHERE trust_state = 'trusted') AS still_trusted,
       count(*) FILTER (WHERE trust_state NOT IN ('expired', 'trusted')) AS other
  FROM hosts;
SQL
    EXP="$WORK/expiries.txt"
    : >"$EXP"
    for ((k = 0; k < REPLICAS; k++)); do
        tail -c +"$((OFFSET[$k] + 1))" "$WORK/$db-replica$k.log" | sed 's/\x1b\[[0-9;]*m//g' \
            | grep 'trust changed' | grep 'to="expired"' | sed -E 's/.*host=([^ ]+).*/\1/' | sed "s/^/$k /" >>"$EXP" || true
    done
    echo "expiry events logged after the load stopped, per replica:"
    for ((k = 0; k < REPLICAS; k++)); do
        printf '  replica %d: %d\n' "$k" "$(awk -v k="$k" '$1 == k' "$EXP" | wc -l)"
    done
    echo "  distinct hosts: $(awk '{print $2}' "$EXP" | sort -u | wc -l)," \
        "hosts logged more than once: $(awk '{print $2}' "$EXP" | sort | uniq -d | wc -l)"
}

if [[ "$MODE" != kill ]]; then
    echo "== ramp: $REPLICAS replica(s), rates $RATES, ${STEP_SECS} s steps"
    start_replicas ramp
    loadgen --rates "$RATES" --step-secs "$STEP_SECS" --warmup-secs "$WARMUP_SECS" --steps-after-breach 1 "$@" || true
    mark_logs ramp
    check_expiries ramp
    stop_replicas
fi

if [[ "$MODE" != ramp ]]; then
    echo "== kill test: $REPLICAS replicas, ${KILL_RATE}/s for ${KILL_SECS} s, replica 1 SIGKILLed ${KILL_AT} s into it"
    start_replicas killtest
    loadgen --rates "$KILL_RATE" --step-secs "$KILL_SECS" --warmup-secs "$WARMUP_SECS" --settle-secs 0 \
        --kill-replica 1 --kill-after-secs "$(awk -v a="$WARMUP_SECS" -v b="$KILL_AT" 'BEGIN{print a+b}')" \
        --report-ids "$WORK/acked.tsv" "$@" || true
    # The load has stopped: note where each log ends, so only the expiries that follow count.
    mark_logs killtest
    echo
    echo "== (b) every answered verdict is in the database"
    psql_ -d killtest <<SQL
CREATE TEMP TABLE acked (report_id text, host_id text, trusted int, replica int, ms bigint);
\copy acked FROM '$WORK/acked.tsv'
\pset footer off
SELECT count(*) AS answered_verdicts,
       count(r.report_id) AS found_in_reports,
       count(*) - count(r.report_id) AS lost,
       count(*) FILTER (WHERE r.report_id IS NOT NULL AND r.trusted <> a.trusted) AS trust_mismatch
  FROM acked a LEFT JOIN reports r USING (report_id);
SELECT (SELECT count(*) FROM reports) AS reports_in_db,
       (SELECT count(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM acked a WHERE a.report_id = r.report_id))
           AS stored_but_not_answered;
\echo 'stored but not answered, with answered verdicts of the same host within 2 s (created is in seconds):'
SELECT r.host_id, h.hostname, r.created,
       (SELECT count(*) FROM acked a JOIN reports r2 USING (report_id)
         WHERE a.host_id = r.host_id AND abs(r2.created - r.created) <= 2) AS answered_nearby
  FROM reports r JOIN hosts h USING (host_id)
 WHERE NOT EXISTS (SELECT 1 FROM acked a WHERE a.report_id = r.report_id)
 ORDER BY r.created;
SQL
    echo "(stored_but_not_answered includes the golden node's two setup attestations; the rest were"
    echo " committed by the killed replica, or answered too late, without the node getting the answer)"
    echo
    check_expiries killtest
    echo "expiry events the killed replica logged before it died: $(sed 's/\x1b\[[0-9;]*m//g' "$WORK/killtest-replica1.log" | grep 'trust changed' | grep -c 'to="expired"' || true)"
    echo "errors/warnings in the kill test replicas' logs (besides the benchmark-enrollment warning):"
    for ((k = 0; k < REPLICAS; k++)); do
        printf '  replica %d: %d\n' "$k" "$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/killtest-replica$k.log" | grep -E ' (WARN|ERROR) ' | grep -vc 'benchmark enrollment is ENABLED' || true)"
        sed 's/\x1b\[[0-9;]*m//g' "$WORK/killtest-replica$k.log" | grep -E ' (WARN|ERROR) ' | grep -v 'benchmark enrollment is ENABLED' | cut -c1-300 | sort | uniq -c | sort -rn | head -5 || true
    done
    stop_replicas
fi
