"""The smart router's ranking: `model: "auto"` / `"auto/<strategy>"` turned into an ordered list of catalog
models (docs/routing.md has every formula, unit, floor, filter and tie-break).

Pure: no I/O and no awaits (it runs in the Worker's Pyodide as it does in CPython). What it needs to know
about the world — keys, circuits, measured latency, the neuron budget, the key's policy — it asks a
`RouterView`, whose methods are synchronous and cheap; the caller builds the view from what it already
loaded for the request.

`rank` is on the path of every auto request, so what depends only on the catalog (flags, prices, the blend,
the balanced score of token models, the rows of other modalities) is computed once per catalog mapping
(`Catalog.models`, rebuilt — never edited in place — whenever the catalog reloads) and reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol

from gateway.errors import InvalidRequestError
from gateway.pipeline.cost import estimate_tokens, image_cost
from gateway.pipeline.strategies import STRATEGIES

AUTO = "auto"

PER_MILLION = 1_000_000.0
DEFAULT_OUTPUT_TOKENS = 256      # expected output of a chat request that sets no max_tokens
IMAGE_PART_TOKENS = 765          # an image part's prompt tokens: OpenAI's 1024×1024 high-detail image (85 + 4 × 170)
TOKEN_COST_FLOOR = 0.01          # USD per million tokens: the blend's floor (log10 of 0 is undefined)
UNIT_COST_FLOOR = 0.0001         # USD per unit (per Mchar, per minute, per image): the same floor, non-token
MEASURED_MIN_SAMPLES = 5         # outcomes in the health window before measured latency corrects the speed
WORKERS_AI = "workers-ai"

TOKEN_MODALITIES = frozenset({"chat", "embedding"})
UNIT_MODALITIES = frozenset({"image", "tts", "stt"})

# Why a model was excluded (the first failing check, in this order; Ranking.excluded maps id -> "<code>: detail").
DISABLED, MODALITY, VISION, TOOLS, JSON, STREAMING = "disabled", "modality", "vision", "tools", "json", "streaming"
CONTEXT, MAX_OUTPUT, MAX_COST, NOT_ALLOWED, NO_KEY, CIRCUIT_OPEN, NEURONS = (
    "context", "max_output", "max_cost", "not_allowed", "no_key", "circuit_open", "neurons")

_IMAGE_PARTS = frozenset({"image_url", "input_image"})


def parse_auto(requested: str) -> str | None:
    """None: not an auto model; "" for bare "auto" (the caller applies the key's / org's default, else
    DEFAULT_STRATEGY); else the strategy named by "auto/<strategy>"."""
    if requested == AUTO:
        return ""
    if not requested.startswith(AUTO + "/"):
        return None
    strategy = requested[len(AUTO) + 1:]
    if strategy not in STRATEGIES:
        raise InvalidRequestError(
            f"'{requested}' names no routing strategy: use 'auto' or 'auto/<strategy>' with one of "
            f"{', '.join(STRATEGIES)}.",
            param="model",
            code="invalid_strategy",
        )
    return strategy


@dataclass(frozen=True, slots=True)
class Needs:
    """What the request needs from a model."""

    modality: str                  # catalog modality: chat | embedding | image | tts | stt
    vision: bool = False
    tools: bool = False
    json: bool = False
    stream: bool = False
    prompt_tokens: int = 0         # estimate
    output_tokens: int = DEFAULT_OUTPUT_TOKENS  # expected output per choice (max_tokens if given)
    max_cost_usd: float | None = None
    min_context_window: int | None = None   # a context_length fallback needs a window strictly larger than this
    units: float = 0.0             # non-token modalities: characters (tts), estimated minutes (stt), images (image)
    size: str | None = None        # image requests: the size and quality their price depends on
    quality: str | None = None
    choices: int = 1               # chat `n`: every choice is billed its output


def max_cost_of(value: Any, param: str = "x-gateway-max-cost") -> float | None:
    """A request's ceiling on its expected cost, USD ≥ 0: the x-gateway-max-cost header's text, or the
    body's `max_cost` number (api/validation.py takes it out of the body: providers refuse unknown fields)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise InvalidRequestError(f"{param} must be a number of USD, 0 or more.", param=param, code="invalid_value")
    return number


