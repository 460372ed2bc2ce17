"""POST /v1/embeddings as a plain ASGI handler, and the function an RPC method can share with it
(validation and pipeline are the same for both)."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import ROUTED_ERROR_RESPONSES, run_json_request, serve_openai_route
from gateway.api.schemas import EmbeddingsRequest
from gateway.core import Gateway
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
        **ROUTED_ERROR_RESPONSES,
    },
}


async def handle_embeddings(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> JsonResult:
    """Authenticate, validate, run the embeddings pipeline. Errors are accounted, then raised."""
    pipeline = gateway.embeddings
    return await run_json_request(gateway, ctx, headers, body, EmbeddingsRequest, pipeline, pipeline.create)


async def create_embeddings(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "embeddings", handle_embeddings)
