#!/usr/bin/env bash
# Replication between two "hosts": a shoal master and a shoal replica in two network namespaces
# joined by a veth pair (192.0.2.1/24 and 192.0.2.2/24, a documentation range that exists only
# inside the namespaces: nothing is sent to any other address). It writes through the master,
# cuts the link (`ip link set ... down`) for longer than repl-timeout, writes more, restores the
# link, and checks that the replica caught up by partial resync (the master's INFO
# sync_partial_ok) with every key equal to the master's and nothing lost.
#
# Needs root and `ip netns`; otherwise it says it skipped and exits 0. The namespaces (and the
# servers in them) are removed at the end, also on failure.
#
# Usage: scripts/repl_netns.sh        Environment: SHOAL_BIN (else builds), KEYS (default 2000),
#                                     SHARDS (default 2), CUT_SECS (default 6)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

KEYS=${KEYS:-2000}
SHARDS=${SHARDS:-2}
CUT_SECS=${CUT_SECS:-6}
PORT=6379
TAG="shoal$$"
NS_M="${TAG}m"
NS_R="${TAG}r"
IF_M="${TAG}a"
IF_R="${TAG}b"
ADDR_M=192.0.2.1
ADDR_R=192.0.2.2

skip() {
    printf 'repl_netns: skipped: %s\n' "$*"
    exit 0
}
[[ $(id -u) -eq 0 ]] || skip "needs root for ip netns"
command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"
command -v redis-cli >/dev/null 2>&1 || skip "no redis-cli"
ip netns add "${TAG}probe" 2>/dev/null || skip "ip netns does not work here"
ip netns del "${TAG}probe"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shoal-netns.XXXXXX")
cleanup() {
    local code=$?
    for ns in "$NS_M" "$NS_R"; do
        # Killing every process in the namespace, then the namespace (the veth goes with it).
        if ip netns list 2>/dev/null | grep -qw "$ns"; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    if ((code != 0)); then
        for f in "$WORK"/*.log; do
            [[ -f $f ]] || continue
            echo "--- $f (last 20 lines)" >&2
            tail -20 "$f" >&2 || true
        done
    fi
    rm -rf "$WORK"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_shoal

header "Two namespaces joined by a veth pair ($ADDR_M <-> $ADDR_R)"
ip netns add "$NS_M"
ip netns add "$NS_R"
ip link add "$IF_M" type veth peer name "$IF_R"
ip link set "$IF_M" netns "$NS_M"
ip link set "$IF_R" netns "$NS_R"
ip -n "$NS_M" addr add "$ADDR_M/24" dev "$IF_M"
ip -n "$NS_R" addr add "$ADDR_R/24" dev "$IF_R"
for ns in "$NS_M" "$NS_R"; do
    ip -n "$ns" link set lo up
done
ip -n "$NS_M" link set "$IF_M" up
ip -n "$NS_R" link set "$IF_R" up

# Clients talk to each server over its namespace's loopback, which stays up while the link is cut.
m() { ip netns exec "$NS_M" redis-cli -p "$PORT" "$@"; }
r() { ip netns exec "$NS_R" redis-cli -p "$PORT" "$@"; }
info() { # info SIDE FIELD
    "$1" INFO replication | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}
info_stat() { # info_stat FIELD (the master's INFO stats)
    m INFO stats | tr -d '\r' | awk -F: -v f="$1" '$1 == f { print $2 }'
}
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local secs=$1 what=$2
    shift 2
    for _ in $(seq $((secs * 10))); do
        if "$@"; then
            return 0
        fi
        sleep 0.1
    done
    die "timed out after ${secs}s waiting for: $what"
}
answers() { [[ $("$1" PING 2>/dev/null) == PONG ]]; }

header "Master in $NS_M, replica in $NS_R (--shards $SHARDS)"
mkdir -p "$WORK/m" "$WORK/r"
ip netns exec "$NS_M" "$SHOAL_BIN" --port "$PORT" --bind "$ADDR_M 127.0.0.1" --shards "$SHARDS" \
    --save "" --dir "$WORK/m" --repl-ping-replica-period 1 --repl-timeout 3 \
    >"$WORK/master.log" 2>&1 &
disown # stopped with its namespace in cleanup: no job report
wait_for 30 "the master" answers m
ip netns exec "$NS_R" "$SHOAL_BIN" --port "$PORT" --bind "$ADDR_R 127.0.0.1" --shards "$SHARDS" \
    --save "" --dir "$WORK/r" --repl-timeout 3 --replicaof "$ADDR_M $PORT" \
    >"$WORK/replica.log" 2>&1 &
disown
wait_for 30 "the replica" answers r
link_up() { [[ $(info r master_link_status) == up ]]; }
wait_for 30 "the first sync" link_up

write_keys() { # write_keys FROM TO: SET k:i v:i, INCR counter, XADD to a stream, over a pipe
    local i
    for ((i = $1; i < $2; i++)); do
        printf 'SET k:%d v:%d\r\nINCR counter\r\n' "$i" "$i"
        if ((i % 10 == 0)); then
            printf 'XADD events * n %d\r\n' "$i"
        fi
    done | ip netns exec "$NS_M" redis-cli -p "$PORT" >/dev/null
}

header "Writing $KEYS keys through the master"
write_keys 0 "$KEYS"
caught_up() {
    [[ $(info m master_repl_offset) == "$(info r slave_repl_offset)" ]]
}
wait_for 30 "the replica to catch up" caught_up
[[ $(r GET "k:$((KEYS - 1))") == "v:$((KEYS - 1))" ]] || die "the replica lacks the last key"
partial_before=$(info_stat sync_partial_ok)

header "Cutting the link for ${CUT_SECS}s while writing $KEYS more keys"
ip -n "$NS_M" link set "$IF_M" down
write_keys "$KEYS" $((2 * KEYS))
sleep "$CUT_SECS"
[[ $(info r master_link_status) == down ]] || die "the replica did not notice the cut link (master_link_status: $(info r master_link_status))"
ip -n "$NS_M" link set "$IF_M" up

header "Link restored: the replica must continue by partial resync"
wait_for 30 "the replica to catch up after the cut" caught_up
partial_after=$(info_stat sync_partial_ok)
full=$(info_stat sync_full)
((partial_after > partial_before)) || die "no partial resync (sync_partial_ok $partial_before -> $partial_after, sync_full $full)"
((full == 1)) || die "a full resync happened after the cut (sync_full: $full)"

header "Comparing every key"
[[ $(m DBSIZE) == "$(r DBSIZE)" ]] || die "DBSIZE differs: master $(m DBSIZE), replica $(r DBSIZE)"
[[ $(m GET counter) == $((2 * KEYS)) && $(r GET counter) == $((2 * KEYS)) ]] ||
    die "counter: master $(m GET counter), replica $(r GET counter), want $((2 * KEYS))"
[[ $(m XLEN events) == "$(r XLEN events)" ]] || die "stream lengths differ"
[[ $(m XRANGE events - + | md5sum) == "$(r XRANGE events - + | md5sum)" ]] || die "stream contents differ"
missing=0
for ((i = 0; i < 2 * KEYS; i += 1)); do
    printf 'GET k:%d\r\n' "$i"
done | ip netns exec "$NS_R" redis-cli -p "$PORT" >"$WORK/replica.values"
for ((i = 0; i < 2 * KEYS; i += 1)); do
    echo "v:$i"
done >"$WORK/want.values"
cmp -s "$WORK/replica.values" "$WORK/want.values" || missing=1
((missing == 0)) || die "the replica's values differ from what was written (diff: $(diff "$WORK/replica.values" "$WORK/want.values" | head -5))"

echo "repl_netns: ok ($((2 * KEYS)) keys, link cut for ${CUT_SECS}s, partial resyncs: $partial_before -> $partial_after, full syncs: $full)"