def chat_needs(body: Mapping[str, Any]) -> Needs:
    """The needs of a validated OpenAI chat body: vision if any image part, tools if `tools`, JSON if
    `response_format` asks for json_object / json_schema, stream if `stream` is true; prompt tokens =
    estimate_tokens over the messages' text (string contents, text parts, tool-call arguments) +
    IMAGE_PART_TOKENS per image part; output = max_completion_tokens or max_tokens or 256."""
    characters = images = 0
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            characters += len(content)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                kind = part.get("type")
                if kind in _IMAGE_PARTS:
                    images += 1
                elif isinstance(part.get("text"), str):
                    characters += len(part["text"])
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                characters += len(function["arguments"])
    response_format = body.get("response_format")
    wants_json = isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema")
    n = body.get("n")
    return Needs(
        modality="chat",
        vision=images > 0,
        tools=bool(body.get("tools")),
        json=wants_json,
        stream=body.get("stream") is True,
        prompt_tokens=estimate_tokens(characters) + images * IMAGE_PART_TOKENS,
        output_tokens=body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_OUTPUT_TOKENS,
        choices=n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1,
    )


def _embedding_tokens(value: Any) -> int:
    """A string: estimate_tokens of its characters; token arrays: their length."""
    if isinstance(value, str):
        return estimate_tokens(len(value))
    if isinstance(value, list):
        if all(isinstance(item, int) for item in value):
            return len(value)
        return sum(_embedding_tokens(item) for item in value)
    return 0


def needs_for(modality: str, body: Mapping[str, Any], *, units: float | None = None) -> Needs:
    """The needs of a request to any routed endpoint. `units` is the caller's estimate where the body
    cannot say (stt: minutes of audio); it overrides what is derived from the body."""
    if modality == "chat":
        return chat_needs(body)
    if modality == "embedding":
        return Needs("embedding", prompt_tokens=_embedding_tokens(body.get("input")), output_tokens=0)
    if modality == "image":
        n = body.get("n") or 1
        return Needs("image", output_tokens=0, units=float(n if units is None else units),
                     size=body.get("size"), quality=body.get("quality"))
    if modality == "tts":
        text = body.get("input")
        derived = len(text) if isinstance(text, str) else 0
        return Needs("tts", output_tokens=0, units=float(derived if units is None else units))
    if modality == "stt":
        return Needs("stt", output_tokens=0, units=float(units or 0.0))
    raise ValueError(f"the router does not route modality {modality!r}")


class RouterView(Protocol):
    """What the router may ask about the world; all synchronous and cheap."""

    def has_key(self, provider_id: str) -> bool: ...
    def circuit_open(self, model_id: str) -> bool: ...
    def measured_ms(self, model_id: str) -> tuple[float | None, int]: ...  # (TTFT else latency EWMA, window samples)
    def neurons_fit(self, entry: dict, needs: Needs) -> bool: ...          # asked for Workers AI models only
    def allowed(self, entry: dict) -> bool: ...                            # the key's allowed_models / providers


@dataclass(frozen=True, slots=True)
class Scored:
    model_id: str
    entry: dict
    score: float                     # higher wins (cheapest: minus the expected cost; unpriced: -inf)
    quality: float                   # quality_score
    speed: float                     # the speed the strategy used (fastest: corrected by measured latency)
    cost_per_mtok: float             # blended USD / Mtok (token models) or the unit price; inf = unpriced
    expected_cost_usd: float | None  # this request's expected cost; None = unpriced


# Scored's own slot setters: `rank` builds one Scored per candidate on every auto request, and setting the
# slots directly costs a third less than the frozen dataclass's __init__ (which goes through
# object.__setattr__ once per field by name). Same fields, same order, same frozen instance.
_SCORED_SLOTS = tuple(Scored.__dict__[name].__set__ for name in Scored.__slots__)  # type: ignore[attr-defined]
_new_object = object.__new__


