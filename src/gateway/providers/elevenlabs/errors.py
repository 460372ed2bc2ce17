"""ElevenLabs error bodies to gateway errors: `{"detail": {"status", "message"}}` (its own errors) or
`{"detail": [{"loc", "msg", "type"}]}` (422 validation errors)."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.classify import category_for_status, parse_json, retry_after_seconds

_STATUS_CATEGORIES = {
    "invalid_api_key": ErrorCategory.AUTH,
    "missing_permissions": ErrorCategory.AUTH,
    "quota_exceeded": ErrorCategory.QUOTA_EXCEEDED,
    "payment_required": ErrorCategory.QUOTA_EXCEEDED,
    "too_many_concurrent_requests": ErrorCategory.RATE_LIMIT,
    "system_busy": ErrorCategory.RATE_LIMIT,
    "rate_limit_exceeded": ErrorCategory.RATE_LIMIT,
    "voice_not_found": ErrorCategory.INVALID_REQUEST,
    "model_not_found": ErrorCategory.MODEL_NOT_FOUND,
}
_PARAMS = {"voice_not_found": "voice"}


def detail_fields(body: bytes) -> tuple[str | None, str | None]:
    """(status, message) of an ElevenLabs error body."""
    payload = parse_json(body)
    if not isinstance(payload, dict):
        return None, None
    detail: Any = payload.get("detail")
    if isinstance(detail, dict):
        status, message = detail.get("status"), detail.get("message")
        return (status if isinstance(status, str) else None), (message if isinstance(message, str) else None)
    if isinstance(detail, str):
        return None, detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return None, str(detail[0].get("msg") or "")
    return None, None


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    code, message = detail_fields(body)
    category = _STATUS_CATEGORIES.get(code or "") or category_for_status(status)
    return UpstreamError(
        category,
        message or f"upstream answered HTTP {status}",
        upstream_status=status,
        param=_PARAMS.get(code or "") if category is ErrorCategory.INVALID_REQUEST else None,
        retry_after=retry_after_seconds(headers) if category is ErrorCategory.RATE_LIMIT else None,
    )
