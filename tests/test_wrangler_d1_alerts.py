"""Alerting's SQL (gateway.storage.alerts) on wrangler's local D1: the cron step runs once on SQLite behind
a recording Database, and every statement it sent (readings of all six kinds, the episode insert with
ON CONFLICT DO NOTHING RETURNING on the partial unique index, UPDATE ... RETURNING, the deliveries'
INSERT ... SELECT, the claim and the attempt batch) is replayed on D1, which must accept each one and end
with the same alerts, deliveries and attempts. Needs the npm tooling (`npm ci`), as tests/test_wrangler_d1.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Sequence

import pytest

from gateway.core import Gateway
from gateway.pipeline import alerting
from gateway.ports import Ports, QueryResult, Statement
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.ports.local import SQLiteDatabase
from gateway.settings import Settings
from gateway.timefmt import utc_text
from tests.test_wrangler_d1 import d1_json, migrated_d1
from tests.test_wrangler_d1_counters import inline

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_795_000_000.0  # 2026-11-18 UTC


class RecordingDatabase:
    """SQLite behind the Database port, keeping every statement (with its parameters) in order."""

    def __init__(self, inner: SQLiteDatabase) -> None:
        self.inner = inner
        self.statements: list[Statement] = []

    async def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        self.statements.append(Statement(sql, tuple(params)))
        return await self.inner.query(sql, params)

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]:
        self.statements.extend(statements)
        return await self.inner.batch(statements)


SEED = (
    "INSERT INTO organizations (id, name, slug, monthly_budget_usd) VALUES ('o', 'O', 'o', 10)",
    "INSERT INTO spend_counters (subject, period, spent_usd) VALUES ('org:o', '2026-11', 9.5)",
    "INSERT INTO neuron_usage (day, model_id, neurons) VALUES ('2026-11-18', 'm', 8500)",
    "INSERT INTO model_health (model_id, provider_id, circuit_state) VALUES ('p/m', 'p', 'open')",
    "INSERT INTO webhooks (id, url, format) VALUES ('wh', 'https://hooks.test/a', 'slack')",
    f"INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd, org_id) VALUES "
    f"('r1', '{utc_text(NOW - 60)}', 'chat', 'success', 6.0, 'o')",
    f"INSERT INTO gateway_events (kind, subject, detail, created_at) VALUES "
    f"('rate_limiter_fail_open', 'key:k', 'counter: DatabaseError', '{utc_text(NOW - 30)}')",
)
COMPARED = (
    "SELECT rule_id, org_id, subject, severity, status, value FROM alerts ORDER BY rule_id, subject",
    "SELECT webhook_id, event, status, attempts, last_status_code FROM alert_deliveries ORDER BY id",
    "SELECT attempt, status_code, error FROM alert_delivery_attempts ORDER BY id",
)


@pytest.fixture(scope="module")
def persist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_d1(tmp_path_factory, "d1-alerts")


def test_the_cron_steps_sql_runs_on_d1_with_the_same_outcome(persist: Path) -> None:
    sqlite = SQLiteDatabase(":memory:")
    sqlite.migrate(ROOT / "migrations")
    db = RecordingDatabase(sqlite)
    clock, http = FakeClock(now=NOW), FakeHttpClient()
    for answer in (FakeResponse(500),) + (FakeResponse(204),) * 30:
        http.queue(answer)
    gateway = Gateway(Ports(database=db, http=http, background=CollectingBackground(), clock=clock), Settings())

    async def scenario() -> None:
        for statement in SEED:
            await db.query(statement)
        await alerting.run(gateway)       # fires; the first delivery answers 500, the rest 204
        clock.advance(3 * 3600)           # the spend left the window: the spend alerts resolve
        await alerting.run(gateway)

    asyncio.run(scenario())
    expected = [asyncio.run(sqlite.query(sql)).rows for sql in COMPARED]
    sqlite.close()
    assert {row["rule_id"] for row in expected[0]} >= {
        "default-spend-warning", "default-spend-critical", "default-budget-80", "default-neuron-budget-80",
        "default-circuit-open", "default-rate-limiter-fail-open"}
    assert expected[2][0]["status_code"] == 500

    d1_json(persist, "\n".join(inline(statement) for statement in db.statements))
    assert [d1_json(persist, sql)[0] for sql in COMPARED] == expected