def _scored(model_id: str, entry: dict, score: float, quality: float, speed: float, cost_per_mtok: float,
            expected_cost_usd: float | None) -> Scored:
    scored = _new_object(Scored)
    set_id, set_entry, set_score, set_quality, set_speed, set_cost, set_expected = _SCORED_SLOTS
    set_id(scored, model_id)
    set_entry(scored, entry)
    set_score(scored, score)
    set_quality(scored, quality)
    set_speed(scored, speed)
    set_cost(scored, cost_per_mtok)
    set_expected(scored, expected_cost_usd)
    return scored


@dataclass(frozen=True, slots=True)
class Ranking:
    strategy: str
    ranked: tuple[Scored, ...]
    excluded: dict[str, str]         # model_id -> why it was excluded

    def reason(self) -> str:
        """The x-gateway-route-reason value (docs/routing.md)."""
        winner = self.ranked[0] if self.ranked else None
        runner_up = self.ranked[1] if len(self.ranked) > 1 else None
        parts = [
            f"strategy={self.strategy}",
            f"winner={winner.model_id if winner else 'none'}",
            f"score={self._score(winner)}",
            f"runner_up={runner_up.model_id if runner_up else 'none'}",
            f"runner_up_score={self._score(runner_up)}",
            f"candidates={len(self.ranked)}",
        ]
        if winner is None:
            parts.append("inputs=none")
        else:
            parts.append(f"inputs=quality:{winner.quality:.2f},speed:{winner.speed:.2f},"
                         f"cost_per_mtok:{_decimal(winner.cost_per_mtok)}")
        return "; ".join(parts)

    def _score(self, scored: Scored | None) -> str:
        if scored is None:
            return "none"
        if self.strategy == "cheapest" or not math.isfinite(scored.score):
            return _decimal(scored.score)
        return f"{scored.score:.2f}"


def _decimal(value: float) -> str:
    """Plain decimal notation (no exponent) with up to 10 decimals; 'none' for an unknown (infinite) price."""
    if math.isinf(value):
        return "-inf" if value < 0 else "none"
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def measured_speed(ms: float) -> float:
    """A measured TTFT / latency in ms on the 0–10 speed scale: 100 ms → 10, 1 s → 5, 10 s → 0."""
    return min(10.0, max(0.0, 10.0 - 5.0 * math.log10(max(ms, 1.0) / 100.0)))


def blended_cost(input_usd: float, output_usd: float) -> float:
    """USD per million tokens of a 3:1 input:output mix, floored at TOKEN_COST_FLOOR."""
    return max((3.0 * input_usd + output_usd) / 4.0, TOKEN_COST_FLOOR)


def balanced_score(quality: float, speed: float, cost: float) -> float:
    return quality * 2.0 + speed - math.log10(cost) * 2.0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# --- the per-catalog precomputation ----------------------------------------------------------------------

# One model's static facts, a plain tuple (unpacked in rank's loop, the cheapest access there is):
#   (entry, id, provider_id, is_workers_ai, vision, tools, json, streaming, window, max_output,
#    input_usd, output_usd, unit_usd, cost_per_mtok, quality, speed, balanced)
# unit_usd: USD per unit of Needs.units for tts (a character) and stt (a minute); None when unpriced, and for
#   images, which are priced per request (size, quality). cost_per_mtok: the blend, or the unit price as
#   documented (tts per Mchar); inf when unpriced, and then balanced is -inf.
_Static = tuple


def _static(entry: Mapping[str, Any]) -> _Static:
    modality = entry.get("modality")
    quality = _number(entry.get("quality_score")) or 0.0
    speed = _number(entry.get("speed_score")) or 0.0
    input_usd = _number(entry.get("input_usd_per_mtok"))
    output_usd = _number(entry.get("output_usd_per_mtok"))
    unit_usd = None
    if modality == "chat":
        cost = blended_cost(input_usd, output_usd or 0.0) if input_usd is not None else math.inf
    elif modality == "embedding":
        cost = max(input_usd, TOKEN_COST_FLOOR) if input_usd is not None else math.inf
    else:
        unit_price = _number(entry.get("tts_usd_per_mchar" if modality == "tts" else "stt_usd_per_minute"))
        cost = max(unit_price, UNIT_COST_FLOOR) if unit_price is not None else math.inf
        if unit_price is not None:  # what one unit of Needs.units costs: tts counts characters, priced per million
            unit_usd = unit_price / PER_MILLION if modality == "tts" else unit_price
    balanced = balanced_score(quality, speed, cost) if math.isfinite(cost) else -math.inf
    window = entry.get("context_window")
    max_output = entry.get("max_output_tokens")
    return (entry, entry["id"], entry.get("provider_id"), entry.get("provider_id") == WORKERS_AI,
            bool(entry.get("supports_vision")), bool(entry.get("supports_tools")), bool(entry.get("supports_json")),
            bool(entry.get("supports_streaming", True)), window if isinstance(window, int) else None,
            max_output if isinstance(max_output, int) else None, input_usd, output_usd, unit_usd, cost,
            quality, speed, balanced)


