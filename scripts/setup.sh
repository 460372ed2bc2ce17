#!/usr/bin/env bash
# Install everything the gateway and its tests need, from pinned versions: a Python venv in .venv
# (requirements/test.lock), the Node tools (wrangler, Node 22, Pyodide) from package-lock.json, and the
# pure-Python wheels the Pyodide test run loads (requirements/pyodide-wheels.txt -> .cache/pyodide-wheels/).
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

# Wheels for the Pyodide run: downloaded once, again only when the list changes (the stamp is older).
WHEELS=.cache/pyodide-wheels
if [ ! -f "$WHEELS/.complete" ] || [ requirements/pyodide-wheels.txt -nt "$WHEELS/.complete" ]; then
    mkdir -p "$WHEELS"
    .venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --require-hashes -r requirements/pyodide-wheels.txt -d "$WHEELS"
    touch "$WHEELS/.complete"
fi
