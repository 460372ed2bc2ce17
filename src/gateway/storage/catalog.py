"""The provider and model catalog as stored in D1."""

from __future__ import annotations

from typing import Any

from gateway.ports import Database


async def enabled_providers(db: Database) -> list[dict[str, Any]]:
    result = await db.query(
        "SELECT id, adapter, kind, display_name, base_url, org_id FROM providers WHERE enabled = 1"
    )
    return result.rows


async def enabled_models(db: Database) -> list[dict[str, Any]]:
    result = await db.query(
        "SELECT m.* FROM models m JOIN providers p ON p.id = m.provider_id "
        "WHERE m.enabled = 1 AND p.enabled = 1 ORDER BY m.id"
    )
    return result.rows


async def insert_custom_provider(db: Database, provider_id: str, display_name: str, base_url: str) -> dict[str, Any]:
    result = await db.query(
        "INSERT INTO providers (id, adapter, kind, display_name, base_url) "
        "VALUES (?, 'openai_compatible', 'custom', ?, ?) "
        "RETURNING id, adapter, kind, display_name, base_url, enabled, created_at",
        (provider_id, display_name, base_url),
    )
    return result.rows[0]


async def provider_exists(db: Database, provider_id: str) -> bool:
    result = await db.query("SELECT 1 AS found FROM providers WHERE id = ?", (provider_id,))
    return bool(result.rows)
