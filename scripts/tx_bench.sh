#!/usr/bin/env bash
# Compares MULTI/EXEC throughput of shoal and redis-server on this machine:
#
#   INCR        baseline: one INCR per request (one key)
#   TX 1 shard  MULTI / INCR {tag}a / INCR {tag}b / EXEC: both keys on one shard, so shoal runs
#               the EXEC on that shard alone (INFO shoal_exec_single_shard)
#   TX 2 shards MULTI / INCR {tag1}a / INCR {tag2}b / EXEC with the tags on different shards of
#               shoal --shards $SHARDS: the coordinator holds both (INFO shoal_exec_multi_shard);
#               skipped when SHARDS=1. redis-server runs the same commands (the keys mean nothing
#               to it) as the reference.
#
# redis-benchmark sends one command per request, so the load generator is a small Python
# program (written to the scratch dir; python3 standard library only): PROCS processes share
# CLIENTS connections, each connection keeps DEPTH requests in flight and writes a request's
# commands (all four of a transaction) in one write. A request counts when all its replies have
# arrived; the counts are checked against the keys' final values and against shoal's INFO
# counters of the EXEC paths, so a run that silently did something else fails.
#
# Usage: scripts/tx_bench.sh
# Environment (all optional):
#   SHARDS=2            shoal --shards
#   CLIENTS=50          connections, split over PROCS processes
#   PROCS               load generator processes (default: min(4, CPUs))
#   DEPTH=1             requests in flight per connection (1 = wait for each reply)
#   DURATION=5          seconds per test
#   SHOAL_BIN           use this binary instead of building target/release/shoal
#   SHOAL_PORT, REDIS_PORT  ports to use (default: free ones picked at random)
#
# Both servers run side by side with no CPU pinning, the tests alternating between them; the
# load generator shares the cores with them and on a small machine it is the bottleneck (a
# Python client does far fewer requests/s than redis-benchmark). Read the ratios, not the
# absolute numbers.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

SHARDS=${SHARDS:-2}
CLIENTS=${CLIENTS:-50}
NPROC=$(nproc)
PROCS=${PROCS:-$((NPROC < 4 ? NPROC : 4))}
DEPTH=${DEPTH:-1}
DURATION=${DURATION:-5}

# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

for v in SHARDS CLIENTS PROCS DEPTH DURATION; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((SHARDS >= 1 && CLIENTS >= 1 && PROCS >= 1 && DEPTH >= 1 && DURATION >= 1)) ||
    die "SHARDS, CLIENTS, PROCS, DEPTH and DURATION must be at least 1"
((PROCS <= CLIENTS)) || PROCS=$CLIENTS

for t in redis-server redis-cli python3 awk; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian/Ubuntu: apt-get install redis-server redis-tools python3)"
done
CLK_TCK=$(getconf CLK_TCK)

# --- scratch space and cleanup --------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-tx-bench.XXXXXX")
SHOAL_PID=""
REDIS_PID=""

