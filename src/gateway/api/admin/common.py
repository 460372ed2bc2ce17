"""What the admin routes share: the gateway, time parsing, the checks on referenced rows, key answers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

from fastapi import Request

from gateway.core import Gateway
from gateway.errors import InvalidRequestError
from gateway.ports import Database
from gateway.timefmt import utc_text


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def listing(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": rows}


def normalize_time(value: str, param: str) -> str:
    """An ISO 8601 time (UTC when it has no offset) as the database's UTC text."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequestError(f"Invalid value for '{param}': {value!r} is not an ISO 8601 time.", param=param) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return utc_text(moment.timestamp())


def refuse_nulls(fields: dict[str, Any], names: Iterable[str]) -> None:
    """PATCH may clear optional limits with null, but not columns that must have a value."""
    for name in names:
        if name in fields and fields[name] is None:
            raise InvalidRequestError(f"Invalid value for '{name}': it cannot be null.", param=name)


async def require_tier(db: Database, tier_id: str, param: str = "tier_id") -> None:
    result = await db.query("SELECT 1 FROM tiers WHERE id = ?", (tier_id,))
    if not result.rows:
        raise InvalidRequestError(f"Unknown tier '{tier_id}'.", param=param, code="unknown_reference")


def as_bools(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**row, **{name: bool(row[name]) for name in names if name in row}}


_KEY_JSON_COLUMNS = ("allowed_models", "allowed_providers", "metadata")


def key_answer(row: dict[str, Any]) -> dict[str, Any]:
    """A key row as the API shows it: JSON columns decoded; the row never holds the hash."""
    shown = dict(row)
    for name in _KEY_JSON_COLUMNS:
        if shown.get(name) is not None:
            shown[name] = json.loads(shown[name])
    return shown


def key_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Request fields as stored: times normalized, lists and maps as JSON text."""
    stored = dict(fields)
    if stored.get("expires_at") is not None:
        stored["expires_at"] = normalize_time(stored["expires_at"], "expires_at")
    for name in _KEY_JSON_COLUMNS:
        if stored.get(name) is not None:
            stored[name] = json.dumps(stored[name])
    return stored
