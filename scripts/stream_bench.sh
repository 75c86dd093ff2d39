#!/usr/bin/env bash
# Compares stream performance of shoal and redis-server on this machine, both in the same run:
#
#   XADD hot    XADD s * f1 <16 bytes> f2 <16 bytes>: every request appends to one stream
#   XADD keys   the same spread over KEYSPACE streams (s:__rand_int__)
#   XRANGE head XRANGE r - + COUNT 10 on a stream of RANGE_ENTRIES entries
#   XRANGE rand XRANGE r <random ID> + COUNT 10 on that stream (its IDs are 1-1 .. N-1, so a
#               random number is a random start)
#
# each with pipeline 16 and 1 (ops/s, p99, server CPU per request), then memory: ENTRIES XADDs
# of 2-field entries with 16-byte values to one stream, in bytes per entry from INFO memory's
# used_memory (before and after), the process RSS and MEMORY USAGE of the stream.
#
# shoal has no allocator accounting: its INFO used_memory is the process RSS (see
# src/commands/server.rs), so for shoal the used_memory and RSS columns measure the same thing.
# redis-server's used_memory counts what its allocator handed out.
#
# Usage: scripts/stream_bench.sh
# Environment (all optional):
#   N=200000            requests per throughput test with pipeline 16
#   N1                  requests per test with pipeline 1 (default N/4: those run slower)
#   SHARDS=1            shoal --shards
#   ENTRIES=1000000     entries for the memory test (0 skips it)
#   RANGE_ENTRIES=100000  entries of the stream XRANGE reads
#   KEYSPACE=10000      streams XADD keys spreads over
#   CLIENTS=50          client connections
#   BENCH_TOOL          memtier_benchmark or redis-benchmark (default: memtier if on PATH)
#   SHOAL_BIN           use this binary instead of building target/release/shoal
#   SHOAL_PORT, REDIS_PORT  ports to use (default: free ones picked at random)
#
# Both servers run side by side with no CPU pinning, the tests alternating between them; the
# load generator shares the cores with them, so on a small machine it can be the bottleneck.
# Read the ratios, not the absolute numbers. Exits non-zero when a server fails, a load tool
# fails, or a check of the data (stream lengths, an XRANGE reply compared between the servers)
# does not hold.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

N=${N:-200000}
N1=${N1:-$((N / 4 > 0 ? N / 4 : 1))}
SHARDS=${SHARDS:-1}
ENTRIES=${ENTRIES:-1000000}
RANGE_ENTRIES=${RANGE_ENTRIES:-100000}
KEYSPACE=${KEYSPACE:-10000}
CLIENTS=${CLIENTS:-50}
PIPELINES=(16 1)
# Two 16-byte values that are not integers (a listpack would store those as numbers).
V1=abcdefghijklmnop
V2=qrstuvwxyzABCDEF

# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

for v in N N1 SHARDS ENTRIES RANGE_ENTRIES KEYSPACE CLIENTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((N >= 1 && N1 >= 1 && SHARDS >= 1 && RANGE_ENTRIES >= 10 && KEYSPACE >= 1 && CLIENTS >= 1)) ||
    die "N, N1, SHARDS, KEYSPACE and CLIENTS must be at least 1, RANGE_ENTRIES at least 10"

# --- tools ----------------------------------------------------------------------------------
for t in redis-server redis-cli awk; do
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
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-stream-bench.XXXXXX")
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

SHOAL_PORT=${SHOAL_PORT:-$(free_port)}
REDIS_PORT=${REDIS_PORT:-$(free_port)}
[[ $SHOAL_PORT != "$REDIS_PORT" ]] || die "SHOAL_PORT and REDIS_PORT are the same"

# --- helpers --------------------------------------------------------------------------------
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
# cli PORT ARGS...: one command, its reply as redis-cli prints it raw; fails on an error reply.
cli() {
    local port=$1 out
    shift
    out=$(redis-cli -p "$port" "$@" 2>&1) || die "redis-cli -p $port $*: $out"
    [[ $out != ERR* && $out != WRONGTYPE* ]] || die "redis-cli -p $port $*: $out"
    printf '%s\n' "$out"
}
used_memory() {
    cli "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}

# pipe_in PORT: sends the RESP commands on stdin through redis-cli --pipe; fails unless every
# command got a reply and none was an error. Prints the number of replies.
pipe_in() {
    local port=$1 out errors replies
    out=$(redis-cli -p "$port" --pipe 2>&1) || die "redis-cli --pipe to port $port failed: $out"
    errors=$(sed -n 's/.*errors: \([0-9]*\), replies: \([0-9]*\).*/\1/p' <<<"$out")
    replies=$(sed -n 's/.*errors: \([0-9]*\), replies: \([0-9]*\).*/\2/p' <<<"$out")
    [[ $errors == 0 && -n $replies ]] || die "redis-cli --pipe to port $port: $out"
    echo "$replies"
}

# xadd_resp KEY FIRST COUNT IDS: COUNT XADD commands in RESP; IDS=auto for "*", else the IDs
# FIRST-1 .. FIRST+COUNT-1 - 1 are explicit. Values vary per entry but keep 16 bytes.
xadd_resp() {
    awk -v key="$1" -v first="$2" -v n="$3" -v ids="$4" 'BEGIN {
        for (i = first; i < first + n; i++) {
            id = ids == "auto" ? "*" : sprintf("%d-1", i)
            a = sprintf("v%015d", i); b = sprintf("w%015d", i)
            printf "*7\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nf1\r\n$16\r\n%s\r\n$2\r\nf2\r\n$16\r\n%s\r\n",
                length(key), key, length(id), id, a, b
        }
    }'
}

