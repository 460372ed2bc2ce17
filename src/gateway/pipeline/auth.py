"""Authenticate the gateway key: `Authorization: Bearer <key>` or `x-api-key: <key>`."""

from __future__ import annotations

import hmac
import json
from typing import Mapping

from gateway.errors import AuthenticationError
from gateway.pipeline.context import Caller
from gateway.ports import Clock, Database
from gateway.storage import keys
from gateway.timefmt import utc_text
from gateway.ttl_cache import TtlCache


def extract_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    api_key = headers.get("x-api-key")
    return api_key.strip() if api_key and api_key.strip() else None


class KeyAuthenticator:
    """Looks keys up by hash; valid answers are cached briefly in the isolate (revocation wins
    within `cache_seconds`, and at once in the isolate that revoked)."""

    def __init__(self, database: Database, clock: Clock, cache_seconds: float) -> None:
        self._db = database
        self._clock = clock
        self._cache: TtlCache[str, keys.KeyRecord] = TtlCache(cache_seconds, max_entries=10_000)

    async def authenticate(self, raw_key: str | None) -> Caller:
        if raw_key is None:
            raise AuthenticationError(
                "Missing gateway key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
                code="missing_api_key",
            )
        key_hash = keys.hash_key(raw_key)
        now = self._clock.now()
        record = self._cache.get(key_hash, now)
        if record is None:
            record = await keys.find_by_hash(self._db, key_hash)
            if record is None:
                raise AuthenticationError("Invalid gateway key.")
            self._cache.put(key_hash, record, now)
        if record.status != "active":
            raise AuthenticationError("This gateway key has been revoked.", code="revoked_api_key")
        if record.expires_at is not None and record.expires_at <= utc_text(now):
            raise AuthenticationError("This gateway key has expired.", code="expired_api_key")
        return Caller(
            key_id=record.id, user_id=record.user_id, org_id=record.org_id, tier_id=record.tier_id,
            requests_per_day=record.requests_per_day, daily_budget_usd=record.daily_budget_usd,
            monthly_budget_usd=record.monthly_budget_usd,
            allowed_models=_names(record.allowed_models), allowed_providers=_names(record.allowed_providers),
        )

    def forget(self, raw_key_hash: str) -> None:
        self._cache.pop(raw_key_hash)


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

