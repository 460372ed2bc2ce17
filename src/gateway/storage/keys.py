"""Gateway keys: created with a random secret, stored only as its SHA-256 and a short visible prefix.

Lookup: the candidates whose stored prefix matches the presented key's (an indexed equality), then the
SHA-256 of the presented key is compared with each candidate's hash in constant time (hmac.compare_digest),
so neither the database's index walk nor Python's string comparison depends on how much of a hash matched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from gateway.ports import Database

KEY_PREFIX = "gw-"
VISIBLE_PREFIX_LENGTH = 15  # 'gw-' + 12 characters (72 random bits): selective enough to name one key
LEGACY_PREFIX_LENGTH = 11   # keys made before migration 0014 stored 'gw-' + 8 characters


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def visible_prefix(raw_key: str) -> str:
    return raw_key[:VISIBLE_PREFIX_LENGTH]


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
    default_strategy: str | None = None   # the key's `auto` strategy, else its org's (NULL: balanced)


# The effective tier is resolved in the same statement: the key's tier, else its org's, else its user's,
# else 'free' (a key with neither is a bootstrap key: the lowest tier, never more).
_KEY_COLUMNS = (
    "k.id, k.user_id, k.org_id, COALESCE(k.tier_id, o.tier_id, u.tier_id, 'free') AS tier_id, k.status, "
    "k.expires_at, k.requests_per_day, k.daily_budget_usd, k.monthly_budget_usd, k.allowed_models, "
    "k.allowed_providers, COALESCE(k.default_strategy, o.default_strategy) AS default_strategy"
)
_KEY_FROM = ("gateway_keys k LEFT JOIN organizations o ON o.id = k.org_id "
             "LEFT JOIN users u ON u.id = k.user_id")

# What an admin answer shows of a key: never key_hash.
PUBLIC_COLUMNS = (
    "id", "prefix", "name", "user_id", "org_id", "tier_id", "status", "expires_at", "revoked_at",
    "last_used_at", "requests_per_day", "daily_budget_usd", "monthly_budget_usd", "allowed_models",
    "allowed_providers", "default_strategy", "metadata", "created_at",
)
_PUBLIC = ", ".join(PUBLIC_COLUMNS)
_PUBLIC_K = ", ".join("k." + column for column in PUBLIC_COLUMNS)

# The columns an admin may set when creating a key (all optional), and those PATCH may change.
CREATABLE_COLUMNS = (
    "name", "user_id", "org_id", "tier_id", "expires_at", "requests_per_day", "daily_budget_usd",
    "monthly_budget_usd", "allowed_models", "allowed_providers", "default_strategy", "metadata",
)
UPDATABLE_COLUMNS = (
    "name", "tier_id", "expires_at", "requests_per_day", "daily_budget_usd", "monthly_budget_usd",
    "allowed_models", "allowed_providers", "default_strategy", "metadata",
)


async def find_by_key(db: Database, raw_key: str) -> KeyRecord | None:
    """The key `raw_key` names: candidates by prefix (new and legacy length), hash compared in constant time."""
    presented = hash_key(raw_key).encode()
    result = await db.query(
        f"SELECT {_KEY_COLUMNS}, k.key_hash FROM {_KEY_FROM} WHERE k.prefix IN (?, ?)",
        (raw_key[:VISIBLE_PREFIX_LENGTH], raw_key[:LEGACY_PREFIX_LENGTH]),
    )
    found = None
    for row in result.rows:
        stored = row.pop("key_hash")
        # Every candidate is compared (no early exit), so the time does not say which one matched.
        if hmac.compare_digest(stored.encode(), presented) and found is None:
            found = KeyRecord(**row)
    return found


async def create(db: Database, key_id: str, raw_key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Insert a key; `fields` holds only CREATABLE_COLUMNS. Answers the stored row (no hash)."""
    if len(raw_key) < 2 * VISIBLE_PREFIX_LENGTH:
        raise ValueError("a gateway key must be much longer than its visible prefix")
    columns = ["id", "key_hash", "prefix", *fields]
    values = [key_id, hash_key(raw_key), visible_prefix(raw_key), *fields.values()]
    placeholders = ", ".join("?" for _ in columns)
    result = await db.query(
        f"INSERT INTO gateway_keys ({', '.join(columns)}) VALUES ({placeholders}) RETURNING {_PUBLIC}", values
    )
    return result.rows[0]


async def get(db: Database, key_id: str) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {_PUBLIC} FROM gateway_keys WHERE id = ?", (key_id,))
    return result.rows[0] if result.rows else None


async def list_visible(
    db: Database, *, everything: bool, user_id: str | None, org_ids: tuple[str, ...],
    filters: dict[str, Any], limit: int,
) -> list[dict[str, Any]]:
    """Keys newest first: all (system), else the user's own plus those scoped to `org_ids`; `filters`
    narrows by user_id / org_id / status."""
    where, params = _visibility("k", everything, user_id, org_ids)
    for column in ("user_id", "org_id", "status"):
        if filters.get(column) is not None:
            where.append(f"k.{column} = ?")
            params.append(filters[column])
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    result = await db.query(
        f"SELECT {_PUBLIC_K} FROM gateway_keys k {clause} ORDER BY k.created_at DESC, k.rowid DESC LIMIT ?",
        [*params, limit],
    )
    return result.rows


async def update(db: Database, key_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """Set UPDATABLE_COLUMNS; answers (the public row, its hash for the auth cache) or None."""
    assignments = ", ".join(f"{column} = ?" for column in fields)
    result = await db.query(
        f"UPDATE gateway_keys SET {assignments} WHERE id = ? RETURNING {_PUBLIC}, key_hash",
        [*fields.values(), key_id],
    )
    return _split_hash(result.rows)


async def revoke(db: Database, key_id: str, now_text: str) -> tuple[dict[str, Any], str] | None:
    """Revoke (idempotent: a revoked key keeps its first revoked_at)."""
    result = await db.query(
        "UPDATE gateway_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE id = ? "
        f"RETURNING {_PUBLIC}, key_hash",
        (now_text, key_id),
    )
    return _split_hash(result.rows)


async def revoke_org_keys_of(db: Database, org_id: str, user_id: str, now_text: str) -> list[str]:
    """Revoke a user's keys scoped to an org (they left it); answers the hashes to forget."""
    result = await db.query(
        "UPDATE gateway_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) "
        "WHERE org_id = ? AND user_id = ? AND status = 'active' RETURNING key_hash",
        (now_text, org_id, user_id),
    )
    return [row["key_hash"] for row in result.rows]


async def touch(db: Database, key_ids: list[str], now_text: str) -> None:
    """Record last_used_at for a batch of keys in one statement."""
    placeholders = ", ".join("?" for _ in key_ids)
    await db.query(f"UPDATE gateway_keys SET last_used_at = ? WHERE id IN ({placeholders})", [now_text, *key_ids])


def _visibility(alias: str, everything: bool, user_id: str | None, org_ids: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    if everything:
        return [], []
    alternatives, params = [], []
    if user_id is not None:
        alternatives.append(f"{alias}.user_id = ?")
        params.append(user_id)
    if org_ids:
        alternatives.append(f"{alias}.org_id IN ({', '.join('?' for _ in org_ids)})")
        params.extend(org_ids)
    return [f"({' OR '.join(alternatives) or '0'})"], params


def _split_hash(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], str] | None:
    if not rows:
        return None
    row = dict(rows[0])
    return row, row.pop("key_hash")
