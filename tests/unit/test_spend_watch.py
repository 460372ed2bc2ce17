"""Spend alerts on the request path (pipeline/spend_watch.py, docs/alerts.md "On the request path").

The ledger's decisions alone (when a batch needs D1), then SpendWatch behind a real UsageRecorder on a real
SQLite with the real migrations (the seeded $1 warning and $5 critical global rules), a fake clock, and a
database wrapper that records every statement so each test says exactly when D1 was read."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from gateway.core import Gateway
from gateway.pipeline import alerting
from gateway.pipeline.accounting import UsageRecorder
from gateway.pipeline.alerts import Rule
from gateway.pipeline.spend_watch import SpendLedger, Watched, in_scope
from gateway.ports import DatabaseError, Ports
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.settings import Settings
from gateway.timefmt import utc_text

NOW = 1_795_000_000.0  # 2026-11-18 UTC
REFRESH = 60.0


def rule_row(rule_id: str, threshold: float, **scope) -> dict:
    return {"id": rule_id, "kind": "spend_per_hour", "severity": "warning", "threshold": threshold,
            "window_minutes": 60, "params": None, **scope}


# --- the ledger: when a batch needs D1 ------------------------------------------------------------------

def ledger_with(*rows: dict) -> SpendLedger:
    ledger = SpendLedger(REFRESH)
    ledger.set_rules(rows)
    return ledger


def test_a_rule_never_read_is_read_once_spend_reaches_it():
    ledger = ledger_with(rule_row("r", 1.0))
    assert ledger.due(0.0) == []  # nothing added yet: nothing to learn
    ledger.add([{"cost_usd": 0.01}])
    (watched,) = ledger.due(0.0)
    assert watched.rule.id == "r"


def test_below_the_threshold_within_the_refresh_period_needs_no_read():
    ledger = ledger_with(rule_row("r", 1.0))
    watched = ledger.watched["r"]
    ledger.read(watched, 0.5, False, now=100.0)
    ledger.add([{"cost_usd": 0.3}, {"cost_usd": 0.2}])  # estimate 1.0: not over $1
    assert ledger.due(100.0 + REFRESH - 1) == []
    ledger.add([{"cost_usd": 0.001}])  # 1.001: over
    assert ledger.due(100.0 + 1) == [watched]


def test_after_the_refresh_period_a_batch_with_spend_reads_again():
    ledger = ledger_with(rule_row("r", 1.0))
    watched = ledger.watched["r"]
    ledger.read(watched, 0.1, False, now=100.0)
    assert ledger.due(100.0 + REFRESH + 5) == []  # old, but nothing added: no read
    ledger.add([{"cost_usd": 0.01}])
    assert ledger.due(100.0 + REFRESH - 0.5) == []
    assert ledger.due(100.0 + REFRESH) == [watched]


def test_a_known_firing_episode_is_not_read_again_until_the_refresh():
    ledger = ledger_with(rule_row("r", 1.0))
    watched = ledger.watched["r"]
    ledger.read(watched, 3.0, True, now=100.0)
    ledger.add([{"cost_usd": 2.0}])
    assert ledger.due(110.0) == []
    assert ledger.due(100.0 + REFRESH) == [watched]  # the cron may have resolved it meanwhile


def test_rows_count_only_toward_the_rules_of_their_scope():
    ledger = ledger_with(rule_row("all", 1.0), rule_row("org-a", 1.0, org_id="a"),
                         rule_row("key-k", 1.0, org_id="a", key_id="k"))
    ledger.add([{"cost_usd": 1.0, "org_id": "a", "key_id": "k"}, {"cost_usd": 2.0, "org_id": "a", "key_id": "j"},
                {"cost_usd": 4.0, "org_id": "b", "key_id": "m"}, {"cost_usd": 8.0}, {"cost_usd": None},
                {"cost_usd": 0.0, "org_id": "a"}])
    assert {rule_id: w.added for rule_id, w in ledger.watched.items()} == {"all": 15.0, "org-a": 3.0, "key-k": 1.0}
    assert not in_scope(Rule("x", "spend_per_hour", "warning", 1.0, key_id="k"), {"key_id": "j", "org_id": "a"})


def test_only_spend_rules_are_watched_and_an_unchanged_rule_keeps_its_reading():
    ledger = ledger_with(rule_row("r", 1.0), rule_row("s", 2.0),
                         {**rule_row("e", 0.5), "kind": "error_rate"}, {**rule_row("bad", 1.0), "params": "{"})
    assert set(ledger.watched) == {"r", "s"}
    ledger.read(ledger.watched["r"], 0.7, False, now=1.0)
    ledger.read(ledger.watched["s"], 0.7, False, now=1.0)
    ledger.set_rules([rule_row("r", 1.0), rule_row("s", 2.0, window_minutes=30)])
    assert ledger.watched["r"].spent == 0.7
    assert ledger.watched["s"].spent is None  # another window: another measurement
    ledger.set_rules([rule_row("s", 2.0, window_minutes=30)])
    assert set(ledger.watched) == {"s"}


def test_a_failed_read_keeps_the_spend_and_waits_a_refresh_period():
    ledger = ledger_with(rule_row("r", 1.0))
    watched = ledger.watched["r"]
    ledger.add([{"cost_usd": 0.4}])
    (before,) = SpendLedger.start([watched])
    assert watched.added == 0.0
    ledger.add([{"cost_usd": 0.1}])  # written while the read was in flight
    ledger.failed(watched, before, now=10.0)
    assert watched.added == pytest.approx(0.5)
    assert ledger.due(10.0 + REFRESH - 1) == []
    assert ledger.due(10.0 + REFRESH) == [watched]


# --- SpendWatch behind the UsageRecorder, on SQLite ------------------------------------------------------

class RecordingDatabase:
    """The real database, with every statement it was asked to run kept in order."""

    def __init__(self, db) -> None:
        self._db = db
        self.statements: list[str] = []
        self.fail_on: str | None = None  # a statement containing this raises DatabaseError

    async def query(self, sql, params=()):
        self._check(sql)
        return await self._db.query(sql, params)

    async def batch(self, statements):
        for statement in statements:
            self._check(statement.sql)
        return await self._db.batch(statements)

    def _check(self, sql: str) -> None:
        self.statements.append(sql)
        if self.fail_on and self.fail_on in sql:
            raise DatabaseError("injected")

    def reads(self, marker: str) -> int:
        return sum(marker in sql for sql in self.statements)


SPEND_READ = "TOTAL(cost_usd)"
RULES_READ = "FROM alert_rules"


class Harness:
    def __init__(self, db, settings: Settings | None = None) -> None:
        self.db = RecordingDatabase(db)
        self.clock = FakeClock(now=NOW)
        self.http = FakeHttpClient()
        self.background = CollectingBackground()
        self.gateway = Gateway(Ports(database=self.db, http=self.http, background=self.background, clock=self.clock),
                               settings or Settings())
        self.watch = self.gateway.spend_watch
        self.recorder = UsageRecorder(self.db, self.background, 0, on_written=self.watch.observe)

    def spend(self, *costs: float, **columns) -> None:
        """One usage batch (one row per cost) recorded as a request's end would, then written."""
        for cost in costs:
            self.recorder.record({"request_id": "req_" + uuid.uuid4().hex, "created_at": utc_text(self.clock.now()),
                                  "endpoint": "chat", "stream": 0, "status": "success", "cost_usd": cost,
                                  "attempts": 1, "input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
                                  "reasoning_tokens": 0, "cost_status": "priced", **columns})
        asyncio.run(self.background.drain())

    def sql(self, statement: str, *params) -> list[dict]:
        return asyncio.run(self.db._db.query(statement, params)).rows


