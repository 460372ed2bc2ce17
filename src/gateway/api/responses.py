"""Answers in the gateway's shapes: JSON, SSE streams, and the OpenAI error envelope."""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Mapping

from starlette.responses import Response, StreamingResponse

from gateway.errors import GatewayError


class FastJSONResponse(Response):
    """Compact JSON without Starlette's per-call option handling (this is the hot path)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return FastJSONResponse(payload, status_code=status, headers=dict(headers or {}))


def error_response(error: GatewayError, headers: Mapping[str, str] | None = None) -> Response:
    merged = {**(headers or {}), **error.headers}
    return FastJSONResponse(error.envelope(), status_code=error.status, headers=merged)


def sse_response(chunks: AsyncIterator[bytes], headers: Mapping[str, str]) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type="text/event-stream",
        headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"},
    )
