"""Which base URL and key serve a provider (this release: the env level)."""

from __future__ import annotations

import pytest

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.credentials import resolve_endpoint
from gateway.providers import registry
from gateway.providers.base import Endpoint
from gateway.settings import Settings

OPENAI = registry.get("openai")
COMPATIBLE = registry.get("openai_compatible")
OPENAI_ROW = {"id": "openai", "adapter": "openai", "base_url": None}


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_env_key_and_the_adapters_default_url():
    endpoint, level = resolve_endpoint(OPENAI_ROW, OPENAI, settings(OPENAI_API_KEY="sk-live"))
    assert endpoint == Endpoint(base_url="https://api.openai.com/v1", api_key="sk-live")
    assert level == "env"


def test_env_base_url_overrides_the_row_and_the_default():
    row = {**OPENAI_ROW, "base_url": "https://row.example/v1"}
    endpoint, _ = resolve_endpoint(row, OPENAI, settings(OPENAI_API_KEY="k", OPENAI_BASE_URL="http://127.0.0.1:9/v1"))
    assert endpoint.base_url == "http://127.0.0.1:9/v1"


def test_row_base_url_overrides_the_default():
    row = {**OPENAI_ROW, "base_url": "https://row.example/v1"}
    endpoint, _ = resolve_endpoint(row, OPENAI, settings(OPENAI_API_KEY="k"))
    assert endpoint.base_url == "https://row.example/v1"


@pytest.mark.parametrize("env", [{}, {"OPENAI_API_KEY": ""}])
def test_missing_key_for_a_provider_that_needs_one_names_the_setting(env):
    with pytest.raises(UpstreamError) as raised:
        resolve_endpoint(OPENAI_ROW, OPENAI, Settings.from_env(env))
    error = raised.value
    assert error.category is ErrorCategory.AUTH
    assert error.status == 502
    assert error.code == "provider_key_missing"
    assert error.provider == "openai"
    assert "OPENAI_API_KEY" in error.message


def test_keyless_custom_server():
    row = {"id": "ollama", "adapter": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1"}
    endpoint, level = resolve_endpoint(row, COMPATIBLE, settings(OPENAI_API_KEY="sk-not-for-ollama"))
    assert endpoint == Endpoint(base_url="http://127.0.0.1:11434/v1", api_key=None)
    assert level == "none"


def test_custom_server_key_uses_the_provider_id_as_env_prefix():
    row = {"id": "lm-studio", "adapter": "openai_compatible", "base_url": "http://127.0.0.1:1234/v1"}
    endpoint, level = resolve_endpoint(row, COMPATIBLE, settings(LM_STUDIO_API_KEY="lm-key"))
    assert endpoint.api_key == "lm-key"
    assert level == "env"


def test_custom_server_without_any_base_url_is_a_server_error():
    row = {"id": "vllm", "adapter": "openai_compatible", "base_url": None}
    with pytest.raises(UpstreamError) as raised:
        resolve_endpoint(row, COMPATIBLE, settings())
    assert raised.value.category is ErrorCategory.SERVER_ERROR
    assert "vllm" in raised.value.message