class _Prepared:
    """One catalog's enabled models by modality, and per modality the exclusions that hold whatever the
    request asks (disabled models, models of another modality), built the first time a modality is asked."""

    __slots__ = ("rows", "by_modality", "fixed_excluded")

    def __init__(self, models: Iterable[Mapping[str, Any]]) -> None:
        self.rows = list(models)
        self.by_modality: dict[str, list[_Static]] = {}
        self.fixed_excluded: dict[str, dict[str, str]] = {}
        for entry in self.rows:
            if _enabled(entry):
                self.by_modality.setdefault(entry.get("modality"), []).append(_static(entry))

    def for_modality(self, modality: str) -> tuple[list[_Static], dict[str, str]]:
        fixed = self.fixed_excluded.get(modality)
        if fixed is None:
            fixed = self.fixed_excluded[modality] = {
                entry["id"]: (f"{DISABLED}: the model is disabled in the catalog" if not _enabled(entry) else
                              f"{MODALITY}: {entry.get('modality')} model, the request needs {modality}")
                for entry in self.rows
                if not _enabled(entry) or entry.get("modality") != modality
            }
        return self.by_modality.get(modality, []), fixed


def _enabled(entry: Mapping[str, Any]) -> bool:
    return entry.get("enabled", True) not in (False, 0)


# The last few catalogs prepared (old and new around a reload). A mapping is known by identity; rows
# given as an iterable (e.g. `Catalog.models.values()`) by the identities of their rows in order. Both
# caches hold what they key on (the mapping; the rows, in _Prepared.rows), so no id can be reused by
# another object while its entry lives.
_BY_MAPPING: list[tuple[Mapping[str, Any], _Prepared]] = []
_BY_ROWS: dict[tuple[int, ...], _Prepared] = {}
_PREPARED_SLOTS = 4


def _prepared(models: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]]) -> _Prepared:
    if isinstance(models, Mapping):
        for held, prepared in _BY_MAPPING:
            if held is models:
                return prepared
        prepared = _Prepared(models.values())
        _BY_MAPPING.insert(0, (models, prepared))
        del _BY_MAPPING[_PREPARED_SLOTS:]
        return prepared
    rows = models if isinstance(models, (list, tuple)) else list(models)
    key = tuple(map(id, rows))
    prepared = _BY_ROWS.get(key)
    if prepared is None:
        prepared = _BY_ROWS[key] = _Prepared(rows)
        while len(_BY_ROWS) > _PREPARED_SLOTS:
            del _BY_ROWS[next(iter(_BY_ROWS))]
    return prepared


# --- ranking ---------------------------------------------------------------------------------------------

def _image_unit_usd(entry: Mapping[str, Any], needs: Needs) -> float | None:
    """USD per image at the request's size and quality (pipeline/cost.py's lookup); None: no such price."""
    return image_cost(1, needs.size, needs.quality, entry).usd


