"""Fallback chains (docs/fallbacks.md): the SQL of the admin API and of the rules an org's requests use.

`chain` is stored as JSON text (a list of model ids and "auto" / "auto/<strategy>" entries); these
functions hand rows back as the database has them, the callers decode."""

from __future__ import annotations

from typing import Any

from gateway.ports import Database

COLUMNS = "id, org_id, error_type, model_pattern, chain, allow_workers_ai, max_attempts, created_at, updated_at"
_RULE_COLUMNS = "id, org_id, error_type, model_pattern, chain, allow_workers_ai, max_attempts"
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_ORDER = "ORDER BY org_id IS NOT NULL, org_id, error_type, model_pattern, id"  # global rows first


async def rules_for_org(db: Database, org_id: str | None) -> list[dict[str, Any]]:
    """The global rows and the org's, in one statement. `COALESCE(org_id, '')` is the scope index's
    expression (idx_fallback_chains_scope), so the lookup is an index range, not a table scan."""
    result = await db.query(
        f"SELECT {_RULE_COLUMNS} FROM fallback_chains WHERE COALESCE(org_id, '') IN ('', ?)", (org_id or "",)
    )
    return result.rows


async def list_chains(db: Database, *, everything: bool, org_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every row (everything), else the global rows and those of `org_ids`."""
    if everything:
        result = await db.query(f"SELECT {COLUMNS} FROM fallback_chains {_ORDER}")
    else:
        marks = ", ".join("?" for _ in org_ids)
        result = await db.query(
            f"SELECT {COLUMNS} FROM fallback_chains WHERE COALESCE(org_id, '') IN ('', {marks}) {_ORDER}"
            if org_ids else f"SELECT {COLUMNS} FROM fallback_chains WHERE org_id IS NULL {_ORDER}",
            org_ids,
        )
    return result.rows


async def get_chain(db: Database, chain_id: str) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {COLUMNS} FROM fallback_chains WHERE id = ?", (chain_id,))
    return result.rows[0] if result.rows else None


async def scope_taken(db: Database, org_id: str | None, error_type: str, model_pattern: str,
                      except_id: str | None = None) -> bool:
    """Whether another row already has this (org, error_type, model_pattern): the unique scope."""
    result = await db.query(
        "SELECT 1 FROM fallback_chains WHERE COALESCE(org_id, '') = ? AND error_type = ? AND model_pattern = ? "
        "AND id IS NOT ?",
        (org_id or "", error_type, model_pattern, except_id),
    )
    return bool(result.rows)


async def insert_chain(db: Database, chain_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    columns = ["id", *fields]
    result = await db.query(
        f"INSERT INTO fallback_chains ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"RETURNING {COLUMNS}",
        [chain_id, *fields.values()],
    )
    return result.rows[0]


async def update_chain(db: Database, chain_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    result = await db.query(
        f"UPDATE fallback_chains SET {assignments}, updated_at = {_NOW} WHERE id = ? RETURNING {COLUMNS}",
        [*fields.values(), chain_id],
    )
    return result.rows[0] if result.rows else None


async def delete_chain(db: Database, chain_id: str) -> bool:
    result = await db.query("DELETE FROM fallback_chains WHERE id = ?", (chain_id,))
    return result.changes > 0


async def existing_models(db: Database, model_ids: list[str]) -> set[str]:
    """Which of these model ids the catalog has (enabled or not: a disabled model is skipped when the chain
    runs, and may be enabled again)."""
    if not model_ids:
        return set()
    result = await db.query(
        f"SELECT id FROM models WHERE id IN ({', '.join('?' for _ in model_ids)})", model_ids
    )
    return {row["id"] for row in result.rows}
