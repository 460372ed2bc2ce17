#!/usr/bin/env bash
# The whole test suite from a fresh clone: install what is pinned, run pytest on CPython, then the
# Pyodide suite (the core's tests and the Cloudflare adapters' tests inside Pyodide, the interpreter
# Python Workers run; see docs/pyodide.md). Both must pass. Arguments go to the CPython pytest only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WRANGLER_SEND_METRICS=false CI=1
.venv/bin/python -m pytest "$@"
echo
echo "== Pyodide: tests/unit and tests/cloudflare inside Pyodide (scripts/pyodide/run.sh) =="
exec bash scripts/pyodide/run.sh