# --- load -----------------------------------------------------------------------------------
# The tests: name -> what the load tool sends. redis-benchmark replaces __rand_int__ with a
# 12-digit number below -r; memtier replaces __key__ with one between its key bounds.
declare -A LABEL RB_ARGS RB_RANGE MT_CMD MT_RANGE
LABEL[xadd_hot]="XADD hot"
RB_ARGS[xadd_hot]="XADD s * f1 $V1 f2 $V2"
MT_CMD[xadd_hot]="XADD s * f1 $V1 f2 $V2"
LABEL[xadd_keys]="XADD keys"
RB_ARGS[xadd_keys]="XADD s:__rand_int__ * f1 $V1 f2 $V2"
RB_RANGE[xadd_keys]=$KEYSPACE
MT_CMD[xadd_keys]="XADD s:__key__ * f1 $V1 f2 $V2"
MT_RANGE[xadd_keys]=$KEYSPACE
LABEL[xrange_head]="XRANGE head"
RB_ARGS[xrange_head]="XRANGE r - + COUNT 10"
MT_CMD[xrange_head]="XRANGE r - + COUNT 10"
LABEL[xrange_rand]="XRANGE rand"
RB_ARGS[xrange_rand]="XRANGE r __rand_int__ + COUNT 10"
RB_RANGE[xrange_rand]=$RANGE_ENTRIES
MT_CMD[xrange_rand]="XRANGE r __key__ + COUNT 10"
MT_RANGE[xrange_rand]=$RANGE_ENTRIES

# run_load SERVER TEST PIPELINE REQUESTS: prints "ops_per_sec p99_ms".
run_load() {
    local server=$1 test=$2 pipeline=$3 n=$4 port out
    port=$(server_port "$server")
    out="$WORK/load.out"
    if [[ $BENCH_TOOL == redis-benchmark ]]; then
        local range=() words
        [[ -n ${RB_RANGE[$test]:-} ]] && range=(-r "${RB_RANGE[$test]}")
        # Split into words without globbing (the "*" of XADD).
        read -ra words <<<"${RB_ARGS[$test]}"
        redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -n "$n" -P "$pipeline" \
            "${range[@]}" --csv "${words[@]}" >"$out" 2>"$WORK/load.err" ||
            die "redis-benchmark against $server failed: $(cat "$WORK/load.err" "$out")"
        # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        awk -F, 'NR > 1 { gsub(/"/, ""); printf "%.0f %s\n", $(NF - 6), $(NF - 1); found = 1 }
            END { if (!found) exit 1 }' "$out" ||
            die "could not parse redis-benchmark output for $server: $(cat "$out")"
    else
        local threads=2 per_thread per_client keys=()
        per_thread=$(((CLIENTS + threads - 1) / threads))
        ((per_thread * threads == CLIENTS)) || threads=1 per_thread=$CLIENTS
        per_client=$(((n + CLIENTS - 1) / CLIENTS))
        [[ -n ${MT_RANGE[$test]:-} ]] && keys=(--key-prefix= --key-minimum=1 --key-maximum="${MT_RANGE[$test]}" --command-key-pattern=R)
        memtier_benchmark -s 127.0.0.1 -p "$port" --protocol=redis -t "$threads" -c "$per_thread" \
            -n "$per_client" --pipeline="$pipeline" --command="${MT_CMD[$test]}" "${keys[@]}" \
            --hide-histogram >"$out" 2>"$WORK/load.err" ||
            die "memtier_benchmark against $server failed: $(tail -5 "$WORK/load.err")"
        awk 'BEGIN { FS = "  +" }
            /^Type / && !col { for (i = 1; i <= NF; i++) { if ($i ~ /^Ops\/sec/) o = i; if ($i ~ /^p99 Latency/) p = i }; col = 1; next }
            /^Totals / && col { split($0, v, " +"); printf "%.0f %s\n", v[o], v[p]; found = 1; exit }
            END { if (!found) exit 1 }' "$out" ||
            die "could not parse memtier_benchmark output for $server: $(cat "$out")"
    fi
}

