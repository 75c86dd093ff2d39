# Shared by scripts/bench.sh, scripts/tx_bench.sh and scripts/rdb_bench.sh (sourced, not run):
# messages, building shoal, free ports, waiting for a server, CPU ticks of a process.
# Expects ROOT (the repository) to be set.

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
header() {
    printf '\n==> %s\n' "$*"
}

# build_shoal: sets SHOAL_BIN, building the release binary unless SHOAL_BIN is given. Cargo's
# output goes to stderr, so a script whose stdout is its report stays clean.
build_shoal() {
    if [[ -n ${SHOAL_BIN:-} ]]; then
        [[ -x $SHOAL_BIN ]] || die "SHOAL_BIN=$SHOAL_BIN is not executable"
        return 0
    fi
    header "Building shoal (release)" >&2
    cargo build --release --bin shoal >&2
    SHOAL_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/shoal"
    [[ $SHOAL_BIN == /* ]] || SHOAL_BIN="$ROOT/$SHOAL_BIN"
}

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL (a shutdown that saves takes a moment).
stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# free_port: a port nothing listens on, below the kernel's ephemeral range (32768+) where
# outgoing connections take theirs.
free_port() {
    local p
    for _ in $(seq 200); do
        p=$((21000 + RANDOM % 9000))
        port_in_use "$p" || {
            echo "$p"
            return
        }
    done
    die "no free port found"
}

# wait_ready NAME PID PORT LOG: until the server answers PING (or died / 30 s passed).
wait_ready() {
    local name=$1 pid=$2 port=$3 log=$4
    for _ in $(seq 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -20 "$log" >&2 || true
            die "$name exited during startup (log above)"
        fi
        if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    tail -20 "$log" >&2 || true
    die "$name did not answer PING on port $port within 30 s"
}

# start_servers: shoal (--shards $SHARDS) and redis-server side by side, no persistence, each in
# its own dir under $WORK; sets SHOAL_PID and REDIS_PID and waits until both answer PING.
start_servers() {
    port_in_use "$SHOAL_PORT" && die "port $SHOAL_PORT is already in use"
    port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is already in use"
    mkdir -p "$WORK/shoal" "$WORK/redis"
    "$SHOAL_BIN" --port "$SHOAL_PORT" --shards "$SHARDS" --save "" --dir "$WORK/shoal" \
        >"$WORK/shoal.log" 2>&1 &
    SHOAL_PID=$!
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize no --dir "$WORK/redis" --logfile "$WORK/redis.log" >/dev/null 2>&1 &
    REDIS_PID=$!
    wait_ready shoal "$SHOAL_PID" "$SHOAL_PORT" "$WORK/shoal.log"
    wait_ready redis-server "$REDIS_PID" "$REDIS_PORT" "$WORK/redis.log"
}

server_pid() { [[ $1 == shoal ]] && echo "$SHOAL_PID" || echo "$REDIS_PID"; }
server_port() { [[ $1 == shoal ]] && echo "$SHOAL_PORT" || echo "$REDIS_PORT"; }

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() {
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}
