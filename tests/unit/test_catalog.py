"""Resolving the model a client names to a provider and an upstream model."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import InvalidRequestError, NotFoundError
from gateway.pipeline.catalog import Catalog, CatalogCache
from gateway.ports.fakes import FakeClock
from gateway.storage.catalog import insert_custom_provider

PROVIDERS = [
    {"id": "openai", "adapter": "openai", "base_url": None},
    {"id": "ollama", "adapter": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1"},
    {"id": "lmstudio", "adapter": "openai_compatible", "base_url": "http://127.0.0.1:1234/v1"},
    {"id": "anthropic", "adapter": "no_such_adapter_yet", "base_url": None},
]


def model(provider_id: str, upstream: str, **extra) -> dict:
    return {"id": f"{provider_id}/{upstream}", "provider_id": provider_id, "upstream_name": upstream, **extra}


MODELS = [
    model("openai", "gpt-4o-mini", input_usd_per_mtok=0.15),
    model("openai", "gpt-4o"),
    model("ollama", "llama3.2"),
    model("lmstudio", "llama3.2"),
    model("ollama", "meta-llama/Llama-3.1-8B"),
    model("anthropic", "claude-sonnet-4"),
]

CATALOG = Catalog.build(PROVIDERS, MODELS)


def test_prefixed_listed_model():
    target = CATALOG.resolve("openai/gpt-4o-mini")
    assert (target.provider_id, target.adapter, target.upstream_model, target.model_id) == (
        "openai", "openai", "gpt-4o-mini", "openai/gpt-4o-mini",
    )
    assert target.catalog_entry["input_usd_per_mtok"] == 0.15


def test_unprefixed_name_offered_by_one_provider():
    target = CATALOG.resolve("gpt-4o")
    assert (target.provider_id, target.upstream_model, target.model_id) == ("openai", "gpt-4o", "openai/gpt-4o")
    assert target.catalog_entry is not None


def test_unprefixed_name_containing_a_slash():
    target = CATALOG.resolve("meta-llama/Llama-3.1-8B")
    assert (target.provider_id, target.upstream_model) == ("ollama", "meta-llama/Llama-3.1-8B")


def test_ambiguous_name_is_a_400_listing_the_choices():
    with pytest.raises(InvalidRequestError) as raised:
        CATALOG.resolve("llama3.2")
    error = raised.value
    assert error.status == 400
    assert error.code == "ambiguous_model"
    assert error.param == "model"
    assert "lmstudio/llama3.2, ollama/llama3.2" in error.message


def test_prefix_disambiguates():
    assert CATALOG.resolve("lmstudio/llama3.2").provider_id == "lmstudio"


@pytest.mark.parametrize("requested", ["gpt-9-ultra", "nosuch/gpt-4o", "openai/", "", "/gpt-4o"])
def test_unknown_model_is_a_404(requested):
    with pytest.raises(NotFoundError) as raised:
        CATALOG.resolve(requested)
    assert raised.value.status == 404
    assert raised.value.code == "model_not_found"
    assert raised.value.param == "model"


def test_unlisted_model_of_a_known_provider_is_passed_through_unpriced():
    target = CATALOG.resolve("openai/gpt-4o-2024-11-20")
    assert (target.provider_id, target.adapter, target.upstream_model, target.model_id) == (
        "openai", "openai", "gpt-4o-2024-11-20", "openai/gpt-4o-2024-11-20",
    )
    assert target.catalog_entry is None


def test_passthrough_keeps_slashes_in_the_upstream_name():
    target = CATALOG.resolve("ollama/library/qwen2.5:7b")
    assert (target.provider_id, target.upstream_model) == ("ollama", "library/qwen2.5:7b")


def test_providers_without_a_registered_adapter_are_ignored():
    assert "anthropic" not in CATALOG.providers
    for requested in ("anthropic/claude-sonnet-4", "claude-sonnet-4", "anthropic/anything"):
        with pytest.raises(NotFoundError):
            CATALOG.resolve(requested)


def test_seeded_catalog_resolves(db):
    catalog = asyncio.run(CatalogCache(db, FakeClock(), 60).get())
    target = catalog.resolve("gpt-4o-mini")
    assert target.model_id == "openai/gpt-4o-mini"
    assert target.catalog_entry["output_usd_per_mtok"] == 0.60


def test_catalog_cache_refreshes_after_its_ttl_and_on_invalidate(db):
    clock = FakeClock()
    cache = CatalogCache(db, clock, ttl_seconds=60)
    first = asyncio.run(cache.get())
    asyncio.run(insert_custom_provider(db, "ollama", "Ollama", "http://127.0.0.1:11434/v1"))

    clock.advance(59)
    assert asyncio.run(cache.get()) is first  # within the TTL the isolate keeps its copy
    with pytest.raises(NotFoundError):
        first.resolve("ollama/llama3.2")

    clock.advance(1)
    assert asyncio.run(cache.get()).resolve("ollama/llama3.2").provider_id == "ollama"

    asyncio.run(insert_custom_provider(db, "vllm", "vLLM", "http://127.0.0.1:8000/v1"))
    cache.invalidate()  # what the admin API does after adding a provider: visible at once
    assert asyncio.run(cache.get()).resolve("vllm/qwen").provider_id == "vllm"


def test_disabled_providers_and_models_are_not_offered(db):
    asyncio.run(db.query("UPDATE models SET enabled = 0 WHERE id = 'openai/gpt-4o'"))
    catalog = asyncio.run(CatalogCache(db, FakeClock(), 60).get())
    with pytest.raises(NotFoundError):
        catalog.resolve("gpt-4o")
    asyncio.run(db.query("UPDATE providers SET enabled = 0 WHERE id = 'openai'"))
    catalog = asyncio.run(CatalogCache(db, FakeClock(), 60).get())
    with pytest.raises(NotFoundError):
        catalog.resolve("openai/gpt-4o-mini")
