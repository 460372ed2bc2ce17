"""GET /admin/health: every model's circuit and numbers (system admins only: it spans all providers).

What D1 holds (every isolate's last flush, merged) overlaid with this isolate's fresher state: its own
numbers win, and the circuit is whichever side changed state last (docs/health.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from gateway.api.admin.common import gateway_of, listing
from gateway.api.admin.schemas import error_responses
from gateway.api.admin_access import Principal, system_principal
from gateway.api.responses import json_response
from gateway.storage import health as health_sql

router = APIRouter(prefix="/admin", tags=["Admin: health"])


def _merge(stored: dict[str, Any] | None, local: dict[str, Any]) -> dict[str, Any]:
    row = health_sql.as_row(local)
    if stored is not None and (stored.get("state_changed_at") or "") > (row.get("state_changed_at") or ""):
        for name in ("circuit_state", "opened_at", "state_changed_at"):
            row[name] = stored[name]  # another isolate moved the circuit after this one did
    return row


def _with_rate(row: dict[str, Any]) -> dict[str, Any]:
    requests, errors = row.get("window_requests") or 0, row.get("window_errors") or 0
    row["success_rate"] = round((requests - errors) / requests, 4) if requests else None
    return row


@router.get("/health", summary="Model health and circuit breakers",
            response_description="one entry per model that has been called", responses=error_responses(401, 403))
async def model_health(request: Request, principal: Principal = Depends(system_principal)) -> Response:
    gateway = gateway_of(request)
    rows = {row["model_id"]: row for row in await health_sql.all_rows(gateway.ports.database)}
    for model_id, snapshot in gateway.health.snapshots().items():
        merged = _merge(rows.get(model_id), snapshot)
        merged.setdefault("updated_at", rows.get(model_id, {}).get("updated_at"))
        rows[model_id] = merged
    ordered = sorted(rows.values(), key=lambda row: (row["provider_id"], row["model_id"]))
    return json_response(listing([_with_rate(row) for row in ordered]))
