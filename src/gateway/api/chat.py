"""POST /v1/chat/completions as a plain ASGI handler, and the function the Worker's RPC `chat`
method shares with it (validation and pipeline are the same for both)."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import serve_openai_route
from gateway.api.schemas import ChatCompletionRequest
from gateway.api.validation import parse_json_object, validate
from gateway.core import Gateway
from gateway.errors import GatewayError
from gateway.pipeline.chat import JsonResult, StreamResult
from gateway.pipeline.context import RequestContext

# For the OpenAPI document (the route itself bypasses FastAPI; see app.py).
OPENAPI_OPERATION = {
    "tags": ["OpenAI-compatible"],
    "summary": "Create a chat completion (OpenAI format, any provider)",
    "operationId": "create_chat_completion",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ChatCompletionRequest.model_json_schema()}},
    },
    "responses": {
        "200": {"description": "A chat.completion object, or an SSE stream of chat.completion.chunk objects"},
        "400": {"description": "Invalid request (the field is named in error.param)"},
        "401": {"description": "Missing or invalid gateway key"},
        "404": {"description": "Unknown model"},
        "429": {"description": "Rate limited upstream (Retry-After)"},
        "502": {"description": "Upstream unreachable or failing"},
        "504": {"description": "Upstream timeout"},
    },
}


async def handle_chat(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> JsonResult | StreamResult:
    """Authenticate, validate, run the chat pipeline. Errors are accounted, then raised."""
    try:
        await gateway.authenticate(ctx, headers)
        if isinstance(body, (bytes, bytearray)):
            body = parse_json_object(body, gateway.settings.max_body_bytes)
        validate(ChatCompletionRequest, body)
        return await gateway.chat.complete(ctx, body)
    except GatewayError as error:
        gateway.chat.fail(ctx, error)
        raise


async def chat_completions(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "chat", handle_chat)
