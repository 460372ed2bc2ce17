"""The model catalog (docs/catalog.md): any admin principal reads it, only the system changes it. Every
write invalidates this isolate's CatalogCache so the next request is priced and routed by the new row."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway import catalog_refresh
from gateway.api.admin.common import as_bools, gateway_of, listing, refuse_nulls
from gateway.api.admin.model_schemas import CreateModelRequest, RefreshRequest, UpdateModelRequest
from gateway.api.admin.schemas import error_responses
from gateway.api.admin_access import Principal, admin_principal, not_found, system_principal
from gateway.api.responses import json_response
from gateway.errors import ConflictError, InvalidRequestError
from gateway.ports import Timeouts, UpstreamConnectError, UpstreamTimeout
from gateway.storage import catalog as catalog_sql
from gateway.storage import model_catalog

router = APIRouter(prefix="/admin", tags=["Admin: models"])

# A column that must keep a value (NOT NULL, or a flag): PATCH cannot clear it.
_REQUIRED = ("supports_vision", "supports_tools", "supports_json", "supports_streaming", "enabled")
_FETCH_TIMEOUTS = Timeouts(connect=10.0, total=60.0)


def model_answer(row: dict[str, Any]) -> dict[str, Any]:
    shown = as_bools(row, *model_catalog.FLAG_COLUMNS)
    for name in model_catalog.JSON_COLUMNS:
        if isinstance(shown.get(name), str):
            shown[name] = json.loads(shown[name])
    return {"object": "model_entry", **shown}


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    stored = {name: int(value) if isinstance(value, bool) else value for name, value in fields.items()}
    for name in model_catalog.JSON_COLUMNS:
        if stored.get(name) is not None:
            stored[name] = json.dumps(stored[name], sort_keys=True)
    return stored


@router.get("/models", summary="The model catalog", response_description="every model, filtered",
            responses=error_responses(401, 403))
async def list_models(
    request: Request,
    modality: str | None = Query(default=None), provider: str | None = Query(default=None),
    enabled: bool | None = Query(default=None), principal: Principal = Depends(admin_principal),
) -> Response:
    rows = await model_catalog.list_models(gateway_of(request).ports.database, modality, provider, enabled)
    return json_response(listing([model_answer(row) for row in rows]))


@router.get("/models/{model_id:path}/prices", summary="A model's price history",
            response_description="every price version, oldest first", responses=error_responses(401, 403, 404))
async def model_prices(model_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    if await model_catalog.get_model(db, model_id) is None:
        raise not_found("model", model_id, "model_id")
    rows = await model_catalog.price_history(db, model_id)
    return json_response(listing([{**row, "prices": json.loads(row["prices"])} for row in rows]))


@router.get("/models/{model_id:path}", summary="One model's catalog entry", response_description="the model",
            responses=error_responses(401, 403, 404))
async def get_model(model_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    row = await model_catalog.get_model(gateway_of(request).ports.database, model_id)
    if row is None:
        raise not_found("model", model_id, "model_id")
    return json_response(model_answer(row))


@router.patch("/models/{model_id:path}", summary="Change a model's prices, scores, limits or flags",
              response_description="the updated model", responses=error_responses(400, 401, 403, 404))
async def update_model(
    model_id: str, body: UpdateModelRequest, request: Request, principal: Principal = Depends(system_principal)
) -> Response:
    gateway = gateway_of(request)
    db = gateway.ports.database
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, _REQUIRED)
    if await model_catalog.get_model(db, model_id) is None:
        raise not_found("model", model_id, "model_id")
    await model_catalog.update_model(db, model_id, _stored(fields), source="admin")
    gateway.catalog.invalidate()
    return json_response(model_answer(await model_catalog.get_model(db, model_id)))


@router.post("/models", status_code=201, summary="Add a model to an existing provider",
             response_description="the new model", responses=error_responses(400, 401, 403, 409))
async def create_model(body: CreateModelRequest, request: Request, principal: Principal = Depends(system_principal)) -> Response:
    gateway = gateway_of(request)
    db = gateway.ports.database
    if not await catalog_sql.provider_exists(db, body.provider_id):
        raise InvalidRequestError(f"Unknown provider '{body.provider_id}'.", param="provider_id", code="unknown_reference")
    model_id = f"{body.provider_id}/{body.upstream_name}"
    if await model_catalog.get_model(db, model_id) is not None:
        raise ConflictError(f"A model with id '{model_id}' already exists.", param="upstream_name", code="model_exists")
    fields = {"id": model_id, **{k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}}
    await model_catalog.insert_model(db, _stored(fields), source="admin")
    gateway.catalog.invalidate()
    return json_response(model_answer(await model_catalog.get_model(db, model_id)), status=201)


async def _fetch(request: Request, url: str) -> Any:
    http = gateway_of(request).ports.http
    try:
        response = await http.send("GET", url, {"accept": "application/json"}, None, _FETCH_TIMEOUTS)
    except (UpstreamConnectError, UpstreamTimeout) as error:
        raise InvalidRequestError(f"Could not fetch '{url}': {error}", param="url", code="catalog_fetch_failed") from None
    try:
        payload = await response.read()
    finally:
        response.close()
    if response.status != 200:
        raise InvalidRequestError(f"Fetching '{url}' answered HTTP {response.status}.", param="url",
                                  code="catalog_fetch_failed")
    try:
        return json.loads(payload)
    except ValueError:
        raise InvalidRequestError(f"'{url}' did not answer JSON.", param="url", code="invalid_catalog_file") from None


@router.post("/catalog/refresh", summary="Refresh prices from a LiteLLM or models.dev catalog file",
             response_description="what changes (old → new per column); applied only with apply=true",
             responses=error_responses(400, 401, 403))
async def refresh(body: RefreshRequest, request: Request, principal: Principal = Depends(system_principal)) -> Response:
    if (body.url is None) == (body.data is None):
        raise InvalidRequestError("Give the catalog file as exactly one of 'url' or 'data'.", param="data")
    data = await _fetch(request, body.url) if body.url is not None else body.data
    try:
        parsed = catalog_refresh.parse(body.source, data)
    except catalog_refresh.CatalogFormatError as error:
        raise InvalidRequestError(f"Not a {body.source} catalog file: {error}", param="url" if body.url else "data",
                                  code="invalid_catalog_file") from None
    gateway = gateway_of(request)
    db = gateway.ports.database
    models = await model_catalog.all_models(db)
    diffs = catalog_refresh.diff(models, parsed)
    if body.apply and diffs:
        await model_catalog.apply_refresh(db, diffs, source=body.source)
        gateway.catalog.invalidate()
    matched = sum(1 for model in models if (model["provider_id"], model["upstream_name"]) in parsed)
    # matched: the gateway's models the file names (changed or not); changes: old -> new per column.
    return json_response({"object": "catalog.refresh", "source": body.source, "applied": body.apply,
                          "matched": matched, "changes": diffs})
