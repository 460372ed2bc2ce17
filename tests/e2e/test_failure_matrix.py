"""The failure matrix (issue 6; the lead's spec, "The failure matrix" and "Rows"): each upstream failure
the emulator can produce, over real sockets with the official openai SDK (max_retries=0, so every retry
seen is the gateway's), with the client's outcome and the usage rows it must leave.

Setup, per test: its own org and key (rows are selected by key_id), its own fault keys, and org-level
fallback chains set through `POST /admin/fallback-chains` (an org row beats a global one). The fault is
scoped to the primary with `[[emulator:fault_model=gpt-4o-mini]]`, so the chain's models, which get the
same message text, answer normally (scripts/emulator/knobs.py).

The module's gateway runs with short timeouts so the 20 s / 30 s faults are cut short:
FIRST_TOKEN_TIMEOUT_SECONDS=2, STREAM_IDLE_TIMEOUT_SECONDS=2, UPSTREAM_TIMEOUT_SECONDS=3, RETRY_AFTER_CAP_SECONDS=3, RETRY_BASE_SECONDS=0.05,
RETRY_MAX_BACKOFF_SECONDS=0.2 (the rest at the spec's defaults: RETRIES_PER_MODEL=1, MAX_ATTEMPTS=5), and a
circuit breaker that never opens (HEALTH_FAILURE_THRESHOLD / HEALTH_MIN_SAMPLES=1000: the matrix fails the
primary on purpose, and a skipped primary would change the other cases). The flapping case has its own
gateway whose breaker opens on a 50 % error rate over 4 outcomes and stays open for a minute. Case 17 (the
sixth key level: a provider with no key is served by free Workers AI) has a gateway without an Anthropic key.

Expected texts, token counts and costs come from the emulator's documented rule (openai_wire.py: "Emulated
reply to: " + the user text without markers, prompt tokens = words + 4; knobs.py for `chunks`) and the
catalog's prices, never from the gateway's answer.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, gateway_config

PRIMARY = "openai/gpt-4o-mini"
FALLBACK = "groq/llama-3.1-8b-instant"
LARGER = "openai/gpt-4.1-mini"  # context window 1,047,576 > the primary's 128,000
SCOPE = "[[emulator:fault_model=gpt-4o-mini]]"
FIRST_TOKEN_TIMEOUT = 2.0
STREAM_IDLE_TIMEOUT = 2.0
ATTEMPT_TIMEOUT = 3.0  # UPSTREAM_TIMEOUT_SECONDS: a non-stream answer's first byte is the whole answer
RETRY_AFTER_CAP = 3
EMULATOR_RETRY_AFTER = 2  # the emulator's 429 sends Retry-After: 2
MAX_ATTEMPTS = 5  # the spec's default
ROW_WAIT = 3.0  # rows are written just after the answer

TIMEOUTS = {
    "FIRST_TOKEN_TIMEOUT_SECONDS": str(FIRST_TOKEN_TIMEOUT),
    "STREAM_IDLE_TIMEOUT_SECONDS": str(STREAM_IDLE_TIMEOUT),
    "UPSTREAM_TIMEOUT_SECONDS": str(ATTEMPT_TIMEOUT),
    "RETRY_AFTER_CAP_SECONDS": str(RETRY_AFTER_CAP),
    "RETRY_BASE_SECONDS": "0.05",
    "RETRY_MAX_BACKOFF_SECONDS": "0.2",
    # The production defaults, which the session gateway's config turns off for the provider tests.
    "RETRIES_PER_MODEL": "1",
    "FALLBACKS": "on",
}


def start_gateway(emulator, tmp_path_factory, name: str, **overrides: str) -> GatewayServer:
    config = gateway_config(emulator.base_url, **TIMEOUTS, **overrides)
    return GatewayServer(config, tmp_path_factory.mktemp(name) / "gateway.sqlite3").start()


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = start_gateway(emulator, tmp_path_factory, "matrix", HEALTH_FAILURE_THRESHOLD="1000",
                            HEALTH_MIN_SAMPLES="1000")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def flapping_server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = start_gateway(emulator, tmp_path_factory, "flapping", HEALTH_FAILURE_THRESHOLD="1000",
                            HEALTH_MIN_SAMPLES="4", HEALTH_ERROR_RATE="0.5", HEALTH_COOLDOWN_SECONDS="60")
    yield running
    running.stop()


@dataclass
class Tenant:
    server: GatewayServer
    org_id: str
    key_id: str
    client: openai.OpenAI

    def chain(self, error_type: str, chain: list[str], allow_workers_ai: bool = True) -> dict[str, Any]:
        """This org's fallback chain for one error type, for requests of the primary model."""
        body = {"org_id": self.org_id, "error_type": error_type, "model_pattern": PRIMARY, "chain": chain,
                "allow_workers_ai": allow_workers_ai, "max_attempts": 3}
        with self.server.admin() as admin:
            response = admin.post("/admin/fallback-chains", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["id"]
        return created

    def rows(self, count: int) -> list[dict[str, Any]]:
        """This key's usage rows once `count` of them are written (rows trail the answer), oldest attempt
        first: the failed attempts `<id>.1`, `<id>.2`, … sort before their request's final row `<id>`."""
        deadline = time.monotonic() + ROW_WAIT
        while True:
            rows = self.server.sql("SELECT * FROM usage_log WHERE key_id = ?", self.key_id)
            if len(rows) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(rows) == count, f"expected {count} usage rows, found {len(rows)}: {rows}"
        return sorted(rows, key=lambda row: (row["attempt_of"] or row["request_id"], row["attempt_of"] is None,
                                             row["request_id"]))


def make_tenant(server: GatewayServer, name: str) -> Tenant:
    tag = uuid.uuid4().hex[:10]
    with server.admin() as admin:
        org = admin.post("/admin/orgs", json={"name": name, "slug": f"{name}-{tag}", "tier_id": "business"})
        assert org.status_code == 201, org.text
        org_id = org.json()["id"]
        member = admin.post("/admin/users", json={"email": f"{name}-{tag}@example.com", "tier_id": "business"})
        assert member.status_code == 201, member.text
        user_id = member.json()["id"]
        joined = admin.put(f"/admin/orgs/{org_id}/members/{user_id}", json={"role": "member"})
        assert joined.status_code == 200, joined.text
        key = admin.post("/admin/keys", json={"org_id": org_id, "user_id": user_id, "name": f"{name}-{tag}",
                                              "tier_id": "business"})
        assert key.status_code == 201, key.text
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key.json()["key"], max_retries=0, timeout=30)
    return Tenant(server, org_id, key.json()["id"], client)


