#!/usr/bin/env bash
# Compares shoal with a real redis-server on this machine: throughput, p99 latency and server CPU
# per request under the same GET/SET load, then memory per key with KEYS keys of 64-byte values.
#
# Usage: scripts/bench.sh
# Environment (all optional):
#   SHARDS=1            shoal --shards
#   REQUESTS=200000     requests per test without pipelining
#   REQUESTS_PIPELINED  requests per test with pipeline 16 (default 10 x REQUESTS: those run
#                       faster, and CPU time is only counted in clock ticks of 10 ms)
#   CLIENTS=50          client connections
#   KEYSPACE=100000     distinct keys the load touches (random keys in this range)
#   KEYS=1000000        keys loaded for the memory test (0 skips it)
#   BENCH_TOOL          memtier_benchmark or redis-benchmark (default: memtier if on PATH)
#   SHOAL_BIN           use this binary instead of building target/release/shoal
#   SHOAL_PORT, REDIS_PORT  ports to use (default: free ones picked at random)
#
# Both servers run side by side with no CPU pinning; the load generator shares the machine's
# cores with them, so on a small machine it can be the bottleneck. Read the ratios, not the
# absolute numbers.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

SHARDS=${SHARDS:-1}
REQUESTS=${REQUESTS:-200000}
REQUESTS_PIPELINED=${REQUESTS_PIPELINED:-$((REQUESTS * 10))}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
KEYS=${KEYS:-1000000}
VALUE_SIZE=64
PIPELINES=(1 16)

# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

for v in SHARDS REQUESTS REQUESTS_PIPELINED CLIENTS KEYSPACE KEYS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((SHARDS >= 1 && CLIENTS >= 1 && REQUESTS >= 1 && REQUESTS_PIPELINED >= 1 && KEYSPACE >= 1)) ||
    die "SHARDS, CLIENTS, REQUESTS, REQUESTS_PIPELINED and KEYSPACE must be at least 1"

# --- tools ----------------------------------------------------------------------------------
for t in redis-server redis-cli; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian/Ubuntu: apt-get install redis-server redis-tools)"
done
if [[ -z ${BENCH_TOOL:-} ]]; then
    if command -v memtier_benchmark >/dev/null 2>&1; then
        BENCH_TOOL=memtier_benchmark
    else
        BENCH_TOOL=redis-benchmark
    fi
fi
case $BENCH_TOOL in
memtier_benchmark | memtier) BENCH_TOOL=memtier_benchmark ;;
redis-benchmark) ;;
*) die "BENCH_TOOL must be memtier_benchmark or redis-benchmark" ;;
esac
command -v "$BENCH_TOOL" >/dev/null 2>&1 || die "$BENCH_TOOL not found"
CLK_TCK=$(getconf CLK_TCK)

# --- scratch space and cleanup --------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-bench.XXXXXX")
SHOAL_PID=""
REDIS_PID=""

