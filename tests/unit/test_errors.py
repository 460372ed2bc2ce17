"""The closed error tree: every error knows its HTTP status, its OpenAI type and code, and its envelope."""

from __future__ import annotations

import pytest

from gateway.errors import (
    AuthenticationError,
    ConflictError,
    ErrorCategory,
    GatewayError,
    InternalError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UpstreamError,
)


@pytest.mark.parametrize(
    ("cls", "status", "type_", "code"),
    [
        (InvalidRequestError, 400, "invalid_request_error", None),
        (AuthenticationError, 401, "authentication_error", "invalid_api_key"),
        (PermissionDeniedError, 403, "permission_error", None),
        (NotFoundError, 404, "not_found_error", None),
        (MethodNotAllowedError, 405, "invalid_request_error", "method_not_allowed"),
        (ConflictError, 409, "conflict_error", None),
        (PayloadTooLargeError, 413, "invalid_request_error", "request_too_large"),
        (InternalError, 500, "server_error", "internal_error"),
    ],
)
def test_gateway_errors_render_the_openai_envelope(cls, status, type_, code):
    error = cls("Something is wrong.")
    assert isinstance(error, GatewayError)
    assert error.status == status
    assert error.envelope() == {
        "error": {"message": "Something is wrong.", "type": type_, "param": None, "code": code}
    }
    assert error.error_type == type_


def test_param_code_and_headers_given_at_raise_time_reach_the_client():
    error = AuthenticationError("Expired.", param="authorization", code="expired_api_key", headers={"x-a": "1"})
    assert error.envelope()["error"] == {
        "message": "Expired.", "type": "authentication_error", "param": "authorization", "code": "expired_api_key",
    }
    assert error.headers == {"x-a": "1"}
    # The class default is untouched for the next error.
    assert AuthenticationError("Other.").code == "invalid_api_key"


@pytest.mark.parametrize(
    ("category", "status", "type_", "code"),
    [
        (ErrorCategory.RATE_LIMIT, 429, "rate_limit_error", "rate_limit_exceeded"),
        (ErrorCategory.AUTH, 502, "upstream_error", "upstream_auth_failed"),
        (ErrorCategory.TIMEOUT, 504, "timeout_error", "upstream_timeout"),
        (ErrorCategory.MODEL_NOT_FOUND, 404, "not_found_error", "model_not_found"),
        (ErrorCategory.CONTENT_FILTER, 400, "invalid_request_error", "content_filter"),
        (ErrorCategory.QUOTA_EXCEEDED, 429, "insufficient_quota", "insufficient_quota"),
        (ErrorCategory.CONTEXT_LENGTH, 400, "invalid_request_error", "context_length_exceeded"),
        (ErrorCategory.INVALID_REQUEST, 400, "invalid_request_error", None),
        (ErrorCategory.SERVER_ERROR, 502, "upstream_error", "upstream_unavailable"),
    ],
)
def test_every_upstream_category_has_a_client_status_and_type(category, status, type_, code):
    error = UpstreamError(category, "upstream said no", upstream_status=418)
    assert error.status == status
    assert error.envelope()["error"] == {"message": "upstream said no", "type": type_, "param": None, "code": code}
    assert error.upstream_status == 418
    # The usage log records the category, not the OpenAI type.
    assert error.error_type == category.value
    # Only a rate limit gets a default back-off hint when the provider gave none.
    assert error.headers == ({"retry-after": "1"} if category is ErrorCategory.RATE_LIMIT else {})


def test_every_category_is_mapped():
    for category in ErrorCategory:
        assert UpstreamError(category, "x").status in (400, 404, 429, 502, 504)


def test_an_explicit_code_wins_over_the_category_default():
    error = UpstreamError(ErrorCategory.AUTH, "no key", code="provider_key_missing")
    assert error.envelope()["error"]["code"] == "provider_key_missing"


@pytest.mark.parametrize(("seconds", "header"), [(7, "7"), (7.0, "7"), (1.5, "2"), (0.001, "1"), (0, "0")])
def test_retry_after_header_is_whole_seconds_rounded_up(seconds, header):
    error = UpstreamError(ErrorCategory.RATE_LIMIT, "slow down", retry_after=seconds)
    assert error.headers == {"retry-after": header}
    assert error.retry_after == seconds


def test_attribute_to_names_the_provider_once():
    error = UpstreamError(ErrorCategory.SERVER_ERROR, "boom")
    assert error.attribute_to("openai") is error
    assert error.provider == "openai"
    assert error.message == "openai: boom"
    error.attribute_to("other")
    assert error.provider == "openai"
    assert error.envelope()["error"]["message"] == "openai: boom"


def test_an_error_that_already_names_its_provider_is_not_renamed():
    error = UpstreamError(ErrorCategory.AUTH, "ollama: no key", provider="ollama")
    error.attribute_to("openai")
    assert (error.provider, error.message) == ("ollama", "ollama: no key")

