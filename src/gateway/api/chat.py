"""POST /v1/chat/completions as a plain ASGI handler, and the function the Worker's RPC `chat`
method shares with it (validation and pipeline are the same for both)."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import ROUTED_ERROR_RESPONSES, run_json_request, serve_openai_route
from gateway.api.schemas import ChatCompletionRequest
from gateway.core import Gateway
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
        **ROUTED_ERROR_RESPONSES,
    },
}


async def handle_chat(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> JsonResult | StreamResult:
    """Authenticate, validate, run the chat pipeline. Errors are accounted, then raised."""
    pipeline = gateway.chat
    return await run_json_request(gateway, ctx, headers, body, ChatCompletionRequest, pipeline, pipeline.complete,
                                  metadata_tags=True)


async def chat_completions(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "chat", handle_chat)
