"""The admin API (bootstrap): gateway keys, the usage log, custom providers.
Guarded by the GATEWAY_ADMIN_KEY secret, compared in constant time."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.responses import json_response
from gateway.api.schemas import CreateKeyRequest, CreateProviderRequest
from gateway.core import Gateway
from gateway.errors import AuthenticationError, ConflictError, InvalidRequestError
from gateway.ports import DatabaseError
from gateway.storage import catalog as catalog_sql
from gateway.storage import keys as keys_sql
from gateway.storage import usage as usage_sql
from gateway.timefmt import utc_text


def require_admin(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    if gateway.settings.admin_key is None:
        raise AuthenticationError("The admin API is disabled: set the GATEWAY_ADMIN_KEY secret.", code="admin_disabled")
    if not gateway.is_admin(request.headers):
        raise AuthenticationError("This endpoint needs the admin key.", code="invalid_admin_key")
    return gateway


router = APIRouter(prefix="/admin", tags=["Admin"])


@router.post("/keys", status_code=201, summary="Create a gateway key (shown once, stored as a hash)")
async def create_key(body: CreateKeyRequest, gateway: Gateway = Depends(require_admin)) -> Response:
    fields = body.model_dump(exclude_unset=True)
    if "expires_at" in fields and fields["expires_at"] is not None:
        fields["expires_at"] = _normalize_time(fields["expires_at"])
    for name in ("allowed_models", "allowed_providers", "metadata"):
        if fields.get(name) is not None:
            fields[name] = json.dumps(fields[name])
    raw_key = keys_sql.generate_key()
    try:
        row = await keys_sql.create(gateway.ports.database, "key_" + uuid.uuid4().hex, raw_key, fields)
    except DatabaseError as exc:
        if "FOREIGN KEY" in str(exc):
            raise InvalidRequestError(
                "user_id, org_id or tier_id names something that does not exist.", code="unknown_reference"
            ) from None
        raise
    return json_response({**row, "key": raw_key}, status=201)


@router.get("/usage", summary="The newest usage rows")
async def list_usage(
    limit: int = Query(50, ge=1, le=1000), gateway: Gateway = Depends(require_admin)
) -> Response:
    rows = await usage_sql.newest(gateway.ports.database, limit)
    return json_response({"object": "list", "data": rows})


@router.post("/providers", status_code=201, summary="Register a custom OpenAI-compatible server")
async def create_provider(body: CreateProviderRequest, gateway: Gateway = Depends(require_admin)) -> Response:
    database = gateway.ports.database
    if await catalog_sql.provider_exists(database, body.id):
        raise ConflictError(f"A provider named '{body.id}' already exists.", param="id", code="provider_exists")
    row = await catalog_sql.insert_custom_provider(database, body.id, body.display_name or body.id, body.base_url)
    gateway.catalog.invalidate()
    return json_response(row, status=201)


@router.get("/providers", summary="The providers the gateway knows")
async def list_providers(gateway: Gateway = Depends(require_admin)) -> Response:
    rows = await catalog_sql.enabled_providers(gateway.ports.database)
    return json_response({"object": "list", "data": rows})


def _normalize_time(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequestError(
            f"Invalid value for 'expires_at': {value!r} is not an ISO 8601 time.", param="expires_at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return utc_text(moment.timestamp())
