"""The usage row of a request: what is billed, how, and what is recorded about it."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from gateway.errors import AuthenticationError, ErrorCategory, UpstreamError
from gateway.pipeline import accounting
from gateway.pipeline.catalog import CatalogCache
from gateway.pipeline.chat import ChatPipeline
from gateway.pipeline.context import Caller, RequestContext, Target
from gateway.pipeline.cost import STREAM_ESTIMATE
from gateway.ports import DatabaseError, Ports
from gateway.ports.fakes import CollectingBackground, FakeClock
from gateway.settings import Settings
from gateway.storage import usage as usage_sql
from gateway.usage import Usage

# 2023-11-14 22:13:20 UTC, plus 250 ms
RECEIVED_AT = 1_700_000_000.25
STARTED = 500.0
MINI = {"id": "openai/gpt-4o-mini", "input_usd_per_mtok": 0.15, "cached_input_usd_per_mtok": 0.075,
        "output_usd_per_mtok": 0.60, "price_version": 3}
CALLER = Caller(key_id="key_1", user_id="u1", org_id="o1", tier_id="personal")


def context(**fields) -> RequestContext:
    ctx = RequestContext(request_id="req_1", endpoint="chat", started=STARTED, received_at=RECEIVED_AT,
                         caller=CALLER, requested_model="gpt-4o-mini")
    ctx.target = Target("openai", "openai", "gpt-4o-mini", "openai/gpt-4o-mini", MINI)
    for name, value in fields.items():
        setattr(ctx, name, value)
    return ctx


def test_successful_request_is_priced_from_its_catalog_entry():
    ctx = context(usage=Usage(input_tokens=1000, cached_input_tokens=200, output_tokens=300), key_level="env",
                  upstream_seconds=1.2, tags={"app": "docs"})
    row = accounting.usage_row(ctx, finished=STARTED + 1.25)
    assert row["cost_usd"] == pytest.approx((800 * 0.15 + 200 * 0.075 + 300 * 0.60) / 1e6)
    assert row["cost_status"] == "priced"
    assert row["price_version"] == 3
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (
        1000, 200, 300, 0,
    )
    assert (row["key_id"], row["user_id"], row["org_id"], row["tier_id"]) == ("key_1", "u1", "o1", "personal")
    assert (row["provider_id"], row["model_id"], row["requested_model"]) == (
        "openai", "openai/gpt-4o-mini", "gpt-4o-mini",
    )
    assert (row["status"], row["http_status"], row["error_type"]) == ("success", 200, None)
    assert row["created_at"] == "2023-11-14 22:13:20.250"
    assert row["latency_ms"] == pytest.approx(1250.0)
    assert row["overhead_ms"] == pytest.approx(50.0)  # the 1.2 s spent waiting on the provider is not ours
    assert row["key_level"] == "env"
    assert json.loads(row["tags"]) == {"app": "docs"}
    assert row["stream"] == 0


def test_streamed_request_records_time_to_first_token():
    row = accounting.usage_row(context(stream=True, ttft_seconds=0.3456, usage=Usage(1, 0, 1, 0)), STARTED + 1)
    assert row["stream"] == 1
    assert row["ttft_ms"] == pytest.approx(345.6)


def test_error_without_usage_costs_nothing():
    ctx = context(status="error", http_status=429, error_type="rate_limit")
    row = accounting.usage_row(ctx, STARTED + 0.1)
    assert (row["status"], row["http_status"], row["error_type"]) == ("error", 429, "rate_limit")
    assert row["cost_usd"] == 0.0
    assert row["cost_status"] == "none"
    assert row["cost_note"] == "not sent to a provider"  # no time was spent waiting on one
    assert (row["input_tokens"], row["output_tokens"]) == (0, 0)
    assert row["ttft_ms"] is None
    assert row["tags"] is None


def test_success_without_reported_usage_has_unknown_cost():
    row = accounting.usage_row(context(), STARTED + 0.1)
    assert row["cost_usd"] is None
    assert row["cost_status"] == "none"
    assert row["cost_note"] == "provider reported no usage"


def test_estimated_usage_is_marked_estimated():
    row = accounting.usage_row(context(stream=True, usage=Usage(input_tokens=40, output_tokens=25)), STARTED + 1,
                               estimate=STREAM_ESTIMATE)
    assert row["cost_status"] == "estimated"
    assert row["cost_note"] == "estimated: stream ended without usage (4 characters a token)"
    assert row["cost_usd"] == pytest.approx((40 * 0.15 + 25 * 0.60) / 1e6)


def test_estimated_usage_of_an_unlisted_model_stays_unpriced():
    ctx = context(usage=Usage(input_tokens=40, output_tokens=25))
    ctx.target = Target("openai", "openai", "gpt-new", "openai/gpt-new", None)
    row = accounting.usage_row(ctx, STARTED + 1, estimate=STREAM_ESTIMATE)
    assert (row["cost_usd"], row["cost_status"], row["price_version"]) == (None, "unpriced", None)
    assert row["cost_note"] == "model not in the catalog"
    assert row["input_tokens"] == 40


def test_request_that_never_reached_a_provider():
    ctx = RequestContext(request_id="req_2", endpoint="chat", started=STARTED, received_at=RECEIVED_AT,
                         status="error", http_status=401, error_type="authentication_error")
    row = accounting.usage_row(ctx, STARTED + 0.001)
    assert (row["key_id"], row["user_id"], row["provider_id"], row["model_id"]) == (None, None, None, None)


def record(db, *rows):
    background = CollectingBackground()
    recorder = accounting.UsageRecorder(db, background, delay_seconds=0)
    for row in rows:
        recorder.record(row)
    asyncio.run(background.drain())
    return background


def test_record_writes_the_row_to_the_usage_log(db):
    row = accounting.usage_row(context(usage=Usage(input_tokens=10, output_tokens=5)), STARTED + 0.5)
    record(db, row)
    stored = asyncio.run(usage_sql.newest(db, 10))
    assert len(stored) == 1
    assert stored[0]["request_id"] == "req_1"
    assert stored[0]["cost_usd"] == pytest.approx((10 * 0.15 + 5 * 0.60) / 1e6)
    assert stored[0]["cost_status"] == "priced"


def test_write_now_writes_at_once_and_defers_what_follows_a_write(db):
    background, told = CollectingBackground(), []

    async def on_written(rows):
        told.append([row["request_id"] for row in rows])

    recorder = accounting.UsageRecorder(db, background, delay_seconds=0, on_written=on_written)
    asyncio.run(recorder.write_now([accounting.usage_row(context(usage=Usage(input_tokens=10)), STARTED + 0.5)]))
    assert [row["request_id"] for row in asyncio.run(usage_sql.newest(db, 10))] == ["req_1"]  # in before it returns
    assert told == []  # the spend check is not the caller's wait
    asyncio.run(background.drain())
    assert told == [["req_1"]]
    with pytest.raises(DatabaseError):  # the same row again: the caller learns it (video billing relies on it)
        asyncio.run(recorder.write_now([accounting.usage_row(context(), STARTED + 0.5)]))


def test_a_row_that_cannot_be_written_is_logged_not_raised(db, caplog):
    row = accounting.usage_row(context(), STARTED + 0.5)
    record(db, row)
    with caplog.at_level(logging.ERROR, logger="gateway.accounting"):
        record(db, row)  # same request id: the insert fails
    assert "req_1" in caplog.text
    assert len(asyncio.run(usage_sql.newest(db, 10))) == 1


def test_rows_finishing_together_share_one_write(db, monkeypatch):
    batches = []
    real_batch = db.batch

    async def counting_batch(statements):
        batches.append(len(statements))
        return await real_batch(statements)

    monkeypatch.setattr(db, "batch", counting_batch)
    rows = [dict(accounting.usage_row(context(), STARTED + 0.5), request_id=f"req_{n}") for n in range(5)]
    record(db, *rows)
    assert batches == [5]
    assert len(asyncio.run(usage_sql.newest(db, 10))) == 5


def test_a_bad_row_in_a_batch_loses_no_other(db):
    first = accounting.usage_row(context(), STARTED + 0.5)
    record(db, first)
    second = dict(first, request_id="req_2")
    third = dict(first, request_id="req_3")
    background = record(db, second, first, third)  # 'first' again: a duplicate inside the batch
    assert background.pending == []
    stored = {row["request_id"] for row in asyncio.run(usage_sql.newest(db, 10))}
    assert stored == {"req_1", "req_2", "req_3"}


# --- ChatPipeline.fail: an error answer is accounted for after the response -----------------------

def pipeline(db) -> tuple[ChatPipeline, CollectingBackground, FakeClock]:
    clock, background = FakeClock(monotonic=STARTED), CollectingBackground()
    ports = Ports(database=db, http=None, background=background, clock=clock)
    return ChatPipeline(ports, Settings(), CatalogCache(db, clock, 60)), background, clock


def test_failed_request_of_a_known_caller_gets_an_error_row_after_the_response(db):
    chat, background, clock = pipeline(db)
    ctx = context()
    clock.advance(0.2)
    chat.fail(ctx, UpstreamError(ErrorCategory.RATE_LIMIT, "slow down"))
    assert asyncio.run(usage_sql.newest(db, 10)) == []  # nothing written on the client's path
    asyncio.run(background.drain())
    [row] = asyncio.run(usage_sql.newest(db, 10))
    assert (row["status"], row["http_status"], row["error_type"]) == ("error", 429, "rate_limit")
    assert row["cost_usd"] == 0.0
    assert row["latency_ms"] == pytest.approx(200.0)


def test_failed_request_without_a_caller_gets_no_row(db):
    chat, background, _ = pipeline(db)
    ctx = context(caller=None)
    chat.fail(ctx, AuthenticationError("Invalid gateway key."))
    assert (ctx.status, ctx.http_status) == ("error", 401)
    assert background.pending == []
