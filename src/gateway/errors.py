"""One closed tree of gateway errors.

Every error a client can see is a `GatewayError`: it knows its HTTP status, its OpenAI error `type`
and `code`, and renders the OpenAI envelope. Provider adapters translate upstream failures into
`UpstreamError` with one `ErrorCategory` at the boundary; nothing else invents error shapes.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class ErrorCategory(str, Enum):
    """The closed set every upstream failure is classified into (it picks the fallback)."""

    RATE_LIMIT = "rate_limit"
    AUTH = "auth"
    TIMEOUT = "timeout"
    MODEL_NOT_FOUND = "model_not_found"
    CONTENT_FILTER = "content_filter"
    QUOTA_EXCEEDED = "quota_exceeded"
    CONTEXT_LENGTH = "context_length"
    INVALID_REQUEST = "invalid_request"
    SERVER_ERROR = "server_error"


class GatewayError(Exception):
    status: int = 500
    type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = headers or {}

    @property
    def error_type(self) -> str:
        """What the usage log records for this failure."""
        return self.type

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class InvalidRequestError(GatewayError):
    status = 400
    type = "invalid_request_error"


class AuthenticationError(GatewayError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(GatewayError):
    status = 403
    type = "permission_error"


class NotFoundError(GatewayError):
    status = 404
    type = "not_found_error"


class MethodNotAllowedError(GatewayError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class ConflictError(GatewayError):
    status = 409
    type = "conflict_error"


class PayloadTooLargeError(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class InternalError(GatewayError):
    status = 500
    type = "server_error"
    code = "internal_error"


DEFAULT_RATE_LIMIT_RETRY_SECONDS = 1

# Status and OpenAI type/code the client sees for each upstream category. Upstream auth and
# server failures are the gateway's problem, not the caller's: they surface as 502.
_CATEGORY_STATUS: dict[ErrorCategory, tuple[int, str, str | None]] = {
    ErrorCategory.RATE_LIMIT: (429, "rate_limit_error", "rate_limit_exceeded"),
    ErrorCategory.AUTH: (502, "upstream_error", "upstream_auth_failed"),
    ErrorCategory.TIMEOUT: (504, "timeout_error", "upstream_timeout"),
    ErrorCategory.MODEL_NOT_FOUND: (404, "not_found_error", "model_not_found"),
    ErrorCategory.CONTENT_FILTER: (400, "invalid_request_error", "content_filter"),
    ErrorCategory.QUOTA_EXCEEDED: (429, "insufficient_quota", "insufficient_quota"),
    ErrorCategory.CONTEXT_LENGTH: (400, "invalid_request_error", "context_length_exceeded"),
    ErrorCategory.INVALID_REQUEST: (400, "invalid_request_error", None),
    ErrorCategory.SERVER_ERROR: (502, "upstream_error", "upstream_unavailable"),
}


class UpstreamError(GatewayError):
    """A provider's failure, classified. `upstream_status` is what the provider answered (if it did)."""

    def __init__(
        self,
        category: ErrorCategory,
        message: str,
        *,
        provider: str = "",
        upstream_status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        status, err_type, default_code = _CATEGORY_STATUS[category]
        headers = {}
        if retry_after is not None:
            headers["retry-after"] = _retry_after_header(retry_after)
        elif category is ErrorCategory.RATE_LIMIT:
            # The provider gave no hint; a client still needs one to back off instead of hammering.
            headers["retry-after"] = str(DEFAULT_RATE_LIMIT_RETRY_SECONDS)
        super().__init__(message, param=param, code=code or default_code, headers=headers)
        self.category = category
        self.status = status
        self.type = err_type
        self.provider = provider
        self.upstream_status = upstream_status
        self.retry_after = retry_after

    @property
    def error_type(self) -> str:
        return self.category.value

    def attribute_to(self, provider_id: str) -> "UpstreamError":
        """Name the provider that failed (adapters are shared, so the pipeline knows which)."""
        if not self.provider:
            self.provider = provider_id
            self.message = f"{provider_id}: {self.message}"
        return self


def _retry_after_header(seconds: float) -> str:
    # Retry-After takes whole seconds; round up so a client never retries too early.
    whole = int(seconds)
    return str(whole if whole == seconds else whole + 1)
