"""Spend alerts on the request path over real sockets (docs/alerts.md, "On the request path").

The gateway under uvicorn on its own SQLite file, the provider emulator, the official `openai` SDK as the
client, rules and webhooks through the admin API, webhook receivers on loopback. No cron job runs here:
GatewayServer starts none, and `alerting.evaluate` (the cron's step) is replaced by one that fails the
test if called — every alert below is fired by the check that follows the usage write.

SPEND_WATCH_REFRESH_SECONDS=0 makes every priced batch read its rules and spend from the database (the
default 60 s would keep a rule created by one test out of view for a minute): how rarely the check reads
is the unit tests' subject (tests/unit/test_spend_watch.py).

What a request costs comes from the emulator's documented rule (scripts/emulator/openai_wire.py: prompt
tokens = words + 4 per message, completion tokens = the words of "Emulated reply to: <prompt>") and the
catalog's gpt-4o-mini prices, read from the models table; thresholds sit between two whole requests."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Iterator

import openai
import pytest

from gateway import jobs
from gateway.pipeline import alerting
from scripts.run_local import build_local
from tests.conftest import GatewayServer, gateway_config
from tests.e2e.admin_world import ok
from tests.e2e.test_alerts import Receiver

MODEL = "openai/gpt-4o-mini"
PROMPT = "spend one two three"  # 4 words: 8 prompt tokens; the reply "Emulated reply to: spend one two three": 7


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = GatewayServer(gateway_config(emulator.base_url, SPEND_WATCH_REFRESH_SECONDS="0"),
                            tmp_path_factory.mktemp("spend-watch") / "gateway.sqlite3").start()
    yield running
    running.stop()


@pytest.fixture
def no_cron(monkeypatch) -> list[str]:
    """Fails the test if the cron's evaluation runs (it must not be what fired an alert)."""
    calls: list[str] = []

    async def evaluate(gateway, report) -> None:
        calls.append("evaluate")
        raise AssertionError("the cron's evaluation ran")

    monkeypatch.setattr(alerting, "evaluate", evaluate)
    return calls


def request_cost(server: GatewayServer) -> float:
    (price,) = server.sql("SELECT input_usd_per_mtok AS input, output_usd_per_mtok AS output FROM models "
                          "WHERE id = ?", MODEL)
    prompt_tokens = len(PROMPT.split()) + 4
    completion_tokens = len(("Emulated reply to: " + PROMPT).split())
    return (prompt_tokens * price["input"] + completion_tokens * price["output"]) / 1e6


def tenant(server: GatewayServer, *key_names: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """A new org with keys: (org id, {name: secret}, {name: key id})."""
    org_id, user_id = "o-" + uuid.uuid4().hex[:8], "u-" + uuid.uuid4().hex[:8]
    server.sql("INSERT INTO organizations (id, name, slug) VALUES (?, ?, ?)", org_id, org_id, org_id)
    server.sql("INSERT INTO users (id, email) VALUES (?, ?)", user_id, f"{user_id}@example.com")
    server.sql("INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'member')", org_id, user_id)
    secrets, ids = {}, {}
    for name in key_names:
        unique = f"{name}-{org_id}"
        secrets[name] = server.create_key(name=unique, org_id=org_id, user_id=user_id)
        ids[name] = server.sql("SELECT id FROM gateway_keys WHERE name = ?", unique)[0]["id"]
    return org_id, secrets, ids


def spend(server: GatewayServer, key: str, times: int) -> None:
    """`times` chat requests through the SDK, each waited for until its usage row is written."""
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
    for _ in range(times):
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}])
        server.usage_row(raw.headers["x-request-id"])


def rule(server: GatewayServer, threshold: float, **scope) -> str:
    with server.admin() as system:
        return ok(system.post("/admin/alerts/rules", json={"kind": "spend_per_hour", "threshold": threshold,
                                                           "severity": "critical", **scope}), 201)["id"]


def webhook(server: GatewayServer, receiver: Receiver, **scope) -> str:
    with server.admin() as system:
        return ok(system.post("/admin/alerts/webhooks", json={"url": receiver.url, **scope}), 201)["id"]


def alerts_of(server: GatewayServer, rule_id: str) -> list[dict]:
    return server.sql("SELECT id, subject, org_id, status, value FROM alerts WHERE rule_id = ? ORDER BY fired_at",
                      rule_id)


