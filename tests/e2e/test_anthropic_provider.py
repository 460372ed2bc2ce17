"""Anthropic behind the OpenAI front door: the official `openai` SDK → gateway → emulator's Messages API,
over real sockets. Checks what reached the emulator, what the client got, and the usage row."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import provider_key

# Seeded catalog prices of anthropic/claude-haiku-4-5 (migrations/0003_...): USD per million tokens.
HAIKU_INPUT, HAIKU_OUTPUT = 1.00, 5.00
MODEL = "anthropic/claude-haiku-4-5"
PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture()
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def sent(emulator) -> dict:
    return httpx.get(emulator.base_url + "/_emulator/requests").json()[-1]


def counts(messages: list[dict], reply: str) -> tuple[int, int]:
    """The emulator's rule: words + 4 per message (system included) in, words of the reply out."""
    return sum(len(m["content"].split()) + 4 for m in messages), len(reply.split())


def test_chat_reaches_the_messages_api_and_is_billed(client, gateway, emulator):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to the team"}]
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages, temperature=1.5,
                                                           stop="END", user="user-42")
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Emulated reply to: Say hello to the team"
    assert completion.choices[0].finish_reason == "stop"
    prompt, output = counts(messages, completion.choices[0].message.content)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    assert raw.headers["x-gateway-provider"] == "anthropic"

    request = sent(emulator)
    assert request["path"] == "/anthropic/v1/messages"
    assert request["headers"]["x-api-key"] == provider_key("ANTHROPIC")
    assert request["headers"]["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in request["headers"]
    body = request["body"]
    assert body["model"] == "claude-haiku-4-5" and body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Say hello to the team"}]
    assert body["max_tokens"] == 4096 and body["temperature"] == 1.0
    assert body["stop_sequences"] == ["END"] and body["metadata"] == {"user_id": "user-42"}

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["status"] == "success" and row["provider_id"] == "anthropic"
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["cost_usd"] == pytest.approx((prompt * HAIKU_INPUT + output * HAIKU_OUTPUT) / 1_000_000)
    assert row["cost_status"] == "priced"


def test_stream_with_usage(client, gateway, emulator):
    messages = [{"role": "user", "content": "Stream me a greeting please"}]
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Emulated reply to: Stream me a greeting please"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1 and all(c.object == "chat.completion.chunk" for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    prompt, output = counts(messages, text)
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (prompt, output)
    assert sent(emulator)["body"]["stream"] is True

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["stream"] == 1 and row["status"] == "success"
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["ttft_ms"] is not None


def test_stream_without_usage_option_still_bills(client, gateway):
    messages = [{"role": "user", "content": "No usage chunk for me"}]
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages, stream=True)
    chunks = list(raw.parse())
    assert all(c.usage is None and c.choices for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["input_tokens"], row["output_tokens"]) == counts(messages, text)
    assert row["cost_status"] == "priced"


TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]


def test_tool_call_and_tool_result_round_trip(client, emulator):
    ask = [{"role": "user", "content": "weather in Paris?"}]
    completion = client.chat.completions.create(model=MODEL, messages=ask, tools=TOOLS, tool_choice="required")
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"location": "Paris"}')
    body = sent(emulator)["body"]
    assert body["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                              "input_schema": TOOLS[0]["function"]["parameters"]}]
    assert body["tool_choice"] == {"type": "any"}

    follow_up = ask + [completion.choices[0].message.model_dump(exclude_none=True),
                       {"role": "tool", "tool_call_id": call.id, "content": "18 degrees"}]
    answer = client.chat.completions.create(model=MODEL, messages=follow_up, tools=TOOLS)
    assert answer.choices[0].message.content == "Emulated reply to: 18 degrees"
    messages = sent(emulator)["body"]["messages"]
    assert messages[1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"location": "Paris"}}]}
    assert messages[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call.id, "content": "18 degrees"}]}