@pytest.fixture
def tenant(server, request) -> Tenant:
    return make_tenant(server, request.node.name.removeprefix("test_")[:20].replace("_", "-"))


# ---- the emulator's documented answer ------------------------------------------------------------


def marked(*markers: str, words: str = "") -> str:
    """A user text: the markers, the primary-only scope, and unique words (so no two tests share a body)."""
    return " ".join([*markers, SCOPE, words or f"matrix {uuid.uuid4().hex}"])


def reply_words(text: str) -> list[str]:
    clean = " ".join(word for word in text.split() if not word.startswith("[[emulator:"))
    return ("Emulated reply to: " + clean[:200]).split()


def reply_of(text: str) -> str:
    return " ".join(reply_words(text))


def cycled(text: str, count: int) -> str:
    """The reply under `chunks=N`, cut to its first `count` words (knobs.py, "Stream shape")."""
    words = reply_words(text)
    return " ".join(words[i % len(words)] for i in range(count))


def prompt_tokens(text: str) -> int:
    return len(text.split()) + 4


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


# ---- assertions on headers and rows --------------------------------------------------------------


def assert_headers(headers, attempts: int, model: str, fallback: list[str]) -> None:
    assert headers["x-gateway-attempts"] == str(attempts)
    if attempts > 1:
        assert [part.strip() for part in headers["x-gateway-fallback"].split(",")] == fallback
    else:
        assert "x-gateway-fallback" not in headers
    assert headers["x-gateway-model"] == model
    assert headers["x-gateway-provider"] == model.split("/")[0]


