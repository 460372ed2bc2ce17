"""Shared fixtures: the provider emulator and the gateway, both real servers on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn

from scripts.emulator.runner import EmulatorThread
from scripts.run_local import build_local

ADMIN_KEY = "test-admin-key"
OPENAI_TEST_KEY = "sk-test-openai-key"
CLOUDFLARE_ACCOUNT_ID = "test-account-id"
CLOUDFLARE_API_TOKEN = "test-cloudflare-token"


# OpenAI removed its Videos API (migrations/0017 disables the sora rows in production); the OpenAI-format
# video adapter stays for servers that still speak it, so the tests enable the rows to exercise it against
# the emulator. tests/test_catalog_defaults.py checks that a fresh catalog has them disabled.
OPENAI_VIDEO_MODELS = ("openai/sora-2", "openai/sora-2-pro")


def enable_openai_video_models(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute(f"UPDATE models SET enabled = 1 WHERE id IN ({', '.join('?' for _ in OPENAI_VIDEO_MODELS)})",
                   OPENAI_VIDEO_MODELS)


def emulator_seen(emulator: EmulatorThread, text: str) -> int:
    """How many recorded emulator requests carry `text` in their body (0: it never went upstream)."""
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    return sum(text in json.dumps(r["body"]) for r in recorded)


class GatewayServer:
    """The gateway app under uvicorn in a thread, on a free port, with its own SQLite file."""

    def __init__(self, config: dict[str, str], db_path: Path) -> None:
        self.app, self.ports = build_local(config, db_path)
        self.db_path = db_path
        enable_openai_video_models(db_path)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        finally:
            await self.ports.background.drain()
            await self.ports.http.close()

    def start(self) -> "GatewayServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("gateway did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)

    def create_key(self, **fields: Any) -> str:
        # A key with no tier is on 'free' (10 requests a day): test keys are on the unlimited tier unless a
        # test names one (tests/e2e/test_limits.py tests the limits themselves).
        fields.setdefault("tier_id", "business")
        with self.admin() as client:
            response = client.post("/admin/keys", json=fields)
        assert response.status_code == 201, response.text
        return response.json()["key"]

    def sql(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        """Run one statement on the gateway's SQLite file (committed); its rows as dicts."""
        with sqlite3.connect(self.db_path) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute(statement, params).fetchall()]
            db.commit()
        return rows

    def usage_row(self, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The usage row of a request; it is written after the response, so wait for it."""
        deadline = time.monotonic() + timeout
        with self.admin() as client:
            while time.monotonic() < deadline:
                rows = client.get("/admin/usage", params={"limit": 1000}).json()["data"]
                for row in rows:
                    if row["request_id"] == request_id:
                        return row
                time.sleep(0.02)
        raise AssertionError(f"no usage row for {request_id}")


# Where each provider's wire format lives on the emulator: the real API's path, under /<provider>.
EMULATED_BASE_PATHS = {
    "ANTHROPIC": "/anthropic",
    "GEMINI": "/gemini",
    "DEEPSEEK": "/deepseek",
    "GROQ": "/groq/openai/v1",
    "XAI": "/xai/v1",
    "PERPLEXITY": "/perplexity",
    "TOGETHER": "/together/v1",
    "ELEVENLABS": "/elevenlabs",
}


def provider_key(prefix: str) -> str:
    """The provider key the test gateway holds for a provider (env level)."""
    return f"test-{prefix.lower()}-key"


# The keyring of the test gateways (kid:base64 of 32 bytes); test_credentials.py sets its own.
TEST_ENCRYPTION_KEY = "ktest:" + base64.b64encode(bytes(range(100, 132))).decode()


def gateway_config(emulator_url: str, **overrides: str) -> dict[str, str]:
    providers = {}
    for prefix, path in EMULATED_BASE_PATHS.items():
        providers[f"{prefix}_API_KEY"] = provider_key(prefix)
        providers[f"{prefix}_BASE_URL"] = emulator_url + path
    return {
        **providers,
        "GATEWAY_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_API_KEY": OPENAI_TEST_KEY,
        "OPENAI_BASE_URL": emulator_url + "/v1",
        "CORS_ALLOW_ORIGINS": "https://app.example.com",
        "LOCAL_VLLM_API_KEY": "vllm-secret",  # a custom provider's optional key, by its env name
        "CLOUDFLARE_ACCOUNT_ID": CLOUDFLARE_ACCOUNT_ID,  # Workers AI over REST (the Worker uses the AI binding)
        "CLOUDFLARE_API_TOKEN": CLOUDFLARE_API_TOKEN,
        "CLOUDFLARE_API_BASE_URL": emulator_url + "/cloudflare/client/v4",
        "HEALTH_FLUSH_SECONDS": "0.1",  # a pending model-health flush must not hold a stopping gateway for 5 s
        # One call per request: the provider tests check how each failure is mapped, so a fault is neither
        # retried nor moved to another model (retries and fallbacks: test_failure_matrix.py, test_routing.py).
        "RETRIES_PER_MODEL": "0",
        "FALLBACKS": "off",
        # Webhook URLs are sealed with the credentials' keyring; the tests' webhook receivers are plain http
        # on loopback, which a real gateway refuses (docs/alerts.md "Webhook targets").
        "GATEWAY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "ALERT_WEBHOOK_ALLOW_HTTP": "true",
        "ALERT_WEBHOOK_ALLOW_PRIVATE": "true",
        **overrides,
    }


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as running:
        yield running


@pytest.fixture(scope="session")
def gateway(emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    server = GatewayServer(gateway_config(emulator.base_url), tmp_path_factory.mktemp("gw") / "gateway.sqlite3")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api_key(gateway: GatewayServer) -> str:
    return gateway.create_key(name="tests")
