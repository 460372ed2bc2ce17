"""The `models` table as the admin API and scripts/catalog.py edit it. A change to a price column bumps
`price_version` and records the new prices in `model_price_history` (with their source) in one batch, so
a usage row's price_version always names the prices it was billed at."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.catalog_refresh import PRICE_COLUMNS, touches_prices
from gateway.ports import Database, Statement

# Every column of `models` the catalog file and the admin API show (timestamps aside: they differ per database).
COLUMNS = (
    "id", "provider_id", "upstream_name", "display_name", "modality",
    "supports_vision", "supports_tools", "supports_json", "supports_streaming",
    "context_window", "max_output_tokens", *PRICE_COLUMNS,
    "quality_score", "speed_score", "score_source", "price_version", "enabled",
)
JSON_COLUMNS = ("image_usd", "video_usd_by_size")  # JSON text in D1, objects in the API and the file
FLAG_COLUMNS = ("supports_vision", "supports_tools", "supports_json", "supports_streaming", "enabled")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM models"
_SNAPSHOT = "json_object(" + ", ".join(f"'{column}', {column}" for column in PRICE_COLUMNS) + ")"


async def all_models(db: Database) -> list[dict[str, Any]]:
    return (await db.query(_SELECT + " ORDER BY id")).rows


async def list_models(db: Database, modality: str | None, provider: str | None, enabled: bool | None) -> list[dict[str, Any]]:
    where, params = [], []
    for column, value in (("modality", modality), ("provider_id", provider)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if enabled is not None:
        where.append("enabled = ?")
        params.append(int(enabled))
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return (await db.query(_SELECT + clause + " ORDER BY id", params)).rows


async def get_model(db: Database, model_id: str) -> dict[str, Any] | None:
    rows = (await db.query(_SELECT + " WHERE id = ?", (model_id,))).rows
    return rows[0] if rows else None


def update_statements(model_id: str, changes: Mapping[str, Any], source: str) -> list[Statement]:
    """The writes for one model's changes; with a price among them, the version bump and its history row."""
    assignments = [f"{column} = ?" for column in changes]
    params: list[Any] = list(changes.values())
    bump = touches_prices(changes)
    if bump:
        assignments.append("price_version = price_version + 1")
    assignments.append("updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')")
    statements = [Statement(f"UPDATE models SET {', '.join(assignments)} WHERE id = ?", [*params, model_id])]
    if bump:
        statements.append(Statement(
            "INSERT INTO model_price_history (model_id, price_version, prices, source) "
            f"SELECT id, price_version, {_SNAPSHOT}, ? FROM models WHERE id = ?", (source, model_id)))
    return statements


async def update_model(db: Database, model_id: str, changes: Mapping[str, Any], source: str) -> None:
    if changes:
        await db.batch(update_statements(model_id, changes, source))


async def apply_refresh(db: Database, diffs: list[dict[str, Any]], source: str) -> None:
    """All of a refresh's changes in one batch: it applies whole or not at all."""
    statements: list[Statement] = []
    for entry in diffs:
        statements += update_statements(entry["model_id"], {c: v["new"] for c, v in entry["changes"].items()}, source)
    if statements:
        await db.batch(statements)


async def insert_model(db: Database, fields: Mapping[str, Any], source: str) -> None:
    names = list(fields)
    await db.batch([
        Statement(f"INSERT INTO models ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                  list(fields.values())),
        Statement("INSERT INTO model_price_history (model_id, price_version, prices, source) "
                  f"SELECT id, price_version, {_SNAPSHOT}, ? FROM models WHERE id = ?", (source, fields["id"])),
    ])


async def price_history(db: Database, model_id: str) -> list[dict[str, Any]]:
    return (await db.query("SELECT price_version, prices, source, effective_from FROM model_price_history "
                           "WHERE model_id = ? ORDER BY price_version", (model_id,))).rows
