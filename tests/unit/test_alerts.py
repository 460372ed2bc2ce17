"""Alerting (docs/alerts.md): the pure decisions (breach, episodes, bodies, retry schedule, rule checks) and
the cron step on a real SQLite with the real migrations, a fake clock and a scripted webhook client."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.pipeline import alerting
from gateway.pipeline.alerts import (MAX_DELIVERY_ATTEMPTS, Reading, Rule, breached, describe, plan, retry_delay,
                                     rule_problem, webhook_body)
from gateway.ports import Ports, UpstreamConnectError
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.settings import Settings
from gateway.timefmt import utc_text

SPEND_WARNING = Rule("w", "spend_per_hour", "warning", 1.0)


# --- breach -------------------------------------------------------------------------------------------

def test_spend_fires_over_the_threshold_not_at_it():
    assert not breached(SPEND_WARNING, Reading("gateway", 1.0))
    assert breached(SPEND_WARNING, Reading("gateway", 1.0001))


def test_percent_and_count_kinds_fire_on_reaching_the_threshold():
    budget = Rule("b", "budget", "warning", 80.0)
    assert not breached(budget, Reading("key:k/daily", 79.99))
    assert breached(budget, Reading("key:k/daily", 80.0))
    fail_open = Rule("f", "rate_limiter_fail_open", "critical", 1.0)
    assert not breached(fail_open, Reading("gateway", 0.0))
    assert breached(fail_open, Reading("gateway", 1.0))


def test_an_error_rate_needs_enough_requests_behind_it():
    rule = Rule("e", "error_rate", "warning", 0.5, params={"min_requests": 20})
    assert not breached(rule, Reading("provider:openai", 1.0, samples=19))
    assert breached(rule, Reading("provider:openai", 0.5, samples=20))
    assert not breached(rule, Reading("provider:openai", 0.49, samples=100))
    assert not breached(Rule("d", "error_rate", "warning", 0.5), Reading("model:m", 1.0, samples=9))  # default 10


# --- episodes -----------------------------------------------------------------------------------------

def test_a_new_breach_fires_a_held_one_is_kept_a_cleared_one_resolves():
    readings = [Reading("key:a", 2.0), Reading("key:b", 3.0), Reading("key:c", 0.5)]
    decided = plan(SPEND_WARNING, readings, {"key:b": "alt_b", "key:c": "alt_c", "key:gone": "alt_gone"})
    assert [r.subject for r in decided.fire] == ["key:a"]
    assert decided.keep == [("alt_b", Reading("key:b", 3.0))]
    assert sorted(decided.resolve) == ["alt_c", "alt_gone"]  # below the threshold, and no reading at all


def test_nothing_happens_below_the_threshold_without_an_episode():
    decided = plan(SPEND_WARNING, [Reading("gateway", 0.2)], {})
    assert (decided.fire, decided.keep, decided.resolve) == ([], [], [])


# --- what people read -----------------------------------------------------------------------------------

ALERT = {"id": "alt_1", "rule_id": "r1", "kind": "spend_per_hour", "severity": "critical", "status": "firing",
         "org_id": "org_1", "subject": "org:org_1", "value": 5.5, "threshold": 5.0,
         "message": "Spend of org:org_1 in the last 60 min is $5.50, over $5.00.",
         "fired_at": "2026-11-27 10:00:00.000", "resolved_at": None}


def test_generic_body_carries_the_event_and_the_alert():
    body = webhook_body("json", "fired", {**ALERT, "url": "http://x", "delivery_id": 3}, "2026-11-27 10:00:01.000")
    assert body == {"event": "fired", "sent_at": "2026-11-27 10:00:01.000", "alert": ALERT}


def test_slack_body_is_one_text_line_saying_firing_or_resolved():
    fired = webhook_body("slack", "fired", ALERT, "t")
    assert list(fired) == ["text"]
    assert "[critical] FIRING spend_per_hour org:org_1" in fired["text"] and "$5.50" in fired["text"]
    assert "RESOLVED" in webhook_body("slack", "resolved", {**ALERT, "status": "resolved"}, "t")["text"]


def test_messages_name_the_value_and_the_threshold():
    assert describe("spend_per_hour", "gateway", 1.234, 1.0, 60) == \
        "Spend of gateway in the last 60 min is $1.23, over $1.00."
    assert "62%" in describe("error_rate", "provider:groq", 0.625, 0.5, 15)
    assert "80%" in describe("neuron_budget", "workers-ai-neurons", 80.0, 80.0, 1440)


def test_retries_back_off_exponentially_and_are_bounded():
    assert [retry_delay(n) for n in range(1, 6)] == [300, 600, 1200, 2400, 4800]
    assert retry_delay(20) == 6 * 3600
    assert MAX_DELIVERY_ATTEMPTS == 6


@pytest.mark.parametrize("kind, threshold, params, scoped, field", [
    ("circuit_open", 1, None, True, "org_id"),
    ("neuron_budget", 80, None, True, "org_id"),
    ("budget", 0, None, False, "threshold"),
    ("error_rate", 1.5, None, False, "threshold"),
    ("rate_limiter_fail_open", 0, None, False, "threshold"),
    ("error_rate", 0.5, {"by": "region"}, False, "params.by"),
    ("error_rate", 0.5, {"min_requests": 0}, False, "params.min_requests"),
    ("spend_per_hour", 1, {"provider": "openai"}, False, "params.provider"),
])
def test_a_rule_that_cannot_mean_anything_names_its_field(kind, threshold, params, scoped, field):
    assert rule_problem(kind, threshold, params, scoped)[0] == field


def test_sensible_rules_pass():
    assert rule_problem("error_rate", 0.25, {"by": "model", "min_requests": 5, "provider": "groq"}, True) is None
    assert rule_problem("budget", 100, None, True) is None
    assert rule_problem("spend_per_hour", 0, None, True) is None


# --- the cron step on a real database -------------------------------------------------------------------

NOW = 1_795_000_000.0  # 2026-11-18 UTC


def gateway_with(db, clock, http) -> Gateway:
    return Gateway(Ports(database=db, http=http, background=CollectingBackground(), clock=clock), Settings())


def run(coro):
    return asyncio.run(coro)


def spend(db, usd: float, at: float, request_id: str, **columns) -> None:
    fields = {"request_id": request_id, "created_at": utc_text(at), "endpoint": "chat", "status": "success",
              "cost_usd": usd, **columns}
    run(db.query(f"INSERT INTO usage_log ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
                 list(fields.values())))


def alerts_of(db, rule_id: str) -> list[dict]:
    return run(db.query("SELECT subject, status, value, resolved_at FROM alerts WHERE rule_id = ? ORDER BY fired_at",
                        (rule_id,))).rows


def test_the_seeded_defaults_are_there(db):
    rows = run(db.query("SELECT id, kind, severity, threshold FROM alert_rules WHERE org_id IS NULL ORDER BY id")).rows
    found = {row["id"]: (row["kind"], row["severity"], row["threshold"]) for row in rows}
    assert found["default-spend-warning"] == ("spend_per_hour", "warning", 1.0)
    assert found["default-spend-critical"] == ("spend_per_hour", "critical", 5.0)
    assert found["default-budget-80"][2] == 80 and found["default-neuron-budget-100"][2] == 100
    assert found["default-rate-limiter-fail-open"] == ("rate_limiter_fail_open", "critical", 1.0)


def test_the_job_fires_once_keeps_and_resolves_with_one_delivery_each(db):
    clock, http = FakeClock(now=NOW), FakeHttpClient()
    gateway = gateway_with(db, clock, http)
    run(db.query("INSERT INTO webhooks (id, url, format) VALUES ('wh', 'https://hooks.test/a', 'json')"))
    spend(db, 1.5, NOW - 60, "r1")
    http.queue(FakeResponse(204))
    assert run(jobs.run_all(gateway))["evaluate_alerts"] == "ok"
    assert [a["status"] for a in alerts_of(db, "default-spend-warning")] == ["firing"]
    assert alerts_of(db, "default-spend-critical") == []
    (sent,) = http.sent
    assert json.loads(sent["body"])["alert"]["rule_id"] == "default-spend-warning"

    clock.advance(300)  # still over $1: no new row, nothing sent (no answer queued: a send would fail the test)
    run(alerting.run(gateway))
    assert len(alerts_of(db, "default-spend-warning")) == 1 and len(http.sent) == 1

    clock.advance(3600)  # the spend left the window
    http.queue(FakeResponse(200))
    report = run(alerting.run(gateway))
    (alert,) = alerts_of(db, "default-spend-warning")
    assert alert["status"] == "resolved" and alert["resolved_at"] == utc_text(clock.now())
    assert len(report.resolved) == 1 and json.loads(http.sent[1]["body"])["event"] == "resolved"


def test_a_failing_delivery_is_retried_on_later_runs_then_given_up(db):
    clock, http = FakeClock(now=NOW), FakeHttpClient()
    gateway = gateway_with(db, clock, http)
    run(db.query("INSERT INTO webhooks (id, url, format) VALUES ('wh', 'https://hooks.test/a', 'slack')"))
    spend(db, 1.1, NOW - 10, "r1")  # over $1, and never over $5 below (no critical alert to deliver too)
    for attempt in range(1, MAX_DELIVERY_ATTEMPTS + 1):
        http.queue(UpstreamConnectError("refused") if attempt == 2 else FakeResponse(500))
        run(alerting.run(gateway))
        assert len(http.sent) == attempt
        clock.advance(1)
        run(alerting.run(gateway))  # not due yet: nothing sent
        assert len(http.sent) == attempt
        clock.advance(retry_delay(attempt))
        # keep the spend in the window so the alert never resolves during the test
        spend(db, 1.1, clock.now() - 10, f"keep{attempt}")
    (delivery,) = run(db.query("SELECT status, attempts, last_status_code FROM alert_deliveries")).rows
    assert delivery == {"status": "failed", "attempts": MAX_DELIVERY_ATTEMPTS, "last_status_code": 500}
    attempts = run(db.query("SELECT attempt, status_code, error FROM alert_delivery_attempts ORDER BY attempt")).rows
    assert [a["status_code"] for a in attempts] == [500, None, 500, 500, 500, 500]
    assert attempts[1]["error"].startswith("UpstreamConnectError") and attempts[0]["error"] == "HTTP 500"
    run(alerting.run(gateway))
    assert len(http.sent) == MAX_DELIVERY_ATTEMPTS  # given up: never sent again


def test_error_rate_counts_failed_attempts_against_their_model(db):
    clock = FakeClock(now=NOW)
    gateway = gateway_with(db, clock, FakeHttpClient())
    run(db.query("INSERT INTO alert_rules (id, kind, severity, threshold, window_minutes, params) VALUES "
                 "('er', 'error_rate', 'warning', 0.5, 15, '{\"by\": \"model\", \"min_requests\": 4}')"))
    for n in range(4):  # four requests answered by b after a failed attempt on a
        spend(db, 0.0, NOW - 30, f"q{n}", model_id="p/b", provider_id="p")
        spend(db, 0.0, NOW - 31, f"q{n}.1", model_id="p/a", provider_id="p", status="error",
              error_type="server_error", attempt_of=f"q{n}")
    spend(db, 0.0, NOW - 30, "bad", model_id="p/b", provider_id="p", status="error", error_type="invalid_request")
    run(alerting.run(gateway))
    assert [(a["subject"], a["value"]) for a in alerts_of(db, "er")] == [("model:p/a", 1.0)]


def test_budget_and_neuron_rules_read_the_counters(db):
    clock = FakeClock(now=NOW)
    gateway = gateway_with(db, clock, FakeHttpClient())
    run(db.query("INSERT INTO organizations (id, name, slug, monthly_budget_usd) VALUES ('o', 'O', 'o', 10)"))
    run(db.query("INSERT INTO spend_counters (subject, period, spent_usd) VALUES ('org:o', '2026-11', 8.5)"))
    run(db.query("INSERT INTO neuron_usage (day, model_id, neurons) VALUES ('2026-11-18', 'm', 10000)"))
    run(alerting.run(gateway))
    assert [(a["subject"], a["value"]) for a in alerts_of(db, "default-budget-80")] == [("org:o/monthly", 85.0)]
    assert alerts_of(db, "default-budget-100") == []
    assert [a["value"] for a in alerts_of(db, "default-neuron-budget-100")] == [100.0]
    org_of = run(db.query("SELECT org_id FROM alerts WHERE rule_id = 'default-budget-80'")).rows
    assert org_of == [{"org_id": "o"}]  # the org's admins see it


def test_a_disabled_rule_resolves_its_open_episode(db):
    clock, http = FakeClock(now=NOW), FakeHttpClient()
    gateway = gateway_with(db, clock, http)
    run(db.query("INSERT INTO model_health (model_id, provider_id, circuit_state) VALUES ('p/m', 'p', 'open')"))
    run(alerting.run(gateway))
    assert [a["status"] for a in alerts_of(db, "default-circuit-open")] == ["firing"]
    run(db.query("UPDATE alert_rules SET enabled = 0 WHERE id = 'default-circuit-open'"))
    run(alerting.run(gateway))
    assert [a["status"] for a in alerts_of(db, "default-circuit-open")] == ["resolved"]


def test_scoped_rules_read_only_their_tenant(db):
    clock = FakeClock(now=NOW)
    gateway = gateway_with(db, clock, FakeHttpClient())
    for statement in (
        "INSERT INTO organizations (id, name, slug, daily_budget_usd) VALUES ('o', 'O', 'o', 1), ('p', 'P', 'p', 1)",
        "INSERT INTO users (id, daily_budget_usd) VALUES ('u', 1)",
        "INSERT INTO gateway_keys (id, key_hash, prefix, user_id, org_id, daily_budget_usd) VALUES "
        "('ko', 'h1', 'x', 'u', 'o', 1), ('kp', 'h2', 'y', 'u', 'p', 1)",
        "INSERT INTO spend_counters (subject, period, spent_usd) VALUES ('org:o', '2026-11-18', 0.9), "
        "('org:p', '2026-11-18', 0.9), ('user:u', '2026-11-18', 0.9), ('key:ko', '2026-11-18', 0.9), "
        "('key:kp', '2026-11-18', 0.9)",
        "UPDATE alert_rules SET enabled = 0",
        "INSERT INTO alert_rules (id, org_id, key_id, kind, severity, threshold) VALUES "
        "('org-budget', 'o', NULL, 'budget', 'warning', 80), ('key-budget', 'p', 'kp', 'budget', 'warning', 80), "
        "('key-spend', 'o', 'ko', 'spend_per_hour', 'warning', 0.5)",
    ):
        run(db.query(statement))
    spend(db, 0.6, NOW - 10, "ko1", key_id="ko", org_id="o")
    spend(db, 5.0, NOW - 10, "kp1", key_id="kp", org_id="p")
    run(alerting.run(gateway))
    assert sorted(a["subject"] for a in alerts_of(db, "org-budget")) == ["key:ko/daily", "org:o/daily"]
    assert [a["subject"] for a in alerts_of(db, "key-budget")] == ["key:kp/daily"]
    assert [(a["subject"], a["value"]) for a in alerts_of(db, "key-spend")] == [("key:ko", 0.6)]
