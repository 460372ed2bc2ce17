"""The webhook SQL of migration 0024's era on wrangler's local D1 (docs/alerts.md): a cron run delivering
to a sealed webhook (its row read with the new columns), the `reseal_webhooks` job sealing a plain row and
then resealing every row after a key rotation (the conditional UPDATE ... WHERE encryption_key_id IS ?), and
the `prune_alerts` job (its SELECT and the three-DELETE batch) — run on SQLite behind a recording Database,
every statement replayed on D1, which must accept each one and end in the same state. Needs the npm
tooling (`npm ci`), as tests/test_wrangler_d1.py."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.pipeline import alerting
from gateway.pipeline.webhook_secrets import sealed_columns
from gateway.ports import Ports
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.ports.local import SQLiteDatabase
from gateway.ports.local_crypto import AesGcmCipher
from gateway.settings import Settings
from gateway.timefmt import utc_text
from tests.test_wrangler_d1 import d1_json, migrated_d1
from tests.test_wrangler_d1_alerts import RecordingDatabase
from tests.test_wrangler_d1_counters import inline

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_795_000_000.0  # 2026-11-18 UTC
K1 = "k1:" + base64.b64encode(bytes([1]) * 32).decode()
K2 = "k2:" + base64.b64encode(bytes([2]) * 32).decode()
COMPARED = (
    "SELECT id, url, url_ciphertext, secret_ciphertext, encryption_key_id, url_hint FROM webhooks ORDER BY id",
    "SELECT id, status FROM alerts ORDER BY id",
    "SELECT alert_id, webhook_id, event, status, attempts FROM alert_deliveries ORDER BY id",
    "SELECT delivery_id, attempt, status_code FROM alert_delivery_attempts ORDER BY id",
)


@pytest.fixture(scope="module")
def persist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_d1(tmp_path_factory, "d1-webhooks")


def gateway_on(db, clock, http, keyring: str) -> Gateway:
    ports = Ports(database=db, http=http, background=CollectingBackground(), clock=clock, cipher=AesGcmCipher())
    return Gateway(ports, Settings.from_env({"GATEWAY_ENCRYPTION_KEY": keyring, "ALERT_RETENTION_DAYS": "90"}))


def test_sealing_rotation_delivery_and_retention_sql_runs_on_d1_with_the_same_outcome(persist: Path) -> None:
    sqlite = SQLiteDatabase(":memory:")
    sqlite.migrate(ROOT / "migrations")
    db = RecordingDatabase(sqlite)
    clock, http = FakeClock(now=NOW), FakeHttpClient()
    for _ in range(10):
        http.queue(FakeResponse(204))
    gateway = gateway_on(db, clock, http, K1)
    old = utc_text(NOW - 120 * 86400)

    async def scenario() -> None:
        columns = await sealed_columns(gateway.credentials.sealer, "wh_sealed", None,
                                       "https://hooks.test/sealed-path", "whsec_d1")
        names = ["id", *columns]
        await db.query(f"INSERT INTO webhooks ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                       ["wh_sealed", *columns.values()])
        await db.query("INSERT INTO webhooks (id, url, format) "
                       "VALUES ('wh_plain', 'https://hooks.test/plain', 'slack')")
        for n in range(3):  # resolved 120 days ago, with a delivery and its attempt each
            await db.query("INSERT INTO alerts (id, rule_id, subject, severity, status, message, value, threshold, "
                           "fired_at, last_seen_at, resolved_at) VALUES (?, 'default-spend-warning', 'gateway', "
                           "'warning', 'resolved', 'm', 2, 1, ?, ?, ?)", (f"alt_old_{n}", old, old, old))
            await db.query("INSERT INTO alert_deliveries (id, alert_id, webhook_id, event, status, attempts) "
                           "VALUES (?, ?, 'wh_sealed', 'resolved', 'delivered', 1)", (100 + n, f"alt_old_{n}"))
            await db.query("INSERT INTO alert_delivery_attempts (delivery_id, attempt, status_code, attempted_at) "
                           "VALUES (?, 1, 204, ?)", (100 + n, old))
        await db.query("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd) "
                       "VALUES ('r1', ?, 'chat', 'success', 1.5)", (utc_text(NOW - 60),))
        await alerting.run(gateway)                  # fires the spend warning; delivers to both webhooks
        await jobs.reseal_webhooks(gateway)          # seals wh_plain
        await jobs.prune_alerts(gateway)             # the three old alerts go, with their rows
        rotated = gateway_on(db, clock, http, f"{K2},{K1}")
        await jobs.reseal_webhooks(rotated)          # both under k2

    asyncio.run(scenario())
    expected = [asyncio.run(sqlite.query(sql)).rows for sql in COMPARED]
    sqlite.close()
    assert [(row["id"], row["url"], row["encryption_key_id"]) for row in expected[0]] == [
        ("wh_plain", "", "k2"), ("wh_sealed", "", "k2")]
    assert [row["id"] for row in expected[1]] and not any(row["id"].startswith("alt_old") for row in expected[1])
    assert {row["webhook_id"] for row in expected[2]} == {"wh_plain", "wh_sealed"}
    assert len(http.sent) == 2 and len(expected[3]) == 2

    d1_json(persist, "\n".join(inline(statement) for statement in db.statements))
    assert [d1_json(persist, sql)[0] for sql in COMPARED] == expected
