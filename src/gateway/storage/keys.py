"""Gateway keys: created with a random secret, stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from gateway.ports import Database

KEY_PREFIX = "gw-"
VISIBLE_PREFIX_LENGTH = 11  # 'gw-' + 8 characters: enough to tell keys apart in a list


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    user_id: str | None
    org_id: str | None
    tier_id: str                          # the effective tier: the key's own, else its org's, else its user's
    status: str
    expires_at: str | None
    requests_per_day: int | None = None   # the key's own limits (NULL = the tier's / none)
    daily_budget_usd: float | None = None
    monthly_budget_usd: float | None = None
    allowed_models: str | None = None     # JSON lists, NULL = all
    allowed_providers: str | None = None


# The effective tier is resolved in the same statement: the key's tier, else its org's, else its user's,
# else 'free' (a key with neither is a bootstrap key: the lowest tier, never more).
_KEY_COLUMNS = (
    "k.id, k.user_id, k.org_id, COALESCE(k.tier_id, o.tier_id, u.tier_id, 'free') AS tier_id, k.status, "
    "k.expires_at, k.requests_per_day, k.daily_budget_usd, k.monthly_budget_usd, k.allowed_models, "
    "k.allowed_providers"
)
_KEY_FROM = ("gateway_keys k LEFT JOIN organizations o ON o.id = k.org_id "
             "LEFT JOIN users u ON u.id = k.user_id")

# The columns an admin may set when creating a key (all optional).
CREATABLE_COLUMNS = (
    "name", "user_id", "org_id", "tier_id", "expires_at", "requests_per_day", "daily_budget_usd",
    "monthly_budget_usd", "allowed_models", "allowed_providers", "default_strategy", "metadata",
)


async def find_by_hash(db: Database, key_hash: str) -> KeyRecord | None:
    result = await db.query(f"SELECT {_KEY_COLUMNS} FROM {_KEY_FROM} WHERE k.key_hash = ?", (key_hash,))
    return KeyRecord(**result.rows[0]) if result.rows else None


async def create(db: Database, key_id: str, raw_key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Insert a key; `fields` holds only CREATABLE_COLUMNS. Answers the stored row (no hash)."""
    columns = ["id", "key_hash", "prefix", *fields]
    values = [key_id, hash_key(raw_key), raw_key[:VISIBLE_PREFIX_LENGTH], *fields.values()]
    placeholders = ", ".join("?" for _ in columns)
    result = await db.query(
        f"INSERT INTO gateway_keys ({', '.join(columns)}) VALUES ({placeholders}) "
        "RETURNING id, prefix, name, user_id, org_id, tier_id, status, expires_at, requests_per_day, "
        "daily_budget_usd, monthly_budget_usd, created_at",
        values,
    )
    return result.rows[0]
