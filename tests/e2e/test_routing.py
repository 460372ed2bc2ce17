"""`model: "auto"` over real sockets (issue 6, "Routing tests"): each strategy's pick on a fixed catalog,
capability filters, the Workers AI neuron budget, health exclusion with a circuit that visibly opens and
closes, and a fallback inside auto — through the whole gateway, the official openai SDK, and the emulator.

The catalog is FIXED through the admin API (`PATCH /admin/models/{id}`, which invalidates the catalog
cache): every chat model is disabled except the six of `FIXED`, whose flags, windows, prices and scores
are set by this module. Every expected winner, score and runner-up is computed here by hand from the
formulas of docs/routing.md (the arithmetic is written out next to each table below), never read back
from the gateway.

Gateways (one SQLite file each):
- `server`: RETRIES_PER_MODEL=0 and FALLBACKS=on (an auto request's next candidate is the router's
  runner-up), a breaker that opens after HEALTH_FAILURE_THRESHOLD=3 consecutive failures (the error-rate
  rule off: HEALTH_MIN_SAMPLES=1000) and half-opens after HEALTH_COOLDOWN_SECONDS=1, BUDGET_CACHE_SECONDS=0,
  and the default Workers AI budget (10,000 neurons a day: the Workers AI model fits).
- `tight`: the same catalog with WORKERS_AI_DAILY_NEURONS=0.5, which no Workers AI call fits.

Order matters (pytest runs the file top to bottom): `fastest` is ranked by the catalog's speed score only
while a model has fewer than 5 outcomes in the health window, so its tests come first and check that
precondition on /admin/health; the tests that fail models on purpose (fallback, circuits) come last, so
no other test meets a failure count or an open circuit.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import Any, Iterator

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, emulator_seen, gateway_config

# ---- the fixed catalog ---------------------------------------------------------------------------

GPT = "openai/gpt-4o-mini"
HAIKU = "anthropic/claude-haiku-4-5"
FLASH = "gemini/gemini-2.0-flash"
LLAMA = "groq/llama-3.1-8b-instant"
DEEPSEEK = "deepseek/deepseek-chat"
WORKERS = "workers-ai/@cf/meta/llama-3.1-8b-instruct"

FLASH_WINDOW = 1024  # the one small context window (the context filter's test)

#            quality speed  input  output  vision tools  json   context_window
FIXED: dict[str, tuple[float, float, float, float, bool, bool, bool, int]] = {
    GPT:      (6.0,    7.0,   0.50,  1.50,   True,  True,  True,  100_000),
    HAIKU:    (9.5,    4.0,   3.00,  15.00,  True,  True,  False, 100_000),
    FLASH:    (7.0,    8.0,   0.20,  0.80,   False, False, False, FLASH_WINDOW),
    LLAMA:    (5.0,    9.8,   0.10,  0.20,   False, True,  True,  100_000),
    DEEPSEEK: (8.0,    6.0,   0.40,  1.20,   False, True,  False, 100_000),
    WORKERS:  (4.0,    5.0,   0.02,  0.05,   False, False, True,  100_000),
}
QUALITY = {model: row[0] for model, row in FIXED.items()}
SPEED = {model: row[1] for model, row in FIXED.items()}
PRICE = {model: (row[2], row[3]) for model, row in FIXED.items()}

# Blended cost, USD per Mtok = max((3 × input + output) / 4, 0.01):
#   GPT      (3 × 0.50 + 1.50) / 4  = 0.75
#   HAIKU    (3 × 3.00 + 15.00) / 4 = 6.0
#   FLASH    (3 × 0.20 + 0.80) / 4  = 0.35
#   LLAMA    (3 × 0.10 + 0.20) / 4  = 0.125
#   DEEPSEEK (3 × 0.40 + 1.20) / 4  = 0.6
#   WORKERS  (3 × 0.02 + 0.05) / 4  = 0.0275
BLEND = {GPT: 0.75, HAIKU: 6.0, FLASH: 0.35, LLAMA: 0.125, DEEPSEEK: 0.6, WORKERS: 0.0275}

# balanced = quality × 2 + speed − log10(blend) × 2:
#   GPT      6.0 × 2 + 7.0 − 2 × log10(0.75)   = 19.0 + 0.2499 = 19.25
#   HAIKU    9.5 × 2 + 4.0 − 2 × log10(6.0)    = 23.0 − 1.5563 = 21.44
#   FLASH    7.0 × 2 + 8.0 − 2 × log10(0.35)   = 22.0 + 0.9119 = 22.91   ← winner
#   LLAMA    5.0 × 2 + 9.8 − 2 × log10(0.125)  = 19.8 + 1.8062 = 21.61
#   DEEPSEEK 8.0 × 2 + 6.0 − 2 × log10(0.6)    = 22.0 + 0.4437 = 22.44   ← runner-up
#   WORKERS  4.0 × 2 + 5.0 − 2 × log10(0.0275) = 13.0 + 3.1213 = 16.12
BALANCED = {
    GPT: 6.0 * 2 + 7.0 - 2 * math.log10(0.75),
    HAIKU: 9.5 * 2 + 4.0 - 2 * math.log10(6.0),
    FLASH: 7.0 * 2 + 8.0 - 2 * math.log10(0.35),
    LLAMA: 5.0 * 2 + 9.8 - 2 * math.log10(0.125),
    DEEPSEEK: 8.0 * 2 + 6.0 - 2 * math.log10(0.6),
    WORKERS: 4.0 * 2 + 5.0 - 2 * math.log10(0.0275),
}
HAND_BALANCED = {GPT: 19.25, HAIKU: 21.44, FLASH: 22.91, LLAMA: 21.61, DEEPSEEK: 22.44, WORKERS: 16.12}
# quality: HAIKU 9.5 > DEEPSEEK 8.0 > FLASH 7.0 > GPT 6.0 > LLAMA 5.0 > WORKERS 4.0
# fastest (catalog speed, no measured latency yet): LLAMA 9.8 > FLASH 8.0 > GPT 7.0 > DEEPSEEK 6.0 > WORKERS 5.0 > HAIKU 4.0
# cheapest: expected cost = prompt tokens × input / 1e6 + max_tokens × output / 1e6 (see expected_cost);
#   for p prompt tokens and 16 output tokens, in millionths of a USD:
#   WORKERS 0.02p + 0.8 < LLAMA 0.1p + 3.2 < FLASH 0.2p + 12.8 < DEEPSEEK 0.4p + 19.2 < GPT 0.5p + 24 < HAIKU 3p + 240

MAX_TOKENS = 16
NO_NEURONS = 0.5  # the tight gateway's daily budget: Workers AI's estimate needs at least its output,
# 16 tokens × 75,147 neurons / Mtok (the seeded rate of llama-3.1-8b-instruct) = 1.2 neurons > 0.5

HEALTH = {"HEALTH_FAILURE_THRESHOLD": "3", "HEALTH_MIN_SAMPLES": "1000", "HEALTH_COOLDOWN_SECONDS": "1"}
FAILURE_THRESHOLD = 3
COOLDOWN = 1.0
ROW_WAIT = 5.0


def start(emulator, tmp_path_factory, name: str, **overrides: str) -> GatewayServer:
    config = gateway_config(emulator.base_url, RETRIES_PER_MODEL="0", FALLBACKS="on", BUDGET_CACHE_SECONDS="0",
                            **HEALTH, **overrides)
    running = GatewayServer(config, tmp_path_factory.mktemp(name) / "gateway.sqlite3").start()
    fix_catalog(running)
    return running


def fix_catalog(server: GatewayServer) -> None:
    """Disable every chat model but FIXED's six, and set theirs, through the admin API."""
    with server.admin() as admin:
        listed = admin.get("/admin/models", params={"modality": "chat", "enabled": "true"})
        assert listed.status_code == 200, listed.text
        for model in listed.json()["data"]:
            if model["id"] not in FIXED:
                done = admin.patch(f"/admin/models/{model['id']}", json={"enabled": False})
                assert done.status_code == 200, done.text
        for model_id, (quality, speed, inp, out, vision, tools, json_mode, window) in FIXED.items():
            done = admin.patch(f"/admin/models/{model_id}", json={
                "enabled": True, "quality_score": quality, "speed_score": speed, "score_source": "test_routing",
                "input_usd_per_mtok": inp, "output_usd_per_mtok": out, "supports_vision": vision,
                "supports_tools": tools, "supports_json": json_mode, "supports_streaming": True,
                "context_window": window, "max_output_tokens": 8192})
            assert done.status_code == 200, done.text
        enabled = admin.get("/admin/models", params={"modality": "chat", "enabled": "true"}).json()["data"]
    assert sorted(m["id"] for m in enabled) == sorted(FIXED)


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = start(emulator, tmp_path_factory, "routing")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tight(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = start(emulator, tmp_path_factory, "routing-tight", WORKERS_AI_DAILY_NEURONS=str(NO_NEURONS))
    yield running
    running.stop()


def client_for(server: GatewayServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return client_for(server, server.create_key(name="routing"))


# ---- helpers -------------------------------------------------------------------------------------


def unique(words: str = "route") -> str:
    return f"{words} {uuid.uuid4().hex}"


def prompt_tokens(*texts: str) -> int:
    """The router's estimate: 4 characters a token, rounded up, over the message text."""
    return math.ceil(sum(len(text) for text in texts) / 4)


def expected_cost(model: str, prompt: int, output: int = MAX_TOKENS) -> float:
    inp, out = PRICE[model]
    return (prompt * inp + output * out) / 1e6


def ask(client: openai.OpenAI, model: str, content: Any, **extra: Any):
    """One chat request; (the raw response for its headers, the parsed completion)."""
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": content}], max_tokens=MAX_TOKENS, **extra)
    return raw, raw.parse()


def reason(raw) -> dict[str, str]:
    """x-gateway-route-reason as a dict, keys checked to be the spec's, in its order."""
    header = raw.headers["x-gateway-route-reason"]
    pairs = [part.split("=", 1) for part in header.split("; ")]
    assert [key for key, _ in pairs] == ["strategy", "winner", "score", "runner_up", "runner_up_score",
                                         "candidates", "inputs"], header
    return dict(pairs)


def assert_routed(raw, strategy: str, winner: str, score: float, runner_up: str | None, runner_up_score: float | None,
                  candidates: int, *, places: float = 0.005) -> dict[str, str]:
    """The answer came from `winner` and the route reason names what the hand arithmetic says."""
    assert raw.http_response.status_code == 200
    assert raw.headers["x-gateway-model"] == winner
    assert raw.headers["x-gateway-provider"] == winner.split("/")[0]
    got = reason(raw)
    assert (got["strategy"], got["winner"], got["runner_up"], got["candidates"]) == (
        strategy, winner, runner_up or "none", str(candidates))
    assert float(got["score"]) == pytest.approx(score, abs=places)
    if runner_up_score is None:
        assert got["runner_up_score"] == "none"
    else:
        assert float(got["runner_up_score"]) == pytest.approx(runner_up_score, abs=places)
    quality, speed, cost = got["inputs"].split(",")
    assert quality == f"quality:{QUALITY[winner]:.2f}"
    if strategy != "fastest":  # fastest's speed is the corrected one (the same while unmeasured)
        assert speed == f"speed:{SPEED[winner]:.2f}"
    assert cost.startswith("cost_per_mtok:") and float(cost.split(":")[1]) == pytest.approx(BLEND[winner])
    return got


def rows_of(server: GatewayServer, request_id: str, count: int) -> list[dict[str, Any]]:
    """The request's usage rows (its own and its failed attempts'), once `count` are written; failed
    attempts first, in order."""
    deadline = time.monotonic() + ROW_WAIT
    while True:
        rows = server.sql("SELECT * FROM usage_log WHERE request_id = ? OR attempt_of = ?", request_id, request_id)
        if len(rows) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(rows) == count, f"expected {count} usage rows for {request_id}, found {rows}"
    return sorted(rows, key=lambda row: (row["attempt_of"] is None, row["request_id"]))


def health_of(server: GatewayServer) -> dict[str, dict[str, Any]]:
    with server.admin() as admin:
        answer = admin.get("/admin/health")
    assert answer.status_code == 200, answer.text
    return {entry["model_id"]: entry for entry in answer.json()["data"]}


def fault(upstream: str) -> str:
    """A 503 for requests to `upstream` only (scripts/emulator/knobs.py, "Scope"); other models answer."""
    return f"[[emulator:fault=503]] [[emulator:fault_model={upstream}]]"


def make_org_key(server: GatewayServer, org_strategy: str | None, key_strategies: list[str | None]) -> list[str]:
    """An org (with its default_strategy) and one member's keys in it (each with its own)."""
    tag = uuid.uuid4().hex[:10]
    with server.admin() as admin:
        org = admin.post("/admin/orgs", json={"name": "routing", "slug": f"routing-{tag}", "tier_id": "business",
                                              "default_strategy": org_strategy})
        assert org.status_code == 201, org.text
        assert org.json()["default_strategy"] == org_strategy
        member = admin.post("/admin/users", json={"email": f"routing-{tag}@example.com", "tier_id": "business"})
        assert member.status_code == 201, member.text
        joined = admin.put(f"/admin/orgs/{org.json()['id']}/members/{member.json()['id']}", json={"role": "member"})
        assert joined.status_code == 200, joined.text
        keys = []
        for strategy in key_strategies:
            key = admin.post("/admin/keys", json={"org_id": org.json()["id"], "user_id": member.json()["id"],
                                                  "tier_id": "business", "default_strategy": strategy})
            assert key.status_code == 201, key.text
            assert key.json()["default_strategy"] == strategy
            keys.append(key.json()["key"])
    return keys


# ---- each strategy's pick --------------------------------------------------------------------------


def test_fastest_picks_the_highest_catalog_speed(server, client):
    health = health_of(server)
    assert all(health.get(model, {}).get("window_requests", 0) < 5 for model in FIXED), (
        "measured latency would correct the speed scores: this test must run before 5 calls to any model")
    raw, completion = ask(client, "auto/fastest", unique())
    # LLAMA 9.8 > FLASH 8.0 (then GPT 7.0, DEEPSEEK 6.0, WORKERS 5.0, HAIKU 4.0)
    got = assert_routed(raw, "fastest", LLAMA, 9.8, FLASH, 8.0, candidates=6)
    assert got["inputs"] == "quality:5.00,speed:9.80,cost_per_mtok:0.125"
    assert completion.choices[0].message.content.startswith("Emulated reply to:")


def test_quality_picks_the_highest_quality_score(server, client):
    raw, _ = ask(client, "auto/quality", unique())
    assert_routed(raw, "quality", HAIKU, 9.5, DEEPSEEK, 8.0, candidates=6)


def test_balanced_picks_the_formulas_best(server, client):
    assert {model: round(score, 2) for model, score in BALANCED.items()} == HAND_BALANCED
    raw, _ = ask(client, "auto/balanced", unique())
    got = assert_routed(raw, "balanced", FLASH, 22.91, DEEPSEEK, 22.44, candidates=6)
    assert got["inputs"] == "quality:7.00,speed:8.00,cost_per_mtok:0.35"


def test_a_stream_is_routed_and_says_why_in_its_headers(server, client):
    text = unique("stream")
    raw = client.chat.completions.with_raw_response.create(
        model="auto/balanced", messages=[{"role": "user", "content": text}], max_tokens=MAX_TOKENS, stream=True)
    assert_routed(raw, "balanced", FLASH, 22.91, DEEPSEEK, 22.44, candidates=6)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
    assert streamed.startswith("Emulated reply to:")
    row = rows_of(server, raw.headers["x-request-id"], 1)[0]
    assert (row["model_id"], row["stream"], row["route_strategy"]) == (FLASH, 1, "balanced")


def test_cheapest_picks_the_lowest_expected_cost_and_it_is_workers_ai_within_budget(server, client):
    text = unique("cheap")
    raw, _ = ask(client, "auto/cheapest", text)
    p = prompt_tokens(text)
    # WORKERS (0.02p + 16 × 0.05) / 1e6 < LLAMA (0.1p + 16 × 0.2) / 1e6
    workers, llama = expected_cost(WORKERS, p), expected_cost(LLAMA, p)
    assert workers < llama < expected_cost(FLASH, p)
    got = assert_routed(raw, "cheapest", WORKERS, -workers, LLAMA, -llama, candidates=6, places=1e-10)
    assert got["score"].startswith("-0.000") and "e" not in got["score"]  # plain decimals, no exponent
    row = rows_of(server, raw.headers["x-request-id"], 1)[0]
    assert (row["model_id"], row["status"], row["route_strategy"]) == (WORKERS, "success", "cheapest")
    assert row["neurons"] > 0  # the free daily budget paid for it


def test_cheapest_expects_256_output_tokens_without_max_tokens(server, client):
    text = unique("no max_tokens")
    raw = client.chat.completions.with_raw_response.create(model="auto/cheapest",
                                                           messages=[{"role": "user", "content": text}])
    p = prompt_tokens(text)
    # WORKERS (0.02p + 256 × 0.05) / 1e6, LLAMA (0.1p + 256 × 0.2) / 1e6
    assert_routed(raw, "cheapest", WORKERS, -expected_cost(WORKERS, p, 256), LLAMA, -expected_cost(LLAMA, p, 256),
                  candidates=6, places=1e-10)


def test_usage_row_records_the_strategy_and_an_explicit_model_none(server, client):
    raw, _ = ask(client, "auto/quality", unique())
    row = rows_of(server, raw.headers["x-request-id"], 1)[0]
    assert (row["route_strategy"], row["requested_model"], row["model_id"], row["attempts"]) == (
        "quality", "auto/quality", HAIKU, 1)
    explicit, _ = ask(client, FLASH, unique())
    assert "x-gateway-route-reason" not in explicit.headers
    assert rows_of(server, explicit.headers["x-request-id"], 1)[0]["route_strategy"] is None


def test_an_unknown_strategy_is_refused(server, client, emulator):
    text = unique("nonsense")
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, "auto/nonsense", text)
    error = raised.value.body
    assert (raised.value.status_code, error["param"], error["code"]) == (400, "model", "invalid_strategy")
    assert "cheapest" in error["message"] and "balanced" in error["message"]
    assert emulator_seen(emulator, text) == 0


# ---- bare `auto`: key, then org, then balanced ------------------------------------------------------


def test_bare_auto_uses_the_keys_strategy_then_the_orgs_then_balanced(server):
    org_only, key_beats_org = make_org_key(server, "fastest", [None, "quality"])
    raw, _ = ask(client_for(server, org_only), "auto", unique())
    assert_routed(raw, "fastest", LLAMA, SPEED[LLAMA], FLASH, SPEED[FLASH], candidates=6)
    raw, _ = ask(client_for(server, key_beats_org), "auto", unique())
    assert_routed(raw, "quality", HAIKU, 9.5, DEEPSEEK, 8.0, candidates=6)
    (own_strategy,) = make_org_key(server, None, ["cheapest"])
    text = unique()
    raw, _ = ask(client_for(server, own_strategy), "auto", text)
    assert_routed(raw, "cheapest", WORKERS, -expected_cost(WORKERS, prompt_tokens(text)), LLAMA,
                  -expected_cost(LLAMA, prompt_tokens(text)), candidates=6, places=1e-10)
    nothing_set = server.create_key(name="no-strategy")
    raw, _ = ask(client_for(server, nothing_set), "auto", unique())
    assert_routed(raw, "balanced", FLASH, 22.91, DEEPSEEK, 22.44, candidates=6)
    row = rows_of(server, raw.headers["x-request-id"], 1)[0]
    assert (row["requested_model"], row["route_strategy"]) == ("auto", "balanced")


def test_fastest_corrects_the_speed_score_with_measured_latency(server):
    # A key allowed GPT (speed 7.0) and WORKERS (speed 5.0): unmeasured, GPT is the faster.
    both = client_for(server, server.create_key(name="fastest", allowed_models=[GPT, WORKERS]))
    health = health_of(server)
    assert all(health.get(model, {}).get("window_requests", 0) < 5 for model in (GPT, WORKERS))
    raw, _ = ask(both, "auto/fastest", unique())
    assert_routed(raw, "fastest", GPT, 7.0, WORKERS, 5.0, candidates=2)
    rows_of(server, raw.headers["x-request-id"], 1)
    # Five outcomes of WORKERS in the window: its speed becomes 0.5 × 5.0 + 0.5 × measured, where
    # measured = clamp(10 − 5 × log10(ms / 100), 0, 10) of its TTFT EWMA (else latency EWMA). The emulator
    # answers in milliseconds, so measured ≈ 10 and WORKERS (≈ 7.5) overtakes GPT (7.0, one sample).
    for _ in range(5):
        named, _ = ask(both, WORKERS, unique("warm"))
        rows_of(server, named.headers["x-request-id"], 1)
    state = health_of(server)[WORKERS]
    assert state["window_requests"] >= 5
    ms = state["ttft_ewma_ms"] if state["ttft_ewma_ms"] is not None else state["latency_ewma_ms"]
    measured = min(10.0, max(0.0, 10.0 - 5.0 * math.log10(max(ms, 1.0) / 100.0)))
    assert measured > 9, f"the emulator answered too slowly ({ms} ms) for this test's margin"
    raw, _ = ask(both, "auto/fastest", unique())
    speed = 0.5 * 5.0 + 0.5 * measured
    got = assert_routed(raw, "fastest", WORKERS, speed, GPT, 7.0, candidates=2)
    assert got["inputs"] == f"quality:4.00,speed:{speed:.2f},cost_per_mtok:0.0275"


# ---- what the request needs ------------------------------------------------------------------------

PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOdSwAAAABJRU5ErkJggg=="


def test_an_image_part_leaves_only_vision_models(server, client):
    content = [{"type": "text", "text": unique("look")}, {"type": "image_url", "image_url": {"url": PIXEL}}]
    raw, _ = ask(client, "auto", content)
    # vision: GPT, HAIKU → balanced HAIKU 21.44 > GPT 19.25 (FLASH 22.91 and DEEPSEEK 22.44 have no vision)
    assert_routed(raw, "balanced", HAIKU, 21.44, GPT, 19.25, candidates=2)


def test_tools_leave_only_tool_models(server, client):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
    raw, _ = ask(client, "auto", unique("tools"), tools=tools)
    # tools: GPT, HAIKU, LLAMA, DEEPSEEK → balanced DEEPSEEK 22.44 > LLAMA 21.61 (FLASH has none)
    assert_routed(raw, "balanced", DEEPSEEK, 22.44, LLAMA, 21.61, candidates=4)


def test_json_mode_leaves_only_json_models(server, client):
    raw, _ = ask(client, "auto", unique("answer in json"), response_format={"type": "json_object"})
    # JSON: GPT, LLAMA, WORKERS → balanced LLAMA 21.61 > GPT 19.25 > WORKERS 16.12
    assert_routed(raw, "balanced", LLAMA, 21.61, GPT, 19.25, candidates=3)


def test_filters_combine_and_an_empty_ranking_is_a_400(server, client, emulator):
    content = [{"type": "text", "text": unique("look, in json")}, {"type": "image_url", "image_url": {"url": PIXEL}}]
    raw, _ = ask(client, "auto", content, response_format={"type": "json_object"})
    # vision {GPT, HAIKU} ∩ JSON {GPT, LLAMA, WORKERS} = {GPT}: alone, no runner-up
    assert_routed(raw, "balanced", GPT, 19.25, None, None, candidates=1)
    groq_only = client_for(server, server.create_key(name="groq-only", allowed_providers=["groq"]))
    text = unique("look")
    content = [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": PIXEL}}]
    with pytest.raises(openai.BadRequestError) as raised:
        ask(groq_only, "auto", content)
    error = raised.value.body
    assert (error["param"], error["code"]) == ("model", "no_route")
    # why, by count: FLASH, LLAMA, DEEPSEEK, WORKERS have no vision; GPT, HAIKU are not groq (and the
    # disabled and other-modality rows, never candidates, are not listed)
    assert "(excluded: 4 vision: " in error["message"] and ", 2 not_allowed: " in error["message"]
    assert "modality" not in error["message"] and "disabled" not in error["message"]
    assert emulator_seen(emulator, text) == 0


def test_a_prompt_longer_than_a_window_leaves_that_model_out(server, client):
    text = "x" * 3996 + uuid.uuid4().hex[:4]  # 4,000 characters = 1,000 prompt tokens
    assert prompt_tokens(text) == 1000
    # FLASH's window 1024 ≥ 1000 + 24 output tokens: it fits, and wins balanced
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": text}], max_tokens=24)
    assert_routed(raw, "balanced", FLASH, 22.91, DEEPSEEK, 22.44, candidates=6)
    # 1000 + 25 > 1024: FLASH is out, DEEPSEEK wins, LLAMA 21.61 runs up
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": text}], max_tokens=25)
    assert_routed(raw, "balanced", DEEPSEEK, 22.44, LLAMA, 21.61, candidates=5)


def test_max_cost_header_excludes_models_expected_to_cost_more(server, client):
    text = unique("budgeted")
    p = prompt_tokens(text)
    ceiling = expected_cost(DEEPSEEK, p)  # (0.4p + 16 × 1.2) / 1e6: HAIKU (3p + 240) / 1e6 costs more
    assert expected_cost(HAIKU, p) > ceiling > expected_cost(FLASH, p)
    raw, _ = ask(client, "auto/quality", text, extra_headers={"x-gateway-max-cost": repr(ceiling)})
    # HAIKU 9.5 and GPT (0.5p + 24) cost more: out; DEEPSEEK 8.0 (exactly at the ceiling: allowed) > FLASH 7.0
    # > LLAMA 5.0 > WORKERS 4.0
    assert expected_cost(GPT, p) > ceiling
    assert_routed(raw, "quality", DEEPSEEK, 8.0, FLASH, 7.0, candidates=4)
    text = unique("budgeted")
    p = prompt_tokens(text)
    below = expected_cost(DEEPSEEK, p) * 0.99
    raw, _ = ask(client, "auto/quality", text, extra_headers={"x-gateway-max-cost": repr(below)})
    # now DEEPSEEK is out too: FLASH 7.0 > LLAMA 5.0 > WORKERS 4.0
    assert_routed(raw, "quality", FLASH, 7.0, LLAMA, 5.0, candidates=3)
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, "auto", unique(), extra_headers={"x-gateway-max-cost": "cheap"})
    assert raised.value.body["param"] == "x-gateway-max-cost"


def upstream_bodies(emulator, text: str) -> list[dict[str, Any]]:
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    return [r["body"] for r in recorded if text in json.dumps(r["body"])]


def test_max_cost_body_field_excludes_the_same_and_is_not_forwarded(server, client, emulator):
    text = unique("body budget")
    p = prompt_tokens(text)
    raw, _ = ask(client, "auto/quality", text, extra_body={"max_cost": expected_cost(DEEPSEEK, p)})
    # as with the header: HAIKU and GPT cost more; DEEPSEEK 8.0 > FLASH 7.0
    assert_routed(raw, "quality", DEEPSEEK, 8.0, FLASH, 7.0, candidates=4)
    (forwarded,) = upstream_bodies(emulator, text)
    assert "max_cost" not in forwarded  # the gateway's field: a provider would refuse it
    # both given: the lower ceiling holds (the body's, below DEEPSEEK's cost) → FLASH 7.0 > LLAMA 5.0
    text = unique("body budget")
    p = prompt_tokens(text)
    raw, _ = ask(client, "auto/quality", text, extra_body={"max_cost": expected_cost(DEEPSEEK, p) * 0.99},
                 extra_headers={"x-gateway-max-cost": repr(expected_cost(HAIKU, p))})
    assert_routed(raw, "quality", FLASH, 7.0, LLAMA, 5.0, candidates=3)
    # a named model: the field is not forwarded either
    text = unique("named budget")
    ask(client, GPT, text, extra_body={"max_cost": 1.0})
    (forwarded,) = upstream_bodies(emulator, text)
    assert "max_cost" not in forwarded and forwarded["model"] == "gpt-4o-mini"
    for bad in ("0.01", -1):
        text = unique("bad budget")
        with pytest.raises(openai.BadRequestError) as raised:
            ask(client, "auto", text, extra_body={"max_cost": bad})
        assert (raised.value.body["param"], raised.value.body["code"]) == ("max_cost", "invalid_value")
        assert emulator_seen(emulator, text) == 0


def test_a_keys_allowed_models_and_providers_bound_the_candidates(server):
    by_provider = server.create_key(name="providers", allowed_providers=["groq", "deepseek"])
    raw, _ = ask(client_for(server, by_provider), "auto", unique())
    # groq, deepseek: DEEPSEEK 22.44 > LLAMA 21.61
    assert_routed(raw, "balanced", DEEPSEEK, 22.44, LLAMA, 21.61, candidates=2)
    by_model = server.create_key(name="models", allowed_models=["openai/*", WORKERS])
    raw, _ = ask(client_for(server, by_model), "auto", unique())
    # GPT 19.25 > WORKERS 16.12
    assert_routed(raw, "balanced", GPT, 19.25, WORKERS, 16.12, candidates=2)


# ---- the Workers AI neuron budget ------------------------------------------------------------------


def test_no_workers_ai_pick_when_its_neurons_do_not_fit(tight, emulator):
    client = client_for(tight, tight.create_key(name="tight"))
    text = unique("cheap")
    p = prompt_tokens(text)
    raw, _ = ask(client, "auto/cheapest", text)
    # WORKERS would win (test_cheapest_...) but needs ≥ 1.2 neurons of 0.5: LLAMA < FLASH
    assert_routed(raw, "cheapest", LLAMA, -expected_cost(LLAMA, p), FLASH, -expected_cost(FLASH, p), candidates=5,
                  places=1e-10)
    # WORKERS is out of every strategy, not only of cheapest: a key allowed WORKERS and GPT gets GPT alone
    by_model = tight.create_key(name="tight-models", allowed_models=[WORKERS, GPT])
    raw, _ = ask(client_for(tight, by_model), "auto", unique())
    assert_routed(raw, "balanced", GPT, 19.25, None, None, candidates=1)
    rows_of(tight, raw.headers["x-request-id"], 1)
    assert tight.sql("SELECT count(*) AS n FROM usage_log WHERE provider_id = 'workers-ai'") == [{"n": 0}]
    # the budget really is too small: asking for the model by name is refused before any upstream call
    text = unique("named")
    with pytest.raises(openai.RateLimitError) as raised:
        ask(client, WORKERS, text)
    assert raised.value.body["code"] == "neuron_budget_exceeded"
    assert emulator_seen(emulator, text) == 0


# ---- fallback inside auto --------------------------------------------------------------------------


def test_the_winner_failing_hands_the_answer_to_the_runner_up(server, client):
    text = f"{fault('claude-haiku-4-5')} {unique('fallback')}"
    raw, completion = ask(client, "auto/quality", text)
    # the ranking is unchanged (HAIKU won it), the answer is DEEPSEEK's, the runner-up
    got = reason(raw)
    assert (got["winner"], got["runner_up"]) == (HAIKU, DEEPSEEK)
    assert raw.headers["x-gateway-model"] == DEEPSEEK
    assert raw.headers["x-gateway-attempts"] == "2"
    assert raw.headers["x-gateway-fallback"] == "server_error"
    assert completion.choices[0].message.content.startswith("Emulated reply to:")
    request_id = raw.headers["x-request-id"]
    failed, final = rows_of(server, request_id, 2)
    assert (failed["request_id"], failed["attempt_of"], failed["model_id"]) == (f"{request_id}.1", request_id, HAIKU)
    assert (failed["status"], failed["error_type"], failed["cost_usd"], failed["cost_status"]) == (
        "error", "server_error", 0, "none")
    assert (final["request_id"], final["attempt_of"], final["model_id"], final["attempts"]) == (
        request_id, None, DEEPSEEK, 2)
    assert (final["status"], final["route_strategy"], final["cost_status"]) == ("success", "quality", "priced")
    inp, out = PRICE[DEEPSEEK]
    assert final["cost_usd"] == pytest.approx((final["input_tokens"] * inp + final["output_tokens"] * out) / 1e6)
    assert final["cost_usd"] > 0


# ---- health: the circuit opens, auto routes around it, it half-opens, closes ----------------------


def test_an_open_circuit_is_routed_around_and_closes_after_a_good_probe(server, client, emulator):
    broken = fault("gemini-2.0-flash")
    # Up to the threshold: FLASH (balanced's winner) fails, DEEPSEEK answers; the 3rd failure opens it.
    for n in range(1, FAILURE_THRESHOLD + 1):
        raw, _ = ask(client, "auto", f"{broken} {unique('flaky')}")
        opened = time.monotonic()  # (the last pass's: the circuit opened during that request)
        assert (raw.headers["x-gateway-model"], raw.headers["x-gateway-attempts"]) == (DEEPSEEK, "2")
        assert reason(raw)["winner"] == FLASH
        failed, final = rows_of(server, raw.headers["x-request-id"], 2)
        assert (failed["model_id"], failed["error_type"], failed["cost_usd"]) == (FLASH, "server_error", 0)
        assert final["model_id"] == DEEPSEEK
        state = health_of(server)[FLASH]
        assert state["consecutive_failures"] == n
        assert state["circuit_state"] == ("open" if n == FAILURE_THRESHOLD else "closed")

    # Open: the router leaves FLASH out; DEEPSEEK wins outright and FLASH is never called (no failed row).
    text = f"{broken} {unique('skipped')}"
    raw, _ = ask(client, "auto", text)
    assert time.monotonic() - opened < COOLDOWN, "the machine is too slow for a 1 s cool-down"
    assert_routed(raw, "balanced", DEEPSEEK, 22.44, LLAMA, 21.61, candidates=5)
    assert raw.headers["x-gateway-attempts"] == "1"
    assert [row["model_id"] for row in rows_of(server, raw.headers["x-request-id"], 1)] == [DEEPSEEK]
    assert emulator_seen(emulator, text) == 1  # DEEPSEEK's call only
    assert health_of(server)[FLASH]["circuit_state"] == "open"

    # After the cool-down: half-open, one probe; the fault is gone, so it succeeds and closes the circuit.
    time.sleep(COOLDOWN + 0.2)
    assert health_of(server)[FLASH]["circuit_state"] == "half_open"
    raw, _ = ask(client, "auto", unique("probe"))
    assert_routed(raw, "balanced", FLASH, 22.91, DEEPSEEK, 22.44, candidates=6)
    assert raw.headers["x-gateway-attempts"] == "1"
    rows_of(server, raw.headers["x-request-id"], 1)
    state = health_of(server)[FLASH]
    assert (state["circuit_state"], state["consecutive_failures"]) == ("closed", 0)
    raw, _ = ask(client, "auto", unique("closed"))
    assert_routed(raw, "balanced", FLASH, 22.91, DEEPSEEK, 22.44, candidates=6)


def test_when_every_candidate_is_open_auto_tries_them_anyway(server):
    """The spec ("Open circuits"): if every candidate is open, the model is tried anyway (half-open probe
    semantics) — not refused as if the caller had asked for something impossible."""
    only_gpt = client_for(server, server.create_key(name="only-gpt", allowed_models=[GPT]))
    for _ in range(FAILURE_THRESHOLD):
        with pytest.raises(openai.APIStatusError) as raised:
            ask(only_gpt, "auto", f"{fault('gpt-4o-mini')} {unique('down')}")
        assert (raised.value.status_code, raised.value.body["code"]) == (502, "upstream_unavailable")
        opened = time.monotonic()  # (the last pass's)
    assert health_of(server)[GPT]["circuit_state"] == "open"
    raw, _ = ask(only_gpt, "auto", unique("anyway"))
    assert time.monotonic() - opened < COOLDOWN, "the machine is too slow for a 1 s cool-down"
    assert_routed(raw, "balanced", GPT, 19.25, None, None, candidates=1)
    assert rows_of(server, raw.headers["x-request-id"], 1)[0]["status"] == "success"


def test_ties_break_on_lower_cost_then_higher_quality_then_id(tight):
    """On the tight gateway (only the budget test, above, reads its catalog): scores made equal through the
    admin API, then the fixed catalog restored."""
    client = client_for(tight, tight.create_key(name="ties", allowed_models=[LLAMA, DEEPSEEK, GPT]))

    def patch(model: str, **fields: float) -> None:
        with tight.admin() as admin:
            done = admin.patch(f"/admin/models/{model}", json=fields)
        assert done.status_code == 200, done.text

    def picked(strategy: str) -> tuple[str, str, str, str, str]:
        raw, _ = ask(client, strategy, unique())
        got = reason(raw)
        assert raw.headers["x-gateway-model"] == got["winner"]
        return got["winner"], got["score"], got["runner_up"], got["runner_up_score"], got["inputs"]

    try:
        # quality: LLAMA raised to DEEPSEEK's 8.0; equal scores → the lower blended cost, LLAMA 0.125 < 0.6
        patch(LLAMA, quality_score=8.0)
        assert picked("auto/quality") == (LLAMA, "8.00", DEEPSEEK, "8.00", "quality:8.00,speed:9.80,cost_per_mtok:0.125")
        # fastest: GPT's speed raised to LLAMA's 9.8 and its prices to LLAMA's (blend 0.125 both): the
        # higher quality wins, LLAMA 8.0 > GPT 6.0
        patch(GPT, speed_score=9.8, input_usd_per_mtok=0.10, output_usd_per_mtok=0.20)
        assert picked("auto/fastest") == (LLAMA, "9.80", GPT, "9.80", "quality:8.00,speed:9.80,cost_per_mtok:0.125")
        # equal quality too (GPT 8.0): the model id ascending decides, "groq/…" < "openai/…"
        patch(GPT, quality_score=8.0)
        assert picked("auto/fastest") == (LLAMA, "9.80", GPT, "9.80", "quality:8.00,speed:9.80,cost_per_mtok:0.125")
        # a hair cheaper, GPT wins: the blended cost comes before quality and id
        patch(GPT, input_usd_per_mtok=0.099)
        assert picked("auto/fastest")[:3] == (GPT, "9.80", LLAMA)
    finally:
        fix_catalog(tight)
