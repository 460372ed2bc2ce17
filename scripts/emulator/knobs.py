"""Per-request knobs and faults, shared by every provider's wire format.

A request picks a knob or a fault either by header (clients that talk to the emulator directly) or by a
marker inside any message's text (a gateway in front forwards the body, not the client's headers):

    x-emulator-fault: NAME                    [[emulator:fault=NAME]]
    x-emulator-latency-ms: N                  [[emulator:latency_ms=N]]
    x-emulator-ttft-ms: N                     [[emulator:ttft_ms=N]]
    x-emulator-chunk-interval-ms: N           [[emulator:chunk_interval_ms=N]]
    x-emulator-polls: N                       [[emulator:polls=N]]   (video jobs: final at the N-th status poll)
    x-emulator-chunks: N                      [[emulator:chunks=N]]  (N >= 1; see "Stream shape" below)
    x-emulator-cut-after: N                   [[emulator:cut_after=N]]   (with fault cut-stream)
    x-emulator-stall-after: N                 [[emulator:stall_after=N]] (with fault stall-mid-stream)
    x-emulator-stall-ms: N                    [[emulator:stall_ms=N]]    (with fault stall-mid-stream)
    x-emulator-retry-after: N                 [[emulator:retry_after=N]] (with fault 429: its Retry-After
                                              seconds, default 2; formats that send the header: OpenAI and
                                              the compatible ones, Anthropic, ElevenLabs)
    x-emulator-fault-model: NAME              [[emulator:fault_model=NAME]]  (scope: see below)
    x-emulator-fault-path: PREFIX             [[emulator:fault_path=PREFIX]] (scope: see below)

Headers win over markers. A fault value may carry a key after a colon (`500-once:abc`, `flap:abc`). Unknown
fault names, unknown knob names, bad numbers and malformed markers raise `KnobError` (the server answers
400), so a typo is visible instead of silently ignored.

Scope. `fault_model=NAME` limits the request's knobs to requests whose upstream model (the `model` of the
body, or the model in the path for Gemini and Workers AI, or `model_id` for ElevenLabs) equals NAME;
`fault_path=PREFIX` to requests whose path starts with PREFIX (e.g. `/groq`). Both given: both must match.
A request out of scope is answered as if it carried no knobs at all — no fault and no delay or stream
knob either, so a gateway that forwards the same text to a fallback model gets a healthy, prompt answer
there. Every route applies `Knobs.scoped(model, path)` once it knows the model.

Faults with state (per emulator process, per fault key: the part after the colon, else a hash of the raw
body — which differs between providers' formats, so tests that count should give a key):
- `500-once`: the first request with the key fails with a 500, every later one is answered normally.
- `flap`: the 1st, 3rd, 5th, ... request with the key fails as the format's `503` fault; the 2nd, 4th, ...
  are answered normally.

Stream shape (every chat wire format streams one word of the reply per content chunk):
- `chunks=N`: the reply (streamed or not) is exactly N words — the normal reply's words (after a
  max_tokens cut) repeated in order as often as needed and cut at N — so a stream has exactly N content
  chunks; completion tokens are N. No effect on tool calls or on an empty reply. Example: user text
  "a b", chunks=6 → words "Emulated reply to: a b" cycled → "Emulated reply to: a b Emulated".
- `cut-stream` (+ `cut_after=N`, default 3): the connection is closed after the first N content chunks
  (fewer if the reply is shorter; Gemini and Workers AI never send their last one), before any finish
  chunk, usage or end marker.
- `stall-mid-stream` (+ `stall_after=N`, default 1; `stall_ms=M`, default EmulatorConfig's 30000): the
  stream sends its head and the first N content chunks, then nothing for M ms (cut short when the client
  hangs up or the server stops), then the rest of the stream, complete. SSE streams only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MARKER = "[[emulator:"
_MARKER_RE = re.compile(r"\[\[emulator:([a-z_]+)=([^\]\s]*)\]\]")

FAULT_HEADER = "x-emulator-fault"
KNOB_HEADERS = {  # whole-number knobs
    "latency_ms": "x-emulator-latency-ms",
    "ttft_ms": "x-emulator-ttft-ms",
    "chunk_interval_ms": "x-emulator-chunk-interval-ms",
    "polls": "x-emulator-polls",
    "chunks": "x-emulator-chunks",
    "cut_after": "x-emulator-cut-after",
    "stall_after": "x-emulator-stall-after",
    "stall_ms": "x-emulator-stall-ms",
    "retry_after": "x-emulator-retry-after",
}
SCOPE_HEADERS = {  # text knobs that say which requests the others apply to
    "fault_model": "x-emulator-fault-model",
    "fault_path": "x-emulator-fault-path",
}
_AT_LEAST_ONE = frozenset({"chunks"})

# Every fault name a provider module understands. Kept here, not per provider, so a name means the same
# thing (status, timing, transport behaviour) whichever wire format carries it.
FAULTS = frozenset(
    {
        "429",
        "429-no-retry-after",
        "401",
        "500-once",
        "503",
        "reset",
        "stall",
        "slow-first-token",
        "cut-stream",
        "stall-mid-stream",
        "flap",
        "malformed-chunk",
        "no-done",
        "no-usage",  # a stream without its usage chunk, whatever stream_options asked (openai_wire)
        "context-length",
        "content-filter",
        "content-filter-finish",
        "model-not-found",
        "video-failed",
    }
)


class KnobError(ValueError):
    """A knob or fault the emulator cannot honour; answered with a 400 naming it."""


@dataclass(frozen=True, slots=True)
class Knobs:
    """What one request asked for; None means "use the server's configured default"."""

    fault: str | None = None
    fault_key: str | None = None  # the part after ':' in `500-once:abc`
    latency_ms: int | None = None
    ttft_ms: int | None = None
    chunk_interval_ms: int | None = None
    polls: int | None = None
    chunks: int | None = None
    cut_after: int | None = None
    stall_after: int | None = None
    stall_ms: int | None = None
    retry_after: int | None = None
    fault_model: str | None = None
    fault_path: str | None = None

    def scoped(self, model: str | None, path: str) -> Knobs:
        """These knobs if the request is in their scope (fault_model / fault_path), else none at all."""
        if self.fault_model is not None and model != self.fault_model:
            return NO_KNOBS
        if self.fault_path is not None and not path.startswith(self.fault_path):
            return NO_KNOBS
        return self


NO_KNOBS = Knobs()


def strip_markers(text: str) -> str:
    """The text without its markers, so an echoed reply never re-triggers a fault on the next turn."""
    if MARKER not in text:
        return text
    return " ".join(_MARKER_RE.sub(" ", text).split())


def parse_knobs(headers: Mapping[str, str] | None, texts: Iterable[str]) -> Knobs:
    """Collect knobs from markers in `texts`, then headers (which override). Cheap when there are none."""
    values: dict[str, str] = {}
    for text in texts:
        if MARKER not in text:  # the common case: one substring check per text
            continue
        found = _MARKER_RE.findall(text)
        if len(found) != text.count(MARKER):
            raise KnobError(f"malformed emulator marker in {text[:120]!r}; use [[emulator:name=value]]")
        values.update(found)
    if headers:
        fault = headers.get(FAULT_HEADER)
        if fault is not None:
            values["fault"] = fault.strip()
        for name, header in (KNOB_HEADERS | SCOPE_HEADERS).items():
            value = headers.get(header)
            if value is not None:
                values[name] = value.strip()
    if not values:
        return NO_KNOBS
    return _build(values)


def _build(values: dict[str, str]) -> Knobs:
    fault = fault_key = None
    numbers: dict[str, int] = {}
    scope: dict[str, str] = {}
    for name, value in values.items():
        if name == "fault":
            fault, _, key = value.partition(":")
            fault_key = key or None
            if fault not in FAULTS:
                known = ", ".join(sorted(FAULTS))
                raise KnobError(f"unknown emulator fault {fault!r}; known faults: {known}")
        elif name in KNOB_HEADERS:
            numbers[name] = _non_negative_int(name, value)
            if name in _AT_LEAST_ONE and numbers[name] < 1:
                raise KnobError(f"emulator knob {name} must be at least 1, got {numbers[name]}")
        elif name in SCOPE_HEADERS:
            if not value:
                raise KnobError(f"emulator knob {name} needs a value")
            if name == "fault_path" and not value.startswith("/"):
                raise KnobError(f"emulator knob fault_path must be a path starting with '/', got {value!r}")
            scope[name] = value
        else:
            known = ", ".join(["fault", *KNOB_HEADERS, *SCOPE_HEADERS])
            raise KnobError(f"unknown emulator knob {name!r}; known knobs: {known}")
    return Knobs(fault=fault, fault_key=fault_key, **numbers, **scope)


def _non_negative_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise KnobError(f"emulator knob {name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise KnobError(f"emulator knob {name} must not be negative, got {number}")
    return number
