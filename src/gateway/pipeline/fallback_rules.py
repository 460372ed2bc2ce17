"""Which fallback chain applies to a failed attempt (docs/fallbacks.md): the rules, their defaults, the
choice among them, and the isolate's cache of each org's rules. Pure apart from the one D1 query.

A rule (a `fallback_chains` row) says, for one error category and the requested models its fnmatch-style
`model_pattern` matches, which models to try next (`chain`: model ids, "auto" or "auto/<strategy>" = the
router's next candidate), whether free Workers AI is the last resort, and how many of the chain's models
may be tried (`max_attempts`). The attempt engine reads it; what it does with it is in docs/fallbacks.md.

Choosing among the rules (`select_rule`), for an org O, a category C and a requested model M:
1. Only rules of category C whose pattern matches M (`fnmatch.fnmatchcase`: case-sensitive, `*` any run of
   characters including '/', `?` one character, `[...]` a set).
2. O's own rules beat the global ones (org_id NULL): a global rule is used only when none of O's matches,
   however specific it is.
3. Among the rules left, the most specific wins, compared in this order:
   a. an exact pattern (no `*`, `?` or `[`: it can only match M itself) beats any wildcard pattern;
   b. the longer literal prefix before the first wildcard: 'openai/gpt-4o*' (13) > 'openai/*' (7) > '*' (0);
   c. the longer pattern ('openai/*-mini' beats 'openai/*');
   d. the pattern that sorts first, so the choice never depends on the order of rows.
4. `invalid_request` never has a rule: the caller's own error never falls back, even if a row says so.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from dataclasses import dataclass
from typing import Any, Sequence

from gateway.errors import ErrorCategory
from gateway.pipeline.strategies import STRATEGIES
from gateway.ports import Clock, Database, DatabaseError
from gateway.settings import MAX_CACHE_SECONDS
from gateway.storage import fallback_chains as chains_sql
from gateway.ttl_cache import TtlCache

log = logging.getLogger("gateway.fallback")

CATEGORIES = tuple(category.value for category in ErrorCategory)
NEVER_FALLS_BACK = ErrorCategory.INVALID_REQUEST.value
AUTO = "auto"
_WILDCARDS = "*?["


@dataclass(frozen=True, slots=True)
class ChainRule:
    id: str
    org_id: str | None
    error_type: str
    model_pattern: str
    chain: tuple[str, ...]
    allow_workers_ai: bool
    max_attempts: int


# The global defaults, the same as migrations/0020_routing.sql seeds (a test asserts it): used when D1 cannot
# be read, so a database outage falls back exactly as a healthy database would.
# (category, chain, allow_workers_ai, max_attempts)
_DEFAULTS: tuple[tuple[str, tuple[str, ...], bool, int], ...] = (
    ("rate_limit", (), True, 3),
    ("server_error", (), True, 3),
    ("timeout", (), True, 3),
    ("model_not_found", (), True, 3),
    ("auth", (), True, 3),
    ("quota_exceeded", (), True, 3),
    ("context_length", (AUTO,), True, 2),   # the router's next candidate with a larger window
    ("content_filter", (), False, 1),       # another model is a policy decision: orgs opt in
)
DEFAULT_RULES: tuple[ChainRule, ...] = tuple(
    ChainRule(f"default-{category}", None, category, "*", chain, allow, attempts)
    for category, chain, allow, attempts in _DEFAULTS
)


def is_auto(entry: str) -> bool:
    """A chain entry that names no model but the router's next candidate."""
    return entry == AUTO or entry.startswith(AUTO + "/")


def valid_auto(entry: str) -> bool:
    """"auto", or "auto/<strategy>" with one of the four strategies."""
    return entry == AUTO or (entry.startswith(AUTO + "/") and entry[len(AUTO) + 1:] in STRATEGIES)


