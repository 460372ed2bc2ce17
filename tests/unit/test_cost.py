"""Cost of a request from the seeded catalog prices (USD per million tokens, migrations/0002).

The expected figures are worked out by hand from the seed file's prices, written as the arithmetic."""

from __future__ import annotations

import asyncio

import pytest

from gateway.pipeline.cost import chat_cost, estimate_tokens
from gateway.storage.catalog import enabled_models
from gateway.usage import Usage


@pytest.fixture
def seeded(db) -> dict[str, dict]:
    return {row["id"]: row for row in asyncio.run(enabled_models(db))}


@pytest.mark.parametrize(
    ("model_id", "usage", "expected"),
    [
        # gpt-4o-mini: input 0.15, cached 0.075, output 0.60
        ("openai/gpt-4o-mini", Usage(input_tokens=1000, output_tokens=500), (1000 * 0.15 + 500 * 0.60) / 1e6),
        ("openai/gpt-4o-mini", Usage(input_tokens=1000, cached_input_tokens=400, output_tokens=200),
         (600 * 0.15 + 400 * 0.075 + 200 * 0.60) / 1e6),
        # gpt-4o: input 2.50, cached 1.25, output 10.00
        ("openai/gpt-4o", Usage(input_tokens=1_000_000, output_tokens=1_000_000), 2.50 + 10.00),
        ("openai/gpt-4o", Usage(input_tokens=12, output_tokens=7), (12 * 2.50 + 7 * 10.00) / 1e6),
        # gpt-4.1: input 2.00, cached 0.50, output 8.00 — everything cached
        ("openai/gpt-4.1", Usage(input_tokens=2048, cached_input_tokens=2048, output_tokens=10),
         (2048 * 0.50 + 10 * 8.00) / 1e6),
        # o4-mini: input 1.10, output 4.40, no reasoning price: reasoning tokens are billed as output
        ("openai/o4-mini", Usage(input_tokens=2000, output_tokens=800, reasoning_tokens=300),
         (2000 * 1.10 + 800 * 4.40) / 1e6),
        # gpt-5: input 1.25, cached 0.125, output 10.00
        ("openai/gpt-5", Usage(input_tokens=5000, cached_input_tokens=3000, output_tokens=1500, reasoning_tokens=1000),
         (2000 * 1.25 + 3000 * 0.125 + 1500 * 10.00) / 1e6),
        # gpt-5-nano: input 0.05, cached 0.005, output 0.40
        ("openai/gpt-5-nano", Usage(input_tokens=100, cached_input_tokens=50, output_tokens=20),
         (50 * 0.05 + 50 * 0.005 + 20 * 0.40) / 1e6),
        # text-embedding-3-small: input 0.02, no output price
        ("openai/text-embedding-3-small", Usage(input_tokens=8000), 8000 * 0.02 / 1e6),
        # nothing used costs nothing, and is still priced
        ("openai/gpt-4o-mini", Usage(), 0.0),
    ],
)
def test_seeded_prices(seeded, model_id, usage, expected):
    cost, status, _ = chat_cost(usage, seeded[model_id])
    assert status == "priced"
    assert cost == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_more_cached_than_input_tokens_bills_all_input_at_the_cached_price(seeded):
    # gpt-4o-mini cached 0.075: a provider over-reporting cached tokens never makes input negative.
    cost, *_ = chat_cost(Usage(input_tokens=1000, cached_input_tokens=5000), seeded["openai/gpt-4o-mini"])
    assert cost == pytest.approx(1000 * 0.075 / 1e6)


def test_more_reasoning_than_output_tokens_bills_only_the_output(seeded):
    cost, *_ = chat_cost(Usage(output_tokens=100, reasoning_tokens=400), seeded["openai/o4-mini"])
    assert cost == pytest.approx(100 * 4.40 / 1e6)


def test_a_reasoning_price_bills_reasoning_tokens_at_it():
    model = {"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 4.0, "reasoning_usd_per_mtok": 2.0}
    cost, status, _ = chat_cost(Usage(input_tokens=1000, output_tokens=1000, reasoning_tokens=600), model)
    assert status == "priced"
    assert cost == pytest.approx((1000 * 1.0 + 400 * 4.0 + 600 * 2.0) / 1e6)


def test_without_a_cached_price_cached_tokens_cost_the_input_price():
    model = {"input_usd_per_mtok": 3.0, "cached_input_usd_per_mtok": None, "output_usd_per_mtok": 15.0}
    cost, *_ = chat_cost(Usage(input_tokens=1000, cached_input_tokens=900, output_tokens=10), model)
    assert cost == pytest.approx((1000 * 3.0 + 10 * 15.0) / 1e6)


def test_a_free_model_costs_zero_and_is_priced():
    model = {"input_usd_per_mtok": 0.0, "cached_input_usd_per_mtok": 0.0, "output_usd_per_mtok": 0.0}
    assert chat_cost(Usage(input_tokens=10, output_tokens=10), model)[:2] == (0.0, "priced")


@pytest.mark.parametrize("model", [None, {"input_usd_per_mtok": None, "output_usd_per_mtok": 1.0}])
def test_a_model_without_prices_is_unpriced(model):
    assert chat_cost(Usage(input_tokens=10, output_tokens=10), model)[:2] == (None, "unpriced")


@pytest.mark.parametrize(("characters", "tokens"), [(0, 0), (1, 1), (3, 1), (4, 1), (5, 2), (8, 2), (401, 101)])
def test_token_estimate_is_four_characters_a_token_rounded_up(characters, tokens):
    assert estimate_tokens(characters) == tokens
