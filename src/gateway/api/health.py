"""GET /health: liveness plus a database round trip (no key needed; says nothing tenant-specific)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.responses import json_response
from gateway.ports import DatabaseError

router = APIRouter()


@router.get("/health", tags=["Operations"], summary="Is the gateway up, and can it reach its database")
async def health(request: Request) -> Response:
    gateway = request.app.state.gateway
    try:
        await gateway.ports.database.query("SELECT 1 AS ok")
        database = "ok"
    except DatabaseError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return json_response({"status": "ok" if status == 200 else "degraded", "database": database}, status=status)
