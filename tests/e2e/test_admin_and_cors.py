"""The admin bootstrap (keys shown once, stored hashed), custom providers, CORS and /health."""

from __future__ import annotations

import hashlib
import sqlite3

import httpx
import openai


def test_admin_endpoints_need_an_admin_principal(gateway, api_key):
    for headers in ({}, {"authorization": "Bearer nope"}):
        response = httpx.post(gateway.base_url + "/admin/keys", json={}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
    # A user-less app key authenticates, but it is nobody to the admin API.
    response = httpx.post(gateway.base_url + "/admin/keys", json={}, headers={"authorization": f"Bearer {api_key}"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_an_admin_principal"


def test_new_key_is_shown_once_and_stored_as_a_hash(gateway):
    with gateway.admin() as admin:
        created = admin.post("/admin/keys", json={"name": "ci", "requests_per_day": 50}).json()
    raw_key = created["key"]
    assert raw_key.startswith("gw-") and created["prefix"] == raw_key[: len(created["prefix"])]
    with sqlite3.connect(gateway.db_path) as db:
        stored = db.execute("SELECT key_hash, prefix, requests_per_day FROM gateway_keys WHERE id = ?",
                            (created["id"],)).fetchone()
        dump = "\n".join(db.iterdump())
    assert stored == (hashlib.sha256(raw_key.encode()).hexdigest(), created["prefix"], 50)
    assert raw_key not in dump


def test_admin_create_key_validates_fields(gateway):
    with gateway.admin() as admin:
        response = admin.post("/admin/keys", json={"requests_per_day": -1})
        assert response.status_code == 400 and response.json()["error"]["param"] == "requests_per_day"
        response = admin.post("/admin/keys", json={"user_id": "nobody"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_reference"
        response = admin.post("/admin/keys", content=b"{not json", headers={"content-type": "application/json"})
        assert response.status_code == 400


def test_expired_key_is_refused(gateway):
    key = gateway.create_key(expires_at="2020-01-01T00:00:00Z")
    response = httpx.get(gateway.base_url + "/v1/models", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "expired_api_key"


def test_usage_listing_respects_limit(gateway, api_key):
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)
    for _ in range(3):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    with gateway.admin() as admin:
        assert len(admin.get("/admin/usage", params={"limit": 2}).json()["data"]) == 2
        assert admin.get("/admin/usage", params={"limit": 0}).status_code == 400


def test_custom_openai_compatible_server(gateway, api_key, emulator):
    with gateway.admin() as admin:
        created = admin.post("/admin/providers", json={"id": "local-vllm", "base_url": emulator.base_url + "/v1"})
        assert created.status_code == 201, created.text
        again = admin.post("/admin/providers", json={"id": "local-vllm", "base_url": emulator.base_url + "/v1"})
        assert again.status_code == 409
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="local-vllm/Qwen2.5-7B-Instruct", messages=[{"role": "user", "content": "hi from vllm"}]
    )
    assert raw.parse().choices[0].message.content == "Emulated reply to: hi from vllm"
    assert raw.headers["x-gateway-provider"] == "local-vllm"
    sent = httpx.get(emulator.base_url + "/_emulator/requests").json()[-1]
    assert sent["headers"]["Authorization"] == "Bearer vllm-secret"
    assert sent["body"]["model"] == "Qwen2.5-7B-Instruct"
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["model_id"] == "local-vllm/Qwen2.5-7B-Instruct"
    assert row["cost_usd"] is None and row["cost_status"] == "unpriced"  # not in the catalog


def test_cors_preflight_and_exposed_headers(gateway, api_key):
    origin = "https://app.example.com"
    preflight = httpx.options(
        gateway.base_url + "/v1/chat/completions",
        headers={"origin": origin, "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization, content-type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    # The OpenAI JS SDK in a browser sends its own headers; the preflight must allow them.
    sdk_preflight = httpx.options(
        gateway.base_url + "/v1/chat/completions",
        headers={"origin": origin, "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization, content-type, x-stainless-os, x-stainless-retry-count"},
    )
    assert sdk_preflight.status_code == 200
    assert "x-stainless-os" in sdk_preflight.headers["access-control-allow-headers"].lower()
    response = httpx.get(gateway.base_url + "/v1/models", headers={"origin": origin, "authorization": f"Bearer {api_key}"})
    assert response.headers["access-control-allow-origin"] == origin
    assert "x-request-id" in response.headers["access-control-expose-headers"]
    stranger = httpx.options(
        gateway.base_url + "/v1/chat/completions",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers


def test_health_reports_the_database(gateway):
    response = httpx.get(gateway.base_url + "/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_openapi_documents_the_chat_route(gateway):
    schema = httpx.get(gateway.base_url + "/openapi.json").json()
    operation = schema["paths"]["/v1/chat/completions"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"model", "messages"} <= set(body_schema["required"])
    assert "/admin/keys" in schema["paths"]
