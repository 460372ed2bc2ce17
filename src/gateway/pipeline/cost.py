"""Cost arithmetic: catalog prices (USD per million tokens) times what the provider reported.

Every function answers a `Cost`: the USD amount, the row's cost_status and, whenever the status is not
'priced', the reason (`note`, usage_log.cost_note). The notes are stable text (docs/cost.md lists them),
so they can be grouped on."""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple

from gateway.usage import Usage

PER_MILLION = 1_000_000.0

# The reasons a row carries when it has no plain price (docs/cost.md, "Cost notes").
FAILED = "failed: only success is billed"
FAILED_ATTEMPT = "failed attempt: not billed (see attempt_of)"
NOT_SENT = "not sent to a provider"
NO_USAGE = "provider reported no usage"
NOT_IN_CATALOG = "model not in the catalog"
STREAM_ESTIMATE = "estimated: stream ended without usage (4 characters a token)"
CANCELLED_ESTIMATE = "estimated: stream cancelled by the client before its usage (4 characters a token)"
TOKENS_ESTIMATE = "estimated: provider reported no token counts (4 characters a token)"
AUDIO_ESTIMATE = "estimated: audio length from the upload's size (128 kbit/s)"
FREE_NEURONS = "free: within the Workers AI daily free neurons"

# Workers AI past the daily free allocation (developers.cloudflare.com/workers-ai/platform/pricing).
WORKERS_AI_USD_PER_NEURON = 0.011 / 1000.0


class Cost(NamedTuple):
    """What a row is charged: `usd` (None: no price), `status` (usage_log.cost_status) and `note`, the
    reason a row is not plainly priced (required then; `accounting.charge` refuses a Cost without one)."""

    usd: float | None
    status: str
    note: str | None = None


def priced(usd: float) -> Cost:
    return Cost(round(usd, 10), "priced")


def unpriced(note: str) -> Cost:
    return Cost(None, "unpriced", note)


def not_billed(note: str) -> Cost:
    """A row that costs nothing because nothing billable happened (a failure, a refusal)."""
    return Cost(0.0, "none", note)


def no_price(model: Mapping[str, Any] | None, what: str = "") -> Cost:
    """'unpriced' for a model the catalog lacks, or lacks the price of (`what`: which price)."""
    if model is None:
        return unpriced(NOT_IN_CATALOG)
    return unpriced(f"catalog has no {what + ' ' if what else ''}price for {model.get('id') or 'this model'}")


def estimated(cost: Cost, note: str) -> Cost:
    """A price computed from estimated units: 'estimated' with the estimator named (an unpriced cost stays)."""
    return Cost(cost.usd, "estimated", note) if cost.status == "priced" else cost


def chat_cost(usage: Usage, model: Mapping[str, Any] | None) -> Cost:
    """The cost of a chat (or embeddings) call. Cached input tokens are part of the input count and billed at the
    cached price; reasoning tokens are part of the output count, billed at the reasoning price if the
    model has one, else at the output price."""
    if model is None or model.get("input_usd_per_mtok") is None:
        return no_price(model)
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
    return priced(cost)


def estimate_tokens(characters: int) -> int:
    """The documented estimator for streams that end without usage: 4 characters a token, rounded up."""
    return -(-characters // 4)


def speech_cost(characters: int, model: Mapping[str, Any] | None) -> Cost:
    """The cost of a text-to-speech request: characters × the catalog's USD per
    million characters (`tts_usd_per_mchar`)."""
    if model is None or model.get("tts_usd_per_mchar") is None:
        return no_price(model, "per-character")
    return priced(characters * model["tts_usd_per_mchar"] / PER_MILLION)


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


def image_cost(images: int, size: str | None, quality: str | None, model: Mapping[str, Any] | None) -> Cost:
    """The cost of an image request: images × the model's price per image for that size
    and quality. `image_usd` is a JSON object of USD per image keyed `<width>x<height>/<quality>`
    ("1024x1024/standard", "1536x1024/high"), where either part may be `*` (any); the first key of
    `image_price_keys` found prices it. No key matches (a size or quality the catalog has no price for,
    such as gpt-image's `auto` when the answer does not say what it chose): 'unpriced', never a guess."""
    prices = _image_prices(model)
    if prices is None:
        return no_price(model, "image")
    for key in image_price_keys(size, quality):
        price = prices.get(key)
        if isinstance(price, (int, float)) and not isinstance(price, bool):
            return priced(images * float(price))
    return unpriced(f"no image price for {size or '*'}/{quality or '*'}")


def _image_prices(model: Mapping[str, Any] | None) -> dict[str, Any] | None:
    raw = model.get("image_usd") if model else None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None


def video_cost(seconds: int, size: str | None, model: Mapping[str, Any] | None) -> Cost:
    """The cost of a finished video job: the catalog's `video_usd_per_video` when the
    model is priced per video (Together), else seconds × the catalog's USD per second — the size's own
    rate when `video_usd_by_size` lists it (sora-2-pro's 1024p sizes, grok-imagine-video's 720p sizes),
    else `video_usd_per_second`. (A cost the provider reported is used before this: `video_jobs.usage_row`.)"""
    if model is None:
        return no_price(model)
    per_video = model.get("video_usd_per_video")
    if isinstance(per_video, (int, float)) and not isinstance(per_video, bool):
        return priced(float(per_video))
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
        return no_price(model, "video")
    return priced(seconds * rate)


def transcription_cost(seconds: float, usage: Usage | None, model: Mapping[str, Any] | None) -> Cost:
    """The cost of a transcription: the provider's token counts × the model's token
    prices when it reported tokens and the catalog has them (gpt-4o-*-transcribe, Gemini), else
    minutes of audio × `stt_usd_per_minute`."""
    if model is None:
        return no_price(model)
    if usage is not None and model.get("input_usd_per_mtok") is not None:
        return chat_cost(usage, model)
    if model.get("stt_usd_per_minute") is None:
        return no_price(model, "per-minute")
    return priced(seconds / 60.0 * model["stt_usd_per_minute"])


def neuron_cost(neurons: float, free_left: float, before: Cost) -> Cost:
    """A Workers AI call's cost: its neurons within what is left of the day's free allocation cost nothing,
    the rest WORKERS_AI_USD_PER_NEURON each. Wholly free: 'free'. Else 'priced' (or 'estimated', when
    `before`, the catalog cost of estimated usage, was), the note saying how many neurons were free."""
    free = min(neurons, max(free_left, 0.0))
    billed = neurons - free
    if billed <= 0:
        return Cost(0.0, "free", FREE_NEURONS)
    was_estimated = before.status == "estimated"
    notes = [before.note] if was_estimated and before.note else []
    if free > 0:
        notes.append(f"{free:.6g} of {neurons:.6g} neurons free (Workers AI daily allocation)")
    return Cost(round(billed * WORKERS_AI_USD_PER_NEURON, 10), "estimated" if was_estimated else "priced",
                "; ".join(notes) or None)