def assert_failed_attempt(row: dict, request_id: str, n: int, error_type: str, model: str) -> None:
    assert row["request_id"] == f"{request_id}.{n}"
    assert row["attempt_of"] == request_id
    assert (row["status"], row["error_type"]) == ("error", error_type)
    assert (row["provider_id"], row["model_id"]) == (model.split("/")[0], model)
    assert (row["cost_usd"], row["cost_status"]) == (0, "none")
    assert row["latency_ms"] is not None and row["latency_ms"] >= 0


def assert_final(row: dict, request_id: str, attempts: int, model: str, stream: bool = False) -> None:
    assert row["request_id"] == request_id and row["attempt_of"] is None
    assert row["attempts"] == attempts
    assert (row["provider_id"], row["model_id"]) == (model.split("/")[0], model)
    assert row["requested_model"] == PRIMARY
    assert row["stream"] == int(stream)


def assert_success(row: dict, request_id: str, attempts: int, model: str, stream: bool = False) -> None:
    assert_final(row, request_id, attempts, model, stream)
    assert (row["status"], row["error_type"]) == ("success", None)
    assert row["cost_usd"] > 0 and row["cost_status"] == "priced"


def assert_failed_final(row: dict, request_id: str, error_type: str, model: str, stream: bool = False) -> None:
    """A request that failed as a whole: its one row is an error, not billed."""
    assert_final(row, request_id, 1, model, stream)
    assert (row["status"], row["error_type"]) == ("error", error_type)
    assert (row["cost_usd"], row["cost_status"]) == (0, "none")


def chat(tenant: Tenant, text: str):
    """A non-streamed request for the primary: (headers, the parsed completion, seconds taken)."""
    started = time.monotonic()
    raw = tenant.client.chat.completions.with_raw_response.create(model=PRIMARY, messages=user(text))
    return raw.headers, raw.parse(), time.monotonic() - started


def expect_fallback(tenant: Tenant, text: str, error_type: str, failed_attempts: int) -> float:
    """The primary fails `failed_attempts` times with `error_type`, then FALLBACK answers the client.
    Checks the answer, the headers and the rows; returns the seconds the request took."""
    headers, completion, took = chat(tenant, text)
    assert completion.choices[0].message.content == reply_of(text)
    attempts = failed_attempts + 1
    assert_headers(headers, attempts, FALLBACK, [error_type] * failed_attempts)
    rows = tenant.rows(attempts)
    request_id = headers["x-request-id"]
    for n, row in enumerate(rows[:-1], start=1):
        assert_failed_attempt(row, request_id, n, error_type, PRIMARY)
    assert_success(rows[-1], request_id, attempts, FALLBACK)
    return took


# ---- 1–5: errors with an answer ------------------------------------------------------------------


def test_01_429_with_retry_after_under_the_cap_waits_retries_then_falls_back(tenant):
    tenant.chain("rate_limit", [FALLBACK])
    took = expect_fallback(tenant, marked("[[emulator:fault=429]]"), "rate_limit", failed_attempts=2)
    assert took >= EMULATOR_RETRY_AFTER - 0.1  # the Retry-After (2 s, under the 3 s cap) was honoured


def test_01_429_with_retry_after_over_the_cap_falls_back_without_waiting(tenant):
    tenant.chain("rate_limit", [FALLBACK])
    text = marked("[[emulator:fault=429]]", f"[[emulator:retry_after={RETRY_AFTER_CAP + 7}]]")
    took = expect_fallback(tenant, text, "rate_limit", failed_attempts=1)  # no retry of the primary
    assert took < 1.5


def test_02_429_without_retry_after_backs_off_retries_then_falls_back(tenant):
    tenant.chain("rate_limit", [FALLBACK])
    expect_fallback(tenant, marked("[[emulator:fault=429-no-retry-after]]"), "rate_limit", failed_attempts=2)


