"""Status-code classification every adapter falls back on when a provider's body says nothing more."""

from __future__ import annotations

import json
from typing import Any, Mapping

from gateway.errors import ErrorCategory


def category_for_status(status: int) -> ErrorCategory:
    if status == 429:
        return ErrorCategory.RATE_LIMIT
    if status in (401, 403):
        return ErrorCategory.AUTH
    if status == 404:
        return ErrorCategory.MODEL_NOT_FOUND
    if status in (408, 504, 524):
        return ErrorCategory.TIMEOUT
    if status == 402:
        return ErrorCategory.QUOTA_EXCEEDED
    if 400 <= status < 500:
        return ErrorCategory.INVALID_REQUEST
    return ErrorCategory.SERVER_ERROR


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` or a numeric `retry-after` (HTTP-date forms are ignored)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            return None
    return None


def parse_json(body: bytes) -> Any:
    """An error body as JSON, or None when it is not JSON (a proxy in between may answer HTML)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