def test_a_batch_costs_no_read_until_it_crosses_then_the_alert_fires_and_is_delivered_at_once(db):
    h = Harness(db)
    h.sql("INSERT INTO webhooks (id, url, format) VALUES ('wh', 'https://hooks.test/a', 'json')")
    h.spend(0.2)  # the first batch: the rules, then one reading per spend rule ($1 warning, $5 critical)
    assert h.db.reads(RULES_READ) == 1 and h.db.reads(SPEND_READ) == 2
    marker = len(h.db.statements)
    h.spend(0.3, 0.4)  # $0.90: under $1
    assert [sql for sql in h.db.statements[marker:] if "SELECT" in sql] == []  # the batch's write, nothing read
    h.http.queue(FakeResponse(204))
    h.spend(0.2)  # $1.10: over $1 → read, fire, deliver
    assert h.db.reads(SPEND_READ) == 3  # only the warning's rule was due (the critical's estimate is $1.10)
    (alert,) = h.sql("SELECT id, status, value, subject FROM alerts WHERE rule_id = 'default-spend-warning'")
    assert (alert["status"], alert["subject"]) == ("firing", "gateway") and alert["value"] == pytest.approx(1.1)
    (sent,) = h.http.sent
    body = json.loads(sent["body"])
    assert (body["event"], body["alert"]["id"]) == ("fired", alert["id"])
    assert h.sql("SELECT status FROM alert_deliveries")[0]["status"] == "delivered"

    h.spend(0.5)  # the warning is known firing; the critical's estimate ($1.60) is under $5: no read
    assert h.db.reads(SPEND_READ) == 3
    h.clock.advance(REFRESH)
    h.spend(0.1)  # the readings are a minute old: both rules read again (and the rules themselves)
    assert h.db.reads(SPEND_READ) == 5 and h.db.reads(RULES_READ) == 2
    assert len(h.sql("SELECT id FROM alerts")) == 1 and len(h.http.sent) == 1  # one episode, kept

    # The cron run finds the same episode: kept, no second alert, nothing sent.
    report = asyncio.run(alerting.run(h.gateway))
    assert report.fired == [] and report.kept == 1
    assert len(h.sql("SELECT id FROM alerts")) == 1 and len(h.http.sent) == 1


