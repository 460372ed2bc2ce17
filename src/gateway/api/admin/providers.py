"""Custom OpenAI-compatible providers (system admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from gateway.api.admin.common import gateway_of, listing
from gateway.api.admin.schemas import error_responses
from gateway.api.admin_access import Principal, system_principal
from gateway.api.responses import json_response
from gateway.api.schemas import CreateProviderRequest
from gateway.errors import ConflictError
from gateway.storage import catalog as catalog_sql

router = APIRouter(prefix="/admin", tags=["Admin: providers"])


@router.post("/providers", status_code=201, summary="Register a custom OpenAI-compatible server",
             response_description="the provider row", responses=error_responses(400, 401, 403, 409))
async def create_provider(
    body: CreateProviderRequest, request: Request, principal: Principal = Depends(system_principal)
) -> Response:
    gateway = gateway_of(request)
    database = gateway.ports.database
    if await catalog_sql.provider_exists(database, body.id):
        raise ConflictError(f"A provider named '{body.id}' already exists.", param="id", code="provider_exists")
    row = await catalog_sql.insert_custom_provider(database, body.id, body.display_name or body.id, body.base_url)
    gateway.catalog.invalidate()
    return json_response(row, status=201)


@router.get("/providers", summary="The providers the gateway knows",
            response_description="the enabled providers", responses=error_responses(401, 403))
async def list_providers(request: Request, principal: Principal = Depends(system_principal)) -> Response:
    rows = await catalog_sql.enabled_providers(gateway_of(request).ports.database)
    return json_response(listing(rows))
