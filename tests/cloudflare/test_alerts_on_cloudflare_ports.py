"""The alert job on the Worker's ports (docs/alerts.md): D1Database over the D1 binding stand-in, and
webhook deliveries sent by FetchClient — one to the emulator (which records the body and refuses the
unknown, unauthenticated path: the delivery records that status and is retried), one to a closed port
(no answer: the error is recorded), and one to a webhook sealed with WebCrypto (docs/alerts.md): its URL
opens in the Worker and its delivery carries an x-gateway-signature that verifies against the body the
emulator received. The clock is fake so the spend is in the rule's window. The emulator and the closed port
are on loopback over http, so this Worker allows both (ALERT_WEBHOOK_ALLOW_HTTP / _PRIVATE)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid

import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.ports import Ports, Timeouts
from gateway.pipeline.webhook_secrets import sealed_columns
from gateway.pipeline.webhook_signing import verify
from gateway.ports.cloudflare import D1Database, EnvMapping, FetchClient, WaitUntilBackground, WebCryptoCipher
from gateway.ports.fakes import FakeClock
from gateway.settings import Settings
from gateway.timefmt import utc_text

NOW = 1_795_000_000.0
SECRET = "whsec_cloudflare-test-secret"


@pytest.fixture
def worker_vars(worker_vars):
    return {**worker_vars, "GATEWAY_ENCRYPTION_KEY": "k1:" + base64.b64encode(bytes(range(32))).decode(),
            "ALERT_WEBHOOK_ALLOW_HTTP": "true", "ALERT_WEBHOOK_ALLOW_PRIVATE": "true"}


def test_a_cron_run_fires_and_delivers_through_fetch(worker, emulator_url):
    hook_path = f"/v1/alert-hook-{uuid.uuid4().hex}"
    signed_path = f"/v1/alert-hook-signed-{uuid.uuid4().hex}"
    closed = os.environ.get("CLOSED_PORT_URL") or "http://127.0.0.1:1"
    db = D1Database(worker.env.DB)
    gateway = Gateway(Ports(database=db, http=FetchClient(), background=WaitUntilBackground(),
                            clock=FakeClock(now=NOW), cipher=WebCryptoCipher()),
                      Settings.from_env(EnvMapping(worker.env)))

    async def run():
        await db.query("INSERT INTO webhooks (id, url, format) VALUES ('wh_emu', ?, 'slack'), ('wh_closed', ?, 'json')",
                       (emulator_url + hook_path, closed + "/hook"))
        sealed = await sealed_columns(gateway.credentials.sealer, "wh_signed", None, emulator_url + signed_path, SECRET)
        await db.query("INSERT INTO webhooks (id, url, url_ciphertext, secret_ciphertext, encryption_key_id, url_hint, "
                       "format) VALUES ('wh_signed', ?, ?, ?, ?, ?, 'json')", tuple(sealed.values()))
        await db.query("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd) "
                       "VALUES ('r_cf', ?, 'chat', 'success', 2.5)", (utc_text(NOW - 60),))
        outcomes = await jobs.run_all(gateway)
        response = await FetchClient().send("GET", emulator_url + "/_emulator/requests", {}, None, Timeouts())
        everything = json.loads(await response.read())
        recorded = [r for r in everything if r["path"] == hook_path]
        signed = [r for r in everything if r["path"] == signed_path]
        attempts = (await db.query(
            "SELECT w.id AS webhook, d.status, d.attempts, a.status_code, a.error FROM alert_delivery_attempts a "
            "JOIN alert_deliveries d ON d.id = a.delivery_id JOIN webhooks w ON w.id = d.webhook_id "
            "ORDER BY w.id")).rows
        return outcomes, recorded, signed, attempts

    outcomes, recorded, signed, attempts = asyncio.run(run())
    assert outcomes["evaluate_alerts"] == "ok"
    (sent,) = recorded  # the warning ($2.50 > $1); $2.50 is not over $5
    assert list(sent["body"]) == ["text"] and "FIRING spend_per_hour gateway" in sent["body"]["text"]
    assert "x-gateway-signature" not in {h.lower() for h in sent["headers"]}  # a plain (legacy) row: unsigned
    (signed_sent,) = signed
    headers = {name.lower(): value for name, value in signed_sent["headers"].items()}
    # The emulator keeps the parsed body; the gateway sent json.dumps of the same dict (default separators).
    assert verify(SECRET, headers["x-gateway-signature"], json.dumps(signed_sent["body"]).encode(), now=NOW)
    assert not verify("whsec_another", headers["x-gateway-signature"], json.dumps(signed_sent["body"]).encode(),
                      now=NOW)
    assert headers["x-gateway-event"] == "fired" and signed_sent["body"]["alert"]["rule_id"] == "default-spend-warning"
    by_hook = {row["webhook"]: row for row in attempts}
    assert by_hook["wh_emu"]["status_code"] == 401 and by_hook["wh_emu"]["error"] == "HTTP 401"
    assert by_hook["wh_closed"]["status_code"] is None and by_hook["wh_closed"]["error"].startswith("Upstream")
    assert by_hook["wh_signed"]["status_code"] == 401
    assert {row["status"] for row in attempts} == {"pending"} and {row["attempts"] for row in attempts} == {1}
