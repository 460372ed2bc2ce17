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
    tier_id: str | None
    status: str
    expires_at: str | None


_KEY_COLUMNS = "id, user_id, org_id, tier_id, status, expires_at"

# The columns an admin may set when creating a key (all optional).
CREATABLE_COLUMNS = (
    "name", "user_id", "org_id", "tier_id", "expires_at", "requests_per_day", "daily_budget_usd",
    "monthly_budget_usd", "allowed_models", "allowed_providers", "default_strategy", "metadata",
)


async def find_by_hash(db: Database, key_hash: str) -> KeyRecord | None:
    result = await db.query(f"SELECT {_KEY_COLUMNS} FROM gateway_keys WHERE key_hash = ?", (key_hash,))
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
