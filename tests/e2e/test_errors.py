"""Bad input and upstream failures: each gets its status and the OpenAI envelope, never a traceback."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, gateway_config


def post_chat(gateway, api_key, body, **kwargs) -> httpx.Response:
    headers = {"authorization": f"Bearer {api_key}", **kwargs.pop("headers", {})}
    return httpx.post(gateway.base_url + "/v1/chat/completions", headers=headers, timeout=10, **kwargs, json=body) \
        if not isinstance(body, (bytes, str)) else \
        httpx.post(gateway.base_url + "/v1/chat/completions", headers=headers, timeout=10, content=body, **kwargs)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def assert_envelope(response: httpx.Response, status: int, *, code=None, param=None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["message"] and "Traceback" not in error["message"]
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return error


def test_malformed_json_is_400(gateway, api_key):
    assert_envelope(post_chat(gateway, api_key, b'{"model": "gpt-4o-mini", "messages": ['), 400, code="invalid_json")


def test_missing_field_is_named(gateway, api_key):
    error = assert_envelope(post_chat(gateway, api_key, {"model": "gpt-4o-mini"}), 400, param="messages")
    assert "messages" in error["message"]


def test_schema_violation_names_the_nested_field(gateway, api_key):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "hi"}]}
    assert_envelope(post_chat(gateway, api_key, body), 400, param="messages[0].role")
    body = {"model": "gpt-4o-mini", "messages": user("hi"), "temperature": 7}
    assert_envelope(post_chat(gateway, api_key, body), 400, param="temperature")


def test_missing_and_bad_keys_are_401(gateway):
    body = {"model": "gpt-4o-mini", "messages": user("hi")}
    response = httpx.post(gateway.base_url + "/v1/chat/completions", json=body)
    assert_envelope(response, 401, code="missing_api_key")
    assert_envelope(post_chat(gateway, "gw-not-a-real-key", body), 401, code="invalid_api_key")


def test_admin_key_is_not_a_client_key(gateway):
    body = {"model": "gpt-4o-mini", "messages": user("hi")}
    assert_envelope(post_chat(gateway, "test-admin-key", body), 401)


def test_unknown_model_is_404(gateway, api_key):
    assert_envelope(post_chat(gateway, api_key, {"model": "no-such-model", "messages": user("hi")}), 404,
                    code="model_not_found", param="model")
    assert_envelope(post_chat(gateway, api_key, {"model": "nowhere/some-model", "messages": user("hi")}), 404)


def test_upstream_429_keeps_retry_after(gateway, api_key):
    response = post_chat(gateway, api_key, {"model": "openai/gpt-4o-mini", "messages": user("[[emulator:fault=429]]")})
    assert_envelope(response, 429, code="rate_limit_exceeded")
    assert response.headers["retry-after"] == "2"
    row = gateway.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["error_type"], row["http_status"]) == ("error", "rate_limit", 429)


def test_upstream_429_without_retry_after(gateway, api_key):
    response = post_chat(
        gateway, api_key, {"model": "openai/gpt-4o-mini", "messages": user("[[emulator:fault=429-no-retry-after]]")}
    )
    assert_envelope(response, 429)
    assert response.headers["retry-after"] == "1"  # the gateway's default back-off hint


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("context-length", 400, "context_length_exceeded"),
        ("content-filter", 400, "content_filter"),
        ("model-not-found", 404, "model_not_found"),
        ("401", 502, "upstream_auth_failed"),
        ("503", 502, "upstream_unavailable"),
        ("500-once", 502, "upstream_unavailable"),
        ("reset", 502, "upstream_unreachable"),
    ],
)
def test_upstream_failures_are_classified(gateway, api_key, fault, status, code):
    body = {"model": "openai/gpt-4o-mini", "messages": user(f"[[emulator:fault={fault}]] case {fault}")}
    assert_envelope(post_chat(gateway, api_key, body), status, code=code)


def test_openai_sdk_raises_typed_errors(gateway, api_key):
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=user("hi"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=user("[[emulator:fault=429]]"))
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway.base_url + "/v1", api_key="wrong", max_retries=0).models.list()


def test_unreachable_upstream_is_502(gateway, api_key):
    with gateway.admin() as admin:
        created = admin.post("/admin/providers", json={"id": "deadserver", "base_url": "http://127.0.0.1:9/v1"})
    assert created.status_code == 201, created.text
    response = post_chat(gateway, api_key, {"model": "deadserver/llama3", "messages": user("hi")})
    assert_envelope(response, 502, code="upstream_unreachable")


@pytest.fixture(scope="module")
def strict_gateway(emulator, tmp_path_factory):
    config = gateway_config(emulator.base_url, UPSTREAM_TIMEOUT_SECONDS="0.5", MAX_BODY_BYTES="2000")
    server = GatewayServer(config, tmp_path_factory.mktemp("strict") / "gateway.sqlite3").start()
    yield server
    server.stop()


def test_upstream_timeout_is_504(strict_gateway):
    key = strict_gateway.create_key()
    response = post_chat(strict_gateway, key, {"model": "openai/gpt-4o-mini", "messages": user("[[emulator:fault=stall]]")})
    assert_envelope(response, 504, code="upstream_timeout")
    row = strict_gateway.usage_row(response.headers["x-request-id"])
    assert row["error_type"] == "timeout"


def test_oversized_body_is_413(strict_gateway):
    key = strict_gateway.create_key()
    response = post_chat(strict_gateway, key, {"model": "openai/gpt-4o-mini", "messages": user("x" * 5000)})
    assert_envelope(response, 413, code="request_too_large")


def test_unknown_route_and_method_use_the_envelope(gateway):
    assert_envelope(httpx.get(gateway.base_url + "/v1/nothing-here"), 404)
    assert_envelope(httpx.get(gateway.base_url + "/v1/chat/completions"), 405)
