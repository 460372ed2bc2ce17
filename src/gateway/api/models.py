"""GET /v1/models: the catalog in OpenAI's list format (ids are 'provider/model')."""

from __future__ import annotations

from typing import Any, Mapping

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.responses import error_response, json_response
from gateway.core import Gateway
from gateway.errors import GatewayError

router = APIRouter()


async def handle_models(gateway: Gateway, headers: Mapping[str, str]) -> dict[str, Any]:
    ctx = gateway.new_context("models")
    await gateway.authenticate(ctx, headers)
    catalog = await gateway.catalog.get()
    data = [
        {
            "id": model_id,
            "object": "model",
            "created": 0,
            "owned_by": model["provider_id"],
            "modality": model["modality"],
            "context_window": model["context_window"],
        }
        for model_id, model in catalog.models.items()
    ]
    return {"object": "list", "data": data}


@router.get("/v1/models", tags=["OpenAI-compatible"], summary="List the models the gateway can route to")
async def list_models(request: Request) -> Response:
    try:
        return json_response(await handle_models(request.app.state.gateway, request.headers))
    except GatewayError as error:
        return error_response(error)
