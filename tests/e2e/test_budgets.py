"""USD budgets over HTTP: spend is counted per key, user and org (day and month) with the usage rows, and
a spent budget refuses every route — chat, messages, embeddings, images, speech, transcription, video —
with 402 `budget_exceeded` before any upstream call (docs/limits.md)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import httpx
import openai
import pytest

from scripts.emulator.transcription_wire import text_wav
from tests.conftest import ADMIN_KEY, GatewayServer, emulator_seen, gateway_config

CHAT_MODEL = "openai/gpt-4o-mini"


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    # No budget cache here: spend written by one request is seen by the next at once.
    config = gateway_config(emulator.base_url, BUDGET_CACHE_SECONDS="0")
    running = GatewayServer(config, tmp_path_factory.mktemp("budgets") / "gateway.sqlite3").start()
    yield running
    running.stop()


sql = GatewayServer.sql  # sql(server, statement, *params)


seen = emulator_seen  # seen(emulator, marker): how many upstream requests carried it


def key_id_of(server: GatewayServer, name: str) -> str:
    return sql(server, "SELECT id FROM gateway_keys WHERE name = ?", name)[0]["id"]


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def this_month() -> str:
    return today()[:7]


def to_midnight() -> int:
    return 86_400 - int(time.time()) % 86_400


def spend(server: GatewayServer, subject: str, period: str) -> float | None:
    rows = sql(server, "SELECT spent_usd FROM spend_counters WHERE subject = ? AND period = ?", subject, period)
    return rows[0]["spent_usd"] if rows else None


def wait_for_spend(server: GatewayServer, subject: str, period: str, timeout: float = 5.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = spend(server, subject, period)
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"no spend for {subject} {period}")


# One request per route, each carrying `marker` so the emulator's log shows whether it went upstream.
def call_route(server: GatewayServer, key: str, route: str, marker: str) -> httpx.Response:
    bearer = {"authorization": f"Bearer {key}"}
    post = lambda path, **kw: httpx.post(server.base_url + path, timeout=10, **kw)  # noqa: E731
    if route == "chat":
        return post("/v1/chat/completions", headers=bearer,
                    json={"model": CHAT_MODEL, "messages": [{"role": "user", "content": marker}]})
    if route == "messages":
        return post("/v1/messages", headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
                    json={"model": CHAT_MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": marker}]})
    if route == "embeddings":
        return post("/v1/embeddings", headers=bearer, json={"model": "openai/text-embedding-3-small", "input": marker})
    if route == "images":
        return post("/v1/images/generations", headers=bearer, json={"model": "openai/dall-e-3", "prompt": marker})
    if route == "speech":
        return post("/v1/audio/speech", headers=bearer, json={"model": "openai/tts-1", "voice": "alloy", "input": marker})
    if route == "transcription":
        return post("/v1/audio/transcriptions", headers=bearer, data={"model": "openai/whisper-1", "prompt": marker},
                    files={"file": ("a.wav", text_wav(marker), "audio/wav")})
    if route == "video":
        return post("/v1/videos", headers=bearer, json={"model": "openai/sora-2", "prompt": marker})
    raise AssertionError(route)


ROUTES = ("chat", "messages", "embeddings", "images", "speech", "transcription", "video")


def test_spend_is_counted_per_key_user_and_org_by_day_and_month(server):
    user_id, org_id = "u-" + uuid.uuid4().hex[:8], "o-" + uuid.uuid4().hex[:8]
    sql(server, "INSERT INTO users (id, email) VALUES (?, ?)", user_id, f"{user_id}@example.com")
    sql(server, "INSERT INTO organizations (id, name, slug) VALUES (?, ?, ?)", org_id, org_id, org_id)
    sql(server, "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'member')", org_id, user_id)
    key = server.create_key(name="spender", user_id=user_id, org_id=org_id)
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "count my spend"}])
    row = server.usage_row(raw.headers["x-request-id"])
    assert row["cost_usd"] > 0
    for subject in (f"key:{key_id_of(server, 'spender')}", f"user:{user_id}", f"org:{org_id}"):
        for period in (today(), this_month()):
            assert wait_for_spend(server, subject, period) == pytest.approx(row["cost_usd"])
    client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "and again"}])
    deadline = time.monotonic() + 5
    while spend(server, f"user:{user_id}", today()) == pytest.approx(row["cost_usd"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    total = sql(server, "SELECT SUM(cost_usd) AS usd FROM usage_log WHERE user_id = ?", user_id)[0]["usd"]
    assert spend(server, f"user:{user_id}", today()) == pytest.approx(total)


@pytest.fixture(scope="module")
def spent_key(server) -> str:
    """A key whose tiny daily budget one chat request has spent."""
    key = server.create_key(name="tiny-budget", daily_budget_usd=0.000001)
    response = call_route(server, key, "chat", "spend it")
    assert response.status_code == 200
    assert wait_for_spend(server, f"key:{key_id_of(server, 'tiny-budget')}", today()) > 0.000001
    return key


@pytest.mark.parametrize("route", ROUTES)
def test_a_spent_key_budget_refuses_every_route_before_the_upstream_call(server, emulator, spent_key, route):
    marker = uuid.uuid4().hex
    response = call_route(server, spent_key, route, marker)
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    if route == "messages":  # Anthropic's envelope: 402 is its `billing_error`
        assert response.json()["type"] == "error" and error["type"] == "billing_error"
    else:
        assert (error["type"], error["code"]) == ("insufficient_quota", "budget_exceeded")
    assert error["message"].startswith("The key daily budget of $1e-06 is spent")
    assert "00:00 UTC" in error["message"]
    assert abs(int(response.headers["retry-after"]) - to_midnight()) <= 2
    assert seen(emulator, marker) == 0


def test_the_sdk_sees_402_and_does_not_retry(server, emulator, spent_key):
    marker = uuid.uuid4().hex
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=spent_key)  # default retries
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": marker}])
    assert refused.value.status_code == 402
    assert seen(emulator, marker) == 0


def test_the_admin_key_is_no_way_around_a_budget(server, emulator):
    marker = uuid.uuid4().hex
    response = call_route(server, ADMIN_KEY, "chat", marker)
    assert response.status_code == 401  # the admin key is not a gateway key on the model routes
    assert seen(emulator, marker) == 0


def _owner_with_budget(server, whose: str, period: str) -> tuple[str, str]:
    """A key whose user, org or tier has a budget of $0.50 for `period`, with $0.50 spent already."""
    suffix = uuid.uuid4().hex[:8]
    column = f"{period}_budget_usd"
    fields: dict = {"name": f"{whose}-{suffix}"}
    if whose == "user":
        sql(server, f"INSERT INTO users (id, email, {column}) VALUES (?, ?, 0.5)", f"u-{suffix}", f"{suffix}@example.com")
        fields["user_id"], subject = f"u-{suffix}", f"user:u-{suffix}"
    elif whose == "org":
        sql(server, f"INSERT INTO organizations (id, name, slug, {column}) VALUES (?, ?, ?, 0.5)",
            f"o-{suffix}", suffix, suffix)
        # An org key belongs to one of the org's members (the admin API refuses it otherwise).
        sql(server, "INSERT INTO users (id, email) VALUES (?, ?)", f"u-{suffix}", f"{suffix}@example.com")
        sql(server, "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'member')", f"o-{suffix}", f"u-{suffix}")
        fields["org_id"], fields["user_id"], subject = f"o-{suffix}", f"u-{suffix}", f"org:o-{suffix}"
    else:
        sql(server, "INSERT INTO tiers (id, name, monthly_budget_usd) VALUES (?, ?, 0.5)", f"t-{suffix}", suffix)
        fields["tier_id"] = f"t-{suffix}"
        subject = None
    key = server.create_key(**fields)
    subject = subject or f"key:{key_id_of(server, fields['name'])}"
    # What the usage batch writes after answers: here as if earlier requests had spent the budget.
    sql(server, "INSERT INTO spend_counters (subject, period, spent_usd) VALUES (?, ?, 0.5)",
        subject, today() if period == "daily" else this_month())
    return key, fields.get("tier_id", "")


@pytest.mark.parametrize(("whose", "period"), [("user", "daily"), ("user", "monthly"), ("org", "daily"),
                                               ("org", "monthly"), ("tier", "monthly")])
def test_user_org_and_tier_budgets_are_enforced(server, emulator, whose, period):
    key, tier = _owner_with_budget(server, whose, period)
    marker = uuid.uuid4().hex
    response = call_route(server, key, "embeddings", marker)
    assert response.status_code == 402, response.text
    named = f"tier '{tier}'" if whose == "tier" else whose
    assert response.json()["error"]["message"].startswith(f"The {named} {period} budget of $0.5 is spent ($0.5 used).")
    if period == "monthly":
        assert "the 1st of next month" in response.json()["error"]["message"]
    assert seen(emulator, marker) == 0


def test_a_budget_not_yet_spent_lets_requests_through(server):
    key = server.create_key(name="roomy", daily_budget_usd=5.0, monthly_budget_usd=50.0)
    assert call_route(server, key, "chat", "plenty left").status_code == 200


def test_a_billed_video_adds_to_the_spend_and_stays_reachable_past_the_budget(server, emulator):
    key = server.create_key(name="video-spender", daily_budget_usd=0.01)
    headers = {"authorization": f"Bearer {key}"}
    created = httpx.post(server.base_url + "/v1/videos", headers=headers, timeout=10,
                         json={"model": "openai/sora-2", "prompt": f"A boat {uuid.uuid4().hex} [[emulator:polls=1]]"})
    assert created.status_code == 200, created.text
    done = httpx.get(server.base_url + f"/v1/videos/{created.json()['id']}", headers=headers, timeout=10).json()
    assert done["status"] == "completed"
    key_id = key_id_of(server, "video-spender")
    billed = sql(server, "SELECT cost_usd FROM usage_log WHERE key_id = ? AND cost_usd > 0", key_id)
    assert len(billed) == 1 and billed[0]["cost_usd"] > 0
    assert spend(server, f"key:{key_id}", today()) == pytest.approx(billed[0]["cost_usd"])
    assert spend(server, f"key:{key_id}", this_month()) == pytest.approx(billed[0]["cost_usd"])
    # Its own bill spent the budget: the job it paid for can still be read and downloaded, nothing new starts.
    video_id = created.json()["id"]
    assert httpx.get(server.base_url + f"/v1/videos/{video_id}", headers=headers).json()["status"] == "completed"
    content = httpx.get(server.base_url + f"/v1/videos/{video_id}/content", headers=headers, timeout=10)
    assert content.status_code == 200 and content.headers["content-type"] == "video/mp4"
    marker = uuid.uuid4().hex
    assert call_route(server, key, "video", marker).status_code == 402
    assert seen(emulator, marker) == 0
