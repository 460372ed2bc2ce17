"""The provider emulator as its users see it: real sockets, httpx and the official openai SDK as clients.

Expected numbers are computed here from the rule documented in scripts/emulator/openai_wire.py, not by
calling the emulator's own helpers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import openai
import pytest

from scripts.emulator import EmulatorConfig, EmulatorThread, parse_knobs, running_emulator
from scripts.emulator.knobs import NO_KNOBS

SLOW_FIRST_TOKEN_MS = 300


@pytest.fixture(scope="module")
def emulator():
    config = EmulatorConfig(slow_first_token_ms=SLOW_FIRST_TOKEN_MS, stall_seconds=5)
    with EmulatorThread(config=config) as running:
        yield running


@pytest.fixture
def client(emulator):
    with httpx.Client(base_url=emulator.base_url + "/v1", headers={"Authorization": "Bearer sk-test"}) as c:
        yield c


@pytest.fixture(scope="module")
def sdk(emulator):
    with openai.OpenAI(base_url=emulator.base_url + "/v1", api_key="sk-test", max_retries=0) as c:
        yield c


@pytest.fixture(scope="module")
def plain(emulator):
    """No Authorization header: for the auth checks and the inspection endpoints."""
    with httpx.Client(base_url=emulator.base_url) as c:
        yield c


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def chat(text: str = "hello there", **extra) -> dict:
    return {"model": "gpt-4o-mini", "messages": [user(text)], **extra}


def words(text: str) -> int:
    return len(text.split())


def expected_prompt_tokens(texts: list[str]) -> int:
    return sum(words(t) + 4 for t in texts)


def sse_payloads(raw: str) -> list[str]:
    return [line[len("data: "):] for line in raw.split("\n\n") if line.startswith("data: ")]


def stream(client: httpx.Client, body: dict, **kwargs) -> list[str]:
    response = client.post("/chat/completions", json={**body, "stream": True}, **kwargs)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    return sse_payloads(response.text)


# ---- chat completions ------------------------------------------------------------------------------


def test_non_stream_answer_and_usage_follow_the_documented_rule(client):
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "what is"}, {"type": "text", "text": "the time"}]},
    ]
    response = client.post("/chat/completions", json={"model": "gpt-4.1-mini", "messages": messages})
    assert response.status_code == 200
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["id"].startswith("chatcmpl-emu-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4.1-mini"
    assert isinstance(body["created"], int) and body["system_fingerprint"]
    choice = body["choices"][0]
    reply = "Emulated reply to: what is the time"
    assert choice["message"] == {"role": "assistant", "content": reply, "refusal": None, "annotations": []}
    assert choice["finish_reason"] == "stop"
    prompt = expected_prompt_tokens(["You are terse.", "what is the time"])
    usage = body["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (prompt, words(reply))
    assert usage["total_tokens"] == prompt + words(reply)
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


def test_reply_truncates_long_user_text_to_200_characters(client):
    text = "word " * 100
    content = client.post("/chat/completions", json=chat(text)).json()["choices"][0]["message"]["content"]
    assert content == " ".join(("Emulated reply to: " + text[:200]).split())


def test_openai_sdk_reads_the_answer(sdk):
    completion = sdk.chat.completions.create(model="gpt-4o-mini", messages=[user("ping")])
    assert completion.choices[0].message.content == "Emulated reply to: ping"
    assert completion.usage.prompt_tokens == expected_prompt_tokens(["ping"])
    assert completion.usage.prompt_tokens_details.cached_tokens == 0


def test_stream_with_include_usage_ends_with_usage_then_done(client):
    payloads = stream(client, chat("one two", stream_options={"include_usage": True}))
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["choices"][0]["delta"]["content"] == ""
    deltas = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert deltas == ["Emulated", " reply", " to:", " one", " two"]
    finish = chunks[-2]
    assert finish["choices"][0]["delta"] == {} and finish["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["prompt_tokens"] == expected_prompt_tokens(["one two"])
    assert usage_chunk["usage"]["completion_tokens"] == 5


def test_stream_without_include_usage_has_no_usage_chunk(client):
    payloads = stream(client, chat("one two"))
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_max_tokens_cuts_the_reply_and_reports_length(client, sdk):
    body = client.post("/chat/completions", json=chat("a b c d", max_tokens=2)).json()
    assert body["choices"][0]["message"]["content"] == "Emulated reply"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 2
    chunks = list(sdk.chat.completions.create(model="m", messages=[user("a b")], stream=True,
                                              max_completion_tokens=3))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Emulated reply to:"
    assert chunks[-1].choices[0].finish_reason == "length"


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}


def test_tool_call_answer_parsed_by_the_sdk(sdk):
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=[user("What's the weather?")], tools=[WEATHER_TOOL]
    )
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Paris"}
    assert completion.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_reassembles_in_the_sdk(sdk):
    chunks = list(sdk.chat.completions.create(model="gpt-4o", messages=[user("weather in town")],
                                              tools=[WEATHER_TOOL], stream=True))
    first = chunks[0].choices[0].delta.tool_calls[0]
    assert (first.index, first.type, first.function.name) == (0, "function", "get_weather") and first.id
    arguments = "".join(c.choices[0].delta.tool_calls[0].function.arguments for c in chunks
                        if c.choices and c.choices[0].delta.tool_calls)
    assert json.loads(arguments) == {"location": "Paris"}
    assert len(chunks) > 3  # arguments arrive in fragments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# ---- auth and validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}])
def test_missing_or_empty_bearer_key_is_401(plain, headers):
    response = plain.post("/v1/chat/completions", json=chat(), headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert error["message"].startswith("Incorrect API key provided")


@pytest.mark.parametrize("missing", ["model", "messages"])
def test_missing_required_parameter_is_400_naming_it(client, missing):
    body = chat()
    del body[missing]
    response = client.post("/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == missing


# ---- faults ----------------------------------------------------------------------------------------

ERROR_FAULTS = [
    # fault, status, type, code, param
    ("429", 429, "requests", "rate_limit_exceeded", None),
    ("429-no-retry-after", 429, "requests", "rate_limit_exceeded", None),
    ("401", 401, "invalid_request_error", "invalid_api_key", None),
    ("503", 503, "server_error", None, None),
    ("context-length", 400, "invalid_request_error", "context_length_exceeded", "messages"),
    ("content-filter", 400, "invalid_request_error", "content_filter", None),
    ("model-not-found", 404, "invalid_request_error", "model_not_found", None),
]


@pytest.mark.parametrize("fault,status,type_,code,param", ERROR_FAULTS)
@pytest.mark.parametrize("via", ["header", "marker"])
def test_error_faults_answer_like_openai(client, via, fault, status, type_, code, param):
    if via == "header":
        response = client.post("/chat/completions", json=chat(), headers={"x-emulator-fault": fault})
    else:
        response = client.post("/chat/completions", json=chat(f"hi [[emulator:fault={fault}]]"))
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (type_, code, param)
    assert error["message"]
    if fault == "429":
        assert response.headers["retry-after"] == "2"
    if fault.startswith("429"):
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
    if fault == "429-no-retry-after":
        assert "retry-after" not in response.headers
    if fault == "model-not-found":
        assert "`gpt-4o-mini`" in error["message"]
    if fault == "503":
        assert "overloaded" in error["message"]
    if fault == "context-length":
        assert "maximum context length is 128000 tokens" in error["message"]


def test_sdk_raises_its_rate_limit_error(sdk):
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[user("[[emulator:fault=429]]")])


@pytest.mark.parametrize(
    "request_kwargs,named",
    [
        ({"headers": {"x-emulator-fault": "492"}}, "'492'"),
        ({"json": chat("[[emulator:fault=stal]]")}, "'stal'"),
        ({"json": chat("[[emulator:latency=5]]")}, "'latency'"),
        ({"json": chat("[[emulator:fault 429]]")}, "malformed"),
        ({"headers": {"x-emulator-latency-ms": "soon"}}, "latency_ms"),
    ],
)
def test_typos_in_faults_and_knobs_are_400s_naming_them(client, request_kwargs, named):
    response = client.post("/chat/completions", **{"json": chat(), **request_kwargs})
    assert response.status_code == 400
    assert named in response.json()["error"]["message"]


def test_reset_drops_the_connection(client):
    with pytest.raises(httpx.TransportError):
        client.post("/chat/completions", json=chat(), headers={"x-emulator-fault": "reset"})


def test_cut_stream_sends_some_chunks_then_drops_the_connection(client):
    received: list[str] = []
    with pytest.raises(httpx.TransportError):
        with client.stream("POST", "/chat/completions", json=chat("a b c d e f g", stream=True),
                           headers={"x-emulator-fault": "cut-stream"}) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(line[6:])
    assert len(received) >= 2 and "[DONE]" not in received
    assert all(json.loads(p)["choices"][0]["finish_reason"] is None for p in received)


def test_stall_never_answers(client):
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/chat/completions", json=chat(), headers={"x-emulator-fault": "stall"}, timeout=0.5)
    assert time.monotonic() - started < 3


def test_500_once_fails_then_succeeds(client):
    headers = {"x-emulator-fault": f"500-once:{uuid.uuid4()}"}
    first = client.post("/chat/completions", json=chat(), headers=headers)
    assert first.status_code == 500
    assert first.json()["error"]["type"] == "server_error"
    assert client.post("/chat/completions", json=chat(), headers=headers).status_code == 200
    # Without a key the body is the key: an identical body succeeds the second time.
    body = chat(f"{uuid.uuid4()} [[emulator:fault=500-once]]")
    assert [client.post("/chat/completions", json=body).status_code for _ in range(2)] == [500, 200]


def test_slow_first_token_delays_the_first_chunk(client):
    started = time.monotonic()
    payloads = stream(client, chat(), headers={"x-emulator-fault": "slow-first-token", "x-emulator-ttft-ms": "200"})
    assert time.monotonic() - started >= 0.2
    assert payloads[-1] == "[DONE]"
    started = time.monotonic()
    assert client.post("/chat/completions", json=chat("[[emulator:fault=slow-first-token]]")).status_code == 200
    assert time.monotonic() - started >= SLOW_FIRST_TOKEN_MS / 1000


def test_malformed_chunk_is_one_invalid_event_among_valid_ones(client):
    payloads = stream(client, chat("a b c d"), headers={"x-emulator-fault": "malformed-chunk"})
    assert payloads[-1] == "[DONE]"
    broken = [p for p in payloads[:-1] if not _is_json(p)]
    assert broken == ['{"id": broken']
    chunks = [json.loads(p) for p in payloads[:-1] if _is_json(p)]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Emulated reply to: a b c d"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_no_done_ends_after_the_finish_chunk(client):
    payloads = stream(client, chat(), headers={"x-emulator-fault": "no-done"})
    assert "[DONE]" not in payloads
    assert json.loads(payloads[-1])["choices"][0]["finish_reason"] == "stop"


def test_no_usage_ends_a_stream_without_its_usage_chunk_even_when_asked(client):
    payloads = stream(client, chat(stream_options={"include_usage": True}), headers={"x-emulator-fault": "no-usage"})
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(chunk["choices"] for chunk in chunks)  # no usage chunk (its choices would be empty)


def test_content_filter_finish(client):
    body = client.post("/chat/completions", json=chat("[[emulator:fault=content-filter-finish]]")).json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    assert body["choices"][0]["message"]["content"] == ""
    payloads = stream(client, chat(), headers={"x-emulator-fault": "content-filter-finish"})
    assert json.loads(payloads[-2])["choices"][0]["finish_reason"] == "content_filter"


# ---- knobs -----------------------------------------------------------------------------------------


def test_latency_knob_delays_the_answer(client):
    for kwargs in ({"json": chat(), "headers": {"x-emulator-latency-ms": "150"}},
                   {"json": chat("hi [[emulator:latency_ms=150]]")}):
        started = time.monotonic()
        response = client.post("/chat/completions", **kwargs)
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.15


def test_markers_are_not_echoed_in_the_reply(client):
    body = client.post("/chat/completions", json=chat("hi [[emulator:latency_ms=1]] there")).json()
    assert body["choices"][0]["message"]["content"] == "Emulated reply to: hi there"


def test_chunk_interval_spaces_out_the_stream(client):
    started = time.monotonic()
    payloads = stream(client, chat("a b [[emulator:chunk_interval_ms=30]]"))
    assert time.monotonic() - started >= 0.03 * (len(payloads) - 1)


def test_parse_knobs_headers_override_markers():
    assert parse_knobs({}, ["no markers here"]) is NO_KNOBS
    knobs = parse_knobs({"x-emulator-ttft-ms": "7"}, ["[[emulator:ttft_ms=3]] [[emulator:fault=500-once:k]]"])
    assert (knobs.ttft_ms, knobs.fault, knobs.fault_key) == (7, "500-once", "k")


# ---- recording, embeddings, models -----------------------------------------------------------------


def test_recorded_requests_can_be_read_and_cleared(plain, client):
    assert plain.delete("/_emulator/requests").status_code == 200
    client.post("/chat/completions", json=chat("recorded"), headers={"x-trace": "t1"})
    plain.post("/v1/embeddings", json={"model": "m", "input": "x"})  # no auth: still recorded
    recorded = plain.get("/_emulator/requests").json()
    assert [(r["method"], r["path"]) for r in recorded] == [
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/embeddings"),
    ]
    assert recorded[0]["body"] == chat("recorded")
    assert recorded[0]["headers"]["x-trace"] == "t1"
    assert recorded[0]["headers"]["Authorization"] == "Bearer sk-test"
    plain.delete("/_emulator/requests")
    assert plain.get("/_emulator/requests").json() == []


def test_embeddings_float_and_base64_are_the_same_numbers(client, sdk):
    request = {"model": "text-embedding-3-small", "input": ["alpha beta", "gamma"]}
    floats = client.post("/embeddings", json=request).json()
    encoded = client.post("/embeddings", json={**request, "encoding_format": "base64"}).json()
    assert floats["object"] == "list" and floats["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    for plain, packed in zip(floats["data"], encoded["data"]):
        raw = base64.b64decode(packed["embedding"])
        assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == plain["embedding"]
        assert len(plain["embedding"]) == 8
    # The SDK asks for base64 and decodes it itself.
    via_sdk = sdk.embeddings.create(model="text-embedding-3-small", input=["alpha beta", "gamma"])
    assert [d.embedding for d in via_sdk.data] == [d["embedding"] for d in floats["data"]]
    sized = client.post("/embeddings", json={"model": "m", "input": [[1, 2, 3]], "dimensions": 16}).json()
    assert len(sized["data"][0]["embedding"]) == 16 and sized["usage"]["prompt_tokens"] == 3


def test_models_list(sdk, client):
    ids = [m.id for m in sdk.models.list()]
    assert {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "text-embedding-3-small"} <= set(ids)
    assert client.get("/models", headers={"x-emulator-fault": "503"}).status_code == 503


# ---- other ways to run it --------------------------------------------------------------------------


def test_running_emulator_serves_asyncio_code():
    async def scenario() -> int:
        async with running_emulator(port=0) as running, httpx.AsyncClient() as http:
            response = await http.post(running.base_url + "/v1/chat/completions", json=chat(),
                                       headers={"Authorization": "Bearer k"})
            return response.status_code

    assert asyncio.run(scenario()) == 200


def test_cli_prints_its_address_and_serves():
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "scripts.emulator", "--port", "0"], cwd=root,
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("emulator listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1]
        response = httpx.get(base_url + "/v1/models", headers={"Authorization": "Bearer k"})
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=5)
