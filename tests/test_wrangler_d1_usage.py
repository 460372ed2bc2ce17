"""A usage row's statements (gateway.storage.usage.row_statements: the insert with cost_note, the request's
tags in one multi-row usage_tags insert) on wrangler's local D1 after every migration, 0023 included, and
0023's backfill and price correction as D1 leaves them. Needs the npm tooling, as tests/test_wrangler_d1.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.pipeline import accounting
from gateway.pipeline.cost import Cost
from gateway.storage import usage as usage_sql
from tests.test_wrangler_d1 import d1_json, migrated_d1
from tests.test_wrangler_d1_counters import inline


@pytest.fixture(scope="module")
def persist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_d1(tmp_path_factory, "d1-usage")


def row(request_id: str, **fields) -> dict:
    base = {"request_id": request_id, "created_at": "2026-11-27 10:00:00.000", "endpoint": "chat",
            "status": "success", "stream": 0, "attempts": 1, "input_tokens": 0, "cached_input_tokens": 0,
            "output_tokens": 0, "reasoning_tokens": 0}
    return {**base, **fields}


def test_a_rows_statements_write_its_note_and_its_tags(persist: Path) -> None:
    tagged = accounting.charge(row("req_d1", tags=json.dumps({"app": "checkout", "end_user": "o'brien, 42"})),
                               Cost(None, "unpriced", "no image price for 1792x1024/hd"), None)
    attempt = accounting.unbilled(row("req_d1.1", attempt_of="req_d1", status="error", tags=tagged["tags"]),
                                  "failed attempt: not billed (see attempt_of)")
    statements = [*usage_sql.row_statements(attempt), *usage_sql.row_statements(tagged)]
    assert len(statements) == 3  # the attempt's insert (no tags of its own), the row's insert and its tags
    d1_json(persist, "\n".join(inline(s) for s in statements))
    rows = d1_json(persist, "SELECT request_id, cost_usd, cost_status, cost_note FROM usage_log ORDER BY request_id")[0]
    assert rows == [
        {"request_id": "req_d1", "cost_usd": None, "cost_status": "unpriced", "cost_note": "no image price for 1792x1024/hd"},
        {"request_id": "req_d1.1", "cost_usd": 0, "cost_status": "none",
         "cost_note": "failed attempt: not billed (see attempt_of)"}]
    tags = d1_json(persist, "SELECT request_id, tag_key, tag_value FROM usage_tags ORDER BY tag_key")[0]
    assert tags == [{"request_id": "req_d1", "tag_key": "app", "tag_value": "checkout"},
                    {"request_id": "req_d1", "tag_key": "end_user", "tag_value": "o'brien, 42"}]


def test_0023_corrected_a_price_as_a_new_version(persist: Path) -> None:
    history = d1_json(persist, "SELECT price_version, json_extract(prices, '$.cached_input_usd_per_mtok') AS cached, "
                               "source FROM model_price_history WHERE model_id = 'anthropic/claude-sonnet-5-5' "
                               "ORDER BY price_version")[0]
    assert history == [{"price_version": 1, "cached": 0.1, "source": "seed"},
                       {"price_version": 2, "cached": 0.2, "source": "migration 0023: Anthropic model page"}]