cleanup() {
    stop_pid "$SHOAL_PID"
    stop_pid "$REDIS_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ----------------------------------------------------------------------------------
build_shoal

# --- the load generator ---------------------------------------------------------------------
cat >"$WORK/txload.py" <<'PY'
"""Closed-loop load: MODE incr | tx1 | tx2 against 127.0.0.1:PORT.

Prints one line: "requests elapsed_s p50_ms p99_ms key1 key2" (key2 "-" for incr).
"""
import multiprocessing as mp
import os
import selectors
import socket
import sys
import time


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def shard(tag, shards):
    # Keys here are "{tag}x": the hashtag is the whole tag. Same split as shoal's slot.rs.
    return (crc16(tag.encode()) % 16384) * shards // 16384


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def keys_for(mode, shards):
    if mode == "incr":
        return ["{b0}n"]
    if mode == "tx1":
        return ["{b1}a", "{b1}b"]
    first = "b2"
    for i in range(3, 1000):
        other = "b%d" % i
        if shard(other, shards) != shard(first, shards):
            return ["{%s}a" % first, "{%s}b" % other]
    sys.exit("no two tags on different shards")


def worker(port, mode, keys, conns, depth, duration, start_at, out):
    if mode == "incr":
        payload, lines = resp("INCR", keys[0]), 1
    else:
        payload = resp("MULTI") + resp("INCR", keys[0]) + resp("INCR", keys[1]) + resp("EXEC")
        lines = 6  # +OK +QUEUED +QUEUED *2 :n :m
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.perf_counter()
    deadline = t0 + duration
    done = 0
    lat = []
    for s in socks:
        st = {"nl": 0, "sent": [t0] * depth, "inflight": depth}
        s.sendall(payload * depth)
        sel.register(s, selectors.EVENT_READ, st)
    open_socks = len(socks)
    while open_socks:
        for key, _ in sel.select(timeout=5):
            s, st = key.fileobj, key.data
            data = s.recv(1 << 16)
            if not data:
                sys.exit("server closed the connection")
            if b"-" in data:
                sys.exit("error reply: %r" % data[:200])
            st["nl"] += data.count(b"\n")
            now = time.perf_counter()
            resend = 0
            while st["nl"] >= lines:
                st["nl"] -= lines
                st["inflight"] -= 1
                done += 1
                lat.append(now - st["sent"].pop(0))
                if now < deadline:
                    resend += 1
            if resend:
                st["sent"].extend([now] * resend)
                st["inflight"] += resend
                s.sendall(payload * resend)
            if st["inflight"] == 0:
                sel.unregister(s)
                s.close()
                open_socks -= 1
    elapsed = time.perf_counter() - t0
    lat.sort()
    # A sample of the latencies keeps the pipe small.
    step = max(1, len(lat) // 2000)
    out.put((done, elapsed, lat[::step]))


def main():
    port, mode, shards, clients, procs, depth, duration = sys.argv[1:8]
    port, shards, clients, procs, depth = map(int, (port, shards, clients, procs, depth))
    duration = float(duration)
    keys = keys_for(mode, shards)
    q = mp.Queue()
    start_at = time.time() + 0.5
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    ps = [mp.Process(target=worker, args=(port, mode, keys, n, depth, duration, start_at, q))
          for n in per]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
        if p.exitcode != 0:
            sys.exit("a load process failed")
    done = sum(r[0] for r in results)
    elapsed = max(r[1] for r in results)
    lat = sorted(x for r in results for x in r[2])
    p50 = lat[len(lat) // 2] * 1000 if lat else 0
    p99 = lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000 if lat else 0
    print("%d %.3f %.3f %.3f %s %s" % (done, elapsed, p50, p99, keys[0],
                                       keys[1] if len(keys) > 1 else "-"))


if __name__ == "__main__":
    main()
PY

# --- servers --------------------------------------------------------------------------------
SHOAL_PORT=${SHOAL_PORT:-$(free_port)}
REDIS_PORT=${REDIS_PORT:-$(free_port)}
[[ $SHOAL_PORT != "$REDIS_PORT" ]] || die "SHOAL_PORT and REDIS_PORT are the same"


start_servers
info_field() { redis-cli -p "$1" info stats | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }
get_int() {
    local v
    v=$(redis-cli -p "$1" get "$2")
    echo "${v:-0}"
}

# --- tests ----------------------------------------------------------------------------------
TESTS=(incr tx1)
((SHARDS >= 2)) && TESTS+=(tx2)
label() {
    case $1 in
    incr) echo "INCR" ;;
    tx1) echo "TX 1 shard" ;;
    tx2) echo "TX 2 shards" ;;
    esac
}

