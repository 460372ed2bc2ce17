"""The Workers AI neuron budget over HTTP: each call's neurons (the catalog's neuron rates × its usage) on
its usage row and in the day's `neuron_usage`, a call whose estimate does not fit the remaining budget
refused before the upstream call (429 `neuron_budget_exceeded`, Retry-After to midnight), other providers
unaffected, WORKERS_AI_PAID lifting the cap, and GET /admin/neurons (docs/limits.md)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from tests.conftest import ADMIN_KEY, GatewayServer, emulator_seen, gateway_config

SCOUT = "workers-ai/@cf/meta/llama-4-scout-17b-16e-instruct"
# Neurons per million tokens (input, output) of Llama 4 Scout: Cloudflare's pricing page, as 0012 seeds them.
SCOUT_RATES = (24545.0, 77273.0)
BUDGET = 60.0


def start(emulator, tmp_path_factory, **settings: str) -> GatewayServer:
    config = gateway_config(emulator.base_url, BUDGET_CACHE_SECONDS="0", **settings)
    return GatewayServer(config, tmp_path_factory.mktemp("neurons") / "gateway.sqlite3").start()


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    running = start(emulator, tmp_path_factory, WORKERS_AI_DAILY_NEURONS=str(BUDGET))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def key(server) -> str:
    return server.create_key(name="neurons")


sql = GatewayServer.sql  # sql(server, statement, *params)


seen = emulator_seen  # seen(emulator, marker): how many upstream requests carried it


def chat(server, key, model: str, text: str, max_tokens: int) -> httpx.Response:
    return httpx.post(server.base_url + "/v1/chat/completions", headers={"authorization": f"Bearer {key}"}, timeout=10,
                      json={"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": text}]})


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def neurons_report(server) -> dict:
    response = httpx.get(server.base_url + "/admin/neurons", headers={"authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_workers_ai_call_records_its_neurons(server, key):
    response = chat(server, key, SCOUT, "count my neurons", max_tokens=16)
    assert response.status_code == 200, response.text
    row = server.usage_row(response.headers["x-request-id"])
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    expected = (row["input_tokens"] * SCOUT_RATES[0] + row["output_tokens"] * SCOUT_RATES[1]) / 1e6
    assert row["neurons"] == pytest.approx(expected, abs=1e-4)
    day = sql(server, "SELECT neurons, requests FROM neuron_usage WHERE day = ? AND model_id = ?", today(), SCOUT)
    assert day == [{"neurons": pytest.approx(expected, abs=1e-4), "requests": 1}]
    report = neurons_report(server)
    assert report["day"] == today() and report["budget"] == BUDGET and report["paid_allowed"] is False
    assert report["used"] == pytest.approx(expected, abs=1e-3)
    assert report["remaining"] == pytest.approx(BUDGET - expected, abs=1e-3)
    assert report["models"] == [{"model_id": SCOUT, "neurons": pytest.approx(expected, abs=1e-3), "requests": 1}]
    assert abs(report["resets_in_seconds"] - (86_400 - int(time.time()) % 86_400)) <= 2


def test_other_providers_write_no_neurons(server, key):
    response = chat(server, key, "openai/gpt-4o-mini", "no neurons here", max_tokens=16)
    assert server.usage_row(response.headers["x-request-id"])["neurons"] is None


def test_a_call_whose_estimate_does_not_fit_is_refused_before_the_upstream_call(server, key, emulator):
    marker = uuid.uuid4().hex
    # max_tokens 1000 × 77,273 neurons per million output tokens ≈ 77 neurons: more than the 60 a day.
    response = chat(server, key, SCOUT, marker, max_tokens=1000)
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("rate_limit_error", "neuron_budget_exceeded", "model")
    assert "Workers AI daily neuron budget" in error["message"] and "of 60 neurons used today" in error["message"]
    assert abs(int(response.headers["retry-after"]) - (86_400 - int(time.time()) % 86_400)) <= 2
    assert seen(emulator, marker) == 0
    assert chat(server, key, SCOUT, marker + " small", max_tokens=8).status_code == 200  # a small one still fits


def test_a_spent_budget_refuses_every_workers_ai_call_but_no_other_provider(server, key, emulator):
    sql(server, "INSERT INTO neuron_usage (day, model_id, neurons, requests) VALUES (?, 'workers-ai/@cf/other', 100, 1)",
        today())
    marker = uuid.uuid4().hex
    embedding = httpx.post(server.base_url + "/v1/embeddings", headers={"authorization": f"Bearer {key}"},
                           json={"model": "workers-ai/@cf/baai/bge-small-en-v1.5", "input": marker})
    assert embedding.status_code == 429 and embedding.json()["error"]["code"] == "neuron_budget_exceeded"
    assert seen(emulator, marker) == 0
    assert chat(server, key, "openai/gpt-4o-mini", marker, max_tokens=8).status_code == 200
    assert neurons_report(server)["remaining"] == 0


def test_paid_use_goes_beyond_the_free_neurons(emulator, tmp_path_factory):
    paid = start(emulator, tmp_path_factory, WORKERS_AI_DAILY_NEURONS="1", WORKERS_AI_PAID="true")
    try:
        key = paid.create_key(name="paid")
        sql(paid, "INSERT INTO neuron_usage (day, model_id, neurons, requests) VALUES (?, ?, 5, 1)", today(), SCOUT)
        response = chat(paid, key, SCOUT, "beyond the free allocation", max_tokens=1000)
        assert response.status_code == 200, response.text
        paid.usage_row(response.headers["x-request-id"])  # written after the answer, with its neurons
        report = neurons_report(paid)
        assert report["paid_allowed"] is True and report["remaining"] == 0 and report["used"] > 5
    finally:
        paid.stop()


def test_admin_neurons_is_for_the_system_only(server, key):
    assert httpx.get(server.base_url + "/admin/neurons").status_code == 401
    answer = httpx.get(server.base_url + "/admin/neurons", headers={"authorization": f"Bearer {key}"})
    assert answer.status_code == 403  # a gateway key (here with no user) is no system admin
    user_id = "admin-" + uuid.uuid4().hex[:8]
    sql(server, "INSERT INTO users (id, email) VALUES (?, ?)", user_id, f"{user_id}@example.com")
    plain_user = server.create_key(name="plain-user", user_id=user_id)
    assert httpx.get(server.base_url + "/admin/neurons", headers={"authorization": f"Bearer {plain_user}"}).status_code == 403
    sql(server, "UPDATE users SET is_system_admin = 1 WHERE id = ?", user_id)
    system = httpx.get(server.base_url + "/admin/neurons", headers={"authorization": f"Bearer {plain_user}"})
    assert system.status_code == 200 and system.json()["budget"] == BUDGET
    schema = httpx.get(server.base_url + "/openapi.json").json()
    assert "/admin/neurons" in schema["paths"]