# requests_sent REQUESTS: what the tool really sends for REQUESTS (memtier rounds up to whole
# requests per client).
requests_sent() {
    if [[ $BENCH_TOOL == redis-benchmark ]]; then
        echo "$1"
    else
        echo $((((${1} + CLIENTS - 1) / CLIENTS) * CLIENTS))
    fi
}

# check_after SERVER TEST PIPELINE REQUESTS: the load did what it says.
check_after() {
    local server=$1 test=$2 pipeline=$3 want=$4 port len dbsize
    port=$(server_port "$server")
    case $test in
    xadd_hot)
        # redis-benchmark may send up to a pipeline more per client than asked.
        len=$(cli "$port" xlen s)
        ((len >= want && len <= want + CLIENTS * pipeline)) ||
            die "$server: XLEN s is $len after $want XADDs"
        ;;
    xadd_keys)
        dbsize=$(cli "$port" dbsize)
        ((dbsize >= 1 && dbsize <= KEYSPACE)) || die "$server: $dbsize keys after XADD to $KEYSPACE keys"
        [[ $(cli "$port" type s:000000000000) =~ ^(stream|none)$ ]] || die "$server: s:0 is not a stream"
        ;;
    xrange_*)
        len=$(cli "$port" xlen r)
        [[ $len == "$RANGE_ENTRIES" ]] || die "$server: XLEN r is $len, expected $RANGE_ENTRIES"
        ;;
    esac
}

declare -A OPS P99 CPU
ROWS=()
CONFIG_WARN=""

header "Stream load: $BENCH_TOOL, $CLIENTS clients, $N requests per test ($N1 with pipeline 1), 2 fields of 16 bytes per entry"
echo "shoal: $SHOAL_BIN --shards $SHARDS (port $SHOAL_PORT); redis: $(redis-server --version | awk '{print $3}') (port $REDIS_PORT)"
echo "machine: $(nproc) CPUs, no pinning; CPU/request = (utime+stime) delta / requests, CLK_TCK=$CLK_TCK"
start_servers

# run_tests TEST...: each test at each pipeline depth, the servers alternating.
run_tests() {
    local pipeline test server pid before after res ops p99 row n
    for pipeline in "${PIPELINES[@]}"; do
        n=$N
        ((pipeline == 1)) && n=$N1
        n=$(requests_sent "$n")
        for test in "$@"; do
            row="$test|$pipeline"
            ROWS+=("$row")
            for server in shoal redis; do
                pid=$(server_pid "$server")
                # XADD tests start from an empty keyspace; XRANGE reads the loaded stream.
                [[ $test == xadd_* ]] && cli "$(server_port "$server")" flushall >/dev/null
                before=$(cpu_ticks "$pid")
                res=$(run_load "$server" "$test" "$pipeline" "$n")
                read -r ops p99 <<<"$res"
                after=$(cpu_ticks "$pid")
                kill -0 "$pid" 2>/dev/null || die "$server died during the load"
                if grep -qs "Could not fetch server CONFIG" "$WORK/load.out" "$WORK/load.err" &&
                    [[ $CONFIG_WARN != *" $server"* ]]; then
                    CONFIG_WARN+=" $server"
                fi
                check_after "$server" "$test" "$pipeline" "$n"
                OPS[$server|$row]=$ops
                P99[$server|$row]=$p99
                CPU[$server|$row]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", d * 1e6 / hz / n }')
                printf '%-8s %-12s %4s %10s %12s %10s %12s\n' "$server" "${LABEL[$test]}" "$pipeline" \
                    "$n" "$ops" "$p99" "${CPU[$server|$row]}"
            done
        done
    done
}

printf '\n%-8s %-12s %4s %10s %12s %10s %12s\n' server test pipe requests ops/s p99_ms cpu_us/req
run_tests xadd_hot xadd_keys

# The stream XRANGE reads: the same entries, with the same explicit IDs, on both servers.
for server in shoal redis; do
    port=$(server_port "$server")
    cli "$port" flushall >/dev/null
    replies=$(xadd_resp r 1 "$RANGE_ENTRIES" explicit | pipe_in "$port")
    [[ $replies == "$RANGE_ENTRIES" ]] || die "$server: $replies replies to $RANGE_ENTRIES XADDs"
done
mid=$(printf '%012d' $((RANGE_ENTRIES / 2)))
a=$(cli "$SHOAL_PORT" xrange r "$mid" + COUNT 10)
b=$(cli "$REDIS_PORT" xrange r "$mid" + COUNT 10)
[[ $a == "$b" && -n $a ]] || die "XRANGE r $mid + COUNT 10 differs between shoal and redis-server"
run_tests xrange_head xrange_rand
stop_servers
if [[ -n $CONFIG_WARN ]]; then
    echo "note: redis-benchmark could not fetch CONFIG from:$CONFIG_WARN"
