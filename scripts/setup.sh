#!/usr/bin/env bash
# Install everything the gateway and its tests need, from pinned versions: a Python venv in .venv
# (requirements/test.lock) and the Node tools (wrangler, Node 22) from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check pip==25.3
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/test.lock

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
