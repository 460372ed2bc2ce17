"""Price refresh: the LiteLLM and models.dev parsers, the diff against the catalog, and applying it (the
price_version bump and its history row). The fixture files are hand-written in each source's real format."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gateway import catalog_refresh
from gateway.storage import model_catalog

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_litellm_per_token_prices_become_per_million_and_keys_lose_their_provider_prefix():
    parsed = catalog_refresh.parse("litellm", load("litellm_prices.json"))
    assert parsed[("openai", "gpt-4.1-mini")] == {
        "input_usd_per_mtok": 0.5, "cached_input_usd_per_mtok": 0.125, "output_usd_per_mtok": 2.0,
        "context_window": 1047576, "max_output_tokens": 32768,
    }
    assert parsed[("gemini", "gemini-2.5-flash")]["reasoning_usd_per_mtok"] == 2.5
    # sample_spec is documentation; bedrock is no provider the gateway has.
    assert {provider for provider, _ in parsed} == {"openai", "anthropic", "gemini"}


def test_models_dev_costs_are_already_per_million_and_providers_are_mapped():
    parsed = catalog_refresh.parse("models.dev", load("models_dev_api.json"))
    assert parsed[("openai", "gpt-4.1-nano")] == {
        "input_usd_per_mtok": 0.12, "output_usd_per_mtok": 0.48, "cached_input_usd_per_mtok": 0.03,
        "context_window": 1047576, "max_output_tokens": 32768,
    }
    assert ("gemini", "gemini-2.5-flash") in parsed  # models.dev's "google" is the gateway's "gemini"
    assert set(parsed) == {("openai", "gpt-4.1-nano"), ("gemini", "gemini-2.5-flash"), ("deepseek", "deepseek-chat")}


@pytest.mark.parametrize("source, data", [
    ("litellm", ["not", "an", "object"]),
    ("litellm", {"gpt-4.1-mini": {"litellm_provider": "openai", "input_cost_per_token": "cheap"}}),
    ("models.dev", {"openai": {"id": "openai"}}),
    ("models.dev", {"openai": {"models": {"gpt-4.1-nano": {"cost": {"input": True}}}}}),
    ("openrouter", {}),
])
def test_malformed_files_are_refused(source, data):
    with pytest.raises(catalog_refresh.CatalogFormatError):
        catalog_refresh.parse(source, data)


MODELS = [
    {"id": "openai/gpt-4.1-mini", "provider_id": "openai", "upstream_name": "gpt-4.1-mini", "input_usd_per_mtok": 0.4,
     "cached_input_usd_per_mtok": 0.1, "output_usd_per_mtok": 1.6, "reasoning_usd_per_mtok": None,
     "context_window": 1047576, "max_output_tokens": 32768},
    {"id": "anthropic/claude-haiku-4-5", "provider_id": "anthropic", "upstream_name": "claude-haiku-4-5",
     "input_usd_per_mtok": 1.0, "cached_input_usd_per_mtok": 0.1, "output_usd_per_mtok": 5.0,
     "context_window": 200000, "max_output_tokens": 64000},
]


def test_diff_lists_only_what_differs_old_to_new():
    changes = catalog_refresh.diff(MODELS, catalog_refresh.parse("litellm", load("litellm_prices.json")))
    assert changes == [{"model_id": "openai/gpt-4.1-mini", "changes": {
        "input_usd_per_mtok": {"old": 0.4, "new": 0.5},
        "cached_input_usd_per_mtok": {"old": 0.1, "new": 0.125},
        "output_usd_per_mtok": {"old": 1.6, "new": 2.0},
    }}]  # claude-haiku-4-5 has the same prices: no entry


def test_a_price_the_source_omits_is_no_change():
    parsed = {("openai", "gpt-4.1-mini"): {"output_usd_per_mtok": 1.6}}
    assert catalog_refresh.diff(MODELS, parsed) == []
    assert catalog_refresh.touches_prices({"context_window": 1}) is False
    assert catalog_refresh.touches_prices({"output_usd_per_mtok": 1}) is True


def test_applying_a_refresh_bumps_price_version_and_writes_history(db):
    async def scenario():
        parsed = catalog_refresh.parse("models.dev", load("models_dev_api.json"))
        diffs = catalog_refresh.diff(await model_catalog.all_models(db), parsed)
        by_id = {entry["model_id"]: entry["changes"] for entry in diffs}
        assert "deepseek/deepseek-chat" not in by_id  # same prices as the seed
        assert by_id["gemini/gemini-2.5-flash"] == {"cached_input_usd_per_mtok": {"old": 0.03, "new": 0.075}}
        await model_catalog.apply_refresh(db, diffs, source="models.dev")
        nano = await model_catalog.get_model(db, "openai/gpt-4.1-nano")
        history = await model_catalog.price_history(db, "openai/gpt-4.1-nano")
        again = catalog_refresh.diff(await model_catalog.all_models(db), parsed)
        return nano, history, again

    nano, history, again = asyncio.run(scenario())
    assert (nano["input_usd_per_mtok"], nano["output_usd_per_mtok"], nano["price_version"]) == (0.12, 0.48, 2)
    assert [(row["price_version"], row["source"]) for row in history] == [(1, "seed"), (2, "models.dev")]
    assert json.loads(history[-1]["prices"])["cached_input_usd_per_mtok"] == 0.03
    assert again == []  # applied: nothing left to change


def test_a_limit_only_change_keeps_the_price_version(db):
    async def scenario():
        await model_catalog.update_model(db, "openai/gpt-4.1-nano", {"context_window": 5000}, source="admin")
        return await model_catalog.get_model(db, "openai/gpt-4.1-nano"), await model_catalog.price_history(db, "openai/gpt-4.1-nano")

    nano, history = asyncio.run(scenario())
    assert (nano["context_window"], nano["price_version"], len(history)) == (5000, 1, 1)
