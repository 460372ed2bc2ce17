"""Daily request limits over HTTP: tier limits (free 10 a day, then 429 with Retry-After to the next UTC
midnight), the x-ratelimit-* headers on every answer of a limited caller, tiers edited in D1, a key's own
requests_per_day, the per-user count across keys, 50 concurrent requests at a limit of 10, and fail-open
when D1 cannot count (docs/limits.md)."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, emulator_seen, gateway_config

CHAT_MODEL = "openai/gpt-4o-mini"


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    # Tiers are re-read every second here, so an edit applies within the test.
    config = gateway_config(emulator.base_url, TIER_CACHE_SECONDS="1")
    running = GatewayServer(config, tmp_path_factory.mktemp("limits") / "gateway.sqlite3").start()
    yield running
    running.stop()


sql = GatewayServer.sql  # sql(server, statement, *params)


def new_tier(server: GatewayServer, daily_limit: int | None) -> str:
    tier_id = "t-" + uuid.uuid4().hex[:8]
    sql(server, "INSERT INTO tiers (id, name, daily_request_limit) VALUES (?, ?, ?)", tier_id, tier_id, daily_limit)
    return tier_id


def chat(server: GatewayServer, key: str, text: str = "hello", **extra) -> httpx.Response:
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": text}], **extra}
    return httpx.post(server.base_url + "/v1/chat/completions", json=body,
                      headers={"authorization": f"Bearer {key}"}, timeout=10)


seen = emulator_seen  # seen(emulator, marker): how many upstream requests carried it (the emulator keeps 500)


def to_midnight() -> int:
    return 86_400 - int(time.time()) % 86_400


def assert_reset(value: str) -> None:
    assert abs(int(value) - to_midnight()) <= 2, value


def test_free_tier_allows_ten_requests_a_day_then_429_until_midnight(server, emulator):
    key = server.create_key(name="free", tier_id="free")
    marker = uuid.uuid4().hex
    for used in range(1, 11):
        response = chat(server, key, marker)
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit"] == "10"
        assert response.headers["x-ratelimit-remaining"] == str(10 - used)
        assert_reset(response.headers["x-ratelimit-reset"])
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": marker}])
    answer = refused.value.response
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "daily_request_limit_exceeded"
    assert "10 requests a day" in answer.json()["error"]["message"]
    assert_reset(answer.headers["retry-after"])
    assert (answer.headers["x-ratelimit-limit"], answer.headers["x-ratelimit-remaining"]) == ("10", "0")
    assert_reset(answer.headers["x-ratelimit-reset"])
    assert seen(emulator, marker) == 10  # the refused request never went upstream


def test_every_answer_of_a_limited_caller_carries_the_headers(server):
    key = server.create_key(name="personal", tier_id="personal")
    invalid = httpx.post(server.base_url + "/v1/chat/completions", json={"model": CHAT_MODEL},
                         headers={"authorization": f"Bearer {key}"})
    assert invalid.status_code == 400
    assert (invalid.headers["x-ratelimit-limit"], invalid.headers["x-ratelimit-remaining"]) == ("100", "99")
    upstream_error = chat(server, key, "[[emulator:fault=429]]")
    assert (upstream_error.status_code, upstream_error.json()["error"]["code"]) == (429, "rate_limit_exceeded")
    assert upstream_error.headers["x-ratelimit-remaining"] == "98"
    body = {"model": CHAT_MODEL, "stream": True, "messages": [{"role": "user", "content": "stream"}]}
    with httpx.stream("POST", server.base_url + "/v1/chat/completions", json=body,
                      headers={"authorization": f"Bearer {key}"}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["x-ratelimit-remaining"] == "97"
        assert_reset(stream.headers["x-ratelimit-reset"])
        assert "[DONE]" in stream.read().decode()
    messages = httpx.post(server.base_url + "/v1/messages", headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
                          json={"model": CHAT_MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
    assert messages.status_code == 200
    assert messages.headers["x-ratelimit-remaining"] == "96"


def test_browsers_may_read_the_headers(server):
    key = server.create_key(name="browser", tier_id="personal")
    response = httpx.post(server.base_url + "/v1/chat/completions", timeout=10,
                          headers={"authorization": f"Bearer {key}", "origin": "https://app.example.com"},
                          json={"model": CHAT_MODEL, "messages": [{"role": "user", "content": "cors"}]})
    exposed = {name.strip() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"} <= exposed


def test_an_unlimited_tier_writes_no_counter_and_sends_no_headers(server):
    key = server.create_key(name="business", tier_id="business")
    response = chat(server, key)
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers
    key_id = sql(server, "SELECT id FROM gateway_keys WHERE name = 'business'")[0]["id"]
    assert sql(server, "SELECT * FROM rate_limit_counters WHERE subject = ?", f"key:{key_id}") == []


def test_listing_models_is_not_counted(server):
    key = server.create_key(name="lister", tier_id="free")
    for _ in range(12):
        assert httpx.get(server.base_url + "/v1/models", headers={"authorization": f"Bearer {key}"}).status_code == 200
    assert chat(server, key).headers["x-ratelimit-remaining"] == "9"


def test_a_tier_edited_in_d1_applies_after_the_cache(server):
    tier = new_tier(server, 2)
    key = server.create_key(name="edited", tier_id=tier)
    assert [chat(server, key).status_code for _ in range(3)] == [200, 200, 429]
    sql(server, "UPDATE tiers SET daily_request_limit = 4 WHERE id = ?", tier)
    time.sleep(1.2)  # TIER_CACHE_SECONDS=1
    response = chat(server, key)  # the 4th request of the day (the refused one counted too)
    assert response.status_code == 200
    assert (response.headers["x-ratelimit-limit"], response.headers["x-ratelimit-remaining"]) == ("4", "0")
    assert chat(server, key).status_code == 429


def test_a_keys_own_requests_per_day_applies_and_the_stricter_limit_wins(server):
    unlimited_tier = server.create_key(name="own-limit", tier_id="business", requests_per_day=3)
    statuses = [chat(server, unlimited_tier).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = chat(server, unlimited_tier)
    assert "this gateway key's own limit" in refused.json()["error"]["message"]
    assert refused.headers["x-ratelimit-limit"] == "3"
    stricter_than_tier = server.create_key(name="own-stricter", tier_id="personal", requests_per_day=2)
    first = chat(server, stricter_than_tier)
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
    looser_than_tier = server.create_key(name="own-looser", tier_id=new_tier(server, 1), requests_per_day=50)
    assert [chat(server, looser_than_tier).status_code for _ in range(2)] == [200, 429]


def test_the_tier_limit_counts_per_user_across_their_keys(server):
    tier = new_tier(server, 3)
    user_id = "user-" + uuid.uuid4().hex[:8]
    sql(server, "INSERT INTO users (id, email, tier_id) VALUES (?, ?, ?)", user_id, f"{user_id}@example.com", tier)
    first = server.create_key(name="u-a", user_id=user_id, tier_id=None)
    second = server.create_key(name="u-b", user_id=user_id, tier_id=None)
    assert [chat(server, first).status_code for _ in range(2)] == [200, 200]
    assert chat(server, second).status_code == 200
    assert chat(server, second).status_code == 429
    assert chat(server, first).status_code == 429
    rows = sql(server, "SELECT count FROM rate_limit_counters WHERE subject = ?", f"user:{user_id}")
    assert [row["count"] for row in rows] == [5]


def test_fifty_concurrent_requests_at_a_limit_of_ten_let_exactly_ten_through(server, emulator):
    key = server.create_key(name="burst", tier_id="free")
    marker = uuid.uuid4().hex

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30,
                                     limits=httpx.Limits(max_connections=50)) as client:
            body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": marker}]}
            return await asyncio.gather(*(client.post("/v1/chat/completions", json=body,
                                                      headers={"authorization": f"Bearer {key}"}) for _ in range(50)))

    responses = asyncio.run(burst())
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 10 + [429] * 40
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses if r.status_code == 200) == list(range(10))
    assert seen(emulator, marker) == 10
    key_id = sql(server, "SELECT id FROM gateway_keys WHERE name = 'burst'")[0]["id"]
    assert sql(server, "SELECT count FROM rate_limit_counters WHERE subject = ?", f"key:{key_id}")[0]["count"] == 50


def test_the_limiter_fails_open_when_d1_cannot_count(emulator, tmp_path_factory, caplog):
    running = GatewayServer(gateway_config(emulator.base_url), tmp_path_factory.mktemp("failopen") / "gateway.sqlite3")
    running.start()
    try:
        key = running.create_key(name="fail-open", tier_id="free")
        assert chat(running, key).headers["x-ratelimit-remaining"] == "9"
        sql(running, "DROP TABLE rate_limit_counters")  # every counter statement now fails in the database
        with caplog.at_level("WARNING", logger="gateway.limits"):
            responses = [chat(running, key) for _ in range(12)]  # past the free tier's 10
        assert [r.status_code for r in responses] == [200] * 12
        assert responses[0].headers["x-ratelimit-limit"] == "10" and "x-ratelimit-remaining" not in responses[0].headers
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            events = sql(running, "SELECT * FROM gateway_events WHERE kind = 'rate_limiter_fail_open'")
            if len(events) == 12:
                break
            time.sleep(0.05)
        assert len(events) == 12
        assert events[0]["detail"] == "counter: DatabaseError" and events[0]["subject"].startswith("key:key_")
        assert running.app.gateway.limiter.fail_open_count == 12
        warnings = [r.getMessage() for r in caplog.records if r.name == "gateway.limits"]
        assert len(warnings) == 12 and all(key not in message for message in warnings)
    finally:
        running.stop()
