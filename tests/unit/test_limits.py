"""The limiter, budgets and neuron arithmetic on the real migrations, with a fake clock and a Database
that fails on demand (fail-open). Runs under CPython and Pyodide."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Sequence

import pytest

from gateway.core import Gateway
from gateway.pipeline import accounting, neurons
from gateway.pipeline.limits import DailyLimitExceeded
from gateway.pipeline.periods import seconds_to_next_day, seconds_to_next_month, utc_day, utc_month
from gateway.ports import DatabaseError, Ports, QueryResult, Statement
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient
from gateway.settings import Settings
from gateway.storage import keys

MIDNIGHT = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC


class FailingDatabase:
    """Passes statements to the real database, except those naming a table in `failing`."""

    def __init__(self, inner: Any, failing: tuple[str, ...]) -> None:
        self._inner = inner
        self.failing = failing

    def _check(self, sql: str) -> None:
        if any(table in sql for table in self.failing):
            raise DatabaseError("D1_ERROR: Network connection lost.")

    async def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        self._check(sql)
        return await self._inner.query(sql, params)

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]:
        for statement in statements:
            self._check(statement.sql)
        return await self._inner.batch(statements)


def gateway_on(database: Any, clock: FakeClock, **settings: Any) -> tuple[Gateway, CollectingBackground]:
    background = CollectingBackground()
    ports = Ports(database=database, http=FakeHttpClient(), background=background, clock=clock)
    return Gateway(ports, Settings(**settings)), background


def make_key(db, raw: str, key_id: str, **fields: Any) -> dict[str, str]:
    raw = raw.ljust(40, "x")  # real keys are long: the visible prefix must be a small part of the key
    asyncio.run(keys.create(db, key_id, raw, fields))
    return {"authorization": f"Bearer {raw}"}


def admit(gateway: Gateway, headers: dict[str, str], endpoint: str = "chat"):
    ctx = gateway.new_context(endpoint)
    asyncio.run(gateway.authenticate(ctx, headers))
    return ctx


def test_the_free_tier_counts_to_ten_and_starts_again_at_utc_midnight(db):
    clock = FakeClock(now=MIDNIGHT - 100.5)
    gateway, background = gateway_on(db, clock)
    headers = make_key(db, "gw-free", "key_free")
    for used in range(1, 11):
        assert admit(gateway, headers).limit_headers == {
            "x-ratelimit-limit": "10", "x-ratelimit-remaining": str(10 - used), "x-ratelimit-reset": "101"}  # 100.5 s, rounded up
    with pytest.raises(DailyLimitExceeded) as refused:
        admit(gateway, headers)
    assert refused.value.headers == {"retry-after": "101"} and refused.value.status == 429
    clock.advance(101)  # past 00:00 UTC: a new window
    assert admit(gateway, headers).limit_headers["x-ratelimit-remaining"] == "9"
    windows = asyncio.run(db.query('SELECT "window", count FROM rate_limit_counters ORDER BY "window"')).rows
    assert windows == [{"window": "2023-11-14", "count": 11}, {"window": "2023-11-15", "count": 1}]
    asyncio.run(background.drain())  # the key's last_used_at write, deferred after the answers


def test_a_database_that_fails_lets_requests_through_logs_and_counts_it(db, caplog):
    failing = FailingDatabase(db, ("rate_limit_counters",))
    gateway, background = gateway_on(failing, FakeClock(now=MIDNIGHT - 50))
    headers = make_key(db, "gw-secret-raw-key", "key_open")
    with caplog.at_level(logging.WARNING, logger="gateway.limits"):
        contexts = [admit(gateway, headers) for _ in range(12)]  # past the free tier's 10
    assert all(ctx.limit_headers == {"x-ratelimit-limit": "10", "x-ratelimit-reset": "50"} for ctx in contexts)
    assert gateway.limiter.fail_open_count == 12
    asyncio.run(background.drain())
    events = asyncio.run(db.query("SELECT kind, subject, detail FROM gateway_events")).rows
    assert events == [{"kind": "rate_limiter_fail_open", "subject": "key:key_open", "detail": "counter: DatabaseError"}] * 12
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 12 and not any("gw-secret-raw-key" in message for message in messages)


def test_when_the_event_cannot_be_written_either_the_request_still_passes(db, caplog):
    failing = FailingDatabase(db, ("rate_limit_counters", "gateway_events", "FROM tiers"))
    gateway, background = gateway_on(failing, FakeClock())
    headers = make_key(db, "gw-down", "key_down")
    ctx = admit(gateway, headers)
    assert ctx.caller.key_id == "key_down" and ctx.limit_headers is None  # the tiers could not be read either
    with caplog.at_level(logging.WARNING, logger="gateway.limits"):
        asyncio.run(background.drain())
    assert "could not be written" in caplog.text
    assert gateway.limiter.fail_open_count == 1


def test_listing_models_is_not_counted(db):
    gateway, background = gateway_on(db, FakeClock())
    headers = make_key(db, "gw-models", "key_models")
    assert admit(gateway, headers, endpoint="models").limit_headers is None
    assert asyncio.run(db.query("SELECT * FROM rate_limit_counters")).rows == []
    asyncio.run(background.drain())


def test_cache_settings_above_a_minute_are_refused():
    for name in ("KEY_CACHE_SECONDS", "TIER_CACHE_SECONDS", "BUDGET_CACHE_SECONDS"):
        with pytest.raises(ValueError, match=f"{name} must be at most 60 seconds"):
            Settings.from_env({name: "61"})
    settings = Settings.from_env({"WORKERS_AI_DAILY_NEURONS": "500", "WORKERS_AI_PAID": "true"})
    assert (settings.workers_ai_daily_neurons, settings.workers_ai_paid) == (500.0, True)
    assert (Settings.from_env({}).workers_ai_daily_neurons, Settings.from_env({}).workers_ai_paid) == (10_000.0, False)


def test_periods():
    assert (utc_day(MIDNIGHT), utc_month(MIDNIGHT)) == ("2023-11-15", "2023-11")
    assert seconds_to_next_day(MIDNIGHT) == 86_400 and seconds_to_next_day(MIDNIGHT - 1) == 1
    new_year = 1_704_067_200  # 2024-01-01 00:00:00 UTC
    assert seconds_to_next_month(new_year - 10) == 10
    assert seconds_to_next_month(new_year) == 31 * 86_400


@pytest.mark.parametrize(("row", "entry", "expected"), [
    ({"input_tokens": 1000, "output_tokens": 2000},
     {"neurons_per_mtok_input": 24545.0, "neurons_per_mtok_output": 77273.0}, 24.545 + 154.546),
    ({"units": json.dumps({"characters": 2500})}, {"neurons_per_unit": 1363.64}, 3409.1),   # aura-1 per 1,000 characters
    ({"units": json.dumps({"seconds": 90})}, {"neurons_per_unit": 46.36}, 69.54),           # whisper per audio minute
    ({"units": json.dumps({"images": 2}), "cost_usd": 0.001304}, {}, 118.5455),             # no rates: the paid price
    ({"input_tokens": 0, "output_tokens": 0}, {"neurons_per_mtok_input": 1.0}, 0.0),
])
def test_row_neurons(row, entry, expected):
    assert neurons.row_neurons(row, entry) == pytest.approx(expected, abs=1e-3)


def test_estimates_use_request_size_and_max_tokens():
    chat = {"modality": "chat", "neurons_per_mtok_input": 24545.0, "neurons_per_mtok_output": 77273.0}
    assert neurons.estimate(chat, 4000, 100) == pytest.approx((1000 * 24545 + 100 * 77273) / 1e6)
    assert neurons.estimate(chat, 0, None) == pytest.approx(neurons.DEFAULT_OUTPUT_TOKENS * 77273 / 1e6)
    assert neurons.estimate({"modality": "tts", "neurons_per_unit": 1363.64}, 2000, None) == pytest.approx(2727.28)
    assert neurons.estimate({"modality": "stt", "neurons_per_unit": 46.36}, 2_000_000, None) == pytest.approx(92.72)
    assert neurons.requested_output_tokens({"max_tokens": 5, "max_completion_tokens": 7}) == 7
    assert neurons.requested_output_tokens({"max_tokens": True}) is None


def test_a_batch_of_rows_adds_one_upsert_per_counter(db):
    rows = [
        {"request_id": f"req_{n}", "created_at": "2023-11-15 10:00:00.000", "key_id": "k", "user_id": "u",
         "org_id": None, "endpoint": "chat", "model_id": "workers-ai/@cf/x", "status": "success", "cost_usd": 0.25,
         "input_tokens": 1_000_000, "output_tokens": 0, accounting.NEURON_ENTRY: {"neurons_per_mtok_input": 10.0}}
        for n in range(3)
    ]
    statements = accounting.counter_statements(rows)
    assert len(statements) == 4 + 1  # key and user × day and month, and the model's neurons for the day
    asyncio.run(db.batch(statements))
    spend = asyncio.run(db.query("SELECT subject, period, spent_usd FROM spend_counters ORDER BY subject, period")).rows
    assert spend == [{"subject": s, "period": p, "spent_usd": pytest.approx(0.75)}
                     for s in ("key:k", "user:u") for p in ("2023-11", "2023-11-15")]
    day = asyncio.run(db.query("SELECT day, model_id, neurons, requests FROM neuron_usage")).rows
    assert day == [{"day": "2023-11-15", "model_id": "workers-ai/@cf/x", "neurons": 30.0, "requests": 3}]
    assert all(row["neurons"] == 10.0 and accounting.NEURON_ENTRY not in row for row in rows)


def test_usage_rows_outrank_their_counters_when_the_counters_cannot_be_written(db, caplog):
    failing = FailingDatabase(db, ("spend_counters",))
    background = CollectingBackground()
    recorder = accounting.UsageRecorder(failing, background, delay_seconds=0)
    for n in range(2):
        recorder.record({"request_id": f"req_keep_{n}", "created_at": "2023-11-15 10:00:00.000", "key_id": "k",
                         "endpoint": "chat", "status": "success", "cost_usd": 0.1, "cost_status": "priced",
                         "stream": 0, "attempts": 1, "input_tokens": 1, "output_tokens": 1,
                         "cached_input_tokens": 0, "reasoning_tokens": 0})
    with caplog.at_level(logging.WARNING, logger="gateway.accounting"):
        asyncio.run(background.drain())
    kept = asyncio.run(db.query("SELECT request_id FROM usage_log ORDER BY request_id")).rows
    assert kept == [{"request_id": "req_keep_0"}, {"request_id": "req_keep_1"}]
    assert caplog.text.count("written without its spend and neuron counters") == 2
    assert asyncio.run(db.query("SELECT * FROM spend_counters")).rows == []
