"""The Anthropic-compatible ingress: the official `anthropic` SDK → gateway `/v1/messages` → any chat
provider on the emulator, over real sockets. Checks what the client got, what reached the emulator and
the usage row (endpoint "messages")."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.conftest import OPENAI_TEST_KEY

MODEL = "openai/gpt-4o-mini"
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
TOOLS = [{"name": "get_weather", "description": "Weather for a city",
          "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}]


@pytest.fixture()
def client(gateway, api_key) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=api_key, max_retries=0)


def sent(emulator) -> dict:
    return httpx.get(emulator.base_url + "/_emulator/requests").json()[-1]


def counts(texts: list[str], reply: str) -> tuple[int, int]:
    """The emulator's rule: words + 4 per message (system included) in, words of the reply out."""
    return sum(len(t.split()) + 4 for t in texts), len(reply.split())


def test_message_through_an_openai_upstream(client, gateway, emulator):
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=200, system="Be brief.", stop_sequences=["END"], extra_body={"temperature": 0.5},
        metadata={"user_id": "user-42"}, messages=[{"role": "user", "content": "Say hello to the team"}])
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert message.model == MODEL
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Emulated reply to: Say hello to the team"
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    prompt, output = counts(["Be brief.", "Say hello to the team"], message.content[0].text)
    assert (message.usage.input_tokens, message.usage.output_tokens) == (prompt, output)
    assert message.usage.cache_read_input_tokens == 0
    assert raw.headers["x-gateway-provider"] == "openai" and raw.headers["x-gateway-model"] == MODEL
    assert message._request_id == raw.headers["x-request-id"]

    request = sent(emulator)
    assert request["headers"]["Authorization"] == f"Bearer {OPENAI_TEST_KEY}"
    body = request["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Say hello to the team"}]
    assert (body["max_tokens"], body["temperature"], body["stop"], body["user"]) == (200, 0.5, ["END"], "user-42")

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["endpoint"] == "messages" and row["status"] == "success" and row["stream"] == 0
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["provider_id"] == "openai" and row["cost_status"] == "priced"


def test_max_tokens_maps_to_the_max_tokens_stop_reason(client):
    message = client.messages.create(model=MODEL, max_tokens=2, messages=[{"role": "user", "content": "one two three"}])
    assert message.content[0].text == "Emulated reply"
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 2


