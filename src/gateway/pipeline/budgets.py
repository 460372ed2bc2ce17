"""USD budgets per key, user and org, daily and monthly (and a tier's monthly budget), checked before
the first upstream call on every route (EndpointPipeline.attempt, and .route for video jobs).

Spend lives in `spend_counters` ('key:<id>', 'user:<id>', 'org:<id>' × 'YYYY-MM-DD' / 'YYYY-MM'), added in
the same batch as the usage rows (accounting.py). The request path reads it with a per-isolate cache of
BUDGET_CACHE_SECONDS, and spend lands after each answer: a burst can overshoot a budget by what is in
flight plus what the cache has not seen yet.

Over budget: 402 `budget_exceeded` (type `insufficient_quota`), not 429. A budget is a spending decision,
not a request rate: waiting a few seconds does not help, and the SDKs retry 429 on their own (the openai
client retries twice) where a 402 makes them stop. The message names the budget (key / user / org / tier,
daily / monthly) and when it resets; Retry-After says the same in seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.errors import GatewayError
from gateway.pipeline.context import Caller, RequestContext
from gateway.pipeline.limits import tier_subject
from gateway.pipeline.periods import seconds_to_next_day, seconds_to_next_month, utc_day, utc_month
from gateway.ports import DatabaseError, Ports
from gateway.settings import Settings
from gateway.storage import counters
from gateway.ttl_cache import TtlCache

log = logging.getLogger("gateway.budgets")


class BudgetExceeded(GatewayError):
    status = 402
    type = "insufficient_quota"
    code = "budget_exceeded"


def _budgets(caller: Caller, stored: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """(whose, 'daily' | 'monthly', subject, USD) for every budget set on this caller."""
    key, user, org = f"key:{caller.key_id}", f"user:{caller.user_id}", f"org:{caller.org_id}"
    found = [
        ("key", "daily", key, caller.daily_budget_usd),
        ("key", "monthly", key, caller.monthly_budget_usd),
        ("user", "daily", user, stored.get("user_daily")),
        ("user", "monthly", user, stored.get("user_monthly")),
        ("org", "daily", org, stored.get("org_daily")),
        ("org", "monthly", org, stored.get("org_monthly")),
        (f"tier '{caller.tier_id}'", "monthly", tier_subject(caller), stored.get("tier_monthly")),
    ]
    return [(whose, period, subject, float(usd)) for whose, period, subject, usd in found if usd is not None]


class BudgetGuard:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._cache: TtlCache[tuple[str, str], tuple[dict[str, Any], dict[tuple[str, str], float]]] = TtlCache(
            settings.budget_cache_seconds, max_entries=10_000)

    async def check(self, ctx: RequestContext) -> None:
        """Raise BudgetExceeded when any of the caller's budgets is spent."""
        caller = ctx.caller
        if caller is None:
            return
        now = self._ports.clock.now()
        day, month = utc_day(now), utc_month(now)
        try:
            stored, spent = await self._read(caller, day, month)
        except DatabaseError as exc:
            # Spend is itself written after the answers; an unreadable counter is not a reason to stop work.
            log.warning("budgets unreadable for key %s, request allowed: %s", caller.key_id, type(exc).__name__)
            return
        for whose, period, subject, usd in _budgets(caller, stored):
            used = spent.get((subject, day if period == "daily" else month), 0.0)
            if used >= usd:
                reset = seconds_to_next_day(now) if period == "daily" else seconds_to_next_month(now)
                when = "00:00 UTC" if period == "daily" else "the 1st of next month, 00:00 UTC"
                raise BudgetExceeded(
                    f"The {whose} {period} budget of ${usd:g} is spent (${used:.6g} used). "
                    f"It resets at {when}, in {reset} seconds.",
                    headers={"retry-after": str(reset)},
                )

    async def _read(self, caller: Caller, day: str, month: str):
        cache_key = (caller.key_id, day)
        monotonic = self._ports.clock.monotonic()
        cached = self._cache.get(cache_key, monotonic)
        if cached is None:
            subjects = [f"key:{caller.key_id}"]
            subjects += [f"user:{caller.user_id}"] if caller.user_id else []
            subjects += [f"org:{caller.org_id}"] if caller.org_id else []
            cached = await counters.budgets_and_spend(
                self._ports.database, caller.user_id, caller.org_id, caller.tier_id, subjects, (day, month))
            self._cache.put(cache_key, cached, monotonic)
        return cached
