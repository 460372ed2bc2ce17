"""FastAPI-side answers in the gateway's shapes: compact JSON and the OpenAI error envelope."""

from __future__ import annotations

import json
from typing import Any, Mapping

from starlette.responses import Response

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
