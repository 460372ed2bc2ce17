"""POST /v1/chat/completions, and the handler the Worker's RPC `chat` method shares with it."""

from __future__ import annotations

from typing import Any, Mapping

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.responses import error_response, json_response, sse_response
from gateway.api.schemas import ChatCompletionRequest
from gateway.api.validation import parse_json_object, validate
from gateway.core import Gateway
from gateway.errors import GatewayError, PayloadTooLargeError
from gateway.pipeline.chat import JsonResult, StreamResult
from gateway.pipeline.context import RequestContext

router = APIRouter()


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


@router.post(
    "/v1/chat/completions",
    tags=["OpenAI-compatible"],
    summary="Create a chat completion (OpenAI format, any provider)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ChatCompletionRequest.model_json_schema()}},
        }
    },
)
async def chat_completions(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    ctx = gateway.new_context("chat", request.scope.get("gateway.started"))
    clock = gateway.ports.clock
    try:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > gateway.settings.max_body_bytes:
            raise PayloadTooLargeError(f"The request body is larger than {gateway.settings.max_body_bytes} bytes.")
        result = await handle_chat(gateway, ctx, request.headers, await request.body())
    except GatewayError as error:
        return error_response(error, ctx.response_headers(clock.monotonic()))
    headers = ctx.response_headers(clock.monotonic())
    if isinstance(result, StreamResult):
        return sse_response(result.chunks, headers)
    return json_response(result.payload, headers=headers)