fi

# --- memory ---------------------------------------------------------------------------------
declare -A MEM_USED MEM_RSS MEM_USAGE
# per BEFORE AFTER: bytes per entry.
per() { awk -v a="$1" -v b="$2" -v n="$ENTRIES" 'BEGIN { printf "%.1f", (b - a) / n }'; }
if ((ENTRIES > 0)); then
    header "Memory: $ENTRIES XADDs (XADD m * f1 <16 bytes> f2 <16 bytes>) to one stream"
    echo "shoal's used_memory is its RSS (no allocator accounting), so both of its columns measure RSS"
    start_servers
    printf '\n%-8s %10s %14s %14s %12s %12s %14s\n' server xlen used_before used_after used_B/entry rss_B/entry "MEMORY USAGE/e"
    for server in shoal redis; do
        pid=$(server_pid "$server")
        port=$(server_port "$server")
        sleep 0.5
        used0=$(used_memory "$port")
        rss0=$(rss_kb "$pid")
        replies=$(xadd_resp m 1 "$ENTRIES" auto | pipe_in "$port")
        [[ $replies == "$ENTRIES" ]] || die "$server: $replies replies to $ENTRIES XADDs"
        len=$(cli "$port" xlen m)
        [[ $len == "$ENTRIES" ]] || die "$server: XLEN m is $len after $ENTRIES XADDs"
        sleep 0.5
        used1=$(used_memory "$port")
        rss1=$(rss_kb "$pid")
        usage=$(cli "$port" memory usage m samples 0)
        MEM_USED[$server]=$(per "$used0" "$used1")
        MEM_RSS[$server]=$(per $((rss0 * 1024)) $((rss1 * 1024)))
        MEM_USAGE[$server]=$(per 0 "$usage")
        printf '%-8s %10s %14s %14s %12s %12s %14s\n' "$server" "$len" "$used0" "$used1" \
            "${MEM_USED[$server]}" "${MEM_RSS[$server]}" "${MEM_USAGE[$server]}"
    done
    stop_servers
fi

# --- summary --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

header "Summary: shoal --shards $SHARDS vs redis-server ($BENCH_TOOL, $CLIENTS clients, $(nproc) CPUs)"
printf '%-12s %4s | %12s %12s %6s | %8s %8s %6s | %8s %8s %6s\n' \
    test pipe "shoal ops/s" "redis ops/s" ratio "shoal p99" "redis p99" ratio "shoal us" "redis us" ratio
printf '%-12s %4s | %12s %12s %6s | %8s %8s %6s | %8s %8s %6s\n' \
    "" "" "" "" "" "ms" "ms" "" "cpu/req" "cpu/req" ""
for row in "${ROWS[@]}"; do
    test=${row%|*}
    pipeline=${row#*|}
    printf '%-12s %4s | %12s %12s %6s | %8s %8s %6s | %8s %8s %6s\n' "${LABEL[$test]}" "$pipeline" \
        "${OPS[shoal|$row]}" "${OPS[redis|$row]}" "$(ratio "${OPS[shoal|$row]}" "${OPS[redis|$row]}")" \
        "${P99[shoal|$row]}" "${P99[redis|$row]}" "$(ratio "${P99[shoal|$row]}" "${P99[redis|$row]}")" \
        "${CPU[shoal|$row]}" "${CPU[redis|$row]}" "$(ratio "${CPU[shoal|$row]}" "${CPU[redis|$row]}")"
done
if ((ENTRIES > 0)); then
    printf '%-17s | %12s %12s %6s\n' "B/entry used_mem" "${MEM_USED[shoal]}" "${MEM_USED[redis]}" \
        "$(ratio "${MEM_USED[shoal]}" "${MEM_USED[redis]}")"
    printf '%-17s | %12s %12s %6s\n' "B/entry RSS" "${MEM_RSS[shoal]}" "${MEM_RSS[redis]}" \
        "$(ratio "${MEM_RSS[shoal]}" "${MEM_RSS[redis]}")"
    printf '%-17s | %12s %12s %6s\n' "B/entry MEM USAGE" "${MEM_USAGE[shoal]}" "${MEM_USAGE[redis]}" \
        "$(ratio "${MEM_USAGE[shoal]}" "${MEM_USAGE[redis]}")"
    echo "(shoal's used_memory is its RSS; redis-server's is its allocator's count)"
fi
echo "(ratios are shoal/redis: above 1 is better for ops/s, below 1 is better for p99, CPU and memory)"
