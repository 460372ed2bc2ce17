"""Cost arithmetic for every modality against the providers' documented prices (docs/cost.md).

Each case takes one representative model's entry from the catalog the real migrations build, bills given
units with the gateway's own functions, and compares with a figure computed HERE from the provider's
published price, written as a literal with its source. A wrong catalog price or a wrong formula fails."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.pipeline import accounting
from gateway.pipeline.cost import (
    chat_cost, image_cost, speech_cost, transcription_cost, video_cost,
)
from gateway.storage.model_catalog import all_models
from gateway.usage import Usage

M = 1_000_000


@pytest.fixture
def catalog(db) -> dict[str, dict]:
    return {row["id"]: row for row in asyncio.run(all_models(db))}  # disabled ones too: their rows keep prices


# (case id, model id, how the gateway bills it, expected USD from the documented price)
PRICED = [
    # OpenAI pricing (platform.openai.com/docs/pricing): gpt-4o-mini $0.15 input, $0.075 cached input,
    # $0.60 output per 1M tokens. Cached tokens are part of the input count.
    ("chat, cached input", "openai/gpt-4o-mini",
     lambda e: chat_cost(Usage(input_tokens=12_000, cached_input_tokens=8_000, output_tokens=900), e),
     (4_000 * 0.15 + 8_000 * 0.075 + 900 * 0.60) / M),
    # Anthropic (platform.claude.com/docs/en/models/sonnet-5-5/overview): Claude Sonnet 5.5 $2 input,
    # $0.20 cache read, $10 output per MTok.
    ("chat, Anthropic cache read", "anthropic/claude-sonnet-5-5",
     lambda e: chat_cost(Usage(input_tokens=50_000, cached_input_tokens=40_000, output_tokens=2_000), e),
     (10_000 * 2.00 + 40_000 * 0.20 + 2_000 * 10.00) / M),
    # OpenAI o4-mini: $1.10 input, $0.275 cached, $4.40 output per 1M; reasoning tokens are billed as
    # output tokens (they are part of the output count).
    ("chat, reasoning tokens", "openai/o4-mini",
     lambda e: chat_cost(Usage(input_tokens=3_000, cached_input_tokens=1_000, output_tokens=5_000,
                               reasoning_tokens=4_200), e),
     (2_000 * 1.10 + 1_000 * 0.275 + 5_000 * 4.40) / M),
    # OpenAI text-embedding-3-small: $0.02 per 1M tokens.
    ("embeddings", "openai/text-embedding-3-small",
     lambda e: chat_cost(Usage(input_tokens=250_000), e), 250_000 * 0.02 / M),
    # OpenAI tts-1: $15 per 1M characters.
    ("speech, characters", "openai/tts-1", lambda e: speech_cost(4_096, e), 4_096 * 15.00 / M),
    # OpenAI whisper-1: $0.006 per minute.
    ("transcription, per minute", "openai/whisper-1",
     lambda e: transcription_cost(95.0, None, e), 95.0 / 60 * 0.006),
    # OpenAI gpt-4o-transcribe, token-priced: $6 per 1M audio input tokens, $10 per 1M text output tokens
    # (OpenAI's pricing table, as quoted in openai-cookbook's realtime transcription notebook).
    ("transcription, tokens", "openai/gpt-4o-transcribe",
     lambda e: transcription_cost(95.0, Usage(input_tokens=1_500, output_tokens=320), e),
     (1_500 * 6.00 + 320 * 10.00) / M),
    # OpenAI Sora 2 (per second of video): sora-2 $0.10; sora-2-pro $0.30 at 720p, $0.50 at 1024x1792/1792x1024.
    ("video, per second", "openai/sora-2", lambda e: video_cost(8, "1280x720", e), 8 * 0.10),
    ("video, pro 720p", "openai/sora-2-pro", lambda e: video_cost(12, "720x1280", e), 12 * 0.30),
    ("video, pro size-specific rate", "openai/sora-2-pro", lambda e: video_cost(12, "1792x1024", e), 12 * 0.50),
    # Together prices its video models per generation; google/veo-3.0 at $3.20 a video is migration 0013's
    # figure, itself marked an estimate there (no Together price list was reachable).
    ("video, per video", "together/google/veo-3.0", lambda e: video_cost(8, "1280x720", e), 3.20),
    # OpenAI DALL·E 3 per image: 1024x1024 standard $0.040, 1792x1024 HD $0.120.
    ("image, standard", "openai/dall-e-3", lambda e: image_cost(2, "1024x1024", "standard", e), 2 * 0.040),
    ("image, hd wide", "openai/dall-e-3", lambda e: image_cost(1, "1792x1024", "hd", e), 0.120),
]


@pytest.mark.parametrize(("case", "model_id", "bill", "expected"), PRICED, ids=[c[0] for c in PRICED])
def test_documented_price(catalog, case, model_id, bill, expected):
    cost = bill(catalog[model_id])
    assert cost.status == "priced" and cost.note is None
    assert cost.usd == pytest.approx(expected, rel=1e-9, abs=1e-12)


UNPRICED = [
    # DALL·E 3 makes no 512x512 images: the catalog has no price, and the row says which one is missing.
    ("image, unpriced size", "openai/dall-e-3", lambda e: image_cost(1, "512x512", "standard", e),
     "no image price for 512x512/standard"),
    ("model outside the catalog", None, lambda e: chat_cost(Usage(input_tokens=10), e), "model not in the catalog"),
    ("no per-character price", "openai/gpt-4o-mini", lambda e: speech_cost(100, e),
     "catalog has no per-character price for openai/gpt-4o-mini"),
]


@pytest.mark.parametrize(("case", "model_id", "bill", "note"), UNPRICED, ids=[c[0] for c in UNPRICED])
def test_no_price_is_unpriced_with_the_reason(catalog, case, model_id, bill, note):
    cost = bill(catalog[model_id] if model_id else None)
    assert (cost.usd, cost.status, cost.note) == (None, "unpriced", note)


# Workers AI (developers.cloudflare.com/workers-ai/platform/pricing): 10,000 neurons a day free, then
# $0.011 per 1,000 neurons; @cf/meta/llama-3.3-70b-instruct-fp8-fast uses 26,668 neurons per 1M input
# tokens and 204,805 per 1M output tokens.
LLAMA = "workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
FREE_PER_DAY = 10_000
USD_PER_NEURON = 0.011 / 1_000
INPUT_TOKENS, OUTPUT_TOKENS = 20_000, 30_000
NEURONS = INPUT_TOKENS * 26_668 / M + OUTPUT_TOKENS * 204_805 / M  # 533.36 + 6,144.15 = 6,677.51

WORKERS_AI = [
    # (case, neurons already used today, expected cost, status, note)
    ("within the free allocation", 0.0, 0.0, "free", "free: within the Workers AI daily free neurons"),
    ("partly free", 5_000.0, (NEURONS - 5_000) * USD_PER_NEURON, "priced",
     f"{5_000:.6g} of {round(NEURONS, 4):.6g} neurons free (Workers AI daily allocation)"),
    ("wholly billed", 12_000.0, NEURONS * USD_PER_NEURON, "priced", None),
]


@pytest.mark.parametrize(("case", "used", "expected", "status", "note"), WORKERS_AI, ids=[c[0] for c in WORKERS_AI])
def test_workers_ai_neurons_against_the_free_allocation(db, catalog, case, used, expected, status, note):
    day = "2026-11-27"
    if used:
        asyncio.run(db.query("INSERT INTO neuron_usage (day, model_id, neurons, requests) VALUES (?, ?, ?, 1)",
                             (day, "workers-ai/@cf/other", used)))
    entry = catalog[LLAMA]
    row = {"request_id": "req_wai", "created_at": f"{day} 10:00:00.000", "endpoint": "chat", "status": "success",
           "provider_id": "workers-ai", "model_id": LLAMA, "key_id": "k1", "stream": 0, "attempts": 1,
           "input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS, "cached_input_tokens": 0,
           "reasoning_tokens": 0, accounting.NEURON_ENTRY: entry}
    accounting.charge(row, chat_cost(Usage(input_tokens=INPUT_TOKENS, output_tokens=OUTPUT_TOKENS), entry), entry)
    asyncio.run(accounting.write_rows(db, [row], daily_free_neurons=FREE_PER_DAY))
    stored = asyncio.run(db.query("SELECT neurons, cost_usd, cost_status, cost_note FROM usage_log", ())).rows[0]
    assert stored["neurons"] == pytest.approx(NEURONS, abs=1e-4)
    assert stored["cost_usd"] == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert (stored["cost_status"], stored["cost_note"]) == (status, note)
    # Budgets count only what is billed: the key's spend counter holds the billed part.
    spent = asyncio.run(db.query("SELECT spent_usd FROM spend_counters WHERE subject = 'key:k1' AND period = ?",
                                 (day,))).rows
    assert [r["spent_usd"] for r in spent] == ([pytest.approx(expected, rel=1e-6)] if expected else [])


def test_a_batch_uses_up_the_free_neurons_in_order(db, catalog):
    """Two calls in one batch with 3,000 free neurons left: the first is free, the second pays past them."""
    day = "2026-11-27"
    asyncio.run(db.query("INSERT INTO neuron_usage (day, model_id, neurons, requests) VALUES (?, ?, 7000, 1)",
                         (day, LLAMA)))
    entry = catalog[LLAMA]
    rows = []
    for n, output in enumerate((10_000, 10_000)):  # 2,048.05 neurons each
        row = {"request_id": f"req_{n}", "created_at": f"{day} 10:00:0{n}.000", "endpoint": "chat",
               "status": "success", "provider_id": "workers-ai", "model_id": LLAMA, "stream": 0, "attempts": 1,
               "input_tokens": 0, "output_tokens": output, "cached_input_tokens": 0, "reasoning_tokens": 0,
               accounting.NEURON_ENTRY: entry}
        rows.append(accounting.charge(row, chat_cost(Usage(output_tokens=output), entry), entry))
    asyncio.run(accounting.write_rows(db, rows, daily_free_neurons=FREE_PER_DAY))
    stored = {r["request_id"]: r for r in asyncio.run(db.query("SELECT * FROM usage_log", ())).rows}
    each = 10_000 * 204_805 / M
    assert (stored["req_0"]["cost_status"], stored["req_0"]["cost_usd"]) == ("free", 0.0)
    assert stored["req_1"]["cost_status"] == "priced"
    assert stored["req_1"]["cost_usd"] == pytest.approx((each - (3_000 - each)) * USD_PER_NEURON, rel=1e-6)
    day_total = asyncio.run(db.query("SELECT neurons FROM neuron_usage WHERE day = ? AND model_id = ?", (day, LLAMA)))
    assert day_total.rows[0]["neurons"] == pytest.approx(7_000 + 2 * each, abs=1e-3)


def test_a_failed_workers_ai_call_counts_its_neurons_but_costs_nothing(db, catalog):
    entry = catalog[LLAMA]
    row = {"request_id": "req_err", "created_at": "2026-11-27 10:00:00.000", "endpoint": "chat", "status": "error",
           "provider_id": "workers-ai", "model_id": LLAMA, "stream": 1, "attempts": 1, "input_tokens": 1_000,
           "output_tokens": 500, "cached_input_tokens": 0, "reasoning_tokens": 0, accounting.NEURON_ENTRY: entry}
    accounting.unbilled(row)
    asyncio.run(accounting.write_rows(db, [row], daily_free_neurons=0))
    stored = asyncio.run(db.query("SELECT neurons, cost_usd, cost_status, cost_note FROM usage_log", ())).rows[0]
    assert stored["neurons"] == pytest.approx((1_000 * 26_668 + 500 * 204_805) / M, abs=1e-4)
    assert (stored["cost_usd"], stored["cost_status"], stored["cost_note"]) == (0.0, "none", "failed: only success is billed")


def test_a_cost_that_is_not_priced_must_say_why():
    with pytest.raises(ValueError):
        accounting.charge({}, accounting.Cost(None, "unpriced"), None)


def test_tags_go_to_usage_tags_for_the_request_row_only(db):
    base = {"created_at": "2026-11-27 10:00:00.000", "endpoint": "chat", "status": "success", "stream": 0,
            "attempts": 1, "input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0,
            "tags": json.dumps({"app": "checkout", "end_user": "u,42"})}
    own = accounting.charge({**base, "request_id": "req_t"}, accounting.Cost(0.001, "priced"), None)
    attempt = accounting.unbilled({**base, "request_id": "req_t.1", "attempt_of": "req_t", "status": "error"},
                                  "failed attempt: not billed (see attempt_of)")
    asyncio.run(accounting.write_rows(db, [attempt, own]))
    tags = asyncio.run(db.query("SELECT request_id, tag_key, tag_value FROM usage_tags ORDER BY tag_key", ())).rows
    assert tags == [{"request_id": "req_t", "tag_key": "app", "tag_value": "checkout"},
                    {"request_id": "req_t", "tag_key": "end_user", "tag_value": "u,42"}]
