"""The emulator's scoped faults (fault_model / fault_path), `flap`, the stream knobs (chunks, cut_after,
stall-mid-stream) and `retry_after`, over real sockets in several wire formats.

Expected answers follow the rules in scripts/emulator/knobs.py and openai_wire.py ("Emulated reply to: "
+ the user text, one word per content chunk), computed here, not with the emulator's helpers.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import openai
import pytest

from scripts.emulator import EmulatorConfig, EmulatorThread

CONFIG_STALL_MS = 400  # the emulator's default stall-mid-stream pause in this module
OPENAI = "/v1/chat/completions"
GROQ = "/groq/openai/v1/chat/completions"
ANTHROPIC = "/anthropic/v1/messages"
GEMINI = "/gemini/v1beta/models/{model}:streamGenerateContent?alt=sse"
WORKERS_AI = "/cloudflare/client/v4/accounts/acc/ai/run/{model}"
BEARER = {"authorization": "Bearer sk-test"}


@pytest.fixture(scope="module")
def emulator():
    with EmulatorThread(config=EmulatorConfig(stall_mid_stream_ms=CONFIG_STALL_MS)) as running:
        yield running


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, headers=BEARER, timeout=10) as client:
        yield client


def body(text: str, model: str = "gpt-4o-mini", **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def reply_words(user_text: str) -> list[str]:
    """The documented reply: "Emulated reply to: " + the user text without markers, split in words."""
    clean = " ".join(w for w in user_text.split() if not w.startswith("[[emulator:"))
    return ("Emulated reply to: " + clean).split()


def cycled(words: list[str], n: int) -> list[str]:
    return [words[i % len(words)] for i in range(n)]


def openai_content_chunks(client: httpx.Client, path: str, payload: dict, **kwargs) -> tuple[list[str], list[str]]:
    """(the content of each content chunk, every data payload) of a streamed OpenAI-format answer."""
    response = client.post(path, json={**payload, "stream": True}, **kwargs)
    assert response.status_code == 200, response.text
    payloads = [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]
    contents = []
    for payload_text in payloads:
        if payload_text == "[DONE]":
            continue
        choices = json.loads(payload_text)["choices"]
        if choices and choices[0]["delta"].get("content"):
            contents.append(choices[0]["delta"]["content"])
    return contents, payloads


# ---- scope --------------------------------------------------------------------------------------


def test_fault_model_fails_only_the_named_model(http):
    text = "hello [[emulator:fault=503]] [[emulator:fault_model=gpt-4o-mini]]"
    failed = http.post(OPENAI, json=body(text))
    assert failed.status_code == 503 and failed.json()["error"]["type"] == "server_error"
    healthy = http.post(OPENAI, json=body(text, model="gpt-4.1-mini"))
    assert healthy.status_code == 200
    assert healthy.json()["choices"][0]["message"]["content"] == " ".join(reply_words(text))
    # The same text at another provider's path (the gateway forwards it to a fallback as is) is healthy too.
    groq = http.post(GROQ, json=body(text, model="llama-3.1-8b-instant"))
    assert groq.status_code == 200 and groq.json()["model"] == "llama-3.1-8b-instant"


def test_out_of_scope_requests_get_no_delay_either(http):
    text = "[[emulator:fault=slow-first-token]] [[emulator:ttft_ms=3000]] [[emulator:latency_ms=3000]] " \
           "[[emulator:fault_model=gpt-4o-mini]] hi"
    started = time.monotonic()
    contents, payloads = openai_content_chunks(http, OPENAI, body(text, model="gpt-4o"))
    assert time.monotonic() - started < 1.5
    assert "".join(contents) == " ".join(reply_words(text)) and payloads[-1] == "[DONE]"


def test_fault_model_by_header(http):
    headers = {"x-emulator-fault": "429", "x-emulator-fault-model": "gpt-4o"}
    assert http.post(OPENAI, json=body("x", model="gpt-4o"), headers=headers).status_code == 429
    assert http.post(OPENAI, json=body("x", model="gpt-4o-mini"), headers=headers).status_code == 200


def test_fault_path_fails_only_paths_with_the_prefix(http):
    text = "[[emulator:fault=503]] [[emulator:fault_path=/groq]] hi"
    assert http.post(GROQ, json=body(text, model="llama-3.1-8b-instant")).status_code == 503
    assert http.post(OPENAI, json=body(text)).status_code == 200


def test_fault_model_and_fault_path_must_both_match(http):
    text = "[[emulator:fault=503]] [[emulator:fault_path=/groq]] [[emulator:fault_model=llama-3.1-8b-instant]] hi"
    assert http.post(GROQ, json=body(text, model="llama-3.1-8b-instant")).status_code == 503
    assert http.post(GROQ, json=body(text, model="llama-3.3-70b-versatile")).status_code == 200
    assert http.post(OPENAI, json=body(text, model="llama-3.1-8b-instant")).status_code == 200


def test_scope_applies_to_the_anthropic_gemini_and_workers_ai_routes(http):
    text = "[[emulator:fault=503]] [[emulator:fault_model=claude-haiku-4-5]] hi"
    anthropic_headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    message = {"max_tokens": 50, "messages": [{"role": "user", "content": text}]}
    failed = http.post(ANTHROPIC, json={"model": "claude-haiku-4-5", **message}, headers=anthropic_headers)
    assert failed.status_code == 529 and failed.json()["error"]["type"] == "overloaded_error"
    ok = http.post(ANTHROPIC, json={"model": "claude-sonnet-4-5", **message}, headers=anthropic_headers)
    assert ok.status_code == 200

    # Gemini and Workers AI name the model in the path.
    gemini_text = "[[emulator:fault=503]] [[emulator:fault_model=gemini-2.5-flash]] hi"
    contents = {"contents": [{"role": "user", "parts": [{"text": gemini_text}]}]}
    gemini = "/gemini/v1beta/models/{}:generateContent"
    assert http.post(gemini.format("gemini-2.5-flash"), json=contents, headers={"x-goog-api-key": "k"}).status_code == 503
    assert http.post(gemini.format("gemini-2.5-pro"), json=contents, headers={"x-goog-api-key": "k"}).status_code == 200

    cf_text = "[[emulator:fault=503]] [[emulator:fault_model=@cf/meta/llama-3.1-8b-instruct]] hi"
    cf_body = {"messages": [{"role": "user", "content": cf_text}]}
    failed = http.post(WORKERS_AI.format(model="@cf/meta/llama-3.1-8b-instruct"), json=cf_body)
    assert failed.status_code == 503 and failed.json()["success"] is False
    assert http.post(WORKERS_AI.format(model="@cf/meta/llama-3.3-70b-instruct-fp8-fast"), json=cf_body).status_code == 200


# ---- flap ---------------------------------------------------------------------------------------


def test_flap_alternates_per_key_starting_with_a_failure(http):
    key, other = uuid.uuid4().hex, uuid.uuid4().hex
    text = f"[[emulator:fault=flap:{key}]] [[emulator:fault_model=gpt-4o-mini]] hi"
    statuses = [http.post(OPENAI, json=body(text)).status_code for _ in range(5)]
    assert statuses == [503, 200, 503, 200, 503]
    # Another key has its own count; out-of-scope requests do not advance either.
    assert http.post(OPENAI, json=body(text, model="gpt-4o")).status_code == 200
    assert http.post(OPENAI, json=body(text.replace(key, other))).status_code == 503
    assert http.post(OPENAI, json=body(text)).status_code == 200


def test_flap_fails_in_the_providers_own_503_shape(http):
    key = uuid.uuid4().hex
    text = f"[[emulator:fault=flap:{key}]] hi"
    payload = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": text}]}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    first = http.post(ANTHROPIC, json=payload, headers=headers)
    assert first.status_code == 529 and first.json()["error"]["type"] == "overloaded_error"
    assert http.post(ANTHROPIC, json=payload, headers=headers).status_code == 200


# ---- stream shape -------------------------------------------------------------------------------


def test_chunks_makes_exactly_n_content_chunks_of_the_cycled_reply(http):
    text = "a b [[emulator:chunks=12]]"
    expected = cycled(reply_words(text), 12)
    contents, payloads = openai_content_chunks(http, OPENAI, body(text, stream_options={"include_usage": True}))
    assert contents == [expected[0]] + [" " + w for w in expected[1:]]
    assert json.loads(payloads[-2])["usage"]["completion_tokens"] == 12 and payloads[-1] == "[DONE]"
    # The same reply without streaming.
    answer = http.post(OPENAI, json=body(text)).json()
    assert answer["choices"][0]["message"]["content"] == " ".join(expected)
    assert answer["usage"]["completion_tokens"] == 12


def test_chunks_shorter_than_the_reply_cuts_it(http):
    text = "one two three four five six [[emulator:chunks=2]]"
    contents, _ = openai_content_chunks(http, OPENAI, body(text))
    assert contents == ["Emulated", " reply"]


def test_chunks_must_be_at_least_one(http):
    response = http.post(OPENAI, json=body("[[emulator:chunks=0]]"))
    assert response.status_code == 400 and "chunks" in response.json()["error"]["message"]


def read_until_dropped(http: httpx.Client, path: str, payload: dict, **kwargs) -> list[str]:
    """The data payloads received before the server hung up (which must happen)."""
    received: list[str] = []
    with pytest.raises(httpx.TransportError):
        with http.stream("POST", path, json=payload, **kwargs) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(line[6:])
    return received


def test_cut_after_closes_the_connection_after_n_content_chunks(http):
    text = "[[emulator:fault=cut-stream]] [[emulator:chunks=60]] [[emulator:cut_after=40]] story"
    received = read_until_dropped(http, OPENAI, body(text, stream=True))
    chunks = [json.loads(p) for p in received]
    assert "[DONE]" not in received and all(c["choices"][0]["finish_reason"] is None for c in chunks)
    contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:]]  # after the role chunk
    expected = cycled(reply_words(text), 40)
    assert contents == [expected[0]] + [" " + w for w in expected[1:]]


def test_cut_stream_without_cut_after_keeps_three_chunks(http):
    received = read_until_dropped(http, OPENAI, body("a b c d e f g", stream=True),
                                  headers={"x-emulator-fault": "cut-stream"})
    assert "".join(json.loads(p)["choices"][0]["delta"]["content"] for p in received) == "Emulated reply to:"


def test_cut_after_in_the_anthropic_and_workers_ai_streams(http):
    text = "[[emulator:fault=cut-stream]] [[emulator:cut_after=5]] [[emulator:chunks=9]] x"
    expected = cycled(reply_words(text), 5)
    payload = {"model": "claude-haiku-4-5", "max_tokens": 50, "stream": True,
               "messages": [{"role": "user", "content": text}]}
    received = read_until_dropped(http, ANTHROPIC, payload, headers={"x-api-key": "k", "anthropic-version": "2023-06-01"})
    deltas = [json.loads(p)["delta"]["text"] for p in received if json.loads(p)["type"] == "content_block_delta"]
    assert "".join(deltas) == " ".join(expected) and len(deltas) == 5
    cf = read_until_dropped(http, WORKERS_AI.format(model="@cf/meta/llama-3.1-8b-instruct"),
                            {"messages": [{"role": "user", "content": text}], "stream": True})
    assert "".join(json.loads(p)["response"] for p in cf) == " ".join(expected) and len(cf) == 5


def timed_stream(http: httpx.Client, path: str, payload: dict, **kwargs) -> list[tuple[float, str]]:
    """Every data payload of a stream with the time it arrived (seconds since the request)."""
    started = time.monotonic()
    arrived: list[tuple[float, str]] = []
    with http.stream("POST", path, json=payload, **kwargs) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrived.append((time.monotonic() - started, line[6:]))
    return arrived


def test_stall_mid_stream_pauses_after_n_chunks_then_completes(http):
    text = "[[emulator:fault=stall-mid-stream]] [[emulator:stall_after=3]] [[emulator:stall_ms=700]] a b c d"
    arrived = timed_stream(http, OPENAI, body(text, stream=True))
    payloads = [p for _, p in arrived]
    assert payloads[-1] == "[DONE]"
    contents = [json.loads(p)["choices"][0]["delta"].get("content") for p in payloads[:-1]]
    assert "".join(c or "" for c in contents) == " ".join(reply_words(text))  # complete, in order
    # The role chunk and 3 content chunks, then the pause, then the 4th content chunk.
    assert arrived[4][0] - arrived[3][0] >= 0.65
    assert contents[1:4] == ["Emulated", " reply", " to:"]


def test_stall_mid_stream_defaults_to_one_chunk_and_the_configured_pause(http):
    arrived = timed_stream(http, GROQ, body("[[emulator:fault=stall-mid-stream]] a b", model="llama-3.1-8b-instant",
                                             stream=True))
    chunks = [(at, json.loads(p)) for at, p in arrived if p != "[DONE]"]
    words = [(at, c["choices"][0]["delta"]["content"]) for at, c in chunks
             if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert words[0][1] == "Emulated" and words[1][1] == " reply"
    assert words[1][0] - words[0][0] >= CONFIG_STALL_MS / 1000 - 0.05


def test_a_client_that_times_out_during_the_stall_sees_a_read_timeout(http):
    text = "[[emulator:fault=stall-mid-stream]] [[emulator:stall_ms=30000]] hi"
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        with http.stream("POST", OPENAI, json=body(text, stream=True), timeout=0.5) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(line[6:])
    assert time.monotonic() - started < 3
    assert [json.loads(p)["choices"][0]["delta"].get("content") for p in received] == ["", "Emulated"]


def test_stall_mid_stream_in_the_gemini_sse_stream(http):
    text = "[[emulator:fault=stall-mid-stream]] [[emulator:stall_after=2]] [[emulator:stall_ms=500]] a"
    contents = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    arrived = timed_stream(http, GEMINI.format(model="gemini-2.5-flash"), contents, headers={"x-goog-api-key": "k"})
    texts = [json.loads(p)["candidates"][0]["content"]["parts"][0]["text"] for _, p in arrived]
    assert "".join(texts) == " ".join(reply_words(text))
    assert arrived[2][0] - arrived[1][0] >= 0.45


def test_the_openai_sdk_reads_a_stalled_stream_to_its_end(emulator):
    sdk = openai.OpenAI(base_url=emulator.base_url + "/v1", api_key="sk-test", max_retries=0)
    text = "[[emulator:fault=stall-mid-stream]] [[emulator:stall_ms=300]] [[emulator:chunks=5]] x"
    stream = sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}], stream=True)
    content = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert content == " ".join(cycled(reply_words(text), 5))


# ---- Retry-After --------------------------------------------------------------------------------


def test_retry_after_sets_the_429s_header(http, emulator):
    response = http.post(OPENAI, json=body("[[emulator:fault=429]] [[emulator:retry_after=7]] hi"))
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert http.post(OPENAI, json=body("[[emulator:fault=429]] hi")).headers["retry-after"] == "2"
    assert "retry-after" not in http.post(OPENAI, json=body("[[emulator:fault=429-no-retry-after]] "
                                                             "[[emulator:retry_after=7]] hi")).headers


@pytest.mark.parametrize(
    ("text", "named"),
    [("[[emulator:fault_path=groq]]", "fault_path"), ("[[emulator:fault_model=]]", "fault_model"),
     ("[[emulator:cut_after=-1]]", "cut_after"), ("[[emulator:stall_ms=soon]]", "stall_ms"),
     ("[[emulator:fault=flapping]]", "flapping"), ("[[emulator:fault_modle=x]]", "fault_modle")],
)
def test_bad_new_knobs_are_400s_naming_them(http, text, named):
    response = http.post(OPENAI, json=body(text))
    assert response.status_code == 400 and named in response.json()["error"]["message"]


def test_groq_refuses_openai_metadata(http):
    """Groq answers 400 for OpenAI's `metadata` (its error as reported: message, param), the gateway drops it."""
    answer = http.post(GROQ, json={"model": "llama-3.1-8b-instant", "metadata": {"app": "x"},
                                   "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 400
    assert answer.json()["error"] == {"message": "`metadata` is not supported with this model",
                                      "type": "invalid_request_error", "param": "metadata"}