def test_03_500_once_is_retried_on_the_same_model_and_key(tenant, emulator):
    tenant.chain("server_error", [FALLBACK])
    text = marked(f"[[emulator:fault=500-once:{uuid.uuid4().hex}]]")
    headers, completion, _ = chat(tenant, text)
    assert completion.choices[0].message.content == reply_of(text)
    assert_headers(headers, 2, PRIMARY, ["server_error"])
    failed, final = tenant.rows(2)
    assert_failed_attempt(failed, headers["x-request-id"], 1, "server_error", PRIMARY)
    assert_success(final, headers["x-request-id"], 2, PRIMARY)
    # Upstream saw the same request twice, with the same provider key.
    upstream = [r for r in httpx.get(emulator.base_url + "/_emulator/requests").json()
                if isinstance(r["body"], dict) and text in str(r["body"].get("messages"))]
    assert [(r["path"], r["body"]["model"]) for r in upstream] == [("/v1/chat/completions", "gpt-4o-mini")] * 2
    assert upstream[0]["headers"]["Authorization"] == upstream[1]["headers"]["Authorization"]


def test_04_503_persistent_retries_then_the_chain_answers(tenant):
    tenant.chain("server_error", [FALLBACK])
    expect_fallback(tenant, marked("[[emulator:fault=503]]"), "server_error", failed_attempts=2)


def test_05_connection_reset_is_a_server_error_retried_then_falls_back(tenant):
    tenant.chain("server_error", [FALLBACK])
    expect_fallback(tenant, marked("[[emulator:fault=reset]]"), "server_error", failed_attempts=2)


# ---- 6–7: no answer in time ----------------------------------------------------------------------


def test_06_a_stalled_upstream_times_out_and_falls_back(tenant):
    tenant.chain("timeout", [FALLBACK])
    took = expect_fallback(tenant, marked("[[emulator:fault=stall]]"), "timeout", failed_attempts=2)
    # A non-stream answer comes whole (headers included), so each attempt waited for the attempt timeout.
    assert took >= 2 * ATTEMPT_TIMEOUT - 0.2


def test_07_first_token_after_20s_falls_back_before_the_first_byte(tenant):
    tenant.chain("timeout", [FALLBACK])
    text = marked("[[emulator:fault=slow-first-token]]", "[[emulator:ttft_ms=20000]]")
    started = time.monotonic()
    raw = tenant.client.chat.completions.with_raw_response.create(model=PRIMARY, messages=user(text), stream=True)
    chunks = list(raw.parse())
    took = time.monotonic() - started
    # One clean stream, the fallback's: its whole reply, one finish, no error.
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == reply_of(text)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert_headers(raw.headers, 3, FALLBACK, ["timeout", "timeout"])
    assert 2 * FIRST_TOKEN_TIMEOUT - 0.2 <= took < 15
    rows = tenant.rows(3)
    request_id = raw.headers["x-request-id"]
    for n, row in enumerate(rows[:2], start=1):
        assert_failed_attempt(row, request_id, n, "timeout", PRIMARY)
    assert_success(rows[2], request_id, 3, FALLBACK, stream=True)


# ---- 8–11: streams -------------------------------------------------------------------------------


def read_broken_stream(tenant: Tenant, text: str) -> tuple[Any, str, float]:
    """Stream the primary until the SDK raises for the gateway's error event: (headers, content, seconds)."""
    started = time.monotonic()
    raw = tenant.client.chat.completions.with_raw_response.create(model=PRIMARY, messages=user(text), stream=True)
    content = []
    with pytest.raises(openai.APIError):
        for chunk in raw.parse():
            if chunk.choices:
                content.append(chunk.choices[0].delta.content or "")
    return raw.headers, "".join(content), time.monotonic() - started


def test_08_stream_cut_after_40_of_60_chunks_ends_with_an_error_event(tenant):
    tenant.chain("server_error", [FALLBACK])  # there, yet never used: nothing is retried after the first byte
    text = marked("[[emulator:fault=cut-stream]]", "[[emulator:chunks=60]]", "[[emulator:cut_after=40]]")
    headers, content, _ = read_broken_stream(tenant, text)
    assert content == cycled(text, 40)
    assert_headers(headers, 1, PRIMARY, [])
    (row,) = tenant.rows(1)
    assert_failed_final(row, headers["x-request-id"], "server_error", PRIMARY, stream=True)


