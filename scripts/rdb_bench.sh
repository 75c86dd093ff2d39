#!/usr/bin/env bash
# Compares RDB persistence in shoal and redis-server on this machine, with the same dataset:
#
#   SAVE        time of a foreground SAVE (as seen by the client)
#   BGSAVE      time from BGSAVE to rdb_bgsave_in_progress:0, idle
#   under load  the same with a concurrent write load (redis-benchmark SET over the same keys),
#               and the peak memory while it runs, sampled every 10 ms from /proc and reported
#               relative to the memory just before the BGSAVE: VmRSS of shoal (one process), and
#               for Redis the sum over the parent and its fork child (RSS counts the pages the
#               two still share twice, so the PSS sum is shown too)
#   load        restart on the file: time from spawn to the first PONG, and the server's own
#               "DB loaded from disk: N seconds" log line
#
# Usage: scripts/rdb_bench.sh
# Environment (all optional):
#   KEYS=1000000        keys loaded, "key:%012d" (redis-benchmark -r's format), 64-byte values
#   SHARDS=2            shoal --shards
#   LOAD_CLIENTS=20     redis-benchmark connections of the write load during BGSAVE
#   LOAD_PIPELINE=16    its pipeline depth
#   SHOAL_BIN           use this binary instead of building it (cargo build --release)
#   SHOAL_PORT, REDIS_PORT  ports to use (default: free ones picked at random)
#
# Needs redis-server, redis-cli and redis-benchmark (Debian/Ubuntu: redis-server, redis-tools).
# The servers run one after the other, with no CPU pinning; the load generator and the samplers
# share the machine's cores with them. Read the ratios, not the absolute numbers.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

KEYS=${KEYS:-1000000}
SHARDS=${SHARDS:-2}
LOAD_CLIENTS=${LOAD_CLIENTS:-20}
LOAD_PIPELINE=${LOAD_PIPELINE:-16}
VALUE_SIZE=64

# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# Progress goes to stderr: stdout is the report.
header() {
    printf '\n==> %s\n' "$*" >&2
}

for v in KEYS SHARDS LOAD_CLIENTS LOAD_PIPELINE; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((KEYS >= 1 && SHARDS >= 1 && LOAD_CLIENTS >= 1 && LOAD_PIPELINE >= 1)) ||
    die "KEYS, SHARDS, LOAD_CLIENTS and LOAD_PIPELINE must be at least 1"
for t in redis-server redis-cli redis-benchmark awk; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found"
done

# --- scratch space and cleanup --------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-rdb-bench.XXXXXX")
SERVER_PID=""
LOAD_PID=""

stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$LOAD_PID"
    stop_pid "$SERVER_PID"
    # A Redis fork child outlives a killed parent for a moment.
    pkill_children
    rm -rf "$WORK"
}
REDIS_CHILD=""
pkill_children() {
    [[ -n $REDIS_CHILD ]] && kill -KILL "$REDIS_CHILD" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ----------------------------------------------------------------------------------
build_shoal

# --- helpers --------------------------------------------------------------------------------
SHOAL_PORT=${SHOAL_PORT:-$(free_port)}
REDIS_PORT=${REDIS_PORT:-$(free_port)}
[[ $SHOAL_PORT != "$REDIS_PORT" ]] || die "SHOAL_PORT and REDIS_PORT are the same"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_server NAME: starts it on its dir (loading dump.rdb if there); sets SERVER_PID, and
# STARTUP_MS to the ms from spawn to the first PONG.
start_server() {
    local name=$1 t0 log="$WORK/$1.log" port
    mkdir -p "$WORK/$name"
    : >"$log"
    t0=$(now_ms)
    if [[ $name == shoal ]]; then
        port=$SHOAL_PORT
        port_in_use "$port" && die "port $port is already in use"
        "$SHOAL_BIN" --port "$port" --shards "$SHARDS" --save "" --dir "$WORK/shoal" \
            --logfile "$log" >/dev/null 2>&1 &
    else
        port=$REDIS_PORT
        port_in_use "$port" && die "port $port is already in use"
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --dir "$WORK/redis" --logfile "$log" >/dev/null 2>&1 &
    fi
    SERVER_PID=$!
    # Every 10 ms: shoal listens only once loaded; Redis answers -LOADING until then.
    for _ in $(seq 12000); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            tail -20 "$log" >&2 || true
            die "$name exited during startup (log above)"
        fi
        if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; then
            STARTUP_MS=$(($(now_ms) - t0))
            return 0
        fi
        sleep 0.01
    done
    tail -20 "$log" >&2 || true
    die "$name did not answer PING on port $port within 120 s"
}
stop_server() {
    stop_pid "$SERVER_PID"
    SERVER_PID=""
    pkill_children
    # io_uring tears down a killed process's sockets after it is reaped: wait for the port.
    for _ in $(seq 500); do
        port_in_use "$PORT" || return 0
        sleep 0.01
    done
    die "port $PORT still in use after stopping $NAME"
}

cli() { redis-cli -p "$PORT" "$@"; }
info_field() { cli info persistence | tr -d '\r' | awk -F: -v f="$1" '$1 == f { print $2 }'; }
stat_field() { cli info stats | tr -d '\r' | awk -F: -v f="$1" '$1 == f { print $2 }'; }

# The dataset: KEYS SETs, pipelined through redis-cli --pipe. Values mix four segments from a
# pool of random 16-character strings, so they are 64 bytes that LZF cannot shrink much (as
# real data), yet cost nothing to generate.
load_dataset() {
    local out
    out=$(awk -v n="$KEYS" 'BEGIN {
            srand(42)
            for (p = 0; p < 4096; p++) {
                s = ""
                for (j = 0; j < 16; j++) s = s sprintf("%c", 48 + int(rand() * 75))
                pool[p] = s
            }
            for (i = 0; i < n; i++) {
                k = sprintf("key:%012d", i)
                v = pool[i % 4096] pool[(i * 7 + 1) % 4096] pool[(i * 13 + 2) % 4096] pool[(i * 31 + 3) % 4096]
                printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n", length(k), k, v
            }
        }' | cli --pipe 2>&1) || die "loading the dataset failed: $out"
    grep -q "errors: 0, replies: $KEYS" <<<"$out" || die "loading the dataset: $out"
    [[ $(cli dbsize) == "$KEYS" ]] || die "DBSIZE is $(cli dbsize) after loading $KEYS keys"
}

# Waits for the BGSAVE in progress to end; echoes nothing. Polls every 10 ms.
wait_bgsave() {
    while [[ $(info_field rdb_bgsave_in_progress) != 0 ]]; do
        sleep 0.01
    done
    [[ $(info_field rdb_last_bgsave_status) == ok ]] || die "BGSAVE failed: $(tail -5 "$WORK/$NAME.log")"
}

# 0 for a process gone or exiting (a zombie has no VmRSS).
rss_kb() { awk '/^VmRSS:/ { v = $2 } END { print v + 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kb() { awk '/^Pss:/ { v = $2 } END { print v + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# Children of PID (Redis's fork child while it saves).
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }

# bgsave_under_load: starts the write load, BGSAVE, samples memory every 10 ms until the save
# ends. Sets R[NAME.bgsave_load] (ms), R[NAME.rss0], R[NAME.rss_peak], R[NAME.pss0],
# R[NAME.pss_peak] (kB), R[NAME.wps] (commands served per second while the save ran) and
# R[NAME.wps0] (the same over the second before it).
bgsave_under_load() {
    local t0 ms base_rss base_pss peak_rss=0 peak_pss=0 rss pss c cmds0 cmds1
    redis-benchmark -h 127.0.0.1 -p "$PORT" -t set -r "$KEYS" -n 2000000000 -d "$VALUE_SIZE" \
        -c "$LOAD_CLIENTS" -P "$LOAD_PIPELINE" -q >/dev/null 2>"$WORK/load.err" &
    LOAD_PID=$!
    sleep 0.3
    kill -0 "$LOAD_PID" 2>/dev/null || die "the write load did not start: $(cat "$WORK/load.err")"
    # The load's rate before the save, over one second, for comparison.
    cmds0=$(stat_field total_commands_processed)
    t0=$(now_ms)
    sleep 1
    cmds1=$(stat_field total_commands_processed)
    R[$NAME.wps0]=$(((cmds1 - cmds0) * 1000 / ($(now_ms) - t0)))
    base_rss=$(rss_kb "$SERVER_PID")
    base_pss=$(pss_kb "$SERVER_PID")
    cmds0=$(stat_field total_commands_processed)
    t0=$(now_ms)
    [[ $(cli bgsave) == "Background saving started" ]] || die "BGSAVE refused"
    while :; do
        rss=$(rss_kb "$SERVER_PID")
        pss=$(pss_kb "$SERVER_PID")
        for c in $(children "$SERVER_PID"); do
            REDIS_CHILD=$c
            rss=$((rss + $(rss_kb "$c")))
            pss=$((pss + $(pss_kb "$c")))
        done
        ((rss > peak_rss)) && peak_rss=$rss
        ((pss > peak_pss)) && peak_pss=$pss
        [[ $(info_field rdb_bgsave_in_progress) == 0 ]] && break
        sleep 0.01
    done
    ms=$(($(now_ms) - t0))
    cmds1=$(stat_field total_commands_processed)
    REDIS_CHILD=""
    stop_pid "$LOAD_PID"
    LOAD_PID=""
    [[ $(info_field rdb_last_bgsave_status) == ok ]] || die "$NAME: BGSAVE under load failed"
    R[$NAME.bgsave_load]=$ms
    R[$NAME.rss0]=$base_rss
    R[$NAME.rss_peak]=$peak_rss
    R[$NAME.pss0]=$base_pss
    R[$NAME.pss_peak]=$peak_pss
    R[$NAME.wps]=$(((cmds1 - cmds0) * 1000 / (ms > 0 ? ms : 1)))
}

# --- the runs -------------------------------------------------------------------------------
declare -A R

run_server() {
    NAME=$1
    if [[ $NAME == shoal ]]; then PORT=$SHOAL_PORT; else PORT=$REDIS_PORT; fi
    header "$NAME: loading $KEYS keys"
    start_server "$NAME"
    local t0
    t0=$(now_ms)
    load_dataset
    R[$NAME.fill]=$(($(now_ms) - t0))
    R[$NAME.rss_data]=$(rss_kb "$SERVER_PID")

    header "$NAME: SAVE"
    t0=$(now_ms)
    [[ $(cli save) == OK ]] || die "$NAME: SAVE failed"
    R[$NAME.save]=$(($(now_ms) - t0))
    R[$NAME.size]=$(stat -c %s "$WORK/$NAME/dump.rdb")

    header "$NAME: BGSAVE (idle)"
    t0=$(now_ms)
    [[ $(cli bgsave) == "Background saving started" ]] || die "$NAME: BGSAVE refused"
    wait_bgsave
    R[$NAME.bgsave]=$(($(now_ms) - t0))

    header "$NAME: BGSAVE under a write load ($LOAD_CLIENTS clients, pipeline $LOAD_PIPELINE)"
    bgsave_under_load
    stop_server

    header "$NAME: restart on the file"
    start_server "$NAME"
    R[$NAME.pong]=$STARTUP_MS
    R[$NAME.logged]=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$WORK/$NAME.log" |
        awk '{ printf "%.0f", $5 * 1000 }' | tail -1)
    [[ $(cli dbsize) == "$KEYS" ]] || die "$NAME: DBSIZE $(cli dbsize) after the restart"
    stop_server
}

run_server shoal
run_server redis

# --- report ---------------------------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { # label shoal redis [unit]
    printf '%-44s %14s %14s %8s\n' "$1" "$2" "$3" "$(ratio "$4" "$5")"
}
{
    printf '\nRDB persistence: %d keys, %d-byte values; shoal --shards %d; %s; %d cores\n\n' \
        "$KEYS" "$VALUE_SIZE" "$SHARDS" "$(redis-server --version | awk '{ print $1, $2, $3 }')" \
        "$(nproc)"
    printf '%-44s %14s %14s %8s\n' "" shoal redis-server ratio
    for n in shoal redis; do
        R[$n.rss_up]=$((R[$n.rss_peak] - R[$n.rss0]))
        R[$n.pss_up]=$((R[$n.pss_peak] - R[$n.pss0]))
    done
    row "load the dataset (ms)" "${R[shoal.fill]}" "${R[redis.fill]}" "${R[shoal.fill]}" "${R[redis.fill]}"
    row "RSS with the dataset (MB)" "$(mb "${R[shoal.rss_data]}")" "$(mb "${R[redis.rss_data]}")" \
        "${R[shoal.rss_data]}" "${R[redis.rss_data]}"
    row "file size (MB)" "$(mb $((R[shoal.size] / 1024)))" "$(mb $((R[redis.size] / 1024)))" \
        "${R[shoal.size]}" "${R[redis.size]}"
    row "SAVE (ms)" "${R[shoal.save]}" "${R[redis.save]}" "${R[shoal.save]}" "${R[redis.save]}"
    row "BGSAVE, idle (ms)" "${R[shoal.bgsave]}" "${R[redis.bgsave]}" "${R[shoal.bgsave]}" "${R[redis.bgsave]}"
    row "BGSAVE under write load (ms)" "${R[shoal.bgsave_load]}" "${R[redis.bgsave_load]}" \
        "${R[shoal.bgsave_load]}" "${R[redis.bgsave_load]}"
    row "  commands/s in the second before it" "${R[shoal.wps0]}" "${R[redis.wps0]}" \
        "${R[shoal.wps0]}" "${R[redis.wps0]}"
    row "  commands/s while it ran" "${R[shoal.wps]}" "${R[redis.wps]}" \
        "${R[shoal.wps]}" "${R[redis.wps]}"
    row "  RSS before the BGSAVE (MB)" "$(mb "${R[shoal.rss0]}")" "$(mb "${R[redis.rss0]}")" \
        "${R[shoal.rss0]}" "${R[redis.rss0]}"
    row "  peak RSS during it (MB; redis: parent+child)" "$(mb "${R[shoal.rss_peak]}")" \
        "$(mb "${R[redis.rss_peak]}")" "${R[shoal.rss_peak]}" "${R[redis.rss_peak]}"
    row "  peak RSS growth (MB)" "$(mb "${R[shoal.rss_up]}")" "$(mb "${R[redis.rss_up]}")" \
        "${R[shoal.rss_up]}" "${R[redis.rss_up]}"
    row "  peak RSS growth (% of RSS before)" \
        "$(awk -v a="${R[shoal.rss_up]}" -v b="${R[shoal.rss0]}" 'BEGIN { printf "%.1f", 100 * a / b }')" \
        "$(awk -v a="${R[redis.rss_up]}" -v b="${R[redis.rss0]}" 'BEGIN { printf "%.1f", 100 * a / b }')" \
        "${R[shoal.rss_up]}" "${R[redis.rss_up]}"
    row "  peak PSS growth (MB; shared pages once)" "$(mb "${R[shoal.pss_up]}")" \
        "$(mb "${R[redis.pss_up]}")" "${R[shoal.pss_up]}" "${R[redis.pss_up]}"
    row "restart: spawn to first PONG (ms)" "${R[shoal.pong]}" "${R[redis.pong]}" \
        "${R[shoal.pong]}" "${R[redis.pong]}"
    row "restart: \"DB loaded from disk\" (ms)" "${R[shoal.logged]:-?}" "${R[redis.logged]:-?}" \
        "${R[shoal.logged]:-0}" "${R[redis.logged]:-0}"
    printf '\nratio = shoal / redis-server (below 1: shoal is faster or smaller).\n'
}
