"""The alert job on the Worker's ports (docs/alerts.md): D1Database over the D1 binding stand-in, and
webhook deliveries sent by FetchClient — one to the emulator (which records the body and refuses the
unknown, unauthenticated path: the delivery records that status and is retried), one to a closed port
(no answer: the error is recorded). The clock is fake so the spend is in the rule's window."""

from __future__ import annotations

import asyncio
import json
import os
import uuid

from gateway import jobs
from gateway.core import Gateway
from gateway.ports import Ports, Timeouts
from gateway.ports.cloudflare import D1Database, EnvMapping, FetchClient, WaitUntilBackground
from gateway.ports.fakes import FakeClock
from gateway.settings import Settings
from gateway.timefmt import utc_text

NOW = 1_795_000_000.0


def test_a_cron_run_fires_and_delivers_through_fetch(worker, emulator_url):
    hook_path = f"/v1/alert-hook-{uuid.uuid4().hex}"
    closed = os.environ.get("CLOSED_PORT_URL") or "http://127.0.0.1:1"
    db = D1Database(worker.env.DB)
    gateway = Gateway(Ports(database=db, http=FetchClient(), background=WaitUntilBackground(),
                            clock=FakeClock(now=NOW)), Settings.from_env(EnvMapping(worker.env)))

    async def run():
        await db.query("INSERT INTO webhooks (id, url, format) VALUES ('wh_emu', ?, 'slack'), ('wh_closed', ?, 'json')",
                       (emulator_url + hook_path, closed + "/hook"))
        await db.query("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd) "
                       "VALUES ('r_cf', ?, 'chat', 'success', 2.5)", (utc_text(NOW - 60),))
        outcomes = await jobs.run_all(gateway)
        response = await FetchClient().send("GET", emulator_url + "/_emulator/requests", {}, None, Timeouts())
        recorded = [r for r in json.loads(await response.read()) if r["path"] == hook_path]
        attempts = (await db.query(
            "SELECT w.id AS webhook, d.status, d.attempts, a.status_code, a.error FROM alert_delivery_attempts a "
            "JOIN alert_deliveries d ON d.id = a.delivery_id JOIN webhooks w ON w.id = d.webhook_id "
            "ORDER BY w.id")).rows
        return outcomes, recorded, attempts

    outcomes, recorded, attempts = asyncio.run(run())
    assert outcomes["evaluate_alerts"] == "ok"
    (sent,) = recorded  # the warning ($2.50 > $1); $2.50 is not over $5
    assert list(sent["body"]) == ["text"] and "FIRING spend_per_hour gateway" in sent["body"]["text"]
    by_hook = {row["webhook"]: row for row in attempts}
    assert by_hook["wh_emu"]["status_code"] == 401 and by_hook["wh_emu"]["error"] == "HTTP 401"
    assert by_hook["wh_closed"]["status_code"] is None and by_hook["wh_closed"]["error"].startswith("Upstream")
    assert {row["status"] for row in attempts} == {"pending"} and {row["attempts"] for row in attempts} == {1}
