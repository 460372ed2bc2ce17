"""Organizations, users, memberships and tiers: the SQL the admin API and its access checks read.

Every list takes the caller's visibility (`everything`, else the ids it may see) so a row another tenant
owns is never read, rather than read and then hidden."""

from __future__ import annotations

from typing import Any

from gateway.ports import Database

ORG_COLUMNS = "id, name, slug, tier_id, daily_budget_usd, monthly_budget_usd, default_strategy, created_at, updated_at"
USER_COLUMNS = "id, email, name, tier_id, is_system_admin, daily_budget_usd, monthly_budget_usd, created_at, updated_at"
TIER_COLUMNS = "id, name, daily_request_limit, monthly_budget_usd, pay_as_you_go, created_at, updated_at"
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


async def principal_facts(db: Database, user_id: str) -> tuple[bool, dict[str, str]] | None:
    """(is the user a system admin, {org id: role}) in one statement; None for an unknown user."""
    result = await db.query(
        "SELECT u.is_system_admin, m.org_id, m.role FROM users u "
        "LEFT JOIN memberships m ON m.user_id = u.id WHERE u.id = ?",
        (user_id,),
    )
    if not result.rows:
        return None
    roles = {row["org_id"]: row["role"] for row in result.rows if row["org_id"] is not None}
    return bool(result.rows[0]["is_system_admin"]), roles


def _in(ids: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in ids) or "NULL"


# --- organizations -------------------------------------------------------------------------------

async def insert_org(db: Database, org_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    columns = ["id", *fields]
    result = await db.query(
        f"INSERT INTO organizations ({', '.join(columns)}) VALUES ({_in(tuple(columns))}) RETURNING {ORG_COLUMNS}",
        [org_id, *fields.values()],
    )
    return result.rows[0]


async def get_org(db: Database, org_id: str) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {ORG_COLUMNS} FROM organizations WHERE id = ?", (org_id,))
    return result.rows[0] if result.rows else None


async def list_orgs(db: Database, *, everything: bool, org_ids: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
    if everything:
        result = await db.query(f"SELECT {ORG_COLUMNS} FROM organizations ORDER BY created_at, id LIMIT ?", (limit,))
    else:
        result = await db.query(
            f"SELECT {ORG_COLUMNS} FROM organizations WHERE id IN ({_in(org_ids)}) ORDER BY created_at, id LIMIT ?",
            [*org_ids, limit],
        )
    return result.rows


async def update_org(db: Database, org_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    return await _update(db, "organizations", ORG_COLUMNS, org_id, fields)


# --- users ---------------------------------------------------------------------------------------

async def insert_user(db: Database, user_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    columns = ["id", *fields]
    result = await db.query(
        f"INSERT INTO users ({', '.join(columns)}) VALUES ({_in(tuple(columns))}) RETURNING {USER_COLUMNS}",
        [user_id, *fields.values()],
    )
    return result.rows[0]


async def get_user(db: Database, user_id: str) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return result.rows[0] if result.rows else None


async def user_visible(db: Database, user_id: str, *, self_id: str | None, org_ids: tuple[str, ...]) -> bool:
    """Whether a non-system principal may see a user: themselves, or a member of an org they admin."""
    if user_id == self_id:
        return True
    if not org_ids:
        return False
    result = await db.query(
        f"SELECT 1 FROM memberships WHERE user_id = ? AND org_id IN ({_in(org_ids)}) LIMIT 1", [user_id, *org_ids]
    )
    return bool(result.rows)


async def list_users(
    db: Database, *, everything: bool, self_id: str | None, org_ids: tuple[str, ...], limit: int
) -> list[dict[str, Any]]:
    if everything:
        result = await db.query(f"SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id LIMIT ?", (limit,))
        return result.rows
    columns = ", ".join("u." + column.strip() for column in USER_COLUMNS.split(","))
    result = await db.query(
        f"SELECT {columns} FROM users u WHERE u.id = ? OR u.id IN "
        f"(SELECT user_id FROM memberships WHERE org_id IN ({_in(org_ids)})) ORDER BY u.created_at, u.id LIMIT ?",
        [self_id, *org_ids, limit],
    )
    return result.rows


async def update_user(db: Database, user_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    return await _update(db, "users", USER_COLUMNS, user_id, fields)


# --- memberships ---------------------------------------------------------------------------------

async def list_members(db: Database, org_id: str) -> list[dict[str, Any]]:
    result = await db.query(
        "SELECT m.org_id, m.user_id, m.role, m.created_at, u.email, u.name FROM memberships m "
        "JOIN users u ON u.id = m.user_id WHERE m.org_id = ? ORDER BY m.created_at, m.user_id",
        (org_id,),
    )
    return result.rows


async def role_of(db: Database, org_id: str, user_id: str) -> str | None:
    result = await db.query("SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", (org_id, user_id))
    return result.rows[0]["role"] if result.rows else None


async def upsert_member(db: Database, org_id: str, user_id: str, role: str) -> dict[str, Any]:
    result = await db.query(
        "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?) "
        "ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role "
        "RETURNING org_id, user_id, role, created_at",
        (org_id, user_id, role),
    )
    return result.rows[0]


async def delete_member(db: Database, org_id: str, user_id: str) -> bool:
    result = await db.query(
        "DELETE FROM memberships WHERE org_id = ? AND user_id = ? RETURNING user_id", (org_id, user_id)
    )
    return bool(result.rows)


async def owner_count(db: Database, org_id: str) -> int:
    result = await db.query("SELECT COUNT(*) AS n FROM memberships WHERE org_id = ? AND role = 'owner'", (org_id,))
    return int(result.rows[0]["n"])


# --- tiers ---------------------------------------------------------------------------------------

async def list_tiers(db: Database) -> list[dict[str, Any]]:
    result = await db.query(
        f"SELECT {TIER_COLUMNS} FROM tiers ORDER BY daily_request_limit IS NULL, daily_request_limit, id"
    )
    return result.rows


async def get_tier(db: Database, tier_id: str) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {TIER_COLUMNS} FROM tiers WHERE id = ?", (tier_id,))
    return result.rows[0] if result.rows else None


async def update_tier(db: Database, tier_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    return await _update(db, "tiers", TIER_COLUMNS, tier_id, fields)


async def _update(db: Database, table: str, columns: str, row_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Set `fields` (names from a fixed allow-list, never from the request) and updated_at."""
    assignments = ", ".join([*(f"{column} = ?" for column in fields), f"updated_at = {_NOW}"])
    result = await db.query(
        f"UPDATE {table} SET {assignments} WHERE id = ? RETURNING {columns}", [*fields.values(), row_id]
    )
    return result.rows[0] if result.rows else None
