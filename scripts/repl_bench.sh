#!/usr/bin/env bash
# Replication cost, shoal vs redis-server in the same run (each master with replicas of its own
# kind, all on this machine):
#
#   writes/s    SET with pipeline 16 on the master with 0, 1 and 5 replicas attached
#   lag         during that load: the largest master_repl_offset - slave offset seen (bytes,
#               sampled every 100 ms), and how long the slowest replica took to catch up after
#   full sync   a master holding KEYS keys (64-byte values): ms from a replica's start until its
#               link is up and it holds every key
#
# Usage: scripts/repl_bench.sh
# Environment (all optional): N=200000 (requests per load), KEYS=1000000, SHARDS=2 (shoal's
# --shards, master and replicas), REPLICAS="0 1 5", CLIENTS=50, SHOAL_BIN (else builds).
#
# Everything shares this machine's cores: with 5 replicas the replicas compete with the master
# and the load generator for CPU, on both sides alike. Read the ratios.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

N=${N:-200000}
KEYS=${KEYS:-1000000}
SHARDS=${SHARDS:-2}
REPLICAS=${REPLICAS:-"0 1 5"}
CLIENTS=${CLIENTS:-50}
for v in N KEYS SHARDS CLIENTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
command -v redis-server >/dev/null 2>&1 || die "redis-server is needed (apt-get install redis-server)"
command -v redis-benchmark >/dev/null 2>&1 || die "redis-benchmark is needed (apt-get install redis-tools)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-repl-bench.XXXXXX")
# Servers are started inside command substitutions: their pids are kept in a file.
cleanup() {
    local p
    if [[ -f $WORK/pids ]]; then
        while read -r p; do
            stop_pid "$p"
        done <"$WORK/pids"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_shoal

# start KIND NAME PORT [replicaof-port]: a server of KIND (shoal|redis); prints its pid.
start() {
    local kind=$1 name=$2 port=$3 of=${4:-}
    mkdir -p "$WORK/$name"
    local extra=()
    if [[ -n $of ]]; then
        extra=(--replicaof "127.0.0.1 $of")
    fi
    if [[ $kind == shoal ]]; then
        "$SHOAL_BIN" --port "$port" --shards "$SHARDS" --save "" --dir "$WORK/$name" \
            "${extra[@]}" >"$WORK/$name.log" 2>&1 &
    else
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --repl-diskless-sync-delay 0 \
            --dir "$WORK/$name" --logfile "$WORK/$name.log" "${extra[@]}" >/dev/null 2>&1 &
    fi
    local pid=$!
    echo "$pid" >>"$WORK/pids"
    wait_ready "$name" "$pid" "$port" "$WORK/$name.log"
    echo "$pid"
}

field() { # field PORT SECTION NAME
    redis-cli -p "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}
link_up() { [[ $(field "$1" replication master_link_status) == up ]]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# replica_offsets MASTER_PORT: the slaves' offsets from the master's INFO, one per line.
replica_offsets() {
    redis-cli -p "$1" INFO replication | tr -d '\r' | sed -n 's/^slave[0-9]*:.*offset=\([0-9]*\).*/\1/p'
}

# load KIND NREPLICAS: prints "ops/s max_lag_bytes catchup_ms"
load() {
    local kind=$1 n=$2 mport rports=() pids=() i
    mport=$(free_port)
    local mpid
    mpid=$(start "$kind" "$kind-m$n" "$mport")
    for ((i = 0; i < n; i++)); do
        local rp
        rp=$(free_port)
        rports+=("$rp")
        pids+=("$(start "$kind" "$kind-r$n-$i" "$rp" "$mport")")
    done
    for rp in "${rports[@]}"; do
        for _ in $(seq 300); do
            link_up "$rp" && break
            sleep 0.1
        done
        link_up "$rp" || die "$kind replica on $rp never came up"
    done
    local maxlag=0
    (
        while sleep 0.1; do
            local off min
            off=$(field "$mport" replication master_repl_offset)
            min=$(replica_offsets "$mport" | sort -n | head -1)
            [[ -n $min && -n $off ]] && echo $((off - min))
        done
    ) >"$WORK/lag.$kind.$n" 2>/dev/null &
    local sampler=$!
    local out
    out=$(redis-benchmark -p "$mport" -c "$CLIENTS" -n "$N" -P 16 -r 100000 -t set -d 64 --csv 2>/dev/null |
        awk -F, '/"SET"/ { gsub(/"/, "", $2); print $2 }')
    local t0
    t0=$(now_ms)
    local caught=0
    for _ in $(seq 600); do
        local off ok=1
        off=$(field "$mport" replication master_repl_offset)
        for rp in "${rports[@]}"; do
            [[ $(field "$rp" replication slave_repl_offset) == "$off" ]] || ok=0
        done
        if ((ok)); then
            caught=1
            break
        fi
        sleep 0.05
    done
    local catchup=$(($(now_ms) - t0))
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    ((caught)) || die "$kind: replicas did not catch up within 30 s"
    if [[ -s $WORK/lag.$kind.$n ]]; then
        maxlag=$(sort -n "$WORK/lag.$kind.$n" | tail -1)
    fi
    for p in "${pids[@]}" "$mpid"; do
        stop_pid "$p"
    done
    echo "${out:-0} $maxlag $catchup"
}

# fullsync KIND: prints the ms a new replica takes to hold KEYS keys.
fullsync() {
    local kind=$1 mport rport mpid rpid t0
    mport=$(free_port)
    mpid=$(start "$kind" "$kind-big" "$mport")
    local pool=(k3Xv9QaL0pWm2ZtR s8DfGh1JkLzX4cVb Qw7ErTy6UiOp5AsD Zx2CvBn9MqWe8RtY)
    awk -v n="$KEYS" -v a="${pool[0]}" -v b="${pool[1]}" -v c="${pool[2]}" -v d="${pool[3]}" \
        'BEGIN { for (i = 0; i < n; i++) { v = (i % 2 ? a b : b a) (i % 3 ? c d : d c);
                 printf "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$64\r\n%s\r\n", length("key:" i), i, v } }' |
        redis-cli -p "$mport" --pipe >/dev/null
    [[ $(redis-cli -p "$mport" DBSIZE) == "$KEYS" ]] || die "$kind master holds $(redis-cli -p "$mport" DBSIZE) keys, want $KEYS"
    rport=$(free_port)
    t0=$(now_ms)
    rpid=$(start "$kind" "$kind-full" "$rport" "$mport")
    for _ in $(seq 1200); do
        if link_up "$rport" && [[ $(redis-cli -p "$rport" DBSIZE) == "$KEYS" ]]; then
            echo $(($(now_ms) - t0))
            stop_pid "$rpid"
            stop_pid "$mpid"
            return
        fi
        sleep 0.05
    done
    die "$kind replica did not complete its full sync within 60 s"
}

header "Write load with replicas attached (SET, pipeline 16, $CLIENTS clients, $N requests, --shards $SHARDS)"
printf '%-10s %8s | %12s %12s %6s | %12s %12s | %10s %10s\n' replicas "" "shoal ops/s" "redis ops/s" ratio \
    "shoal lag B" "redis lag B" "shoal ms" "redis ms"
for n in $REPLICAS; do
    read -r s_ops s_lag s_catch < <(load shoal "$n")
    read -r r_ops r_lag r_catch < <(load redis "$n")
    ratio=$(awk -v a="$s_ops" -v b="$r_ops" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '%-10s %8s | %12s %12s %6s | %12s %12s | %10s %10s\n' "$n" "" "$s_ops" "$r_ops" "$ratio" \
        "$s_lag" "$r_lag" "$s_catch" "$r_catch"
done
echo "(lag B: the largest master offset - slowest replica offset sampled during the load;"
echo " ms: from the end of the load until every replica reached the master's offset)"

if ((KEYS > 0)); then
    header "Full sync of $KEYS keys (64-byte values) to a new replica"
    s_ms=$(fullsync shoal)
    r_ms=$(fullsync redis)
    printf 'shoal %d ms, redis-server %d ms, ratio %s\n' "$s_ms" "$r_ms" \
        "$(awk -v a="$s_ms" -v b="$r_ms" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
fi
