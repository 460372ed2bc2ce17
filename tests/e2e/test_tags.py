"""Attribution tags over HTTP (docs/cost.md, "Tags"): the x-gateway-tags header and the body's metadata land
in usage_log.tags and usage_tags, and the analytics API groups cost by them; bad tags are a 400 that
reaches no provider and writes no usage."""

from __future__ import annotations

import json
import uuid

import httpx
import openai
import pytest

from tests.conftest import emulator_seen


@pytest.fixture(scope="module")
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def stored_tags(gateway, request_id: str) -> dict[str, str]:
    rows = gateway.sql("SELECT tag_key, tag_value FROM usage_tags WHERE request_id = ?", request_id)
    return {row["tag_key"]: row["tag_value"] for row in rows}


def test_header_and_metadata_tags_are_recorded_and_grouped_on(gateway, client):
    app = f"checkout-{uuid.uuid4().hex[:8]}"
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "tag me"}],
        metadata={"feature": "summary", "end_user": "from-metadata"},
        extra_headers={"x-gateway-tags": f"app={app}, end_user=u%2C42 ,team = growth"},
    )
    raw.parse()
    request_id = raw.headers["x-request-id"]
    row = gateway.usage_row(request_id)
    # The header wins on the same key; values are trimmed and percent-decoded (a comma as %2C).
    want = {"app": app, "feature": "summary", "end_user": "u,42", "team": "growth"}
    assert json.loads(row["tags"]) == want
    assert stored_tags(gateway, request_id) == want
    with gateway.admin() as admin:
        report = admin.get("/admin/analytics/cost", params={"group_by": "tag", "tag_key": "app", "tag_value": app})
    assert report.status_code == 200, report.text
    by_tag = {(r["tag_key"], r["tag_value"]): r for r in report.json()["data"]}
    assert set(by_tag) == {(k, v) for k, v in want.items()}
    assert by_tag[("app", app)]["requests"] == 1
    assert by_tag[("app", app)]["cost_usd"] == pytest.approx(row["cost_usd"]) and row["cost_usd"] > 0


def test_tags_on_every_hot_endpoint(gateway, client, api_key):
    tag = uuid.uuid4().hex[:8]
    header = {"x-gateway-tags": f"app=media-{tag}"}
    ids = [
        client.embeddings.with_raw_response.create(model="openai/text-embedding-3-small", input="tags",
                                                   extra_headers=header).headers["x-request-id"],
        client.images.with_raw_response.generate(model="openai/dall-e-2", prompt=f"tags {tag}", size="256x256",
                                                 extra_headers=header).headers["x-request-id"],
        client.audio.speech.with_raw_response.create(model="openai/tts-1", input=f"tags {tag}", voice="alloy",
                                                     extra_headers=header).headers["x-request-id"],
    ]
    anthropic = httpx.post(gateway.base_url + "/v1/messages", headers={"x-api-key": api_key, **header}, json={
        "model": "anthropic/claude-haiku-4-5", "max_tokens": 20, "metadata": {"user_id": "u_7"},
        "messages": [{"role": "user", "content": f"tags {tag}"}]}, timeout=10)
    assert anthropic.status_code == 200, anthropic.text
    ids.append(anthropic.headers["x-request-id"])
    for request_id in ids:
        assert gateway.usage_row(request_id)["tags"] is not None
    assert [stored_tags(gateway, request_id) for request_id in ids] == [{"app": f"media-{tag}"}] * 3 + [
        {"app": f"media-{tag}", "end_user": "u_7"}]  # Anthropic's metadata.user_id is the end_user tag


@pytest.mark.parametrize("tags, fragment", [
    ("app", "key=value"),
    ("app=a, app=b", "twice"),
    ("bad key=x", "Invalid tag key"),
    ("k=" + "v" * 513, "at most 512"),
    (",".join(f"k{i}=v" for i in range(17)), "Too many tags"),
    ("app=%FF", "percent-encoded"),
])
def test_bad_header_tags_are_a_400_that_reaches_no_provider(gateway, api_key, emulator, tags, fragment):
    marker = f"untagged-{uuid.uuid4().hex[:8]}"
    before = gateway.sql("SELECT COUNT(*) AS n FROM usage_log")[0]["n"]
    response = httpx.post(gateway.base_url + "/v1/chat/completions",
                          headers={"authorization": f"Bearer {api_key}", "x-gateway-tags": tags},
                          json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": marker}]},
                          timeout=10)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", "x-gateway-tags", "invalid_tags")
    assert fragment in error["message"]
    assert emulator_seen(emulator, marker) == 0
    assert gateway.sql("SELECT COUNT(*) AS n FROM usage_log WHERE request_id = ?",
                       response.headers["x-request-id"]) == [{"n": 0}]
    assert gateway.sql("SELECT COUNT(*) AS n FROM usage_log")[0]["n"] >= before


@pytest.mark.parametrize("metadata, fragment", [
    ({"feature": 7}, "metadata.feature"),
    ({f"k{i}": "v" for i in range(17)}, "Too many tags"),
    ({"has space": "v"}, "Invalid tag key"),
])
def test_bad_metadata_is_a_400_naming_metadata(gateway, client, emulator, metadata, fragment):
    marker = f"meta-{uuid.uuid4().hex[:8]}"
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="openai/gpt-4o-mini", metadata=metadata,
                                       messages=[{"role": "user", "content": marker}])
    error = raised.value.body
    assert error["param"] == "metadata" and fragment in error["message"]
    assert emulator_seen(emulator, marker) == 0
    request_id = raised.value.response.headers["x-request-id"]
    assert gateway.sql("SELECT COUNT(*) AS n FROM usage_log WHERE request_id = ?", request_id) == [{"n": 0}]


def test_a_failed_attempt_shares_its_requests_tags(emulator, tmp_path_factory):
    """Attempt rows point at the request's row (attempt_of); usage_tags holds the request's id only."""
    from tests.conftest import GatewayServer, gateway_config

    server = GatewayServer(gateway_config(emulator.base_url, RETRIES_PER_MODEL="1", RETRY_BASE_SECONDS="0"),
                           tmp_path_factory.mktemp("tags") / "gateway.sqlite3").start()
    try:
        key = server.create_key(name="tags-retry")
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"[[emulator:fault=500-once]] retry {uuid.uuid4().hex[:8]}"}],
            extra_headers={"x-gateway-tags": "app=retry"})
        raw.parse()
        request_id = raw.headers["x-request-id"]
        row = server.usage_row(request_id)
        attempt = server.usage_row(f"{request_id}.1")
        assert attempt["attempt_of"] == request_id and json.loads(attempt["tags"]) == {"app": "retry"}
        assert attempt["cost_note"] == "failed attempt: not billed (see attempt_of)"
        assert row["cost_status"] == "priced"
        assert server.sql("SELECT request_id, tag_key, tag_value FROM usage_tags") == [
            {"request_id": request_id, "tag_key": "app", "tag_value": "retry"}]
    finally:
        server.stop()