def test_09_30s_stall_mid_stream_ends_with_an_error_event_after_the_idle_timeout(tenant):
    tenant.chain("timeout", [FALLBACK])  # never used: the stall comes after the first byte
    text = marked("[[emulator:fault=stall-mid-stream]]", "[[emulator:stall_after=5]]", "[[emulator:stall_ms=30000]]",
                  "[[emulator:chunks=20]]")
    headers, content, took = read_broken_stream(tenant, text)
    assert content == cycled(text, 5)
    assert STREAM_IDLE_TIMEOUT - 0.2 <= took < 15
    assert_headers(headers, 1, PRIMARY, [])
    (row,) = tenant.rows(1)
    assert_failed_final(row, headers["x-request-id"], "timeout", PRIMARY, stream=True)


def stream_primary(tenant: Tenant, text: str) -> tuple[Any, list]:
    raw = tenant.client.chat.completions.with_raw_response.create(model=PRIMARY, messages=user(text), stream=True)
    return raw.headers, list(raw.parse())


def assert_stream_completes(tenant: Tenant, text: str) -> dict:
    """The stream carries the emulator's whole reply and finishes once ('stop'), on the first attempt, and its
    row is a success; answers the row."""
    headers, chunks = stream_primary(tenant, text)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == reply_of(text)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert_headers(headers, 1, PRIMARY, [])
    (row,) = tenant.rows(1)
    assert_success(row, headers["x-request-id"], 1, PRIMARY, stream=True)
    return row


def test_10_a_malformed_chunk_is_skipped_and_the_stream_completes(tenant):
    assert_stream_completes(tenant, marked("[[emulator:fault=malformed-chunk]]",
                                           words=f"one two three four five six {uuid.uuid4().hex}"))


def test_11_a_stream_without_done_after_its_finish_reason_is_a_success(tenant):
    text = marked("[[emulator:fault=no-done]]")
    row = assert_stream_completes(tenant, text)
    assert (row["input_tokens"], row["output_tokens"]) == (prompt_tokens(text), len(reply_words(text)))


def test_11b_a_stream_that_keeps_producing_outlives_the_attempt_timeout(tenant):
    """UPSTREAM_TIMEOUT_SECONDS bounds an answer that comes whole; a stream is bounded by its first token and
    its silences, so a long answer is not cut off: 30 words 150 ms apart is 4.5 s > the 3 s attempt timeout."""
    text = marked("[[emulator:chunks=30]]", "[[emulator:chunk_interval_ms=150]]")
    started = time.monotonic()
    headers, chunks = stream_primary(tenant, text)
    assert time.monotonic() - started > ATTEMPT_TIMEOUT
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == cycled(text, 30)
    assert_headers(headers, 1, PRIMARY, [])
    (row,) = tenant.rows(1)
    assert_success(row, headers["x-request-id"], 1, PRIMARY, stream=True)


# ---- 12–13: the caller's side of the error -------------------------------------------------------


def test_12_context_length_moves_to_a_model_with_a_larger_window(tenant):
    tenant.chain("context_length", [LARGER], allow_workers_ai=False)
    text = marked("[[emulator:fault=context-length]]")
    headers, completion, _ = chat(tenant, text)
    assert completion.choices[0].message.content == reply_of(text)
    assert_headers(headers, 2, LARGER, ["context_length"])  # not retried on the same model
    failed, final = tenant.rows(2)
    assert_failed_attempt(failed, headers["x-request-id"], 1, "context_length", PRIMARY)
    assert_success(final, headers["x-request-id"], 2, LARGER)


def test_13_content_filter_has_no_fallback_by_default(tenant):
    text = marked("[[emulator:fault=content-filter]]")
    with pytest.raises(openai.BadRequestError) as raised:
        tenant.client.chat.completions.create(model=PRIMARY, messages=user(text))
    error = raised.value
    assert error.status_code == 400 and error.code == "content_filter"
    assert_headers(error.response.headers, 1, PRIMARY, [])
    (row,) = tenant.rows(1)
    assert_failed_final(row, error.response.headers["x-request-id"], "content_filter", PRIMARY)


