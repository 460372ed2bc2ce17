"""Cost arithmetic: catalog prices (USD per million tokens) times what the provider reported."""

from __future__ import annotations

import json
from typing import Any, Mapping

from gateway.usage import Usage

PER_MILLION = 1_000_000.0


def chat_cost(usage: Usage, model: Mapping[str, Any] | None) -> tuple[float | None, str]:
    """(cost in USD, cost_status). Cached input tokens are part of the input count and billed at the
    cached price; reasoning tokens are part of the output count, billed at the reasoning price if the
    model has one, else at the output price."""
    if model is None or model.get("input_usd_per_mtok") is None:
        return None, "unpriced"
    input_price = model["input_usd_per_mtok"]
    output_price = model.get("output_usd_per_mtok") or 0.0
    cached_price = model.get("cached_input_usd_per_mtok")
    if cached_price is None:
        cached_price = input_price
    reasoning_price = model.get("reasoning_usd_per_mtok")
    if reasoning_price is None:
        reasoning_price = output_price

    cached = min(usage.cached_input_tokens, usage.input_tokens)
    reasoning = min(usage.reasoning_tokens, usage.output_tokens)
    cost = (
        (usage.input_tokens - cached) * input_price
        + cached * cached_price
        + (usage.output_tokens - reasoning) * output_price
        + reasoning * reasoning_price
    ) / PER_MILLION
    return round(cost, 10), "priced"


def estimate_tokens(characters: int) -> int:
    """The documented estimator for streams that end without usage: 4 characters a token, rounded up."""
    return -(-characters // 4)


def speech_cost(characters: int, model: Mapping[str, Any] | None) -> tuple[float | None, str]:
    """(cost in USD, cost_status) of a text-to-speech request: characters × the catalog's USD per
    million characters (`tts_usd_per_mchar`)."""
    if model is None or model.get("tts_usd_per_mchar") is None:
        return None, "unpriced"
    return round(characters * model["tts_usd_per_mchar"] / PER_MILLION, 10), "priced"


def image_price_keys(size: str | None, quality: str | None) -> list[str]:
    """The `image_usd` keys tried, most specific first: `<size>/<quality>`, `<size>/*`, `*/<quality>`, `*`
    (a None size or quality is `*`: the provider has no such knob or did not say; `*/*` is `*`)."""
    s, q = size or "*", quality or "*"
    keys: list[str] = []
    for key in (f"{s}/{q}", f"{s}/*", f"*/{q}", "*"):
        key = "*" if key == "*/*" else key
        if key not in keys:
            keys.append(key)
    return keys


def image_cost(images: int, size: str | None, quality: str | None, model: Mapping[str, Any] | None) -> tuple[float | None, str]:
    """(cost in USD, cost_status) of an image request: images × the model's price per image for that size
    and quality. `image_usd` is a JSON object of USD per image keyed `<width>x<height>/<quality>`
    ("1024x1024/standard", "1536x1024/high"), where either part may be `*` (any); the first key of
    `image_price_keys` found prices it. No key matches (a size or quality the catalog has no price for,
    such as gpt-image's `auto` when the answer does not say what it chose): 'unpriced', never a guess."""
    prices = _image_prices(model)
    if prices is None:
        return None, "unpriced"
    for key in image_price_keys(size, quality):
        price = prices.get(key)
        if isinstance(price, (int, float)) and not isinstance(price, bool):
            return round(images * float(price), 10), "priced"
    return None, "unpriced"


def _image_prices(model: Mapping[str, Any] | None) -> dict[str, Any] | None:
    raw = model.get("image_usd") if model else None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None


def video_cost(seconds: int, size: str | None, model: Mapping[str, Any] | None) -> tuple[float | None, str]:
    """(cost in USD, cost_status) of a finished video job: the catalog's `video_usd_per_video` when the
    model is priced per video (Together), else seconds × the catalog's USD per second — the size's own
    rate when `video_usd_by_size` lists it (sora-2-pro's 1024p sizes, grok-imagine-video's 720p sizes),
    else `video_usd_per_second`. (A cost the provider reported is used before this: `video_jobs.usage_row`.)"""
    if model is None:
        return None, "unpriced"
    per_video = model.get("video_usd_per_video")
    if isinstance(per_video, (int, float)) and not isinstance(per_video, bool):
        return round(float(per_video), 10), "priced"
    rate = model.get("video_usd_per_second")
    by_size = model.get("video_usd_by_size")
    if by_size and size:
        try:
            sizes = json.loads(by_size) if isinstance(by_size, str) else by_size
        except ValueError:
            sizes = {}
        if isinstance(sizes, dict) and isinstance(sizes.get(size), (int, float)):
            rate = sizes[size]
    if rate is None:
        return None, "unpriced"
    return round(seconds * rate, 10), "priced"


def transcription_cost(seconds: float, usage: Usage | None, model: Mapping[str, Any] | None) -> tuple[float | None, str]:
    """(cost in USD, cost_status) of a transcription: the provider's token counts × the model's token
    prices when it reported tokens and the catalog has them (gpt-4o-*-transcribe, Gemini), else
    minutes of audio × `stt_usd_per_minute`."""
    if model is None:
        return None, "unpriced"
    if usage is not None and model.get("input_usd_per_mtok") is not None:
        return chat_cost(usage, model)
    if model.get("stt_usd_per_minute") is None:
        return None, "unpriced"
    return round(seconds / 60.0 * model["stt_usd_per_minute"], 10), "priced"
