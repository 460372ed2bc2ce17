"""The Cloudflare adapters under real Pyodide, against the JS stand-ins of scripts/pyodide/.

These tests import `js`, `pyodide` and the runtime SDK (`workers`), so they run only inside Pyodide
(scripts/pyodide/run.sh, part of scripts/test.sh); on CPython they are not collected.

The platform is built as workerd builds it: the Worker's env is a JS object whose `DB` is a D1 binding
(the stand-in over node:sqlite with the real migrations), the entrypoint is constructed as
`Default(ctx, env)` so the SDK wraps env in its `_EnvWrapper` and patches `ctx.waitUntil`, and
`workers.wait_until` reaches the stand-in of `cloudflare:workers`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest

if sys.platform != "emscripten":
    collect_ignore_glob = ["*.py"]
else:
    import js
    import pyodide_standins  # registered by scripts/pyodide/run_tests.mjs (not a workerd module)
    from pyodide.ffi import to_js
    from workers import WorkerEntrypoint

    class Probe(WorkerEntrypoint):
        """A Worker entrypoint like src/entry.py's Default, for reaching `self.env` and `self.ctx`."""

    # The Worker's vars as wrangler.toml and secrets would give them (strings only).
    WORKER_VARS = {
        "GATEWAY_ENV": "test",
        "GATEWAY_ADMIN_KEY": "test-admin-key",
        "CORS_ALLOW_ORIGINS": "*",
        "UPSTREAM_TIMEOUT_SECONDS": "10",
        "CONNECT_TIMEOUT_SECONDS": "5",
    }

    def js_object(mapping: dict[str, Any]) -> Any:
        return to_js(mapping, dict_converter=js.Object.fromEntries)

    @pytest.fixture
    def emulator_url() -> str:
        url = os.environ.get("EMULATOR_URL")
        if not url:
            pytest.fail("EMULATOR_URL is not set: run the Pyodide suite through scripts/pyodide/run.sh")
        return url

    @pytest.fixture
    def worker_vars() -> dict[str, str]:
        return dict(WORKER_VARS)

    @pytest.fixture
    def worker(worker_vars: dict[str, str]) -> Probe:
        """A fresh Worker: a new D1 database as env.DB, the vars, an ExecutionContext."""
        env = pyodide_standins.resetEnv(js_object(worker_vars))
        return Probe(pyodide_standins.newExecutionContext(), env)

    @pytest.fixture
    def wait_until():
        """The waitUntil collector: `.total` counts hand-overs; `drain()` settles them all."""
        collector = pyodide_standins.waitUntil

        class WaitUntil:
            @property
            def total(self) -> int:
                return collector.total

            def drain(self) -> list[str]:
                async def settle():
                    return (await collector.drain()).to_py()

                return asyncio.run(settle())

        return WaitUntil()