stop_servers() {
    stop_pid "$SHOAL_PID"
    stop_pid "$REDIS_PID"
    SHOAL_PID=""
    REDIS_PID=""
}
cleanup() {
    stop_servers
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ----------------------------------------------------------------------------------
build_shoal

# --- servers --------------------------------------------------------------------------------
SHOAL_PORT=${SHOAL_PORT:-$(free_port)}
REDIS_PORT=${REDIS_PORT:-$(free_port)}
[[ $SHOAL_PORT != "$REDIS_PORT" ]] || die "SHOAL_PORT and REDIS_PORT are the same"



# utime + stime of the whole process (all threads), in clock ticks. Fields counted after the
# ")" that ends the command name, which could contain spaces.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# --- load -----------------------------------------------------------------------------------
# run_load SERVER TEST PIPELINE REQUESTS: prints "ops_per_sec p99_ms".
run_load() {
    local server=$1 test=$2 pipeline=$3 n=$4 port out
    port=$(server_port "$server")
    out="$WORK/load.out"
    if [[ $BENCH_TOOL == redis-benchmark ]]; then
        redis-benchmark -h 127.0.0.1 -p "$port" -t "$test" -c "$CLIENTS" -n "$n" -P "$pipeline" \
            -r "$KEYSPACE" -d "$VALUE_SIZE" --csv >"$out" 2>"$WORK/load.err" ||
            die "redis-benchmark against $server failed: $(cat "$WORK/load.err" "$out")"
        # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        awk -F, -v t="\"${test^^}\"" '$1 == t { gsub(/"/, ""); printf "%.0f %s\n", $2, $7; found = 1 }
            END { if (!found) exit 1 }' "$out" ||
            die "could not parse redis-benchmark output for $server: $(cat "$out")"
    else
        # 1:1 SET:GET in one run; CLIENTS split over 2 threads; -n is requests per client.
        local threads=2 per_thread per_client
        per_thread=$(((CLIENTS + threads - 1) / threads))
        ((per_thread * threads == CLIENTS)) || threads=1 per_thread=$CLIENTS
        per_client=$(((n + CLIENTS - 1) / CLIENTS))
        memtier_benchmark -s 127.0.0.1 -p "$port" --protocol=redis -t "$threads" -c "$per_thread" \
            -n "$per_client" --ratio=1:1 --pipeline="$pipeline" --data-size="$VALUE_SIZE" \
            --key-pattern=R:R --key-minimum=1 --key-maximum="$KEYSPACE" --hide-histogram \
            >"$out" 2>"$WORK/load.err" ||
            die "memtier_benchmark against $server failed: $(tail -5 "$WORK/load.err")"
        # The header's columns are separated by 2+ spaces ("p99 Latency" is one column).
        awk 'BEGIN { FS = "  +" }
            /^Type / && !col { for (i = 1; i <= NF; i++) { if ($i ~ /^Ops\/sec/) o = i; if ($i ~ /^p99 Latency/) p = i }; col = 1; next }
            /^Totals / && col { split($0, v, " +"); printf "%.0f %s\n", v[o], v[p]; found = 1; exit }
            END { if (!found) exit 1 }' "$out" ||
            die "could not parse memtier_benchmark output for $server: $(cat "$out")"
    fi
}

declare -A OPS P99 CPU RSSKEY
ROWS=()
CONFIG_WARN=""

header "Load test: $BENCH_TOOL, $CLIENTS clients, $VALUE_SIZE-byte values, $KEYSPACE random keys"
echo "shoal: $SHOAL_BIN --shards $SHARDS (port $SHOAL_PORT); redis: $(redis-server --version | awk '{print $3}') (port $REDIS_PORT)"
echo "machine: $(nproc) CPUs, no pinning; CPU/request = (utime+stime) delta / requests, CLK_TCK=$CLK_TCK"
start_servers

if [[ $BENCH_TOOL == redis-benchmark ]]; then
    TESTS=(set get) # SET first so that GET finds keys
else
    TESTS=(set:get)
fi
printf '\n%-8s %-8s %4s %10s %14s %10s %12s\n' server test pipe requests ops/s p99_ms cpu_us/req
for pipeline in "${PIPELINES[@]}"; do
    n=$REQUESTS
    ((pipeline == 1)) || n=$REQUESTS_PIPELINED
    for test in "${TESTS[@]}"; do
        row="$test|$pipeline"
        ROWS+=("$row")
        # Alternate the servers test by test so that drift on the machine hits both alike.
        for server in shoal redis; do
            pid=$(server_pid "$server")
            before=$(cpu_ticks "$pid")
            res=$(run_load "$server" "$test" "$pipeline" "$n")
            read -r ops p99 <<<"$res"
            if grep -qs "Could not fetch server CONFIG" "$WORK/load.out" "$WORK/load.err" &&
                [[ $CONFIG_WARN != *" $server"* ]]; then
                CONFIG_WARN+=" $server"
            fi
            after=$(cpu_ticks "$pid")
            kill -0 "$pid" 2>/dev/null || die "$server died during the load"
            cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", d * 1e6 / hz / n }')
            OPS[$server|$row]=$ops
            P99[$server|$row]=$p99
            CPU[$server|$row]=$cpu
            printf '%-8s %-8s %4s %10s %14s %10s %12s\n' "$server" "${test^^}" "$pipeline" "$n" "$ops" "$p99" "$cpu"
        done
    done
done
stop_servers
if [[ -n $CONFIG_WARN ]]; then
    echo "note: redis-benchmark could not fetch CONFIG (CONFIG GET save/appendonly) from:$CONFIG_WARN"
fi

# --- memory ---------------------------------------------------------------------------------
# One connection streams every SET without waiting (as redis-cli --pipe does, but without its
# closing ECHO); replies are read concurrently and counted. Every reply is "+OK\r\n".
load_keys() {
    local port=$1 ok
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    cat "$WORK/keys.resp" >&3 &
    local writer=$!
    ok=$(timeout 600 head -c $((KEYS * 5)) <&3 | grep -c '^+OK' || true)
    wait "$writer" || true
    exec 3>&-
    echo "$ok"
}

if ((KEYS > 0)); then
    header "Memory: $KEYS distinct keys (key:NNNNNNNNNNNN) with $VALUE_SIZE-byte values"
    # Generated once: the exact same byte stream goes to both servers.
    awk -v n="$KEYS" -v size="$VALUE_SIZE" 'BEGIN {
        v = ""; for (i = 0; i < size; i++) v = v sprintf("%c", 97 + i % 26)
        for (i = 0; i < n; i++) {
            k = sprintf("key:%012d", i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, size, v
        }
    }' >"$WORK/keys.resp"
    start_servers
    printf '\n%-8s %10s %10s %12s %12s %10s %12s\n' server loaded dbsize rss_before rss_after load_s bytes/key
    for server in shoal redis; do
        pid=$(server_pid "$server")
        port=$(server_port "$server")
        sleep 0.5
        rss0=$(rss_kb "$pid")
        t0=$(date +%s.%N)
        ok=$(load_keys "$port")
        t1=$(date +%s.%N)
        dbsize=$(redis-cli -p "$port" dbsize)
        [[ $ok == "$KEYS" ]] || echo "warning: $server acknowledged $ok of $KEYS SETs"
        [[ $dbsize == "$KEYS" ]] || echo "warning: $server DBSIZE is $dbsize, expected $KEYS"
        sleep 0.5
        rss1=$(rss_kb "$pid")
        RSSKEY[$server]=$(awk -v a="$rss0" -v b="$rss1" -v n="$dbsize" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) * 1024 / n : 0) }')
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        printf '%-8s %10s %10s %12s %12s %10s %12s\n' "$server" "$ok" "$dbsize" "$((rss0 * 1024))" "$((rss1 * 1024))" "$secs" "${RSSKEY[$server]}"
    done
    stop_servers
