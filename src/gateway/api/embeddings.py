"""POST /v1/embeddings as a plain ASGI handler, and the function an RPC method can share with it
(validation and pipeline are the same for both)."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import serve_openai_route
from gateway.api.schemas import EmbeddingsRequest
from gateway.api.validation import parse_json_object, validate
from gateway.core import Gateway
from gateway.errors import GatewayError
from gateway.pipeline.chat import JsonResult
from gateway.pipeline.context import RequestContext

# For the OpenAPI document (the route itself bypasses FastAPI; see app.py).
OPENAPI_OPERATION = {
    "tags": ["OpenAI-compatible"],
    "summary": "Create embeddings (OpenAI format; OpenAI, Gemini, Together, custom servers)",
    "operationId": "create_embeddings",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EmbeddingsRequest.model_json_schema()}},
    },
    "responses": {
        "200": {"description": "A list of embedding objects (float arrays, or base64 little-endian float32)"},
        "400": {"description": "Invalid request, or a model that is not an embedding model (error.param names it)"},
        "401": {"description": "Missing or invalid gateway key"},
        "404": {"description": "Unknown model"},
        "429": {"description": "Rate limited upstream (Retry-After)"},
        "502": {"description": "Upstream unreachable or failing"},
        "504": {"description": "Upstream timeout"},
    },
}


async def handle_embeddings(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> JsonResult:
    """Authenticate, validate, run the embeddings pipeline. Errors are accounted, then raised."""
    try:
        await gateway.authenticate(ctx, headers)
        if isinstance(body, (bytes, bytearray)):
            body = parse_json_object(body, gateway.settings.max_body_bytes)
        validate(EmbeddingsRequest, body)
        return await gateway.embeddings.create(ctx, body)
    except GatewayError as error:
        gateway.embeddings.fail(ctx, error)
        raise


async def create_embeddings(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "embeddings", handle_embeddings)
