"""Sending a built request to a provider and translating transport failures into gateway errors."""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.context import RequestContext
from gateway.ports import Clock, HttpClient, Timeouts, UpstreamConnectError, UpstreamResponse, UpstreamTimeout
from gateway.providers.base import ChatAdapter, EmbeddingsAdapter, UpstreamRequest


def transport_error(exc: Exception, provider_id: str) -> UpstreamError:
    if isinstance(exc, UpstreamTimeout):
        return UpstreamError(ErrorCategory.TIMEOUT, f"{provider_id}: {exc}", provider=provider_id)
    return UpstreamError(
        ErrorCategory.SERVER_ERROR, f"{provider_id}: {exc}", provider=provider_id, code="upstream_unreachable"
    )


async def open_response(
    http: HttpClient,
    clock: Clock,
    ctx: RequestContext,
    adapter: ChatAdapter | EmbeddingsAdapter,
    request: UpstreamRequest,
    timeouts: Timeouts,
) -> UpstreamResponse:
    """Send and wait for the status line; an error status is read, classified and raised."""
    provider_id = ctx.target.provider_id if ctx.target else "upstream"
    started = clock.monotonic()
    try:
        response = await http.send(request.method, request.url, request.headers, request.body, timeouts)
        if response.status >= 400:
            body = await response.read()
            raise adapter.parse_error(response.status, response.headers, body).attribute_to(provider_id)
    except (UpstreamConnectError, UpstreamTimeout) as exc:
        raise transport_error(exc, provider_id) from exc
    finally:
        ctx.upstream_seconds += clock.monotonic() - started
    return response


async def read_body(clock: Clock, ctx: RequestContext, response: UpstreamResponse) -> bytes:
    """The whole answer body; a break while reading is the transport's error, the wait is upstream time."""
    started = clock.monotonic()
    try:
        return await response.read()
    except (UpstreamConnectError, UpstreamTimeout) as exc:
        raise transport_error(exc, ctx.target.provider_id if ctx.target else "upstream") from exc
    finally:
        ctx.upstream_seconds += clock.monotonic() - started


async def read_json(clock: Clock, ctx: RequestContext, response: UpstreamResponse) -> dict[str, Any]:
    provider_id = ctx.target.provider_id if ctx.target else "upstream"
    raw = await read_body(clock, ctx, response)
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise UpstreamError(
            ErrorCategory.SERVER_ERROR, f"{provider_id}: answered with invalid JSON", provider=provider_id
        ) from exc
    if not isinstance(payload, dict):
        raise UpstreamError(ErrorCategory.SERVER_ERROR, f"{provider_id}: answer is not a JSON object", provider=provider_id)
    return payload