# ---- 14: flapping and the circuit breaker --------------------------------------------------------


def test_14_a_flapping_primary_never_reaches_the_client_and_its_circuit_opens(flapping_server):
    """Each request meets the primary's 503 then its retry's success (flap alternates per key) until the
    primary's error rate (50 % over ≥ 4 outcomes) opens its circuit; from then on the primary is skipped."""
    tenant = make_tenant(flapping_server, "flapping")
    for error_type in ("server_error", "timeout", "rate_limit"):
        tenant.chain(error_type, [FALLBACK])
    key = uuid.uuid4().hex
    answers = []
    for index in range(12):
        text = marked(f"[[emulator:fault=flap:{key}]]", words=f"flap {index} {key}")
        headers, completion, _ = chat(tenant, text)
        assert completion.choices[0].message.content == reply_of(text)  # every request answered
        answers.append(headers)
    rows = rows_of_requests(tenant, [headers["x-request-id"] for headers in answers])
    primary_tried = [
        any(row["model_id"] == PRIMARY and (row["attempt_of"] or row["request_id"]) == headers["x-request-id"]
            for row in rows)
        for headers in answers
    ]
    # While closed: the primary's 503 is logged, then its retry answers.
    assert primary_tried[0] and answers[0]["x-gateway-model"] == PRIMARY
    assert_headers(answers[0], 2, PRIMARY, ["server_error"])
    first = sorted((r for r in rows if answers[0]["x-request-id"] in (r["request_id"], r["attempt_of"])),
                   key=lambda r: r["attempt_of"] is None)
    assert_failed_attempt(first[0], answers[0]["x-request-id"], 1, "server_error", PRIMARY)
    assert all(row["status"] == "success" for row in rows if row["attempt_of"] is None)
    # Open: once skipped, the primary stays skipped (no attempt, no failed row), and at least the last
    # four requests were answered without it.
    assert False in primary_tried, "the primary was tried by every request: its circuit never opened"
    skipped_from = primary_tried.index(False)
    assert skipped_from <= len(answers) - 4
    assert not any(primary_tried[skipped_from:])
    for headers in answers[skipped_from:]:
        assert headers["x-gateway-model"] != PRIMARY and headers["x-gateway-attempts"] == "1"
        assert not [r for r in rows if r["attempt_of"] == headers["x-request-id"]]
    with flapping_server.admin() as admin:
        health = {row["model_id"]: row for row in admin.get("/admin/health").json()["data"]}
    assert health[PRIMARY]["circuit_state"] == "open"


def rows_of_requests(tenant: Tenant, request_ids: list[str]) -> list[dict[str, Any]]:
    """The key's rows once every request's final row is written (and a moment for stragglers)."""
    deadline = time.monotonic() + ROW_WAIT
    while True:
        rows = tenant.server.sql("SELECT * FROM usage_log WHERE key_id = ?", tenant.key_id)
        finals = {row["request_id"] for row in rows if row["attempt_of"] is None}
        if finals >= set(request_ids):
            time.sleep(0.2)
            return tenant.server.sql("SELECT * FROM usage_log WHERE key_id = ?", tenant.key_id)
        assert time.monotonic() < deadline, f"final rows missing for {set(request_ids) - finals}"
        time.sleep(0.02)


# ---- 15–16: everything down, and who pays ---------------------------------------------------------


