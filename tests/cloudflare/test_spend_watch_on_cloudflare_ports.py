"""Spend alerts on the request path on the Worker's ports (docs/alerts.md, "On the request path"): the
usage batch handed to waitUntil by WaitUntilBackground, written to D1Database, then the spend check in the
same deferred work — its reads on D1, the fire, and the delivery sent by FetchClient (to the emulator, which
records the body and refuses the unknown path with 401: the attempt records that status)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from gateway.core import Gateway
from gateway.ports import Ports, Timeouts
from gateway.ports.cloudflare import D1Database, EnvMapping, FetchClient, WaitUntilBackground
from gateway.ports.fakes import FakeClock
from gateway.settings import Settings
from gateway.timefmt import utc_text

NOW = 1_795_000_000.0


@pytest.fixture
def worker_vars(worker_vars):
    """The webhook receiver is the emulator, on loopback over http: this Worker allows both."""
    return {**worker_vars, "ALERT_WEBHOOK_ALLOW_HTTP": "true", "ALERT_WEBHOOK_ALLOW_PRIVATE": "true"}


def usage_row(cost: float) -> dict:
    return {"request_id": "req_" + uuid.uuid4().hex, "created_at": utc_text(NOW), "endpoint": "chat", "stream": 0,
            "status": "success", "cost_usd": cost, "cost_status": "priced", "attempts": 1, "input_tokens": 0,
            "cached_input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0}


def test_the_batch_that_crosses_a_spend_rule_fires_it_inside_wait_until(worker, wait_until, emulator_url):
    hook_path = f"/v1/spend-hook-{uuid.uuid4().hex}"
    db = D1Database(worker.env.DB)
    gateway = Gateway(Ports(database=db, http=FetchClient(), background=WaitUntilBackground(),
                            clock=FakeClock(now=NOW)), Settings.from_env(EnvMapping(worker.env)))

    async def answer(*costs: float) -> None:
        for cost in costs:  # what each request's end does: its row to the recorder, then the answer goes out
            gateway.usage.record(usage_row(cost))

    asyncio.run(db.query("INSERT INTO webhooks (id, url, format) VALUES ('wh', ?, 'json')",
                         (emulator_url + hook_path,)))
    asyncio.run(answer(0.4, 0.5))  # $0.90: under the seeded $1 warning
    assert wait_until.drain() == ["fulfilled"]
    assert asyncio.run(db.query("SELECT id FROM alerts")).rows == []
    asyncio.run(answer(0.2))  # $1.10
    assert wait_until.drain() == ["fulfilled"]

    async def outcome():
        alerts = (await db.query("SELECT id, rule_id, status, value FROM alerts")).rows
        attempts = (await db.query("SELECT d.event, d.status, a.status_code FROM alert_delivery_attempts a "
                                   "JOIN alert_deliveries d ON d.id = a.delivery_id")).rows
        response = await FetchClient().send("GET", emulator_url + "/_emulator/requests", {}, None, Timeouts())
        recorded = [r for r in json.loads(await response.read()) if r["path"] == hook_path]
        return alerts, attempts, recorded

    alerts, attempts, recorded = asyncio.run(outcome())
    (alert,) = alerts
    assert (alert["rule_id"], alert["status"]) == ("default-spend-warning", "firing")
    assert abs(alert["value"] - 1.1) < 1e-9
    (sent,) = recorded
    assert sent["body"]["event"] == "fired" and sent["body"]["alert"]["id"] == alert["id"]
    assert attempts == [{"event": "fired", "status": "pending", "status_code": 401}]  # retried by the cron
    assert gateway.spend_watch.evaluations == 2  # the first batch's first reading, then the crossing
