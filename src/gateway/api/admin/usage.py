"""The usage log as a principal may see it: everything (system), their orgs' rows (org admins), their
own rows (users). A list; cost analytics over views is a separate endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.admin.common import gateway_of, listing, normalize_time
from gateway.api.admin.schemas import UsageList, error_responses
from gateway.api.admin_access import Principal, admin_principal
from gateway.api.responses import json_response
from gateway.storage import usage as usage_sql

router = APIRouter(prefix="/admin", tags=["Admin: usage"])


@router.get("/usage", response_model=UsageList, summary="The newest usage rows the caller may see",
            response_description="usage_log rows, newest first", responses=error_responses(400, 401, 403))
async def list_usage(
    request: Request,
    limit: int = Query(50, ge=1, le=1000),
    since: str | None = Query(None, description="ISO 8601 time: rows created at or after it"),
    model: str | None = Query(None, description="a model id, e.g. 'openai/gpt-4o-mini'"),
    key_id: str | None = Query(None, description="one gateway key's rows"),
    principal: Principal = Depends(admin_principal),
) -> Response:
    filters = {"since": normalize_time(since, "since") if since else None, "model": model, "key_id": key_id}
    rows = await usage_sql.newest_visible(
        gateway_of(request).ports.database, everything=principal.system, user_id=principal.user_id,
        org_ids=principal.admin_org_ids, filters=filters, limit=limit,
    )
    return json_response(listing(rows))