def test_15_all_providers_down_answers_the_first_error_naming_the_last_and_bills_nothing(tenant):
    tenant.chain("server_error", [FALLBACK], allow_workers_ai=True)
    text = f"[[emulator:fault=503]] all down {uuid.uuid4().hex}"  # no scope: every provider's route fails
    with pytest.raises(openai.APIStatusError) as raised:
        tenant.client.chat.completions.create(model=PRIMARY, messages=user(text))
    error = raised.value
    assert error.status_code == 502
    assert error.code == "upstream_unavailable" and error.type == "upstream_error"
    headers = error.response.headers
    attempts = int(headers["x-gateway-attempts"])
    assert 4 <= attempts <= MAX_ATTEMPTS  # the primary and its retry, the chain's model, free Workers AI
    # The answer is the requested model's failure (the root cause); its message names the last one.
    message = error.body["message"]
    assert message.startswith("openai: ") and f" (all {attempts} attempts failed; last: workers-ai: " in message
    rows = tenant.rows(attempts)
    request_id = headers["x-request-id"]
    *earlier, final = rows
    for n, row in enumerate(earlier, start=1):
        assert row["request_id"] == f"{request_id}.{n}" and row["attempt_of"] == request_id
    assert final["request_id"] == request_id and final["attempt_of"] is None and final["attempts"] == attempts
    assert all((r["status"], r["error_type"], r["cost_usd"], r["cost_status"]) == ("error", "server_error", 0, "none")
               for r in rows)
    assert [r["model_id"] for r in rows[:2]] == [PRIMARY, PRIMARY]
    assert FALLBACK in [r["model_id"] for r in rows]
    assert rows[-1]["provider_id"] == "workers-ai"  # the last resort, last
    assert sum(r["cost_usd"] for r in rows) == 0


def test_16_failed_attempts_are_not_billed(tenant):
    tenant.chain("server_error", [FALLBACK])
    text = marked("[[emulator:fault=503]]")
    headers, completion, _ = chat(tenant, text)
    assert completion.choices[0].message.content == reply_of(text)
    rows = tenant.rows(3)
    assert sum(r["cost_usd"] for r in rows) == rows[-1]["cost_usd"]
    (price,) = tenant.server.sql("SELECT input_usd_per_mtok, output_usd_per_mtok FROM models WHERE id = ?", FALLBACK)
    prompt, output = prompt_tokens(text), len(reply_words(text))
    expected = (prompt * price["input_usd_per_mtok"] + output * price["output_usd_per_mtok"]) / 1_000_000
    success = rows[-1]
    assert success["request_id"] == headers["x-request-id"] and success["status"] == "success"
    assert (success["input_tokens"], success["output_tokens"]) == (prompt, output)
    assert success["cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert completion.usage.prompt_tokens == prompt and completion.usage.completion_tokens == output
    assert [r["cost_usd"] for r in rows[:-1]] == [0, 0]


# ---- 17: the sixth key level, free Workers AI -----------------------------------------------------


@pytest.fixture(scope="module")
def keyless_server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    """A gateway with no Anthropic key at any level (the env key unset, nothing stored)."""
    running = start_gateway(emulator, tmp_path_factory, "keyless", ANTHROPIC_API_KEY="")
    yield running
    running.stop()


def test_17_a_provider_without_any_key_is_served_by_free_workers_ai(keyless_server):
    tenant = make_tenant(keyless_server, "keyless")
    text = f"no anthropic key {uuid.uuid4().hex}"
    raw = tenant.client.chat.completions.with_raw_response.create(model="anthropic/claude-haiku-4-5",
                                                                  messages=user(text))
    completion = raw.parse()
    assert completion.choices[0].message.content == reply_of(text)  # Workers AI's reply rule is OpenAI's
    assert raw.headers["x-gateway-provider"] == "workers-ai"
    assert raw.headers["x-gateway-attempts"] == "1"  # no call was made to a provider it has no key for
    (row,) = tenant.rows(1)
    assert (row["requested_model"], row["provider_id"], row["status"], row["attempt_of"]) == (
        "anthropic/claude-haiku-4-5", "workers-ai", "success", None)
    assert row["cost_status"] == "free" and row["neurons"] > 0  # in neurons, within the free allocation (docs/cost.md)

    # An org that allows no Workers AI for missing keys gets the missing-key error instead.
    with keyless_server.admin() as admin:
        created = admin.post("/admin/fallback-chains", json={
            "org_id": tenant.org_id, "error_type": "auth", "model_pattern": "anthropic/*", "chain": [],
            "allow_workers_ai": False})
        assert created.status_code == 201, created.text
    with pytest.raises(openai.APIStatusError) as raised:
        tenant.client.chat.completions.create(model="anthropic/claude-haiku-4-5", messages=user(text))
    assert raised.value.status_code == 502 and raised.value.code == "provider_key_missing"
