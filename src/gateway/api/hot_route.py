"""The shared frame of the plain-ASGI OpenAI routes: read the body, run the route's handler, answer
JSON or a stream, and turn every failure into the OpenAI envelope (never a traceback)."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Mapping

from pydantic import BaseModel

from gateway.api.asgi_io import Receive, Send, header_map, media_headers, read_body, send_json, send_stream
from gateway.api.validation import max_cost, parse_json_object, validate
from gateway.core import Gateway
from gateway.errors import GatewayError, InternalError
from gateway.pipeline.chat import JsonResult, StreamResult
from gateway.pipeline.context import RequestContext
from gateway.pipeline.endpoint import EndpointPipeline
from gateway.pipeline import tags
from gateway.pipeline.neurons import requested_output_tokens
from gateway.pipeline.speech import MediaStreamResult

log = logging.getLogger("gateway.api")

# The OpenAPI answers every routed endpoint shares (each route adds its 200 and 400).
ROUTED_ERROR_RESPONSES = {
    "401": {"description": "Missing or invalid gateway key"},
    "404": {"description": "Unknown model"},
    "429": {"description": "Rate limited upstream (Retry-After)"},
    "502": {"description": "Upstream unreachable or failing"},
    "504": {"description": "Upstream timeout"},
}

Handler = Callable[[Gateway, RequestContext, Mapping[str, str], bytes], Awaitable[JsonResult | StreamResult | MediaStreamResult]]


async def run_json_request(
    gateway: Gateway,
    ctx: RequestContext,
    headers: Mapping[str, str],
    body: bytes | dict[str, Any],
    schema: type[BaseModel],
    pipeline: EndpointPipeline,
    run: Callable[[RequestContext, dict[str, Any]], Awaitable[Any]],
    *, metadata_tags: bool = False,
) -> Any:
    """The steps every JSON route shares: authenticate, parse (RPC callers hand a dict already), validate
    against `schema`, read the tags (x-gateway-tags, and the body's `metadata` where `metadata_tags`), run.
    An error is accounted on `pipeline` (a row for an authenticated caller; none for bad tags), then raised."""
    try:
        await gateway.authenticate(ctx, headers)
        if isinstance(body, (bytes, bytearray)):
            body = parse_json_object(body, gateway.settings.max_body_bytes)
        validate(schema, body)
        ctx.tags = tags.request_tags(headers, tags.from_openai_metadata(body.get("metadata")) if metadata_tags else None)
        ctx.max_output_tokens = requested_output_tokens(body)  # for the Workers AI neuron estimate
        ctx.max_cost_usd = max_cost(headers, body)  # takes the body's max_cost out: never forwarded
        return await run(ctx, body)
    except GatewayError as error:
        if not isinstance(error, tags.InvalidTags):  # refused before anything ran: nothing to record
            pipeline.fail(ctx, error)
        raise


async def serve_openai_route(
    gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send, endpoint: str, handle: Handler,
    *, body_limit: int | None = None,
) -> None:
    """`body_limit` replaces MAX_BODY_BYTES for a route that takes uploads (transcriptions)."""
    clock = gateway.ports.clock
    ctx = gateway.new_context(endpoint)
    headers = header_map(scope)
    try:
        limit = body_limit if body_limit is not None else gateway.settings.max_body_bytes
        body = await read_body(receive, headers, limit)
        result = await handle(gateway, ctx, headers, body)
    except GatewayError as error:
        await send_json(send, error.status, error.envelope(), {**ctx.response_headers(clock.monotonic()), **error.headers})
        return
    except Exception:
        log.exception("request %s: unexpected error", ctx.request_id)
        error = InternalError("The gateway hit an unexpected error; it has been logged.")
        await send_json(send, error.status, error.envelope(), ctx.response_headers(clock.monotonic()))
        return
    if isinstance(result, MediaStreamResult):
        await send_stream(send, receive, result.chunks, ctx.response_headers(clock.monotonic()),
                          media_headers(result.media_type))
    elif isinstance(result, StreamResult):
        await send_stream(send, receive, result.chunks, ctx.response_headers(clock.monotonic()))
    else:
        await send_json(send, 200, result.payload, ctx.response_headers(clock.monotonic()))