def rank(models: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]], needs: Needs, strategy: str,
         view: RouterView) -> Ranking:
    """Every catalog model that can serve `needs`, best first by `strategy`; every other model in
    `excluded` with the reason. `models` is the catalog's mapping (`Catalog.models`) or its rows
    (`Catalog.models.values()`); either is prepared once and reused while the same objects come back.
    Rows must not be edited in place (the catalog never does: a reload builds new ones). An empty
    ranking is legal (the caller answers the error)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown routing strategy {strategy!r}")
    statics, fixed_excluded = _prepared(models).for_modality(needs.modality)
    excluded = dict(fixed_excluded)
    token_model = needs.modality in TOKEN_MODALITIES
    image = needs.modality == "image"
    needed_window = needs.prompt_tokens + needs.output_tokens
    min_window = needs.min_context_window
    max_cost = needs.max_cost_usd
    output_tokens = needs.output_tokens * needs.choices
    keys: dict[str, bool] = {}
    scored: list[Scored] = []
    for (entry, model_id, provider_id, workers_ai, vision, tools, json_mode, streaming, window, max_output,
         input_usd, output_usd, unit_usd, cost, quality, speed, balanced) in statics:
        if needs.vision and not vision:
            excluded[model_id] = f"{VISION}: the request has an image and the model has no vision"
            continue
        if needs.tools and not tools:
            excluded[model_id] = f"{TOOLS}: the request has tools and the model has no tool calling"
            continue
        if needs.json and not json_mode:
            excluded[model_id] = f"{JSON}: the request asks for JSON and the model has no JSON mode"
            continue
        if needs.stream and not streaming:
            excluded[model_id] = f"{STREAMING}: the request streams and the model does not"
            continue
        if token_model:
            if window is not None and window < needed_window:
                excluded[model_id] = f"{CONTEXT}: context_window {window} < {needed_window} tokens needed"
                continue
            if min_window is not None and (window is None or window <= min_window):
                excluded[model_id] = f"{CONTEXT}: context_window {window if window is not None else 'unknown'} " \
                                     f"is not larger than {min_window}"
                continue
            if max_output is not None and needs.output_tokens > max_output:
                excluded[model_id] = f"{MAX_OUTPUT}: max_output_tokens {max_output} < {needs.output_tokens} requested"
                continue
            if input_usd is None:
                expected = None
            else:
                expected = (needs.prompt_tokens * input_usd + output_tokens * (output_usd or 0.0)) / PER_MILLION
        else:
            if image:
                unit_usd = _image_unit_usd(entry, needs)
                cost = max(unit_usd, UNIT_COST_FLOOR) if unit_usd is not None else math.inf
                balanced = balanced_score(quality, speed, cost) if unit_usd is not None else -math.inf
            expected = needs.units * unit_usd if unit_usd is not None else None
        if max_cost is not None and (expected is None or expected > max_cost):
            excluded[model_id] = (f"{MAX_COST}: expected cost {_decimal(expected)} USD > max_cost {_decimal(max_cost)}"
                                  if expected is not None else f"{MAX_COST}: the model is unpriced for this request")
            continue
        if not view.allowed(entry):
            excluded[model_id] = f"{NOT_ALLOWED}: the key's allowed_models / allowed_providers exclude it"
            continue
        has_key = keys.get(provider_id)
        if has_key is None:
            has_key = keys[provider_id] = view.has_key(provider_id)
        if not has_key:
            excluded[model_id] = f"{NO_KEY}: no usable key for provider {provider_id}"
            continue
        if view.circuit_open(model_id):
            excluded[model_id] = f"{CIRCUIT_OPEN}: the model's circuit is open"
            continue
        if workers_ai and not view.neurons_fit(entry, needs):
            excluded[model_id] = f"{NEURONS}: the estimate does not fit today's remaining Workers AI neurons"
            continue
        if strategy == "balanced":
            score = balanced
        elif strategy == "quality":
            score = quality
        elif strategy == "cheapest":
            score = -expected if expected is not None else -math.inf
        else:
            ms, samples = view.measured_ms(model_id)
            if ms is not None and samples >= MEASURED_MIN_SAMPLES:
                speed = 0.5 * speed + 0.5 * measured_speed(ms)
            score = speed
        scored.append(_scored(model_id, entry, score, quality, speed, cost, expected))
    scored.sort(key=_order)
    return Ranking(strategy, tuple(scored), excluded)


def _order(s: Scored) -> tuple[float, float, float, str]:
    """Higher score, then lower cost, then higher quality, then model id ascending."""
    return (-s.score, s.cost_per_mtok, -s.quality, s.model_id)
