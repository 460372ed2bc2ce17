"""Run the gateway locally on CPython: uvicorn at 127.0.0.1:8787 (PORT overrides), SQLite as D1.

Configuration is read as wrangler reads it: `[vars]` from wrangler.toml, then `.dev.vars`, then
the process environment (highest). With no provider key set, the provider emulator is started and
registered as OpenAI, and the banner says so.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import secrets
import sys
import tomllib
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from dotenv import dotenv_values  # noqa: E402

from gateway import jobs  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.ports import Ports  # noqa: E402
from gateway.ports.local import AsyncioBackground, SQLiteDatabase, SystemClock  # noqa: E402
from gateway.ports.local_crypto import AesGcmCipher  # noqa: E402
from gateway.ports.local_http import AiohttpClient  # noqa: E402
from gateway.settings import Settings  # noqa: E402

PROVIDER_KEY_NAMES = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "GROQ_API_KEY", "XAI_API_KEY",
    "PERPLEXITY_API_KEY", "TOGETHER_API_KEY", "ELEVENLABS_API_KEY", "CLOUDFLARE_API_TOKEN",
)


def load_config(root: Path = ROOT, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    config: dict[str, str] = {}
    wrangler_toml = root / "wrangler.toml"
    if wrangler_toml.exists():
        vars_section = tomllib.loads(wrangler_toml.read_text()).get("vars", {})
        config.update({name: str(value) for name, value in vars_section.items()})
    dev_vars = root / ".dev.vars"
    if dev_vars.exists():
        config.update({k: v for k, v in dotenv_values(dev_vars).items() if v is not None})
    config.update(environ)
    return config


def build_local(config: Mapping[str, str], db_path: str | Path):
    """The local ports and app; also what the tests serve."""
    database = SQLiteDatabase(db_path, own_thread=True)
    database.migrate(ROOT / "migrations", ROOT / "d1_views.sql")
    ports = Ports(database=database, http=AiohttpClient(), background=AsyncioBackground(), clock=SystemClock(),
                  cipher=AesGcmCipher())
    return create_app(ports, Settings.from_env(config)), ports


JOB_INTERVAL_SECONDS = 300  # the Worker's cron trigger is "*/5 * * * *"


async def run_jobs_every(gateway, seconds: float) -> None:
    """The local stand-in for the Worker's cron trigger."""
    while True:
        await asyncio.sleep(seconds)
        await jobs.run_all(gateway)


def banner(lines: list[str]) -> str:
    width = max(len(line) for line in lines) + 4
    rule = "!" * width
    return "\n".join([rule, *(f"! {line.ljust(width - 4)} !" for line in lines), rule])


async def serve(config: dict[str, str], host: str, port: int, db_path: str, access_log: bool) -> None:
    import uvicorn

    notes = []
    emulator = None
    if not any(config.get(name) for name in PROVIDER_KEY_NAMES):
        from scripts.emulator.runner import EmulatorThread

        emulator = EmulatorThread()
        emulator.start()
        config["OPENAI_BASE_URL"] = emulator.base_url + "/v1"
        config["OPENAI_API_KEY"] = "emulator"
        notes += [
            "NO PROVIDER KEY IS SET: answers come from the local provider EMULATOR,",
            f"registered as OpenAI at {emulator.base_url}/v1. Set OPENAI_API_KEY (or another",
            "provider's key) in .dev.vars or the environment to call real providers.",
        ]
    if not config.get("GATEWAY_ADMIN_KEY"):
        config["GATEWAY_ADMIN_KEY"] = "admin-" + secrets.token_urlsafe(24)
        notes.append(f"GATEWAY_ADMIN_KEY was not set; for this run it is: {config['GATEWAY_ADMIN_KEY']}")
    if not config.get("GATEWAY_ENCRYPTION_KEY"):
        notes.append("GATEWAY_ENCRYPTION_KEY is not set: provider credentials cannot be stored (docs/credentials.md).")
    if notes:
        print(banner(notes), flush=True)

    app, ports = build_local(config, db_path)
    # Everything built so far lives as long as the process: keep it out of the collector's way, and
    # collect the young generation less often (measured: full collections paused the loop ~50 ms).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=host, port=port, loop="auto", http="auto", access_log=access_log,
            log_level=config.get("LOG_LEVEL", "info").lower(), lifespan="off",
        )
    )
    cron = asyncio.create_task(run_jobs_every(app.gateway, JOB_INTERVAL_SECONDS))
    try:
        await server.serve()
    finally:
        cron.cancel()
        await ports.background.drain()
        await ports.http.close()
        ports.database.close()
        if emulator is not None:
            emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: $PORT or 8787")
    parser.add_argument("--db", default=None, help="SQLite file (default: $GATEWAY_DB_PATH or .local/gateway.sqlite3)")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    config = load_config()
    port = args.port or int(config.get("PORT", "8787"))
    db_path = args.db or config.get("GATEWAY_DB_PATH") or str(ROOT / ".local" / "gateway.sqlite3")
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=config.get("LOG_LEVEL", "info").upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        from uvloop import run  # the fastest event loop where it is installed
    except ImportError:
        run = asyncio.run
    run(serve(config, args.host, port, db_path, args.access_log))


if __name__ == "__main__":
    main()
