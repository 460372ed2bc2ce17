"""The limiter's and the usage batch's counters through D1Database (ports/cloudflare.py) on the D1 binding
stand-in: the request counter's upsert answers its new counts through `.all()`, and a usage batch adds
spend and neurons in the same `batch()` (D1's transaction)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.pipeline import accounting
from gateway.ports.cloudflare import D1Database
from gateway.storage import counters


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def db(worker) -> D1Database:
    return D1Database(worker.env.DB)


def test_the_request_counter_returns_the_new_counts(db):
    day, now = "2026-11-27", "2026-11-27 10:00:00.000"
    assert run(counters.count_request(db, ["key:cf1", "user:cf1"], day, now)) == {"key:cf1": 1, "user:cf1": 1}
    assert run(counters.count_request(db, ["key:cf1", "user:cf1"], day, now)) == {"key:cf1": 2, "user:cf1": 2}
    assert run(counters.count_request(db, ["key:cf1"], day, now)) == {"key:cf1": 3}


def test_a_usage_batch_writes_its_spend_and_neurons_with_the_rows(db):
    row = {"request_id": "req_cf_counters", "created_at": "2026-11-27 10:00:00.000", "key_id": "kcf",
           "user_id": None, "org_id": "ocf", "endpoint": "embeddings", "model_id": "workers-ai/@cf/baai/bge-m3",
           "status": "success", "cost_usd": 0.5, "cost_status": "priced", "input_tokens": 1000, "output_tokens": 0,
           "cached_input_tokens": 0, "reasoning_tokens": 0, "stream": 0, "attempts": 1,
           accounting.NEURON_ENTRY: {"neurons_per_mtok_input": 1075.0}}
    run(accounting.write_rows(db, [row]))
    stored = run(db.query("SELECT neurons, cost_usd FROM usage_log WHERE request_id = 'req_cf_counters'")).rows
    assert stored == [{"neurons": 1.075, "cost_usd": 0.5}]
    spend = run(db.query("SELECT subject, period, spent_usd FROM spend_counters WHERE subject IN ('key:kcf', 'org:ocf') "
                         "ORDER BY subject, period")).rows
    assert [(r["subject"], r["period"], r["spent_usd"]) for r in spend] == [
        ("key:kcf", "2026-11", 0.5), ("key:kcf", "2026-11-27", 0.5), ("org:ocf", "2026-11", 0.5),
        ("org:ocf", "2026-11-27", 0.5)]
    day = run(counters.neurons_on(db, "2026-11-27"))
    assert [(r["model_id"], r["neurons"], r["requests"]) for r in day] == [("workers-ai/@cf/baai/bge-m3", 1.075, 1)]
