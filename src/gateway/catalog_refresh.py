"""Price refresh from a public catalog file: parse LiteLLM's `model_prices_and_context_window.json` or
models.dev's `api.json` into the `models` table's columns, and diff them against the gateway's catalog.
Pure transforms (no I/O): the admin route and scripts/catalog.py do the reading and the writing.

Formats (docs/catalog.md):
- LiteLLM: {"<model id, optionally '<provider>/'-prefixed>": {"litellm_provider": ..., "input_cost_per_token":
  USD per token, "output_cost_per_token", "cache_read_input_token_cost", "output_cost_per_reasoning_token",
  "max_input_tokens", "max_output_tokens", ...}}; 'sample_spec' is documentation, not a model.
- models.dev: {"<provider id>": {"id": ..., "models": {"<model id>": {"cost": {"input", "output", "cache_read",
  "reasoning"} in USD per million tokens, "limit": {"context", "output"}, ...}}}}.
Matching: the source's provider name maps to the gateway's provider id (the tables below), and the model
name (a LiteLLM key without its '<provider>/' prefix) must equal the gateway model's `upstream_name`.
A value the source does not give is no change (never a NULL written over a known price).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

SOURCES = ("litellm", "models.dev")

# The columns a model's price snapshot (model_price_history.prices) holds; a change to one bumps price_version.
PRICE_COLUMNS = (
    "input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok", "reasoning_usd_per_mtok",
    "image_usd", "tts_usd_per_mchar", "stt_usd_per_minute", "video_usd_per_second", "video_usd_by_size",
    "video_usd_per_video",
    "neurons_per_mtok_input", "neurons_per_mtok_output", "neurons_per_unit",
)
LIMIT_COLUMNS = ("context_window", "max_output_tokens")

LITELLM_PROVIDERS = {
    "openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "deepseek": "deepseek", "groq": "groq",
    "xai": "xai", "perplexity": "perplexity", "together_ai": "together", "cloudflare": "workers-ai",
}
MODELS_DEV_PROVIDERS = {
    "openai": "openai", "anthropic": "anthropic", "google": "gemini", "deepseek": "deepseek", "groq": "groq",
    "xai": "xai", "perplexity": "perplexity", "togetherai": "together", "cloudflare-workers-ai": "workers-ai",
}

# LiteLLM per-token field -> column (USD per million tokens).
_LITELLM_PER_TOKEN = {
    "input_cost_per_token": "input_usd_per_mtok",
    "cache_read_input_token_cost": "cached_input_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "output_cost_per_reasoning_token": "reasoning_usd_per_mtok",
}
_MODELS_DEV_COST = {
    "input": "input_usd_per_mtok", "cache_read": "cached_input_usd_per_mtok",
    "output": "output_usd_per_mtok", "reasoning": "reasoning_usd_per_mtok",
}


class CatalogFormatError(ValueError):
    """The file is not in the format it was said to be."""


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CatalogFormatError(f"{where} is not a number: {value!r}")
    return float(value)


def _per_million(value: float | None) -> float | None:
    # Rounded so 2.5e-06 * 1e6 reads 2.5, not 2.4999999999999996.
    return None if value is None else round(value * 1_000_000, 9)


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


def _drop_none(columns: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in columns.items() if value is not None}


def parse_litellm(data: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(gateway provider id, upstream name) -> the columns this LiteLLM file gives."""
    if not isinstance(data, dict):
        raise CatalogFormatError("a LiteLLM file is a JSON object keyed by model id")
    parsed: dict[tuple[str, str], dict[str, Any]] = {}
    for key, entry in data.items():
        if key == "sample_spec" or not isinstance(entry, dict):
            continue
        source_provider = entry.get("litellm_provider")
        provider = LITELLM_PROVIDERS.get(source_provider) if isinstance(source_provider, str) else None
        if provider is None:
            continue
        name = key[len(source_provider) + 1:] if key.startswith(source_provider + "/") else key
        columns = {column: _per_million(_number(entry.get(field), f"{key}.{field}"))
                   for field, column in _LITELLM_PER_TOKEN.items()}
        columns["context_window"] = _whole(_number(entry.get("max_input_tokens"), f"{key}.max_input_tokens"))
        columns["max_output_tokens"] = _whole(_number(entry.get("max_output_tokens"), f"{key}.max_output_tokens"))
        parsed[(provider, name)] = _drop_none(columns)
    return parsed


def parse_models_dev(data: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(gateway provider id, upstream name) -> the columns this models.dev file gives."""
    if not isinstance(data, dict):
        raise CatalogFormatError("a models.dev file is a JSON object keyed by provider id")
    parsed: dict[tuple[str, str], dict[str, Any]] = {}
    for source_provider, block in data.items():
        provider = MODELS_DEV_PROVIDERS.get(source_provider)
        if provider is None:
            continue
        models = block.get("models") if isinstance(block, dict) else None
        if not isinstance(models, dict):
            raise CatalogFormatError(f"provider '{source_provider}' has no 'models' object")
        for name, entry in models.items():
            if not isinstance(entry, dict):
                raise CatalogFormatError(f"model '{source_provider}/{name}' is not an object")
            cost = entry.get("cost") or {}
            limit = entry.get("limit") or {}
            columns: dict[str, Any] = {column: _number(cost.get(field), f"{name}.cost.{field}")
                                       for field, column in _MODELS_DEV_COST.items()}
            columns["context_window"] = _whole(_number(limit.get("context"), f"{name}.limit.context"))
            columns["max_output_tokens"] = _whole(_number(limit.get("output"), f"{name}.limit.output"))
            parsed[(provider, entry.get("id") or name)] = _drop_none(columns)
    return parsed


def parse(source: str, data: Any) -> dict[tuple[str, str], dict[str, Any]]:
    if source == "litellm":
        return parse_litellm(data)
    if source == "models.dev":
        return parse_models_dev(data)
    raise CatalogFormatError(f"unknown source '{source}' (one of: {', '.join(SOURCES)})")


def _differs(old: Any, new: Any) -> bool:
    if old is None:
        return True
    return abs(float(old) - float(new)) > 1e-9


def diff(models: Iterable[Mapping[str, Any]], parsed: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per gateway model the source knows and disagrees with: {"model_id", "changes": {column: {"old", "new"}}},
    ordered by model id. Models the source lacks, and columns it leaves out, are left alone."""
    changed = []
    for model in sorted(models, key=lambda row: row["id"]):
        offered = parsed.get((model["provider_id"], model["upstream_name"]))
        if not offered:
            continue
        changes = {column: {"old": model.get(column), "new": value}
                   for column, value in offered.items() if _differs(model.get(column), value)}
        if changes:
            changed.append({"model_id": model["id"], "changes": changes})
    return changed


def touches_prices(changes: Mapping[str, Any]) -> bool:
    return any(column in PRICE_COLUMNS for column in changes)