fi

# --- summary --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

header "Summary: shoal --shards $SHARDS vs redis-server ($BENCH_TOOL, $CLIENTS clients, $(nproc) CPUs)"
printf '%-8s %4s | %12s %12s %6s | %8s %8s %6s | %8s %8s %6s\n' \
    test pipe "shoal ops/s" "redis ops/s" ratio "shoal p99" "redis p99" ratio "shoal us" "redis us" ratio
printf '%-8s %4s | %12s %12s %6s | %8s %8s %6s | %8s %8s %6s\n' \
    "" "" "" "" "" "ms" "ms" "" "cpu/req" "cpu/req" ""
for row in "${ROWS[@]}"; do
    test=${row%|*}
    pipeline=${row#*|}
    printf '%-8s %4s | %12s %12s %6s | %8s %8s %6s | %8s %8s %6s\n' "${test^^}" "$pipeline" \
        "${OPS[shoal|$row]}" "${OPS[redis|$row]}" "$(ratio "${OPS[shoal|$row]}" "${OPS[redis|$row]}")" \
        "${P99[shoal|$row]}" "${P99[redis|$row]}" "$(ratio "${P99[shoal|$row]}" "${P99[redis|$row]}")" \
        "${CPU[shoal|$row]}" "${CPU[redis|$row]}" "$(ratio "${CPU[shoal|$row]}" "${CPU[redis|$row]}")"
done
if ((KEYS > 0)); then
    printf '%-13s | %12s %12s %6s\n' "RSS B/key" "${RSSKEY[shoal]}" "${RSSKEY[redis]}" \
        "$(ratio "${RSSKEY[shoal]}" "${RSSKEY[redis]}")"
fi
echo "(ratios are shoal/redis: above 1 is better for ops/s, below 1 is better for p99, CPU and memory)"
