"""The Workers AI neuron budget: Cloudflare gives 10,000 neurons per UTC day free, then bills
$0.011 per 1,000 (developers.cloudflare.com/workers-ai/platform/pricing).

- A Workers AI call's neurons come from the model's catalog rates × what the call used: input and output
  tokens × `neurons_per_mtok_input/output` / 1e6, plus units × `neurons_per_unit` (per 1,000 characters for
  speech, per audio minute for transcription, per image). A Workers AI model with no neuron rates but a
  USD price (the catalog's USD columns are neurons × $0.011 / 1,000) gets cost_usd / $0.000011. Workers AI
  answers (REST and the binding) report tokens, not neurons, so the rates are the source.
- The neurons go on the usage row and into `neuron_usage` (day, model) in the usage batch (accounting.py).
- Before a Workers AI call its neurons are estimated — input tokens ≈ request bytes / 4, output tokens =
  the request's max_tokens, else DEFAULT_OUTPUT_TOKENS; speech: characters ≈ request bytes; transcription:
  a minute of audio per MB; images: one image — and the call is refused (429, Retry-After to 00:00 UTC)
  when the estimate does not fit what is left of WORKERS_AI_DAILY_NEURONS, unless WORKERS_AI_PAID=true.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Mapping

from gateway.errors import GatewayError
from gateway.pipeline.context import RequestContext
from gateway.pipeline.periods import seconds_to_next_day, utc_day
from gateway.ports import DatabaseError, Ports
from gateway.settings import Settings
from gateway.storage import counters
from gateway.ttl_cache import TtlCache

log = logging.getLogger("gateway.neurons")

WORKERS_AI = "workers-ai"
PAID_USD_PER_NEURON = 0.011 / 1000.0
DEFAULT_OUTPUT_TOKENS = 256      # the output estimate of a request that sets no max_tokens
BYTES_PER_AUDIO_MINUTE = 1_000_000  # ~128 kbit/s compressed audio: the transcription estimate
PER_MILLION = 1_000_000.0


class NeuronBudgetExceeded(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "neuron_budget_exceeded"


def _rate(entry: Mapping[str, Any] | None, name: str) -> float:
    value = entry.get(name) if entry else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _unit_count(units: Mapping[str, Any]) -> float:
    """How many `neurons_per_unit` units a usage row's `units` holds."""
    if "characters" in units:
        return float(units["characters"]) / 1000.0
    if "seconds" in units:
        return float(units["seconds"]) / 60.0
    if "images" in units:
        return float(units["images"])
    return 0.0


def row_neurons(row: Mapping[str, Any], entry: Mapping[str, Any] | None) -> float:
    """The neurons a finished Workers AI call used (its usage row, its catalog entry)."""
    neurons = ((row.get("input_tokens") or 0) * _rate(entry, "neurons_per_mtok_input")
               + (row.get("output_tokens") or 0) * _rate(entry, "neurons_per_mtok_output")) / PER_MILLION
    per_unit = _rate(entry, "neurons_per_unit")
    if per_unit and row.get("units"):
        try:
            units = json.loads(row["units"]) if isinstance(row["units"], str) else row["units"]
        except ValueError:
            units = {}
        if isinstance(units, dict):
            neurons += _unit_count(units) * per_unit
    if neurons == 0 and row.get("cost_usd"):
        neurons = float(row["cost_usd"]) / PAID_USD_PER_NEURON
    return round(neurons, 4)


def content_length(headers: Mapping[str, str]) -> int:
    raw = headers.get("content-length") or ""
    return int(raw) if raw.isdigit() else 0


def requested_output_tokens(body: Mapping[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def estimate(entry: Mapping[str, Any] | None, request_bytes: int, max_output_tokens: int | None) -> float:
    """The neurons a Workers AI call is expected to use, before it is made (see the module's rules)."""
    modality = entry.get("modality") if entry else None
    neurons = (request_bytes / 4.0 * _rate(entry, "neurons_per_mtok_input")
               + (max_output_tokens or DEFAULT_OUTPUT_TOKENS) * _rate(entry, "neurons_per_mtok_output")) / PER_MILLION
    per_unit = _rate(entry, "neurons_per_unit")
    if per_unit:
        units = {"tts": request_bytes / 1000.0, "stt": request_bytes / BYTES_PER_AUDIO_MINUTE}.get(modality or "", 1.0)
        neurons += units * per_unit
    return neurons


class NeuronGuard:
    """Refuses a Workers AI call whose estimate does not fit the day's remaining free neurons. The day's
    total is read from D1 at most every BUDGET_CACHE_SECONDS per isolate: calls in flight can overshoot."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._budget = settings.workers_ai_daily_neurons
        self._paid = settings.workers_ai_paid
        self._cache: TtlCache[str, float] = TtlCache(settings.budget_cache_seconds, max_entries=2)

    async def check(self, ctx: RequestContext) -> None:
        target = ctx.target
        if self._paid or target is None or target.provider_id != WORKERS_AI:
            return
        now = self._ports.clock.now()
        day = utc_day(now)
        try:
            used = await self._used(day)
        except DatabaseError as exc:
            log.warning("neuron budget unreadable, call allowed: %s", type(exc).__name__)
            return
        needed = estimate(target.catalog_entry, ctx.request_bytes, ctx.max_output_tokens)
        left = self._budget - used
        if left <= 0 or needed > left:
            reset = seconds_to_next_day(now)
            raise NeuronBudgetExceeded(
                f"The Workers AI daily neuron budget does not allow this call: {used:,.0f} of "
                f"{self._budget:,.0f} neurons used today, {max(left, 0):,.0f} left, this call needs about "
                f"{needed:,.0f}. Paid Workers AI use is not enabled on this gateway. The budget resets at "
                f"00:00 UTC, in {reset} seconds.",
                param="model", headers={"retry-after": str(reset)},
            )

    async def left(self) -> float | None:
        """Neurons left today for routing decisions; None: no limit applies (paid use, or unreadable)."""
        if self._paid:
            return None
        try:
            used = await self._used(utc_day(self._ports.clock.now()))
        except DatabaseError:
            return None
        return self._budget - used

    async def _used(self, day: str) -> float:
        monotonic = self._ports.clock.monotonic()
        used = self._cache.get(day, monotonic)
        if used is None:
            used = sum(float(row["neurons"]) for row in await counters.neurons_on(self._ports.database, day))
            self._cache.put(day, used, monotonic)
        return used