def test_streamed_tool_call(client):
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "weather now?"}], tools=TOOLS, stream=True))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id and calls[0].function.name == "get_weather" and calls[0].index == 0
    assert "".join(tc.function.arguments or "" for tc in calls) == '{"location": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_vision_parts_become_image_blocks(client, emulator):
    content = [{"type": "text", "text": "What is in these images?"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}])
    assert completion.choices[0].message.content == "Emulated reply to: What is in these images?"
    blocks = sent(emulator)["body"]["messages"][0]["content"]
    assert blocks[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}}
    assert blocks[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("429", 429, "rate_limit_exceeded"),
        ("401", 502, "upstream_auth_failed"),
        ("503", 502, "upstream_unavailable"),  # Anthropic's 529 overloaded_error
        ("context-length", 400, "context_length_exceeded"),
        ("model-not-found", 404, "model_not_found"),
    ],
)
def test_errors_are_mapped(client, gateway, fault, status, code):
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": f"[[emulator:fault={fault}]] hi"}])
    error = raised.value
    assert error.status_code == status
    assert error.body["code"] == code and error.body["message"].startswith("anthropic: ")
    if fault == "429":
        assert error.response.headers["retry-after"] == "2"
    row = gateway.usage_row(error.response.headers["x-request-id"])
    assert row["status"] == "error" and row["http_status"] == status


def test_content_filter_finish_is_a_refusal(client):
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[emulator:fault=content-filter-finish]] hi"}])
    assert completion.choices[0].finish_reason == "content_filter"


def test_broken_stream_ends_with_an_error_event(client):
    stream = client.chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "[[emulator:fault=cut-stream]] a b c d e"}])
    with pytest.raises(openai.APIError):
        list(stream)


def test_cache_reads_are_counted_and_billed_at_the_cached_price(client, gateway):
    system = [{"type": "text", "text": "A long shared preamble of eight words here", "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "Hi"}]
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
    completion = raw.parse()
    cached = 8
    prompt = (cached + 4) + (1 + 4)
    assert completion.usage.prompt_tokens == prompt
    assert completion.usage.prompt_tokens_details.cached_tokens == cached
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["input_tokens"], row["cached_input_tokens"]) == (prompt, cached)
    output = completion.usage.completion_tokens
    expected = ((prompt - cached) * HAIKU_INPUT + cached * 0.10 + output * HAIKU_OUTPUT) / 1_000_000
    assert row["cost_usd"] == pytest.approx(expected)


def test_a_500_once_is_a_502_then_succeeds(client):
    messages = [{"role": "user", "content": "[[emulator:fault=500-once:anthropic-e2e]] again"}]
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model=MODEL, messages=messages)
    assert raised.value.status_code == 502
    assert client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content


@pytest.mark.parametrize("fault", ["malformed-chunk", "no-done"])
def test_stream_faults_that_still_finish(client, gateway, fault):
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": f"[[emulator:fault={fault}]] one two three"}])
    chunks = list(raw.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Emulated reply to: one two three"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert gateway.usage_row(raw.headers["x-request-id"])["status"] == "success"


# --- the emulator itself speaks the wire format the official `anthropic` SDK reads ---------------------

def test_emulator_with_the_official_anthropic_sdk(emulator):
    import anthropic

    sdk = anthropic.Anthropic(base_url=emulator.base_url + "/anthropic", api_key="k", max_retries=0)
    answer = sdk.messages.create(model="claude-haiku-4-5", max_tokens=100, system="Be brief",
                                 messages=[{"role": "user", "content": "Hello there"}])
    assert answer.content[0].text == "Emulated reply to: Hello there" and answer.stop_reason == "end_turn"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (2 + 4 + 2 + 4, 5)
    tools = [{"name": "get_weather", "input_schema": {"type": "object"}}]
    with sdk.messages.stream(model="claude-haiku-4-5", max_tokens=100, tools=tools,
                             messages=[{"role": "user", "content": "weather?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use" and final.content[0].input == {"location": "Paris"}
    with pytest.raises(anthropic.APIStatusError) as raised:
        sdk.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "[[emulator:fault=503]]"}])
    assert raised.value.status_code == 529 and raised.value.body["error"]["type"] == "overloaded_error"


def test_emulator_requires_a_key_and_a_version(emulator):
    url = emulator.base_url + "/anthropic/v1/messages"
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    no_key = httpx.post(url, json=body, headers={"anthropic-version": "2023-06-01"})
    assert no_key.status_code == 401
    assert no_key.json()["error"] == {"type": "authentication_error", "message": "x-api-key header is required"}
    no_version = httpx.post(url, json=body, headers={"x-api-key": "k"})
    assert no_version.status_code == 400
    assert no_version.json()["error"]["message"] == "anthropic-version: header is required"
    no_max = httpx.post(url, json={**body, "max_tokens": None}, headers={"x-api-key": "k", "anthropic-version": "2023-06-01"})
    assert no_max.status_code == 400 and no_max.json()["error"]["type"] == "invalid_request_error"
