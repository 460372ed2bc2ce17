"""Per-request knobs and faults, shared by every provider's wire format.

A request picks a knob or a fault either by header (clients that talk to the emulator directly) or by a
marker inside any message's text (a gateway in front forwards the body, not the client's headers):

    x-emulator-fault: NAME                    [[emulator:fault=NAME]]
    x-emulator-latency-ms: N                  [[emulator:latency_ms=N]]
    x-emulator-ttft-ms: N                     [[emulator:ttft_ms=N]]
    x-emulator-chunk-interval-ms: N           [[emulator:chunk_interval_ms=N]]
    x-emulator-polls: N                       [[emulator:polls=N]]   (video jobs: final at the N-th status poll)

Headers win over markers. A fault value may carry a key after a colon (`500-once:abc`). Unknown fault
names, unknown knob names, bad numbers and malformed markers raise `KnobError` (the server answers 400),
so a typo is visible instead of silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MARKER = "[[emulator:"
_MARKER_RE = re.compile(r"\[\[emulator:([a-z_]+)=([^\]\s]*)\]\]")

FAULT_HEADER = "x-emulator-fault"
KNOB_HEADERS = {
    "latency_ms": "x-emulator-latency-ms",
    "ttft_ms": "x-emulator-ttft-ms",
    "chunk_interval_ms": "x-emulator-chunk-interval-ms",
    "polls": "x-emulator-polls",
}

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
        "malformed-chunk",
        "no-done",
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
        for name, header in KNOB_HEADERS.items():
            value = headers.get(header)
            if value is not None:
                values[name] = value.strip()
    if not values:
        return NO_KNOBS
    return _build(values)


def _build(values: dict[str, str]) -> Knobs:
    fault = fault_key = None
    numbers: dict[str, int] = {}
    for name, value in values.items():
        if name == "fault":
            fault, _, key = value.partition(":")
            fault_key = key or None
            if fault not in FAULTS:
                known = ", ".join(sorted(FAULTS))
                raise KnobError(f"unknown emulator fault {fault!r}; known faults: {known}")
        elif name in KNOB_HEADERS:
            numbers[name] = _non_negative_int(name, value)
        else:
            known = ", ".join(["fault", *KNOB_HEADERS])
            raise KnobError(f"unknown emulator knob {name!r}; known knobs: {known}")
    return Knobs(fault=fault, fault_key=fault_key, **numbers)


def _non_negative_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise KnobError(f"emulator knob {name} must be a whole number of milliseconds, got {value!r}") from None
    if number < 0:
        raise KnobError(f"emulator knob {name} must not be negative, got {number}")
    return number
