"""Gemini behind the OpenAI front door: the official `openai` SDK against the gateway, the gateway against
the emulator's Gemini API over real sockets (chat, streams, tools, vision, safety blocks, errors, usage)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.conftest import provider_key

MODEL = "gemini/gemini-2.5-flash"
INPUT_PRICE, OUTPUT_PRICE = 0.30, 2.50  # migrations/0004: USD per million tokens
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather",
    "parameters": {"type": "object", "additionalProperties": False,
                   "properties": {"location": {"type": "string"}}, "required": ["location"]}}}


@pytest.fixture()
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def last_gemini_request(emulator) -> dict:
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    return next(r for r in reversed(recorded) if r["path"].startswith("/gemini/"))


def counts(messages: list[dict], reply: str) -> tuple[int, int]:
    """The emulator's rule: words + 4 per message in, words of the reply out."""
    return sum(len(m["content"].split()) + 4 for m in messages), len(reply.split())


def test_models_list_has_gemini(client):
    assert {"gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash", "gemini/gemini-2.5-flash-lite"} <= {
        m.id for m in client.models.list()}


def test_chat_reaches_generate_content_and_is_billed(client, gateway, emulator):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to Gemini"}]
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages, temperature=0.2,
                                                           max_tokens=50)
    completion = raw.parse()
    assert completion.choices[0].message.content == "Emulated reply to: Say hello to Gemini"
    assert completion.choices[0].finish_reason == "stop"
    prompt, output = counts(messages, completion.choices[0].message.content)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    assert raw.headers["x-gateway-provider"] == "gemini" and raw.headers["x-gateway-model"] == MODEL

    sent = last_gemini_request(emulator)
    assert sent["path"] == "/gemini/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    assert "Authorization" not in sent["headers"]
    assert sent["body"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["body"]["contents"] == [{"role": "user", "parts": [{"text": "Say hello to Gemini"}]}]
    assert sent["body"]["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 50}

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["model_id"]) == ("success", "gemini", MODEL)
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["cost_status"] == "priced"
    assert row["cost_usd"] == pytest.approx((prompt * INPUT_PRICE + output * OUTPUT_PRICE) / 1_000_000)


def test_max_tokens_cut_is_length(client):
    completion = client.chat.completions.create(model=MODEL, max_tokens=2,
                                                messages=[{"role": "user", "content": "a long answer please"}])
    assert completion.choices[0].message.content == "Emulated reply"
    assert completion.choices[0].finish_reason == "length"


@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_with_and_without_the_usage_chunk(client, gateway, emulator, include_usage):
    messages = [{"role": "user", "content": "Stream me a Gemini greeting"}]
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages, stream=True, **options)
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Emulated reply to: Stream me a Gemini greeting"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    prompt, output = counts(messages, text)
    if include_usage:
        assert chunks[-1].choices == []
        assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (prompt, output)
    else:
        assert all(c.usage is None and c.choices for c in chunks)
    sent = last_gemini_request(emulator)
    assert sent["path"].endswith(":streamGenerateContent") and sent["query"] == "alt=sse"

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["stream"], row["status"], row["cost_status"]) == (1, "success", "priced")
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["ttft_ms"] is not None


def test_tools_round_trip(client, emulator):
    question = {"role": "user", "content": "What is the weather in Paris?"}
    completion = client.chat.completions.create(model=MODEL, messages=[question], tools=[WEATHER_TOOL],
                                                tool_choice="auto")
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"location": "Paris"})
    sent = last_gemini_request(emulator)["body"]
    assert sent["tools"] == [{"functionDeclarations": [{
        "name": "get_weather", "description": "Current weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}]}]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}

    answer = client.chat.completions.create(model=MODEL, tools=[WEATHER_TOOL], messages=[
        question, choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"celsius": 21}'},
    ])
    assert answer.choices[0].message.content == 'Emulated reply to: {"celsius":21}'
    contents = last_gemini_request(emulator)["body"]["contents"]
    assert contents[1] == {"role": "model", "parts": [{"functionCall": {"name": "get_weather",
                                                                        "args": {"location": "Paris"}}}]}
    assert contents[2] == {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
                                                                           "response": {"celsius": 21}}}]}


