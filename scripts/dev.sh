#!/usr/bin/env bash
# Run the gateway locally (http://127.0.0.1:8787, PORT overrides). Installs what is pinned first.
# With no provider key configured it also starts the provider emulator and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/run_local.py "$@"
