"""The usage log: one row per request, written after the response."""

from __future__ import annotations

import json
from typing import Any

from gateway.ports import Database, Statement

USAGE_COLUMNS = (
    "request_id", "created_at", "key_id", "user_id", "org_id", "tier_id", "endpoint", "requested_model",
    "provider_id", "model_id", "stream", "status", "http_status", "error_type", "input_tokens",
    "cached_input_tokens", "output_tokens", "reasoning_tokens", "units", "neurons", "cost_usd",
    "cost_status", "price_version", "latency_ms", "ttft_ms", "overhead_ms", "key_level",
    "route_strategy", "attempts", "tags", "attempt_of", "cost_note",
)

_INSERT_USAGE = (
    f"INSERT INTO usage_log ({', '.join(USAGE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in USAGE_COLUMNS)})"
)


async def insert(db: Database, row: dict[str, Any]) -> None:
    """One row and its tags, together."""
    await db.batch(row_statements(row))


async def insert_many(db: Database, rows: list[dict[str, Any]]) -> None:
    """All rows in one batch: one transaction, all or nothing."""
    await db.batch([statement for row in rows for statement in row_statements(row)])


async def newest(db: Database, limit: int) -> list[dict[str, Any]]:
    result = await db.query("SELECT * FROM usage_log ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,))
    return result.rows


async def newest_visible(
    db: Database, *, everything: bool, user_id: str | None, org_ids: tuple[str, ...],
    filters: dict[str, Any], limit: int,
) -> list[dict[str, Any]]:
    """The newest rows a principal may see: all (system), else its own (user_id) and its orgs' (org_ids);
    `filters` narrows by since (created_at >=), model (model_id) and key_id."""
    where: list[str] = []
    params: list[Any] = []
    if not everything:
        mine = ["user_id = ?"] if user_id is not None else []
        if org_ids:
            mine.append(f"org_id IN ({', '.join('?' for _ in org_ids)})")
        where.append(f"({' OR '.join(mine) or '0'})")
        params.extend([user_id] if user_id is not None else [])
        params.extend(org_ids)
    for name, condition in (("since", "created_at >= ?"), ("model", "model_id = ?"), ("key_id", "key_id = ?")):
        if filters.get(name) is not None:
            where.append(condition)
            params.append(filters[name])
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    result = await db.query(
        f"SELECT * FROM usage_log {clause}ORDER BY created_at DESC, rowid DESC LIMIT ?", [*params, limit]
    )
    return result.rows


def insert_statement(row: dict[str, Any]) -> Statement:
    return Statement(_INSERT_USAGE, [row.get(column) for column in USAGE_COLUMNS])


def tags_statement(row: dict[str, Any]) -> Statement | None:
    """The request's tags as usage_tags rows, one statement (at most 16 tags: 48 bound values). Only a
    request's own row has them: a failed attempt's row shares them through attempt_of."""
    if not row.get("tags") or row.get("attempt_of"):
        return None
    tags = json.loads(row["tags"])
    if not tags:
        return None
    values = ", ".join("(?, ?, ?)" for _ in tags)
    params: list[Any] = []
    for key, value in tags.items():
        params.extend((row["request_id"], key, value))
    return Statement(f"INSERT INTO usage_tags (request_id, tag_key, tag_value) VALUES {values}", params)


def row_statements(row: dict[str, Any]) -> list[Statement]:
    """The row's insert, then its tags' (a row without tags: the insert alone)."""
    tags = tags_statement(row)
    return [insert_statement(row)] if tags is None else [insert_statement(row), tags]
