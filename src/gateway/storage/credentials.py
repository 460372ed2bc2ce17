"""Provider credentials: the SQL of the admin API, the key resolution and the rotation job.

The ciphertext never leaves this module's callers in an answer: `PUBLIC_COLUMNS` is what an owner sees.
One credential per (provider, scope, owner): writing a new one replaces the old (migration 0015's index).
"""

from __future__ import annotations

from typing import Any, Sequence

from gateway.ports import Database, Statement

PUBLIC_COLUMNS = (
    "id", "provider_id", "scope", "user_id", "org_id", "tier_id", "masked_hint", "status", "last_error",
    "last_failed_at", "encryption_key_id", "created_at", "updated_at",
)
_PUBLIC = ", ".join(PUBLIC_COLUMNS)
_SEALED = "id, provider_id, scope, user_id, org_id, tier_id, ciphertext, encryption_key_id, masked_hint"
SCOPES = ("user", "org", "tier", "system")


def owner_of(row: dict[str, Any]) -> str | None:
    """The id a row's scope names (user, org or tier id; None for system)."""
    return {"user": row.get("user_id"), "org": row.get("org_id"), "tier": row.get("tier_id")}.get(row["scope"])


async def replace(db: Database, row: dict[str, Any], now: str) -> dict[str, Any]:
    """Insert `row` (sealed already), dropping the owner's previous credential for the provider, as one batch."""
    same_owner = ("DELETE FROM provider_credentials WHERE provider_id = ? AND scope = ? AND user_id IS ? "
                  "AND org_id IS ? AND tier_id IS ?")
    owner = (row["provider_id"], row["scope"], row.get("user_id"), row.get("org_id"), row.get("tier_id"))
    insert = ("INSERT INTO provider_credentials (id, provider_id, scope, user_id, org_id, tier_id, ciphertext, "
              "encryption_key_id, masked_hint, status, created_at, updated_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)")
    await db.batch([
        Statement(same_owner, owner),
        Statement(insert, (row["id"], *owner, row["ciphertext"], row["encryption_key_id"], row["masked_hint"],
                           now, now)),
    ])
    found = await get(db, row["id"])
    assert found is not None
    return found


async def get(db: Database, credential_id: str) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {_PUBLIC} FROM provider_credentials WHERE id = ?", (credential_id,))
    return result.rows[0] if result.rows else None


async def visible(db: Database, *, system: bool, user_id: str | None, admin_org_ids: Sequence[str],
                  provider_id: str | None = None) -> list[dict[str, Any]]:
    """The rows a principal may see: all for the system; else their own user-scope rows and the org-scope
    rows of the orgs they administer."""
    where, params = [], []
    if not system:
        mine = ["(scope = 'user' AND user_id = ?)"]
        params.append(user_id)
        if admin_org_ids:
            mine.append(f"(scope = 'org' AND org_id IN ({', '.join('?' * len(admin_org_ids))}))")
            params.extend(admin_org_ids)
        where.append("(" + " OR ".join(mine) + ")")
    if provider_id is not None:
        where.append("provider_id = ?")
        params.append(provider_id)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    result = await db.query(
        f"SELECT {_PUBLIC} FROM provider_credentials{clause} ORDER BY created_at, id", tuple(params)
    )
    return result.rows


async def delete(db: Database, credential_id: str) -> bool:
    result = await db.query("DELETE FROM provider_credentials WHERE id = ?", (credential_id,))
    return result.changes > 0


async def active_for(db: Database, provider_id: str, user_id: str | None, org_id: str | None,
                     tier_id: str | None) -> list[dict[str, Any]]:
    """The caller's active credentials for a provider at every stored level, in one statement."""
    result = await db.query(
        f"SELECT {_SEALED} FROM provider_credentials WHERE provider_id = ? AND status = 'active' AND ("
        "(scope = 'user' AND user_id = ?) OR (scope = 'org' AND org_id = ?) OR "
        "(scope = 'tier' AND tier_id = ?) OR scope = 'system')",
        (provider_id, user_id, org_id, tier_id),
    )
    return result.rows


async def mark_invalid(db: Database, credential_id: str, error: str, now: str) -> None:
    await db.query(
        "UPDATE provider_credentials SET status = 'invalid', last_error = ?, last_failed_at = ?, updated_at = ? "
        "WHERE id = ?",
        (error, now, now, credential_id),
    )


async def set_status(db: Database, credential_id: str, status: str, now: str) -> None:
    """An owner's choice (active | disabled); the last failure stays on record."""
    await db.query("UPDATE provider_credentials SET status = ?, updated_at = ? WHERE id = ?",
                   (status, now, credential_id))


async def not_under(db: Database, key_id: str, limit: int) -> list[dict[str, Any]]:
    """Rows sealed by another key than `key_id` (what a rotation still has to reseal), oldest first."""
    result = await db.query(
        f"SELECT {_SEALED} FROM provider_credentials WHERE encryption_key_id <> ? ORDER BY created_at, id LIMIT ?",
        (key_id, limit),
    )
    return result.rows


async def count_not_under(db: Database, key_id: str) -> int:
    result = await db.query(
        "SELECT COUNT(*) AS n FROM provider_credentials WHERE encryption_key_id <> ?", (key_id,)
    )
    return int(result.rows[0]["n"])


async def reseal(db: Database, credential_id: str, old_key_id: str, ciphertext: str, key_id: str, now: str) -> bool:
    """Swap in the new ciphertext only if the row is still what was read (a concurrent write wins)."""
    result = await db.query(
        "UPDATE provider_credentials SET ciphertext = ?, encryption_key_id = ?, updated_at = ? "
        "WHERE id = ? AND encryption_key_id = ?",
        (ciphertext, key_id, now, credential_id, old_key_id),
    )
    return result.changes > 0
