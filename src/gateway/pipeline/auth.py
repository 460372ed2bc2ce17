"""Authenticate the gateway key: `Authorization: Bearer <key>` or `x-api-key: <key>`."""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Mapping

from gateway.errors import AuthenticationError
from gateway.pipeline.context import Caller
from gateway.ports import Background, Clock, Database, DatabaseError
from gateway.storage import keys
from gateway.timefmt import utc_text
from gateway.ttl_cache import TtlCache

log = logging.getLogger("gateway.auth")

MAX_CACHE_SECONDS = 60.0  # a revocation reaches every isolate within this, whatever KEY_CACHE_SECONDS says


def extract_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    api_key = headers.get("x-api-key")
    return api_key.strip() if api_key and api_key.strip() else None


@dataclass(frozen=True, slots=True)
class _Cached:
    caller: Caller
    status: str
    expires_at: str | None


class KeyAuthenticator:
    """Looks keys up by prefix and hash (storage/keys.py); valid answers are cached briefly in the isolate
    (a revocation wins within `cache_seconds`, at most 60, and at once in the isolate that revoked).

    `last_used_at` is written off the request path: a key's first use per cache period in this isolate
    queues its id, and one UPDATE per batch runs on the Background port, so it is exact to the cache period."""

    def __init__(
        self, database: Database, clock: Clock, cache_seconds: float, background: Background | None = None
    ) -> None:
        self._db = database
        self._clock = clock
        self._background = background
        self._cache: TtlCache[str, _Cached] = TtlCache(min(cache_seconds, MAX_CACHE_SECONDS), max_entries=10_000)
        self._used: set[str] = set()

    async def authenticate(self, raw_key: str | None) -> Caller:
        if raw_key is None:
            raise AuthenticationError(
                "Missing gateway key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
                code="missing_api_key",
            )
        key_hash = keys.hash_key(raw_key)
        now = self._clock.now()
        entry = self._cache.get(key_hash, now)
        if entry is None:
            record = await keys.find_by_key(self._db, raw_key)
            if record is None:
                raise AuthenticationError("Invalid gateway key.")
            entry = _Cached(_caller(record), record.status, record.expires_at)
            self._cache.put(key_hash, entry, now)
            if record.status == "active":
                self._note_use(record.id)
        if entry.status != "active":
            raise AuthenticationError("This gateway key has been revoked.", code="revoked_api_key")
        if entry.expires_at is not None and entry.expires_at <= utc_text(now):
            raise AuthenticationError("This gateway key has expired.", code="expired_api_key")
        return entry.caller

    def forget(self, raw_key_hash: str) -> None:
        self._cache.pop(raw_key_hash)

    def _note_use(self, key_id: str) -> None:
        if self._background is None:
            return
        self._used.add(key_id)
        if len(self._used) == 1:
            self._background.defer(self._write_last_used())

    async def _write_last_used(self) -> None:
        used, self._used = sorted(self._used), set()
        try:
            await keys.touch(self._db, used, utc_text(self._clock.now()))
        except DatabaseError:
            log.warning("last_used_at of %d key(s) could not be written", len(used))


def _caller(record: keys.KeyRecord) -> Caller:
    return Caller(
        key_id=record.id, user_id=record.user_id, org_id=record.org_id, tier_id=record.tier_id,
        requests_per_day=record.requests_per_day, daily_budget_usd=record.daily_budget_usd,
        monthly_budget_usd=record.monthly_budget_usd,
        allowed_models=_names(record.allowed_models), allowed_providers=_names(record.allowed_providers),
        default_strategy=record.default_strategy,
    )


def _names(stored: str | None) -> tuple[str, ...] | None:
    """A key's JSON list of allowed names (NULL or unreadable: no restriction is None; a list is kept)."""
    if stored is None:
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return ()  # a corrupt restriction allows nothing rather than everything
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def is_admin_key(raw_key: str | None, admin_key: str | None) -> bool:
    """Constant-time comparison with the GATEWAY_ADMIN_KEY secret."""
    if not raw_key or not admin_key:
        return False
    return hmac.compare_digest(raw_key.encode(), admin_key.encode())
