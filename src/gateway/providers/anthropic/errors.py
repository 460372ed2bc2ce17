"""Anthropic error bodies `{"type": "error", "error": {"type", "message"}, "request_id"}` to gateway errors.

Anthropic's error types and their statuses: invalid_request_error 400, authentication_error 401,
billing_error 402, permission_error 403, not_found_error 404, request_too_large 413, rate_limit_error 429,
api_error 500, timeout_error 504, overloaded_error 529. A stream can also carry an `error` event
after its 200 status line; it is classified the same way.
"""

from __future__ import annotations

from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.classify import category_for_status, parse_json, retry_after_seconds

_TYPE_CATEGORIES = {
    "invalid_request_error": ErrorCategory.INVALID_REQUEST,
    "authentication_error": ErrorCategory.AUTH,
    "permission_error": ErrorCategory.AUTH,
    "billing_error": ErrorCategory.QUOTA_EXCEEDED,
    "not_found_error": ErrorCategory.MODEL_NOT_FOUND,
    "request_too_large": ErrorCategory.INVALID_REQUEST,
    "rate_limit_error": ErrorCategory.RATE_LIMIT,
    "api_error": ErrorCategory.SERVER_ERROR,
    "overloaded_error": ErrorCategory.SERVER_ERROR,
    "timeout_error": ErrorCategory.TIMEOUT,
}

# The status Anthropic answers each type with: used for errors that arrive inside a 200 stream.
TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

# invalid_request_error covers several things Anthropic tells apart only in words.
_MESSAGE_HINTS = (
    ("prompt is too long", ErrorCategory.CONTEXT_LENGTH),
    ("exceed context limit", ErrorCategory.CONTEXT_LENGTH),  # "input length and `max_tokens` exceed context limit"
    ("context window", ErrorCategory.CONTEXT_LENGTH),
    ("credit balance is too low", ErrorCategory.QUOTA_EXCEEDED),
)


def error_fields(body: bytes) -> dict[str, Any]:
    """The `error` object of an Anthropic body, or {} when the body is not one."""
    payload = parse_json(body)
    if not isinstance(payload, dict):
        return {}
    error = payload.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):
        return {"message": error}
    return {}


def classify(status: int, fields: Mapping[str, Any]) -> ErrorCategory:
    error_type = fields.get("type")
    category = _TYPE_CATEGORIES.get(error_type) if isinstance(error_type, str) else None
    if category is None:
        category = category_for_status(status)
    if category is ErrorCategory.INVALID_REQUEST:
        message = str(fields.get("message") or "").lower()
        for hint, hinted in _MESSAGE_HINTS:
            if hint in message:
                return hinted
    return category


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    return from_fields(status, headers, error_fields(body))


def from_fields(status: int, headers: Mapping[str, str], fields: Mapping[str, Any]) -> UpstreamError:
    category = classify(status, fields)
    message = str(fields.get("message") or f"upstream answered HTTP {status}")
    return UpstreamError(
        category,
        message,
        upstream_status=status,
        retry_after=retry_after_seconds(headers) if category is ErrorCategory.RATE_LIMIT else None,
    )


def stream_error(fields: Mapping[str, Any]) -> UpstreamError:
    """An `error` event inside a 200 stream (e.g. overloaded_error midway)."""
    status = TYPE_STATUS.get(str(fields.get("type")), 500)
    return from_fields(status, {}, fields)
