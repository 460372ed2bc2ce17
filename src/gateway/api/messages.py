"""POST /v1/messages: the Anthropic-compatible front door, as a plain ASGI handler.

The request is translated into an OpenAI chat request and run through the same pipeline as
/v1/chat/completions (auth, routing, keys, usage with endpoint "messages"); the answer, the stream
and every error are translated back into Anthropic's formats (`gateway/ingress/anthropic_messages.py`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Mapping

from gateway.api.asgi_io import Receive, Send, header_map, read_body, send_json, send_stream
from gateway.api.validation import parse_json_object
from gateway.core import Gateway
from gateway.errors import GatewayError, InternalError
from gateway.ingress import anthropic_messages as ingress
from gateway.pipeline import tags
from gateway.pipeline.chat import JsonResult, StreamResult
from gateway.pipeline.context import RequestContext
from gateway.sse import SseDecoder

log = logging.getLogger("gateway.api")

_BLOCKS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]}
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["model", "max_tokens", "messages"],
    "properties": {
        "model": {"type": "string", "description": "a gateway model id ('provider/model'), any chat provider"},
        "max_tokens": {"type": "integer", "minimum": 1},
        "messages": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["role", "content"],
            "properties": {"role": {"enum": ["user", "assistant"]}, "content": _BLOCKS}}},
        "system": _BLOCKS,
        "stop_sequences": {"type": "array", "items": {"type": "string"}},
        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "stream": {"type": "boolean"},
        "tools": {"type": "array", "items": {"type": "object", "required": ["name", "input_schema"]}},
        "tool_choice": {"type": "object"},
        "metadata": {"type": "object", "properties": {"user_id": {"type": "string"}}},
    },
}

# For the OpenAPI document (the route itself bypasses FastAPI; see app.py).
OPENAPI_OPERATION = {
    "tags": ["Anthropic-compatible"],
    "summary": "Create a message (Anthropic Messages format, any chat provider)",
    "operationId": "create_message",
    "requestBody": {"required": True, "content": {"application/json": {"schema": REQUEST_SCHEMA}}},
    "responses": {
        "200": {"description": "A message object, or an SSE stream of Anthropic message events"},
        "400": {"description": "invalid_request_error (the field is named in the message)"},
        "401": {"description": "authentication_error: missing or invalid gateway key"},
        "404": {"description": "not_found_error: unknown model"},
        "429": {"description": "rate_limit_error (Retry-After)"},
        "502": {"description": "api_error: upstream unreachable or failing"},
        "504": {"description": "timeout_error: upstream timeout"},
    },
}


def message_id(ctx: RequestContext) -> str:
    """`msg_` + the request id's unique part, so a message can be found in the usage log."""
    return "msg_" + ctx.request_id.removeprefix("req_")


async def handle_messages(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> tuple[JsonResult | StreamResult, str]:
    """Authenticate, validate and translate, run the chat pipeline; answers (result, requested model)."""
    try:
        await gateway.authenticate(ctx, headers)
        if isinstance(body, (bytes, bytearray)):
            body = parse_json_object(body, gateway.settings.max_body_bytes)
        request = ingress.to_openai_request(body)
        ctx.tags = tags.request_tags(headers, tags.from_anthropic_metadata(body.get("metadata")))
        return await gateway.chat.complete(ctx, request), request["model"]
    except GatewayError as error:
        if not isinstance(error, tags.InvalidTags):  # refused before anything ran: nothing to record
            gateway.chat.fail(ctx, error)
        raise


async def messages(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    clock = gateway.ports.clock
    ctx = gateway.new_context("messages")
    headers = header_map(scope)
    try:
        body = await read_body(receive, headers, gateway.settings.max_body_bytes)
        result, model = await handle_messages(gateway, ctx, headers, body)
    except GatewayError as error:
        await _send_error(send, ctx, error, gateway)
        return
    except Exception:
        log.exception("request %s: unexpected error", ctx.request_id)
        await _send_error(send, ctx, InternalError("The gateway hit an unexpected error; it has been logged."), gateway)
        return
    response_headers = {**ctx.response_headers(clock.monotonic()), "request-id": ctx.request_id}
    if isinstance(result, StreamResult):
        converter = ingress.StreamConverter(model, message_id(ctx), ctx.request_id)
        await send_stream(send, receive, _events(result.chunks, converter, ctx), response_headers)
        return
    try:
        answer = ingress.to_anthropic_message(result.payload, model, message_id(ctx))
    except Exception:
        log.exception("request %s: could not translate the answer", ctx.request_id)
        await _send_error(send, ctx, InternalError("The gateway could not translate the answer."), gateway)
        return
    await send_json(send, 200, answer, response_headers)


async def _send_error(send: Send, ctx: RequestContext, error: GatewayError, gateway: Gateway) -> None:
    headers = {**ctx.response_headers(gateway.ports.clock.monotonic()), "request-id": ctx.request_id, **error.headers}
    await send_json(send, error.status, ingress.error_body(error.status, error.message, ctx.request_id), headers)


async def _events(
    chunks: AsyncIterator[bytes], converter: ingress.StreamConverter, ctx: RequestContext
) -> AsyncIterator[bytes]:
    """The pipeline's OpenAI SSE bytes in, Anthropic SSE events out (one write per pipeline write)."""
    decoder = SseDecoder()
    try:
        yield b"".join(ingress.encode_event(event) for event in converter.start())
        async for data in chunks:
            out: list[dict[str, Any]] = []
            for event in decoder.feed(data):
                if event.data == "[DONE]":
                    out.extend(converter.done())
                    continue
                try:
                    chunk = json.loads(event.data)
                except ValueError:
                    log.warning("request %s: skipped an unreadable pipeline chunk", ctx.request_id)
                    continue
                if isinstance(chunk, dict):
                    out.extend(converter.feed(chunk))
            if out:
                yield b"".join(ingress.encode_event(event) for event in out)
        tail = converter.close()
        if tail:
            yield b"".join(ingress.encode_event(event) for event in tail)
    finally:
        await chunks.aclose()