def wait_for(condition, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def stays_quiet(server: GatewayServer, rule_id: str, seconds: float = 0.5) -> bool:
    """No alert for the rule within `seconds` (a fire follows its batch's write within milliseconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if alerts_of(server, rule_id):
            return False
        time.sleep(0.02)
    return True


def run_cron(server: GatewayServer, emulator) -> None:
    """One cron run, as the Worker's `scheduled` would: every job, on a Gateway over the server's file."""
    app, ports = build_local(gateway_config(emulator.base_url), server.db_path)
    loop = asyncio.new_event_loop()
    try:
        outcomes = loop.run_until_complete(jobs.run_all(app.gateway))
        assert outcomes["evaluate_alerts"] == "ok", outcomes
    finally:
        loop.run_until_complete(ports.http.close())
        loop.close()
        ports.database.close()


# --- a global rule: fired by the request that crosses it, delivered, one episode, the cron agrees --------

def test_the_request_crossing_a_spend_rule_fires_it_and_the_webhook_hears_it_without_the_cron(
        server, emulator, no_cron, monkeypatch):
    unit = request_cost(server)
    already = server.sql("SELECT TOTAL(cost_usd) AS usd FROM usage_log")[0]["usd"]
    threshold = already + 2.5 * unit  # over it on the third request
    receiver = Receiver()
    hook = webhook(server, receiver)
    rule_id = rule(server, threshold)
    _, keys, _ = tenant(server, "app")
    try:
        spend(server, keys["app"], 2)
        assert stays_quiet(server, rule_id)  # 2 requests: under the threshold
        spend(server, keys["app"], 1)
        (alert,) = wait_for(lambda: alerts_of(server, rule_id))
        assert (alert["status"], alert["subject"], alert["org_id"]) == ("firing", "gateway", None)
        assert alert["value"] == pytest.approx(already + 3 * unit)
        (body,) = wait_for(lambda: [b for b in receiver.bodies if b["alert"]["rule_id"] == rule_id])
        assert body["event"] == "fired" and body["alert"]["id"] == alert["id"]
        assert body["alert"]["message"].startswith("Spend of gateway in the last 60 min is $")

        spend(server, keys["app"], 2)  # still over: the same episode, its value kept up to date
        wait_for(lambda: alerts_of(server, rule_id)[0]["value"] == pytest.approx(already + 5 * unit))
        assert len(alerts_of(server, rule_id)) == 1
        assert len([b for b in receiver.bodies if b["alert"]["rule_id"] == rule_id]) == 1
        assert no_cron == []

        monkeypatch.undo()  # now the cron itself: it keeps the request path's episode
        run_cron(server, emulator)
        (kept,) = alerts_of(server, rule_id)
        assert (kept["id"], kept["status"]) == (alert["id"], "firing")
        assert len([b for b in receiver.bodies if b["alert"]["rule_id"] == rule_id]) == 1
    finally:
        with server.admin() as system:
            ok(system.delete(f"/admin/alerts/rules/{rule_id}"), 204)
            ok(system.delete(f"/admin/alerts/webhooks/{hook}"), 204)
        receiver.close()


# --- tenants: an org's rule fires for that org, a key's for that key -----------------------------------

def test_an_org_rule_fires_for_its_org_only_and_its_webhook_alone_hears_it(server, no_cron):
    unit = request_cost(server)
    org_a, keys_a, _ = tenant(server, "a")
    org_b, keys_b, _ = tenant(server, "b")
    heard_a, heard_b = Receiver(), Receiver()
    webhook(server, heard_a, org_id=org_a)
    webhook(server, heard_b, org_id=org_b)
    rule_a, rule_b = rule(server, 2.5 * unit, org_id=org_a), rule(server, 2.5 * unit, org_id=org_b)
    try:
        spend(server, keys_b["b"], 2)  # org B: under its rule; org A: nothing of its own yet
        spend(server, keys_a["a"], 3)
        (alert,) = wait_for(lambda: alerts_of(server, rule_a))
        assert (alert["subject"], alert["org_id"]) == (f"org:{org_a}", org_a)
        assert alert["value"] == pytest.approx(3 * unit)  # org B's two requests are not in it
        (body,) = wait_for(lambda: heard_a.bodies)
        assert (body["event"], body["alert"]["id"]) == ("fired", alert["id"])
        assert stays_quiet(server, rule_b) and heard_b.bodies == []
        assert no_cron == []
    finally:
        heard_a.close()
        heard_b.close()


def test_a_key_rule_fires_for_its_key_only(server, no_cron):
    unit = request_cost(server)
    org_id, keys, ids = tenant(server, "watched", "sibling")
    heard = Receiver()
    webhook(server, heard, org_id=org_id)
    rule_id = rule(server, 2.5 * unit, key_id=ids["watched"])
    try:
        spend(server, keys["sibling"], 3)  # the same org, another key: over the amount, not the rule's
        assert stays_quiet(server, rule_id)
        spend(server, keys["watched"], 3)
        (alert,) = wait_for(lambda: alerts_of(server, rule_id))
        assert alert["subject"] == f"key:{ids['watched']}" and alert["value"] == pytest.approx(3 * unit)
        (body,) = wait_for(lambda: heard.bodies)
        assert body["alert"]["subject"] == f"key:{ids['watched']}"
        assert no_cron == []
    finally:
        heard.close()


# --- SPEND_WATCH=off: the request path leaves alerts to the cron -----------------------------------------

def test_with_spend_watch_off_a_crossing_request_fires_nothing(emulator, tmp_path, no_cron):
    off = GatewayServer(gateway_config(emulator.base_url, SPEND_WATCH="off", SPEND_WATCH_REFRESH_SECONDS="0"),
                        tmp_path / "gateway.sqlite3").start()
    try:
        unit = request_cost(off)
        org_id, keys, _ = tenant(off, "k")
        rule_id = rule(off, 0.5 * unit, org_id=org_id)
        spend(off, keys["k"], 1)
        assert stays_quiet(off, rule_id)
    finally:
        off.stop()


# --- a rule written through the admin API is watched at once, not after the refresh period ---------------

@pytest.fixture(scope="module")
def slow_refresh_server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    """The default refresh period (60 s): the rules an isolate watches are re-read only that often."""
    running = GatewayServer(gateway_config(emulator.base_url),
                            tmp_path_factory.mktemp("spend-watch-60") / "gateway.sqlite3").start()
    yield running
    running.stop()


def test_a_rule_made_through_the_admin_api_is_watched_by_the_next_request(slow_refresh_server, no_cron):
    server = slow_refresh_server
    unit = request_cost(server)
    org_id, keys, _ = tenant(server, "app")
    spend(server, keys["app"], 1)  # this isolate has read its rules now, before the new one existed
    rule_id = rule(server, 1.5 * unit, org_id=org_id)
    spend(server, keys["app"], 1)  # the org's second request crosses it, seconds (not a minute) later
    (alert,) = wait_for(lambda: alerts_of(server, rule_id))
    assert (alert["subject"], alert["value"]) == (f"org:{org_id}", pytest.approx(2 * unit))
    assert no_cron == []