def _specificity(pattern: str) -> tuple[bool, int, int]:
    first = min((i for i in (pattern.find(c) for c in _WILDCARDS) if i != -1), default=-1)
    if first == -1:
        return (True, len(pattern), len(pattern))
    return (False, first, len(pattern))


def _most_specific(rules: list[ChainRule]) -> ChainRule | None:
    if not rules:
        return None
    best = max(_specificity(rule.model_pattern) for rule in rules)
    return min((rule for rule in rules if _specificity(rule.model_pattern) == best),
               key=lambda rule: rule.model_pattern)


def select_rule(rules: Sequence[ChainRule], org_id: str | None, category: str, model_id: str) -> ChainRule | None:
    """The rule for this org, category and requested model (the order in the module docstring); None: no
    rule applies (and always for invalid_request)."""
    if category == NEVER_FALLS_BACK:
        return None
    matching = [rule for rule in rules
                if rule.error_type == category and fnmatch.fnmatchcase(model_id, rule.model_pattern)]
    if org_id is not None:
        chosen = _most_specific([rule for rule in matching if rule.org_id == org_id])
        if chosen is not None:
            return chosen
    return _most_specific([rule for rule in matching if rule.org_id is None])


def rule_of(row: dict[str, Any]) -> ChainRule | None:
    """A row as a rule; None (logged) for a row whose chain is not a JSON list of strings (a hand edit)."""
    try:
        chain = json.loads(row["chain"])
    except (TypeError, ValueError):
        chain = None
    if not isinstance(chain, list) or not all(isinstance(entry, str) for entry in chain):
        log.warning("fallback chain %s ignored: its chain is not a JSON list of model ids", row.get("id"))
        return None
    return ChainRule(
        id=row["id"], org_id=row["org_id"], error_type=row["error_type"], model_pattern=row["model_pattern"],
        chain=tuple(chain), allow_workers_ai=bool(row["allow_workers_ai"]), max_attempts=int(row["max_attempts"]),
    )


class ChainRules:
    """Each org's rules (its rows and the global ones, one query), kept for `ttl_seconds` in the isolate.
    An admin write in this isolate calls `invalidate`, so it applies here at once (elsewhere within the TTL)."""

    def __init__(self, database: Database, clock: Clock, ttl_seconds: float) -> None:
        self._db = database
        self._clock = clock
        self._cache: TtlCache[str | None, tuple[ChainRule, ...]] = TtlCache(ttl_seconds)
        self._generation = 0  # bumped by invalidate: a read that started before it is not cached

    async def for_org(self, org_id: str | None) -> tuple[ChainRule, ...]:
        now = self._clock.monotonic()
        cached = self._cache.get(org_id, now)
        if cached is not None:
            return cached
        generation = self._generation
        try:
            rows = await chains_sql.rules_for_org(self._db, org_id)
        except DatabaseError as exc:
            # Fail open: the built-in defaults, not cached, so the next request asks D1 again.
            log.warning("fallback chains unreadable (%s); using the built-in defaults", exc)
            return DEFAULT_RULES
        rules = tuple(rule for rule in map(rule_of, rows) if rule is not None)
        if generation == self._generation:
            self._cache.put(org_id, rules, now)
        return rules

    def invalidate(self) -> None:
        self._generation += 1
        self._cache.clear()


_RULES: dict[int, tuple[Any, ChainRules]] = {}


def rules_for(ports: Any, settings: Any) -> ChainRules:
    """The one ChainRules of these ports (an isolate has one Ports; tests build one per gateway), shared by
    the attempt engine and the admin API without threading it through constructors (as health.monitor_for).
    The TTL is the catalog's cache time, at most 60 s."""
    entry = _RULES.get(id(ports))
    if entry is None or entry[0] is not ports:
        ttl = min(settings.catalog_cache_seconds, MAX_CACHE_SECONDS)
        entry = (ports, ChainRules(ports.database, ports.clock, ttl))
        _RULES[id(ports)] = entry
    return entry[1]
