"""Gemini error bodies `{"error": {"code", "message", "status", "details"}}` to gateway errors.

`status` is the google.rpc code name; it decides the category, the message refines it:

- RESOURCE_EXHAUSTED → rate_limit, kept with its retry hint (`retry-after` header, or the RetryInfo
  `retryDelay` in `details`). Google's per-minute limit messages also say "quota", so only a 429 with no
  retry hint whose message speaks of billing, credits or prepayment is quota_exceeded.
- UNAUTHENTICATED, PERMISSION_DENIED, and the 400 INVALID_ARGUMENT Google answers for a bad key
  (ErrorInfo reason API_KEY_INVALID / "API key not valid") → auth.
- NOT_FOUND → model_not_found. DEADLINE_EXCEEDED → timeout. INTERNAL, UNAVAILABLE → server_error.
- INVALID_ARGUMENT → context_length when the message says the token count exceeds the maximum,
  else invalid_request (FAILED_PRECONDITION too, or quota_exceeded when it asks to enable billing).
"""

from __future__ import annotations

from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.classify import category_for_status, parse_json, retry_after_seconds

_STATUS_CATEGORIES = {
    "RESOURCE_EXHAUSTED": ErrorCategory.RATE_LIMIT,
    "UNAUTHENTICATED": ErrorCategory.AUTH,
    "PERMISSION_DENIED": ErrorCategory.AUTH,
    "NOT_FOUND": ErrorCategory.MODEL_NOT_FOUND,
    "INVALID_ARGUMENT": ErrorCategory.INVALID_REQUEST,
    "FAILED_PRECONDITION": ErrorCategory.INVALID_REQUEST,
    "OUT_OF_RANGE": ErrorCategory.INVALID_REQUEST,
    "DEADLINE_EXCEEDED": ErrorCategory.TIMEOUT,
    "INTERNAL": ErrorCategory.SERVER_ERROR,
    "UNAVAILABLE": ErrorCategory.SERVER_ERROR,
    "UNKNOWN": ErrorCategory.SERVER_ERROR,
    "ABORTED": ErrorCategory.SERVER_ERROR,
    "CANCELLED": ErrorCategory.SERVER_ERROR,
}
_BILLING_WORDS = ("billing", "credit", "prepay")
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def error_fields(body: bytes) -> dict[str, Any]:
    """The `error` object of a Gemini body ({} when it is not one); a JSON-array stream wraps it in a list."""
    payload = parse_json(body)
    if isinstance(payload, list) and payload:
        payload = payload[0]
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return payload["error"]
    return {}


def retry_delay_seconds(fields: Mapping[str, Any]) -> float | None:
    """The RetryInfo `retryDelay` ("34s", "1.5s") among the error's details."""
    for detail in fields.get("details") or ():
        if isinstance(detail, dict) and detail.get("@type") == _RETRY_INFO:
            raw = str(detail.get("retryDelay") or "").strip()
            try:
                return max(float(raw[:-1] if raw.endswith("s") else raw), 0.0)
            except ValueError:
                return None
    return None


def _reasons(fields: Mapping[str, Any]) -> set[str]:
    return {
        str(d.get("reason")) for d in fields.get("details") or () if isinstance(d, dict) and d.get("@type") == _ERROR_INFO
    }


def classify(status: int, fields: Mapping[str, Any], retry_after: float | None) -> ErrorCategory:
    rpc_status = str(fields.get("status") or "")
    message = str(fields.get("message") or "").lower()
    category = _STATUS_CATEGORIES.get(rpc_status) or category_for_status(status)
    if "API_KEY_INVALID" in _reasons(fields) or "api key not valid" in message or "api key expired" in message:
        return ErrorCategory.AUTH
    if category is ErrorCategory.RATE_LIMIT:
        if retry_after is None and any(word in message for word in _BILLING_WORDS):
            return ErrorCategory.QUOTA_EXCEEDED
        return category
    if category is ErrorCategory.INVALID_REQUEST:
        if "token count" in message and "exceed" in message:
            return ErrorCategory.CONTEXT_LENGTH
        if rpc_status == "FAILED_PRECONDITION" and "billing" in message:
            return ErrorCategory.QUOTA_EXCEEDED
    return category


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    fields = error_fields(body)
    retry_after = retry_after_seconds(headers)
    if retry_after is None:
        retry_after = retry_delay_seconds(fields)
    category = classify(status, fields, retry_after)
    message = str(fields.get("message") or f"upstream answered HTTP {status}")
    return UpstreamError(
        category,
        message,
        upstream_status=status,
        retry_after=retry_after if category is ErrorCategory.RATE_LIMIT else None,
    )
