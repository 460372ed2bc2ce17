"""Workers AI / Cloudflare API error envelopes `{"success": false, "errors": [{"code", "message"}]}` to
gateway errors. Codes from Cloudflare's Workers AI error table, then the HTTP status:

- 3036 "Account limited" (the daily free allocation of 10,000 neurons is used up), 429 → quota_exceeded
- 3040 "Out of capacity", other 429s → rate_limit (`retry-after` kept when sent)
- 10000 "Authentication error" (Cloudflare API), 401, 403 (3023 account blocked, 3041/5018 private model,
  5016 model terms not agreed) → auth
- 5007 "No such model" (HTTP 400), 3042 "Invalid model ID" (404) → model_not_found
- 5021 / a message about the context window → context_length (the code is not in Cloudflare's table:
  taken from the binding's observed "5021: … exceeded this model context window limit" message)
- 3007 / 3008 timeout and aborted (408), 504 → timeout; 3006 too large (413), other 4xx → invalid_request;
  5xx → server_error.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.classify import category_for_status, parse_json, retry_after_seconds

_CODE_CATEGORIES = {
    3036: ErrorCategory.QUOTA_EXCEEDED,
    3040: ErrorCategory.RATE_LIMIT,
    10000: ErrorCategory.AUTH,
    3023: ErrorCategory.AUTH,
    3041: ErrorCategory.AUTH,
    5018: ErrorCategory.AUTH,
    5016: ErrorCategory.AUTH,
    5007: ErrorCategory.MODEL_NOT_FOUND,
    3042: ErrorCategory.MODEL_NOT_FOUND,
    5021: ErrorCategory.CONTEXT_LENGTH,
    3007: ErrorCategory.TIMEOUT,
    3008: ErrorCategory.TIMEOUT,
}
_CONTEXT_HINTS = ("context window", "context length", "too many tokens")
_CODE_IN_MESSAGE = re.compile(r"\b(\d{4,5}):\s*(.*)", re.S)


def first_error(body: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The first `{code, message}` of a Cloudflare envelope ({} when the body is not one)."""
    payload = parse_json(body) if isinstance(body, (bytes, bytearray)) else body
    if not isinstance(payload, dict):
        return {}
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    if isinstance(payload.get("error"), str):
        return {"message": payload["error"]}
    return {}


def split_code(message: str) -> tuple[int | None, str]:
    """'AiError: 3040: Capacity temporarily exceeded' → (3040, 'Capacity temporarily exceeded')."""
    found = _CODE_IN_MESSAGE.search(message)
    return (int(found.group(1)), found.group(2).strip()) if found else (None, message)


def classify(status: int, code: Any, message: str) -> ErrorCategory:
    if isinstance(code, int) and code in _CODE_CATEGORIES:
        return _CODE_CATEGORIES[code]
    if status in (400, 413, 422) and any(hint in message.lower() for hint in _CONTEXT_HINTS):
        return ErrorCategory.CONTEXT_LENGTH
    return category_for_status(status)


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
    fields = first_error(body)
    message = str(fields.get("message") or f"upstream answered HTTP {status}")
    code = fields.get("code")
    if not isinstance(code, int):
        code, _ = split_code(message)
    category = classify(status, code, message)
    return UpstreamError(
        category,
        message,
        upstream_status=status,
        retry_after=retry_after_seconds(headers) if category is ErrorCategory.RATE_LIMIT else None,
    )