declare -A OPS P50 P99 CPU
header "MULTI/EXEC load: $CLIENTS connections over $PROCS processes, depth $DEPTH, ${DURATION}s per test"
echo "shoal: $SHOAL_BIN --shards $SHARDS (port $SHOAL_PORT); redis: $(redis-server --version | awk '{print $3}') (port $REDIS_PORT)"
echo "machine: $NPROC CPUs, no pinning; requests/s = requests whose replies all arrived / seconds"
printf '\n%-8s %-12s %10s %12s %8s %8s %10s  %s\n' server test requests req/s p50_ms p99_ms cpu_us/req keys
for test in "${TESTS[@]}"; do
    for server in shoal redis; do
        pid=$(server_pid "$server")
        port=$(server_port "$server")
        redis-cli -p "$port" flushall >/dev/null
        if [[ $server == shoal ]]; then
            s0=$(info_field "$port" shoal_exec_single_shard)
            m0=$(info_field "$port" shoal_exec_multi_shard)
        fi
        before=$(cpu_ticks "$pid")
        res=$(python3 "$WORK/txload.py" "$port" "$test" "$SHARDS" "$CLIENTS" "$PROCS" "$DEPTH" "$DURATION") ||
            die "load generator failed against $server ($test)"
        after=$(cpu_ticks "$pid")
        kill -0 "$pid" 2>/dev/null || die "$server died during the load"
        read -r n secs p50 p99 k1 k2 <<<"$res"
        # Every counted request ran exactly once: the keys hold the counts.
        [[ $(get_int "$port" "$k1") == "$n" ]] ||
            die "$server $test: $k1 is $(get_int "$port" "$k1"), expected $n"
        if [[ $k2 != - ]]; then
            [[ $(get_int "$port" "$k2") == "$n" ]] ||
                die "$server $test: $k2 is $(get_int "$port" "$k2"), expected $n"
        fi
        if [[ $server == shoal && $test != incr ]]; then
            s1=$(info_field "$port" shoal_exec_single_shard)
            m1=$(info_field "$port" shoal_exec_multi_shard)
            if [[ $test == tx1 ]]; then
                ((s1 - s0 == n && m1 == m0)) ||
                    die "shoal tx1: INFO counted $((s1 - s0)) single-shard and $((m1 - m0)) multi-shard EXECs, expected $n single-shard"
            else
                ((m1 - m0 == n && s1 == s0)) ||
                    die "shoal tx2: INFO counted $((s1 - s0)) single-shard and $((m1 - m0)) multi-shard EXECs, expected $n multi-shard"
            fi
        fi
        row="$server|$test"
        OPS[$row]=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
        P50[$row]=$p50
        P99[$row]=$p99
        CPU[$row]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", d * 1e6 / hz / n }')
        printf '%-8s %-12s %10s %12s %8s %8s %10s  %s\n' "$server" "$(label "$test")" "$n" "${OPS[$row]}" \
            "$p50" "$p99" "${CPU[$row]}" "$k1 ${k2#-}"
    done
done
((SHARDS >= 2)) || echo "note: TX 2 shards skipped (SHARDS=1)"

# --- summary --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
header "Summary: shoal --shards $SHARDS vs redis-server ($CLIENTS connections, depth $DEPTH, $NPROC CPUs)"
printf '%-12s | %11s %11s %6s | %8s %8s %6s | %8s %8s %6s\n' \
    test "shoal req/s" "redis req/s" ratio "shoal p99" "redis p99" ratio "shoal us" "redis us" ratio
for test in "${TESTS[@]}"; do
    printf '%-12s | %11s %11s %6s | %8s %8s %6s | %8s %8s %6s\n' "$(label "$test")" \
        "${OPS[shoal|$test]}" "${OPS[redis|$test]}" "$(ratio "${OPS[shoal|$test]}" "${OPS[redis|$test]}")" \
        "${P99[shoal|$test]}" "${P99[redis|$test]}" "$(ratio "${P99[shoal|$test]}" "${P99[redis|$test]}")" \
        "${CPU[shoal|$test]}" "${CPU[redis|$test]}" "$(ratio "${CPU[shoal|$test]}" "${CPU[redis|$test]}")"
done
for server in shoal redis; do
    [[ -n ${OPS[$server|incr]:-} && -n ${OPS[$server|tx1]:-} ]] || continue
    printf '%s: a 1-shard transaction costs %s INCRs of throughput' "$server" \
        "$(ratio "${OPS[$server|incr]}" "${OPS[$server|tx1]}")"
    [[ -n ${OPS[$server|tx2]:-} ]] && printf ', a 2-shard one %s' "$(ratio "${OPS[$server|incr]}" "${OPS[$server|tx2]}")"
    echo
done
echo "(ratios are shoal/redis: above 1 is better for req/s, below 1 is better for p99 and CPU per request)"