def test_stream_with_the_sdk_helper(client, gateway, emulator):
    with client.messages.stream(model=MODEL, max_tokens=100,
                                messages=[{"role": "user", "content": "Stream me a greeting please"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
        request_id = stream.request_id
    assert text == "Emulated reply to: Stream me a greeting please"
    assert final.content[0].text == text and final.stop_reason == "end_turn" and final.model == MODEL
    prompt, output = counts(["Stream me a greeting please"], text)
    assert (final.usage.input_tokens, final.usage.output_tokens) == (prompt, output)
    assert sent(emulator)["body"]["stream_options"] == {"include_usage": True}

    row = gateway.usage_row(request_id)
    assert row["endpoint"] == "messages" and row["stream"] == 1 and row["status"] == "success"
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["ttft_ms"] is not None


def test_stream_event_sequence_on_the_wire(gateway, api_key):
    body = {"model": MODEL, "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "a b"}]}
    with httpx.stream("POST", gateway.base_url + "/v1/messages", json=body,
                      headers={"x-api-key": api_key, "anthropic-version": "2023-06-01"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        names = [line[7:] for line in response.iter_lines() if line.startswith("event: ")]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_tool_use_round_trip(client, emulator):
    ask = [{"role": "user", "content": "weather in Paris?"}]
    answer = client.messages.create(model=MODEL, max_tokens=100, tools=TOOLS, tool_choice={"type": "any"}, messages=ask)
    assert answer.stop_reason == "tool_use"
    call = answer.content[-1]
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {"location": "Paris"}
    body = sent(emulator)["body"]
    assert body["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "parameters": TOOLS[0]["input_schema"], "description": "Weather for a city"}}]
    assert body["tool_choice"] == "required"

    follow_up = ask + [{"role": "assistant", "content": [block.model_dump() for block in answer.content]},
                       {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18 degrees"},
                                                    {"type": "text", "text": "Summarize it"}]}]
    final = client.messages.create(model=MODEL, max_tokens=100, tools=TOOLS, messages=follow_up)
    assert final.content[0].text == "Emulated reply to: Summarize it"
    messages = sent(emulator)["body"]["messages"]
    assert messages[1]["role"] == "assistant"
    assert messages[1]["tool_calls"] == [{"id": call.id, "type": "function",
                                          "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}}]
    assert messages[2] == {"role": "tool", "tool_call_id": call.id, "content": "18 degrees"}
    assert messages[3] == {"role": "user", "content": "Summarize it"}


def test_streamed_tool_use(client):
    with client.messages.stream(model=MODEL, max_tokens=100, tools=TOOLS,
                                messages=[{"role": "user", "content": "weather now?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [(b.type, b.name, b.input) for b in final.content] == [("tool_use", "get_weather", {"location": "Paris"})]
    assert final.usage.output_tokens == 3


def test_image_blocks_become_image_url_parts(client, emulator):
    content = [{"type": "text", "text": "What is in these images?"},
               {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}},
               {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}]
    message = client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": content}])
    assert message.content[0].text == "Emulated reply to: What is in these images?"
    parts = sent(emulator)["body"]["messages"][0]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}}
    assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}


@pytest.mark.parametrize(("model", "path"), [("anthropic/claude-sonnet-4-5", "/anthropic/v1/messages"),
                                             ("gemini/gemini-2.5-flash", "gemini-2.5-flash")])
def test_other_providers_behind_the_ingress(client, gateway, emulator, model, path):
    raw = client.messages.with_raw_response.create(model=model, max_tokens=100, system="Be brief.",
                                                   messages=[{"role": "user", "content": "Hello there"}])
    message = raw.parse()
    assert message.content[0].text == "Emulated reply to: Hello there" and message.model == model
    assert path in sent(emulator)["path"]
    with client.messages.stream(model=model, max_tokens=100, tools=TOOLS,
                                messages=[{"role": "user", "content": "weather in Paris?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use" and final.content[-1].input == {"location": "Paris"}
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["endpoint"] == "messages" and row["provider_id"] == model.split("/")[0]
    assert (row["input_tokens"], row["output_tokens"]) == (message.usage.input_tokens, message.usage.output_tokens)


def test_missing_max_tokens_is_a_400_naming_it(gateway, api_key):
    response = httpx.post(gateway.base_url + "/v1/messages", headers={"x-api-key": api_key},
                          json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"] and body["request_id"] == response.headers["x-request-id"]


def test_invalid_block_is_a_400_the_sdk_raises(client):
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(model=MODEL, max_tokens=10,
                               messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}])
    assert raised.value.body["error"]["type"] == "invalid_request_error"
    assert "messages[0].content[0].source.type" in raised.value.body["error"]["message"]


def test_bad_key_is_a_401_authentication_error(gateway):
    bad = anthropic.Anthropic(base_url=gateway.base_url, api_key="not-a-gateway-key", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as raised:
        bad.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 401
    assert raised.value.body["error"]["type"] == "authentication_error"


def test_unknown_model_is_a_404_not_found_error(client):
    with pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(model="no-such-model-anywhere", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.body["type"] == "error" and raised.value.body["error"]["type"] == "not_found_error"


def test_upstream_rate_limit_is_a_429_rate_limit_error(client, gateway):
    with pytest.raises(anthropic.RateLimitError) as raised:
        client.messages.create(model=MODEL, max_tokens=10,
                               messages=[{"role": "user", "content": "[[emulator:fault=429]] hi"}])
    error = raised.value
    assert error.status_code == 429 and error.body["error"]["type"] == "rate_limit_error"
    assert error.response.headers["retry-after"]
    row = gateway.usage_row(error.response.headers["x-request-id"])
    assert row["endpoint"] == "messages" and row["status"] == "error" and row["http_status"] == 429


def test_broken_stream_ends_with_an_error_event(client):
    with pytest.raises(anthropic.APIStatusError):
        with client.messages.stream(model=MODEL, max_tokens=100, messages=[
                {"role": "user", "content": "[[emulator:fault=cut-stream]] a b c d e"}]) as stream:
            stream.get_final_message()


def test_route_is_in_the_openapi_document(gateway):
    document = httpx.get(gateway.base_url + "/openapi.json").json()
    operation = document["paths"]["/v1/messages"]["post"]
    assert operation["operationId"] == "create_message"
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["model", "max_tokens", "messages"]