def test_a_batch_without_cost_reads_nothing(db):
    h = Harness(db)
    h.spend(0.0, 0.0)
    h.spend(0.0, status="error")
    assert [sql for sql in h.db.statements if "SELECT" in sql] == []


def test_a_fire_the_cron_already_opened_is_not_a_second_episode(db):
    h = Harness(db)
    h.sql("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd) VALUES ('seed', ?, 'chat', "
          "'success', 1.5)", utc_text(NOW - 60))
    asyncio.run(alerting.run(h.gateway))  # the cron fires the warning first
    h.spend(0.1)
    (alert,) = h.sql("SELECT status, value FROM alerts WHERE rule_id = 'default-spend-warning'")
    assert alert["status"] == "firing" and alert["value"] == pytest.approx(1.6)  # kept by the request path
    assert h.watch.ledger.watched["default-spend-warning"].firing
    h.spend(0.1)
    assert h.db.reads(SPEND_READ) == 4  # 2 by the cron, 2 first readings here; then nothing while firing


def test_spend_falling_below_the_threshold_is_left_to_the_cron(db):
    h = Harness(db)
    h.http.queue(FakeResponse(204))
    h.sql("INSERT INTO webhooks (id, url, format) VALUES ('wh', 'https://hooks.test/a', 'json')")
    h.spend(1.5)
    h.clock.advance(3600 + REFRESH)  # the $1.50 left the window
    h.spend(0.1)  # read again ($0.10): the request path does not resolve
    (alert,) = h.sql("SELECT status FROM alerts WHERE rule_id = 'default-spend-warning'")
    assert alert["status"] == "firing" and len(h.http.sent) == 1
    h.http.queue(FakeResponse(204))
    report = asyncio.run(alerting.run(h.gateway))
    assert len(report.resolved) == 1 and json.loads(h.http.sent[1]["body"])["event"] == "resolved"


def test_a_failing_check_loses_no_row_and_does_not_retry_at_once(db):
    h = Harness(db)
    h.db.fail_on = SPEND_READ
    h.spend(2.0)
    assert h.sql("SELECT cost_usd FROM usage_log")[0]["cost_usd"] == 2.0
    assert h.db.reads(SPEND_READ) == 2  # both spend rules tried once, both failed (logged)
    h.db.fail_on = None
    h.spend(0.1)
    assert h.db.reads(SPEND_READ) == 2 and h.sql("SELECT id FROM alerts") == []  # quiet for a refresh period
    h.clock.advance(REFRESH)
    h.spend(0.1)
    assert [a["status"] for a in h.sql("SELECT status FROM alerts WHERE rule_id = 'default-spend-warning'")] == [
        "firing"]


def test_batches_written_while_an_evaluation_runs_only_add_to_the_estimates(db):
    h = Harness(db)
    h.spend(0.1)
    reads = h.db.reads(SPEND_READ)
    h.watch.evaluating = True  # as if another flush's evaluation were in flight
    h.spend(3.0)
    assert h.db.reads(SPEND_READ) == reads
    assert h.watch.ledger.watched["default-spend-warning"].added == pytest.approx(3.0)


def test_rules_are_reread_at_most_once_a_refresh_period_and_new_ones_watched(db):
    h = Harness(db)
    h.spend(0.1)
    h.sql("INSERT INTO alert_rules (id, kind, severity, threshold, window_minutes) "
          "VALUES ('tight', 'spend_per_hour', 'critical', 0.15, 60)")
    h.spend(0.1)
    assert "tight" not in h.watch.ledger.watched and h.db.reads(RULES_READ) == 1
    h.clock.advance(REFRESH)
    h.spend(0.1)  # $0.30 in the window, over $0.15
    assert h.sql("SELECT status FROM alerts WHERE rule_id = 'tight'") == [{"status": "firing"}]


def test_spend_watch_off_leaves_the_recorder_alone():
    settings = Settings.from_env({"SPEND_WATCH": "off", "SPEND_WATCH_REFRESH_SECONDS": "30"})
    assert settings.spend_watch is False and settings.spend_watch_refresh_seconds == 30.0
    assert Settings.from_env({}).spend_watch is True
    gateway = Gateway(Ports(database=None, http=FakeHttpClient(), background=CollectingBackground(),
                            clock=FakeClock()), settings)
    assert gateway.spend_watch is None and gateway.usage._on_written is None


def test_watched_estimate_is_the_reading_plus_what_was_added():
    watched = Watched(Rule("r", "spend_per_hour", "warning", 1.0), {})
    watched.added = 0.25
    assert watched.estimate == 0.25
    watched.spent = 0.5
    assert watched.estimate == 0.75
