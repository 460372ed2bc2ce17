"""POST /v1/images/generations as a plain ASGI handler: one JSON answer in the OpenAI images format."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import ROUTED_ERROR_RESPONSES, run_json_request, serve_openai_route
from gateway.api.schemas import ImagesRequest
from gateway.core import Gateway
from gateway.pipeline.chat import JsonResult
from gateway.pipeline.context import RequestContext

# For the OpenAPI document (the route itself bypasses FastAPI; see app.py).
OPENAPI_OPERATION = {
    "tags": ["OpenAI-compatible"],
    "summary": "Image generation (OpenAI format; OpenAI, Imagen, Together AI, xAI, Workers AI)",
    "operationId": "create_images",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ImagesRequest.model_json_schema()}},
    },
    "responses": {
        "200": {"description": "`{created, data: [{b64_json | url, revised_prompt?}], usage?}`; a provider that only "
                               "answers bytes gives `url` as a data: URL"},
        "400": {"description": "Invalid request, a size/quality the provider cannot make, or a model that is not an "
                               "image model (error.param names the field)"},
        **ROUTED_ERROR_RESPONSES,
    },
}


async def handle_images(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> JsonResult:
    """Authenticate, validate, run the images pipeline. Errors are accounted, then raised."""
    pipeline = gateway.images
    return await run_json_request(gateway, ctx, headers, body, ImagesRequest, pipeline, pipeline.create)


async def create_images(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "images", handle_images)