def test_streamed_tool_call(client):
    chunks = list(client.chat.completions.create(model=MODEL, stream=True, tools=[WEATHER_TOOL],
                                                 messages=[{"role": "user", "content": "weather in Paris?"}]))
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert [(tc.function.name, tc.function.arguments) for tc in calls] == [("get_weather", '{"location": "Paris"}')]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_vision_parts_reach_gemini_as_inline_and_file_data(client, emulator):
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "Describe both images"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/photo.jpg"}},
    ]}])
    assert last_gemini_request(emulator)["body"]["contents"][0]["parts"] == [
        {"text": "Describe both images"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/photo.jpg"}},
    ]


def test_blocked_prompt_is_a_content_filter_error(client, gateway):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[[emulator:fault=content-filter]]"}])
    assert caught.value.code == "content_filter"
    row = gateway.usage_row(caught.value.response.headers["x-request-id"])
    assert (row["status"], row["error_type"]) == ("error", "content_filter")


def test_safety_finish_is_content_filter_finish_reason(client):
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[emulator:fault=content-filter-finish]] tell me"}])
    assert completion.choices[0].finish_reason == "content_filter"
    assert completion.choices[0].message.content is None
    chunks = list(client.chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "[[emulator:fault=content-filter-finish]] x"}]))
    assert chunks[-1].choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize(("fault", "status", "code"), [
    ("context-length", 400, "context_length_exceeded"),
    ("model-not-found", 404, "model_not_found"),
    ("401", 502, "upstream_auth_failed"),
    ("503", 502, "upstream_unavailable"),
    ("500-once", 502, "upstream_unavailable"),
    ("reset", 502, "upstream_unreachable"),
])
def test_gemini_errors_are_mapped(gateway, api_key, fault, status, code):
    response = httpx.post(gateway.base_url + "/v1/chat/completions", timeout=10,
                          headers={"authorization": f"Bearer {api_key}"},
                          json={"model": MODEL, "messages": [{"role": "user", "content": f"[[emulator:fault={fault}]] g"}]})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["x-gateway-provider"] == "gemini"


def test_rate_limit_keeps_gemini_retry_delay(client, gateway):
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[[emulator:fault=429]]"}])
    assert caught.value.response.headers["retry-after"] == "2"
    row = gateway.usage_row(caught.value.response.headers["x-request-id"])
    assert (row["error_type"], row["http_status"]) == ("rate_limit", 429)


def test_stream_cut_and_malformed_chunk(client):
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model=MODEL, stream=True, messages=[
            {"role": "user", "content": "[[emulator:fault=cut-stream]] a b c d e f g"}]))
    chunks = list(client.chat.completions.create(model=MODEL, stream=True, messages=[
        {"role": "user", "content": "[[emulator:fault=malformed-chunk]] one two three"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Emulated reply to: one two three"


def test_emulator_speaks_gemini_auth_and_array_streams(emulator):
    url = emulator.base_url + "/gemini/v1beta/models/gemini-2.5-flash:"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    denied = httpx.post(url + "generateContent", json=body)
    assert denied.status_code == 403 and denied.json()["error"]["status"] == "PERMISSION_DENIED"
    by_query = httpx.post(url + "generateContent", params={"key": "k"}, json=body)
    assert by_query.json()["candidates"][0]["content"]["parts"] == [{"text": "Emulated reply to: hi"}]
    array = httpx.post(url + "streamGenerateContent", headers={"x-goog-api-key": "k"}, json=body).json()
    assert array[-1]["candidates"][0]["finishReason"] == "STOP"
