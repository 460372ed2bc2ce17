"""OpenAI-style error bodies `{"error": {"message", "type", "param", "code"}}` to gateway errors."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.classify import category_for_status, parse_json, retry_after_seconds

_CODE_CATEGORIES = {
    "context_length_exceeded": ErrorCategory.CONTEXT_LENGTH,
    "string_above_max_length": ErrorCategory.CONTEXT_LENGTH,
    "content_filter": ErrorCategory.CONTENT_FILTER,
    "content_policy_violation": ErrorCategory.CONTENT_FILTER,
    "insufficient_quota": ErrorCategory.QUOTA_EXCEEDED,
    "billing_hard_limit_reached": ErrorCategory.QUOTA_EXCEEDED,
    "model_not_found": ErrorCategory.MODEL_NOT_FOUND,
    "invalid_api_key": ErrorCategory.AUTH,
    "rate_limit_exceeded": ErrorCategory.RATE_LIMIT,
}

# Servers that do not send codes (vLLM, Ollama, LM Studio) still say what happened in words.
_MESSAGE_HINTS = (
    ("maximum context length", ErrorCategory.CONTEXT_LENGTH),
    ("context length", ErrorCategory.CONTEXT_LENGTH),
    ("context window", ErrorCategory.CONTEXT_LENGTH),
    ("context size", ErrorCategory.CONTEXT_LENGTH),  # llama.cpp server: "exceeds the available context size"
)


def error_fields(body: bytes) -> dict[str, Any]:
    """The `error` object of an OpenAI-style body, or {} when the body is not one."""
    payload = parse_json(body)
    if not isinstance(payload, dict):
        return {}
    error = payload.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):  # some compatible servers send {"error": "text"}
        return {"message": error}
    if isinstance(payload.get("detail"), str):  # FastAPI-based servers
        return {"message": payload["detail"]}
    if isinstance(payload.get("message"), str):  # flat bodies: older vLLM '{"object": "error", ...}'
        return payload
    return {}


def classify(status: int, fields: Mapping[str, Any]) -> ErrorCategory:
    code = fields.get("code")
    if isinstance(code, str) and code in _CODE_CATEGORIES:
        return _CODE_CATEGORIES[code]
    if status in (400, 413, 422):
        message = str(fields.get("message") or "").lower()
        for hint, category in _MESSAGE_HINTS:
            if hint in message:
                return category
    return category_for_status(status)


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    fields = error_fields(body)
    category = classify(status, fields)
    message = str(fields.get("message") or f"upstream answered HTTP {status}")
    # Only the caller's own mistakes name a parameter; an upstream's internals stay upstream.
    param = fields.get("param") if category in (ErrorCategory.INVALID_REQUEST, ErrorCategory.CONTEXT_LENGTH) else None
    return UpstreamError(
        category,
        message,
        upstream_status=status,
        param=param if isinstance(param, str) else None,
        retry_after=retry_after_seconds(headers) if category is ErrorCategory.RATE_LIMIT else None,
    )
