#!/usr/bin/env bash
# Builds shoal and runs its whole test suite (unit, integration and doc tests) in release mode.
#
# Installs what the tests need when it is missing: a C compiler (src/build.rs compiles src/runtime/uring_shim.c) and
# redis-server + redis-cli (tests that compare against a real Redis). If redis cannot be
# installed, it warns and goes on: those tests skip themselves with a printed note.
#
# Leaves nothing running: the tests run in a session of their own, and every process started
# under this script carries a marker in its environment. Whatever is still in that session or
# still carries the marker at the end (a shoal or redis-server that a failed test left behind)
# is stopped by its pid. (redis-server overwrites its environment block for its process title,
# hence the session check; a process that daemonizes leaves the session, and only the marker
# still finds it, so tests should start redis-server with --daemonize no, as tests/ do.)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

header() {
    printf '\n==> %s\n' "$*"
}
warn() {
    printf 'WARNING: %s\n' "$*" >&2
}

# --- cleanup of leftovers -------------------------------------------------------------------
MARK="SHOAL_TEST_RUN_ID=$$-$(date +%s%N)"
export SHOAL_TEST_RUN_ID="${MARK#SHOAL_TEST_RUN_ID=}"
TEST_SID="" # session id of the test run, once started

kill_leftovers() {
    local dir pid stat sid pids=()
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ $pid == "$$" ]] && continue
        sid=""
        if [[ -n $TEST_SID ]] && { stat=$(<"$dir/stat"); } 2>/dev/null; then
            # Fields after the ")" that ends the command name: state ppid pgrp session ...
            stat=${stat##*) }
            read -r _ _ _ sid _ <<<"$stat"
        fi
        # environ is readable only for our own processes; the marker is matched as a whole entry.
        if [[ $sid == "$TEST_SID" && -n $sid ]] || grep -qzxF "$MARK" "$dir/environ" 2>/dev/null; then
            pids+=("$pid")
        fi
    done
    ((${#pids[@]})) || return 0
    printf 'stopping leftover processes: %s\n' "${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    sleep 1
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}
trap kill_leftovers EXIT
trap 'exit 130' INT TERM

# --- toolchain ------------------------------------------------------------------------------
header "Checking the Rust toolchain"
if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
    # rustup installs into ~/.cargo/bin without touching non-login shells' PATH.
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found (install Rust with rustup: https://rustup.rs)" >&2
    exit 1
fi
cargo --version
rustc --version

# --- system packages ------------------------------------------------------------------------
SUDO=""
CAN_INSTALL=1
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo"
    else
        CAN_INSTALL=0
    fi
fi
command -v apt-get >/dev/null 2>&1 || CAN_INSTALL=0

APT_UPDATED=0
apt_install() {
    if ((CAN_INSTALL == 0)); then
        return 1
    fi
    if ((APT_UPDATED == 0)); then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        APT_UPDATED=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

header "Checking the C compiler (src/build.rs compiles src/runtime/uring_shim.c)"
if command -v cc >/dev/null 2>&1; then
    echo "cc: $(command -v cc)"
else
    echo "cc not found; installing gcc and libc6-dev"
    apt_install gcc libc6-dev || warn "could not install a C compiler; the build will likely fail"
fi

header "Checking redis-server and redis-cli (reference server for comparison tests)"
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    redis-server --version
else
    echo "redis-server/redis-cli not found; installing redis-server and redis-tools"
    service_was_running=0
    if command -v pgrep >/dev/null 2>&1 && pgrep -x redis-server >/dev/null 2>&1; then
        service_was_running=1
    fi
    if apt_install redis-server redis-tools; then
        redis-server --version || warn "redis-server installed but not on PATH"
        # The Debian package starts a system service on port 6379; the tests start their own
        # servers, so stop it again rather than leave a redis-server running.
        if ((service_was_running == 0)); then
            if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
                $SUDO systemctl stop redis-server >/dev/null 2>&1 || true
                $SUDO systemctl disable redis-server >/dev/null 2>&1 || true
            elif command -v service >/dev/null 2>&1; then
                $SUDO service redis-server stop >/dev/null 2>&1 || true
            elif [[ -x /etc/init.d/redis-server ]]; then
                $SUDO /etc/init.d/redis-server stop >/dev/null 2>&1 || true
            fi
        fi
    else
        warn "could not install redis-server/redis-tools (no root, no sudo or no apt-get)."
        warn "Tests that need a real redis-server will skip themselves."
    fi
fi

# --- build and test -------------------------------------------------------------------------
# Plain `cargo test` covers the library, the binary, tests/ and doc tests; benches are left
# out (they run with `cargo bench`).
header "Building (release)"
cargo build --release

header "Running tests: cargo test --release --no-fail-fast"
# In a session of its own (setsid does not fork here: a background job of a non-interactive
# shell is no process group leader), so its session id is its pid.
LOG=$(mktemp "${TMPDIR:-/tmp}/shoal-test.XXXXXX")
setsid bash -c 'cargo test --release --no-fail-fast 2>&1 | tee "$1"; exit "${PIPESTATUS[0]}"' _ "$LOG" &
TEST_SID=$!
status=0
wait "$TEST_SID" || status=$?
# One closing line over every test binary (cargo prints one `test result:` line per binary).
read -r passed failed < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$LOG")
rm -f "$LOG"

# Replication between two network namespaces (needs root and `ip netns`; says so and skips
# otherwise). Run here rather than from cargo test: it changes the machine's network setup.
header "Replication across network namespaces (scripts/repl_netns.sh)"
SHOAL_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/shoal"
[[ $SHOAL_BIN == /* ]] || SHOAL_BIN="$ROOT/$SHOAL_BIN"
if ! SHOAL_BIN="$SHOAL_BIN" bash "$ROOT/scripts/repl_netns.sh"; then
    echo "scripts/repl_netns.sh FAILED"
    status=1
    failed=$((failed + 1))
fi

header "Checking for leftover processes"
kill_leftovers
trap - EXIT

if ((status == 0)); then
    header "All tests passed"
else
    header "Tests FAILED (exit status $status)"
fi
echo "${passed} passed, ${failed} failed"
exit "$status"
