"""Model health over HTTP: failures from the emulator open the circuit, GET /admin/health shows it, a
success after the cool-down closes it, and the state lands in model_health (docs/health.md)."""

from __future__ import annotations

import time
from typing import Iterator

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, gateway_config

MODEL = "openai/gpt-4o-mini"
COOLDOWN = 1.0


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    config = gateway_config(emulator.base_url, HEALTH_FAILURE_THRESHOLD="3", HEALTH_COOLDOWN_SECONDS=str(COOLDOWN),
                            HEALTH_MIN_SAMPLES="100")
    running = GatewayServer(config, tmp_path_factory.mktemp("health") / "gateway.sqlite3").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=server.create_key(name="health"), max_retries=0)


def chat(client: openai.OpenAI, text: str):
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": text}])


def health_of(server: GatewayServer, model: str = MODEL) -> dict:
    with server.admin() as admin:
        response = admin.get("/admin/health")
    assert response.status_code == 200, response.text
    return {row["model_id"]: row for row in response.json()["data"]}[model]


def stored(server: GatewayServer, until, timeout: float = 5.0) -> dict:
    """The model_health row once `until(row)` holds (it is flushed after the answers)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = server.sql("SELECT * FROM model_health WHERE model_id = ?", MODEL)
        if rows and until(rows[0]):
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"model_health never matched: {rows}")
        time.sleep(0.05)


def test_callers_errors_do_not_touch_health(server, client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[[emulator:fault=context-length]]"}])
    with server.admin() as admin:
        models = {row["model_id"] for row in admin.get("/admin/health").json()["data"]}
    assert MODEL not in models


def test_failures_open_the_circuit_and_a_success_after_the_cooldown_closes_it(server, client):
    assert chat(client, "hello").choices[0].message.content
    # An upstream 5xx, a connection reset and a 429: each is the provider's failure.
    for fault, status in (("503", 502), ("reset", 502), ("429", 429)):
        with pytest.raises(openai.APIStatusError) as raised:
            chat(client, f"[[emulator:fault={fault}]] try")
        assert raised.value.status_code == status
    health = health_of(server)
    assert health["circuit_state"] == "open"
    assert health["consecutive_failures"] == 3
    assert (health["window_requests"], health["window_errors"]) == (4, 3)
    assert health["success_rate"] == 0.25
    assert health["last_error_type"] == "rate_limit"
    assert health["opened_at"] and health["latency_ewma_ms"] > 0
    row = stored(server, lambda r: r["circuit_state"] == "open")
    assert row["provider_id"] == "openai" and row["window_errors"] == 3 and row["opened_at"] == health["opened_at"]

    time.sleep(COOLDOWN + 0.1)
    assert health_of(server)["circuit_state"] == "half_open"
    assert chat(client, "probe").choices[0].message.content  # requests are not refused: the router will use allow()
    health = health_of(server)
    assert health["circuit_state"] == "closed" and health["opened_at"] is None
    assert health["consecutive_failures"] == 0
    stored(server, lambda r: r["circuit_state"] == "closed")


def test_health_is_for_system_admins_only(server, client):
    key = server.create_key(name="not-admin")
    response = httpx.get(server.base_url + "/admin/health", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"
