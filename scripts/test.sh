#!/usr/bin/env bash
# The whole test suite from a fresh clone: install what is pinned, then run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WRANGLER_SEND_METRICS=false CI=1
exec .venv/bin/python -m pytest "$@"
