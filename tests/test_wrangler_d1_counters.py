"""The counters' SQL (gateway.storage.counters) on wrangler's local D1, exactly as the gateway builds it:
the request counter's multi-subject upsert with RETURNING, the spend and neuron upserts, the budgets read
and the fail-open event. Parameters are inlined as literals (`wrangler d1 execute` takes no bindings).
Needs the npm tooling (`npm ci`), as tests/test_wrangler_d1.py does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.ports import Statement
from gateway.storage import counters
from tests.test_wrangler_d1 import _sql_literal, d1_json, migrated_d1


def inline(statement: Statement) -> str:
    """The statement with each `?` replaced by its parameter as an SQL literal (no `?` in our literals)."""
    parts = statement.sql.split("?")
    assert len(parts) == len(statement.params) + 1, statement.sql
    text = parts[0]
    for param, rest in zip(statement.params, parts[1:]):
        text += _sql_literal(param) + rest
    return text + ";"


@pytest.fixture(scope="module")
def persist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_d1(tmp_path_factory, "d1-counters")


def run(persist: Path, *statements: Statement) -> list[list[dict[str, Any]]]:
    return d1_json(persist, "\n".join(inline(s) for s in statements))


def test_the_request_counter_upsert_returns_each_subjects_new_count(persist: Path) -> None:
    two = counters.count_request_statement(["key:k1", "user:u1"], "2026-11-27", "2026-11-27 10:00:00.000")
    one = counters.count_request_statement(["key:k1"], "2026-11-27", "2026-11-27 10:00:01.000")
    next_day = counters.count_request_statement(["key:k1"], "2026-11-28", "2026-11-28 00:00:00.000")
    results = run(persist, two, two, one, next_day)
    assert sorted((r["subject"], r["count"]) for r in results[0]) == [("key:k1", 1), ("user:u1", 1)]
    assert sorted((r["subject"], r["count"]) for r in results[1]) == [("key:k1", 2), ("user:u1", 2)]
    assert results[2] == [{"subject": "key:k1", "count": 3}]
    assert results[3] == [{"subject": "key:k1", "count": 1}]
    stored = d1_json(persist, 'SELECT subject, "window", count, updated_at FROM rate_limit_counters '
                              'ORDER BY subject, "window"')[0]
    assert stored == [
        {"subject": "key:k1", "window": "2026-11-27", "count": 3, "updated_at": "2026-11-27 10:00:01.000"},
        {"subject": "key:k1", "window": "2026-11-28", "count": 1, "updated_at": "2026-11-28 00:00:00.000"},
        {"subject": "user:u1", "window": "2026-11-27", "count": 2, "updated_at": "2026-11-27 10:00:00.000"},
    ]


def test_spend_and_neuron_upserts_add_up_and_the_budgets_read_sees_them(persist: Path) -> None:
    run(persist,
        counters.add_spend("user:u2", "2026-11-27", 0.25), counters.add_spend("user:u2", "2026-11-27", 0.5),
        counters.add_spend("user:u2", "2026-11", 0.75),
        counters.add_neurons("2026-11-27", "workers-ai/@cf/m", 12.5, 1),
        counters.add_neurons("2026-11-27", "workers-ai/@cf/m", 7.5, 2))
    d1_json(persist, "INSERT INTO users (id, email, daily_budget_usd, monthly_budget_usd) VALUES "
                     "('u2', 'u2@example.com', 1.0, 20.0)")
    limits, spent = run(persist, *counters.budget_statements("u2", None, "free", ["key:k2", "user:u2"],
                                                             ("2026-11-27", "2026-11")))
    assert limits == [{"user_daily": 1.0, "user_monthly": 20.0, "org_daily": None, "org_monthly": None,
                       "tier_monthly": None}]
    assert sorted((r["subject"], r["period"], r["spent_usd"]) for r in spent) == [
        ("user:u2", "2026-11", 0.75), ("user:u2", "2026-11-27", 0.75)]
    day = d1_json(persist, "SELECT model_id, neurons, requests FROM neuron_usage WHERE day = '2026-11-27'")[0]
    assert day == [{"model_id": "workers-ai/@cf/m", "neurons": 20.0, "requests": 3}]


def test_tier_limits_and_the_fail_open_event(persist: Path) -> None:
    tiers = d1_json(persist, "SELECT id, daily_request_limit, monthly_budget_usd FROM tiers ORDER BY id")[0]
    assert [(t["id"], t["daily_request_limit"]) for t in tiers] == [
        ("business", None), ("free", 10), ("personal", 100), ("professional", 1000)]
    run(persist, counters.event_statement("rate_limiter_fail_open", "key:k3", "counter: DatabaseError"))
    events = d1_json(persist, "SELECT kind, subject, detail FROM gateway_events")[0]
    assert events == [{"kind": "rate_limiter_fail_open", "subject": "key:k3", "detail": "counter: DatabaseError"}]
    rules = d1_json(persist, "SELECT id, kind FROM alert_rules WHERE kind = 'rate_limiter_fail_open'")[0]
    assert rules == [{"id": "default-rate-limiter-fail-open", "kind": "rate_limiter_fail_open"}]
