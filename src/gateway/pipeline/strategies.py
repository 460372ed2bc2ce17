"""The routing strategies' names, in one place: `model: "auto/<strategy>"`, a key's or an org's
`default_strategy`, and a fallback chain's "auto/<strategy>" entries all accept exactly these
(docs/routing.md says what each one ranks by)."""

from __future__ import annotations

STRATEGIES = ("cheapest", "fastest", "quality", "balanced")
DEFAULT_STRATEGY = "balanced"  # `auto` alone, when neither the key nor its org names one
