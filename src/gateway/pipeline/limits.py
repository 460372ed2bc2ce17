"""Daily request limits: the caller's tier limit and its key's own `requests_per_day`, counted atomically
in D1 (one upsert per request that answers the new counts), so across isolates exactly `limit` requests
of a day get through. Fail-open: when D1 cannot count, the request goes through, logged and counted.

Subjects: a key's own limit counts on 'key:<id>'; the tier's limit counts per person — 'user:<id>' (more
keys do not buy more requests), else 'org:<id>' for an org's app key, else 'key:<id>'. Both counters
move in the same statement. A tier without a limit (business: pay as you go) writes no counter: the
usage log meters it. Refused requests count too (they are requests), so a counter may pass its limit.
"""

from __future__ import annotations

import logging

from gateway.errors import GatewayError
from gateway.pipeline.context import Caller, RequestContext
from gateway.ports import DatabaseError, Ports
from gateway.settings import Settings
from gateway.storage import counters
from gateway.timefmt import utc_text
from gateway.ttl_cache import TtlCache
from gateway.pipeline.periods import seconds_to_next_day, utc_day

log = logging.getLogger("gateway.limits")

# Listing the catalog is no model work: it costs nothing and is not counted.
UNCOUNTED_ENDPOINTS = frozenset({"models"})
FAIL_OPEN_EVENT = "rate_limiter_fail_open"


class DailyLimitExceeded(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "daily_request_limit_exceeded"


def tier_subject(caller: Caller) -> str:
    if caller.user_id is not None:
        return f"user:{caller.user_id}"
    if caller.org_id is not None:
        return f"org:{caller.org_id}"
    return f"key:{caller.key_id}"


class TierTable:
    """The `tiers` rows (daily request limit, monthly budget), read from D1 at most every
    `cache_seconds` (≤ 60) per isolate, so an edited tier applies within that time."""

    def __init__(self, ports: Ports, cache_seconds: float) -> None:
        self._db = ports.database
        self._clock = ports.clock
        self._cache: TtlCache[str, dict[str, tuple[int | None, float | None]]] = TtlCache(cache_seconds, max_entries=1)

    async def get(self, *, fresh: bool = False) -> dict[str, tuple[int | None, float | None]]:
        now = self._clock.monotonic()
        tiers = None if fresh else self._cache.get("tiers", now)
        if tiers is None:
            tiers = await counters.tier_limits(self._db)
            self._cache.put("tiers", tiers, now)
        return tiers

    async def daily_limit(self, tier_id: str | None) -> int | None:
        """A tier added since the cache was filled is read at once; a tier that does not exist is held to
        'free' (never unlimited by mistake)."""
        tiers = await self.get()
        if tier_id is not None and tier_id not in tiers:
            tiers = await self.get(fresh=True)
        limit, _ = tiers.get(tier_id or "free") or tiers.get("free", (None, None))
        return limit


class RequestLimiter:
    def __init__(self, ports: Ports, settings: Settings, tiers: TierTable) -> None:
        self._ports = ports
        self._tiers = tiers
        self.fail_open_count = 0  # in this isolate; each one is also a gateway_events row

    async def admit(self, ctx: RequestContext) -> None:
        """Count the request; raise DailyLimitExceeded past a limit. Sets the x-ratelimit-* headers."""
        caller = ctx.caller
        if caller is None or ctx.endpoint in UNCOUNTED_ENDPOINTS:
            return
        now = self._ports.clock.now()
        try:
            tier_limit = await self._tiers.daily_limit(caller.tier_id)
        except DatabaseError as exc:
            self._fail_open(caller, "tiers", exc)
            return
        limits: dict[str, int] = {}   # subject -> its limit
        names: dict[str, str] = {}    # subject -> whose limit it is, for the message
        if tier_limit is not None:
            subject = tier_subject(caller)
            limits[subject], names[subject] = int(tier_limit), f"the '{caller.tier_id}' tier's limit"
        own = f"key:{caller.key_id}"
        if caller.requests_per_day is not None and caller.requests_per_day < limits.get(own, caller.requests_per_day + 1):
            limits[own], names[own] = int(caller.requests_per_day), "this gateway key's own limit"
        if not limits:
            return  # unlimited: no counter write, the usage log meters it
        reset = seconds_to_next_day(now)
        try:
            counts = await counters.count_request(self._ports.database, list(limits), utc_day(now), utc_text(now))
        except DatabaseError as exc:
            ctx.limit_headers = {"x-ratelimit-limit": str(min(limits.values())), "x-ratelimit-reset": str(reset)}
            self._fail_open(caller, "counter", exc)
            return
        # The binding limit is the one with the least left (a key's own or its tier's).
        subject = min(limits, key=lambda s: limits[s] - counts.get(s, 0))
        left = limits[subject] - counts.get(subject, 0)
        ctx.limit_headers = {
            "x-ratelimit-limit": str(limits[subject]),
            "x-ratelimit-remaining": str(max(left, 0)),
            "x-ratelimit-reset": str(reset),
        }
        if left < 0:
            raise DailyLimitExceeded(
                f"Daily request limit reached: {limits[subject]} requests a day ({names[subject]}). "
                f"It resets at 00:00 UTC, in {reset} seconds.",
                headers={"retry-after": str(reset)},
            )

    def _fail_open(self, caller: Caller, stage: str, exc: Exception) -> None:
        """Let the request through; log it (no secrets: the key's id and the error's class) and count it."""
        self.fail_open_count += 1
        log.warning("rate limiter failing open (%s, key %s): %s; %d in this isolate",
                    stage, caller.key_id, type(exc).__name__, self.fail_open_count)
        self._ports.background.defer(self._record(caller, stage, exc))

    async def _record(self, caller: Caller, stage: str, exc: Exception) -> None:
        try:
            await counters.record_event(self._ports.database, FAIL_OPEN_EVENT, f"key:{caller.key_id}",
                                        f"{stage}: {type(exc).__name__}")
        except DatabaseError:
            # D1 is failing already: the log line and the isolate's count are what is left.
            log.warning("rate limiter fail-open event could not be written")
