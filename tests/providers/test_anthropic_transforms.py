"""Anthropic's pure transforms: OpenAI request → Messages request, answer and stream back, errors.
Plain Python (no HTTP libraries), so it runs on CPython and inside Pyodide alike."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers import registry
from gateway.providers.anthropic.chat import AnthropicChat
from gateway.providers.anthropic.request import DEFAULT_MAX_TOKENS, JSON_OBJECT_INSTRUCTION
from gateway.providers.base import Endpoint, MalformedEvent, StreamState
from gateway.sse import SseEvent

CHAT = AnthropicChat(clock=lambda: 1700000000.0)
ENDPOINT = Endpoint(base_url="https://api.anthropic.com/", api_key="sk-ant-test")


def build(**body) -> dict:
    body.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return json.loads(CHAT.build_request({"model": "anthropic/claude-x", **body}, "claude-x", ENDPOINT).body)


# --- request -------------------------------------------------------------------------------------

def test_registered_and_request_goes_to_messages_with_anthropic_headers():
    assert registry.get("anthropic").chat is not None
    request = CHAT.build_request({"model": "m", "messages": [{"role": "user", "content": "Hi"}]}, "claude-x", ENDPOINT)
    assert request.method == "POST" and request.url == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers and "accept" not in request.headers
    assert json.loads(request.body) == {"model": "claude-x", "messages": [{"role": "user", "content": "Hi"}],
                                        "max_tokens": DEFAULT_MAX_TOKENS}


def test_system_and_developer_messages_become_top_level_system():
    sent = build(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                           {"role": "developer", "content": [{"type": "text", "text": "Use French."}]}])
    assert sent["system"] == "Be brief.\n\nUse French."
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]


def test_cache_control_on_a_part_is_kept_and_system_stays_blocks():
    part = {"type": "text", "text": "Long context", "cache_control": {"type": "ephemeral"}}
    sent = build(messages=[{"role": "system", "content": [part]}, {"role": "user", "content": "Hi"}])
    assert sent["system"] == [{"type": "text", "text": "Long context", "cache_control": {"type": "ephemeral"}}]


def test_consecutive_same_role_messages_are_merged():
    sent = build(messages=[{"role": "user", "content": "One"}, {"role": "user", "content": "Two"},
                           {"role": "assistant", "content": "Three"}])
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "One"}, {"type": "text", "text": "Two"}]},
        {"role": "assistant", "content": "Three"},
    ]


def test_parameters_are_mapped():
    sent = build(max_completion_tokens=50, max_tokens=10, temperature=1.7, top_p=0.9, stop=["a", "b"],
                 user="u-1", stream=True, frequency_penalty=0.5, seed=3, stream_options={"include_usage": True})
    assert sent["max_tokens"] == 50 and sent["temperature"] == 1.0 and sent["top_p"] == 0.9
    assert sent["stop_sequences"] == ["a", "b"] and sent["metadata"] == {"user_id": "u-1"}
    assert sent["stream"] is True
    assert not {"frequency_penalty", "seed", "stream_options", "max_completion_tokens"} & set(sent)
    assert build(max_tokens=10, stop="END", temperature=0.3)["max_tokens"] == 10
    assert build(stop="END")["stop_sequences"] == ["END"]
    assert build(temperature=0.3)["temperature"] == 0.3


def test_a_stream_asks_for_event_stream():
    request = CHAT.build_request({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
                                 "claude-x", ENDPOINT)
    assert request.headers["accept"] == "text/event-stream"


def test_n_other_than_one_is_refused():
    with pytest.raises(InvalidRequestError) as raised:
        build(n=2)
    assert raised.value.param == "n"


TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ({"type": "function", "function": {"name": "get_weather"}}, None, {"type": "tool", "name": "get_weather"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tools_and_tool_choice(choice, parallel, expected):
    body = {"tools": [TOOL]}
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    sent = build(**body)
    assert sent["tools"] == [{"name": "get_weather", "description": "Weather",
                              "input_schema": TOOL["function"]["parameters"]}]
    assert sent.get("tool_choice") == expected


def test_tool_calls_and_tool_results_in_the_conversation():
    call = {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    sent = build(messages=[
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "sunny"}]},
        {"role": "user", "content": "Thanks"},
    ])
    assert sent["messages"][1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]}
    assert sent["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "sunny"}]},
        {"type": "text", "text": "Thanks"},
    ]}


def test_bad_tool_arguments_are_a_400():
    call = {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{not json"}}
    with pytest.raises(InvalidRequestError):
        build(messages=[{"role": "assistant", "tool_calls": [call]}])


def test_image_parts_become_base64_or_url_sources():
    content = [{"type": "text", "text": "Look"},
               {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}},
               {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}}]
    blocks = build(messages=[{"role": "user", "content": content}])["messages"][0]["content"]
    assert blocks == [{"type": "text", "text": "Look"},
                      {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"}},
                      {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]


def test_unsupported_parts_and_bad_data_urls_are_400s():
    with pytest.raises(InvalidRequestError):
        build(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}])
    with pytest.raises(InvalidRequestError):
        build(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,xx"}}]}])


def test_response_format_becomes_a_system_instruction():
    assert build(response_format={"type": "json_object"})["system"] == JSON_OBJECT_INSTRUCTION
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    sent = build(messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}],
                 response_format={"type": "json_schema", "json_schema": {"name": "thing", "schema": schema}})
    assert sent["system"].startswith("Be terse.\n\n")
    assert "'thing'" in sent["system"] and json.dumps(schema, separators=(",", ":"), sort_keys=True) in sent["system"]
    assert "system" not in build(response_format={"type": "text"})


# --- answer --------------------------------------------------------------------------------------

def message(content, stop_reason="end_turn", **usage) -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "content": content,
            "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5, **usage}}


def test_text_answer_and_usage_with_cache_counts():
    answer, usage = CHAT.parse_response(message(
        [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Hello"}, {"type": "text", "text": "!"}],
        cache_read_input_tokens=100, cache_creation_input_tokens=20))
    assert answer["id"] == "msg_1" and answer["object"] == "chat.completion" and answer["created"] == 1700000000
    assert answer["model"] == "claude-x"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "Hello!"}
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["prompt_tokens"] == 130 and answer["usage"]["completion_tokens"] == 5
    assert answer["usage"]["total_tokens"] == 135
    assert answer["usage"]["prompt_tokens_details"]["cached_tokens"] == 100
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (130, 100, 5)


def test_tool_use_answer():
    answer, _ = CHAT.parse_response(message(
        [{"type": "text", "text": "Checking."},
         {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}], "tool_use"))
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking."
    assert choice["message"]["tool_calls"] == [{"id": "toolu_1", "type": "function", "function": {
        "name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    only_tool, _ = CHAT.parse_response(message([{"type": "tool_use", "id": "t", "name": "f", "input": {}}], "tool_use"))
    assert only_tool["choices"][0]["message"]["content"] is None


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
     ("refusal", "content_filter"), ("pause_turn", "stop")],
)
def test_stop_reasons(stop_reason, finish):
    answer, _ = CHAT.parse_response(message([{"type": "text", "text": "x"}], stop_reason))
    assert answer["choices"][0]["finish_reason"] == finish


def test_an_answer_without_content_is_a_server_error():
    with pytest.raises(UpstreamError) as raised:
        CHAT.parse_response({"id": "x"})
    assert raised.value.category is ErrorCategory.SERVER_ERROR


# --- stream --------------------------------------------------------------------------------------

def event(kind: str, **data) -> SseEvent:
    return SseEvent(data=json.dumps({"type": kind, **data}), event=kind)


def run(events, include_usage=False):
    state = StreamState(include_usage=include_usage)
    chunks = [chunk for e in events for chunk in CHAT.transform_event(e, state)]
    return chunks, state


START = event("message_start", message={"id": "msg_9", "type": "message", "role": "assistant", "model": "claude-x",
                                        "content": [], "usage": {"input_tokens": 25, "cache_read_input_tokens": 5,
                                                                 "output_tokens": 1}})
TEXT_EVENTS = [
    START,
    event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
    event("ping"),
    event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hello"}),
    event("content_block_delta", index=0, delta={"type": "text_delta", "text": " world"}),
    event("content_block_stop", index=0),
    event("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None}, usage={"output_tokens": 2}),
    event("message_stop"),
]


def test_text_stream_maps_event_by_event():
    chunks, state = run(TEXT_EVENTS)
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""}, {"content": "Hello"}, {"content": " world"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "stop"]
    assert {(c["id"], c["object"], c["created"], c["model"]) for c in chunks} == {
        ("msg_9", "chat.completion.chunk", 1700000000, "claude-x")}
    assert all("usage" not in c for c in chunks)
    assert state.done and state.finish_reason == "stop"
    assert (state.usage.input_tokens, state.usage.cached_input_tokens, state.usage.output_tokens) == (30, 5, 2)


def test_usage_chunk_only_when_asked():
    chunks, _ = run(TEXT_EVENTS, include_usage=True)
    assert chunks[-1]["choices"] == [] and chunks[-1]["id"] == "msg_9"
    assert chunks[-1]["usage"]["prompt_tokens"] == 30 and chunks[-1]["usage"]["completion_tokens"] == 2
    assert chunks[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 5


def test_usage_is_not_set_before_message_delta():
    _, state = run(TEXT_EVENTS[:4])
    assert state.usage is None and not state.done and state.finish_reason is None


def test_tool_use_stream_becomes_tool_call_deltas():
    events = [
        START,
        event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Checking"}),
        event("content_block_stop", index=0),
        event("content_block_start", index=1, content_block={"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
        event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": ""}),
        event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": '{"a": '}),
        event("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": "1}"}),
        event("content_block_stop", index=1),
        event("content_block_start", index=2, content_block={"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}}),
        event("content_block_delta", index=2, delta={"type": "input_json_delta", "partial_json": "{}"}),
        event("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 9}),
        event("message_stop"),
    ]
    chunks, state = run(events)
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert calls == [
        {"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"a": '}},
        {"index": 0, "function": {"arguments": "1}"}},
        {"index": 1, "id": "toolu_2", "type": "function", "function": {"name": "g", "arguments": ""}},
        {"index": 1, "function": {"arguments": "{}"}},
    ]
    assert state.finish_reason == "tool_calls" and state.usage.output_tokens == 9


def test_thinking_deltas_and_unknown_events_are_skipped():
    events = [START, event("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
              event("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "hmm"}),
              event("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "x"}),
              event("some_future_event")]
    chunks, _ = run(events)
    assert len(chunks) == 1


def test_an_error_event_raises_the_classified_error():
    with pytest.raises(UpstreamError) as raised:
        run([START, event("error", error={"type": "overloaded_error", "message": "Overloaded"})])
    assert raised.value.category is ErrorCategory.SERVER_ERROR and raised.value.upstream_status == 529


def test_unparsable_events_are_malformed():
    with pytest.raises(MalformedEvent):
        CHAT.transform_event(SseEvent(data='{"type": broken'), StreamState())
    with pytest.raises(MalformedEvent):
        CHAT.transform_event(SseEvent(data="[1, 2]"), StreamState())


# --- errors --------------------------------------------------------------------------------------

def body(error_type: str, message: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}, "request_id": "r"}).encode()


@pytest.mark.parametrize(
    ("status", "error_type", "message", "category"),
    [
        (400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum", ErrorCategory.CONTEXT_LENGTH),
        (400, "invalid_request_error", "input length and `max_tokens` exceed context limit: 1 + 2 > 3",
         ErrorCategory.CONTEXT_LENGTH),
        (400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API.",
         ErrorCategory.QUOTA_EXCEEDED),
        (400, "invalid_request_error", "max_tokens: Field required", ErrorCategory.INVALID_REQUEST),
        (401, "authentication_error", "invalid x-api-key", ErrorCategory.AUTH),
        (403, "permission_error", "no access", ErrorCategory.AUTH),
        (402, "billing_error", "billing", ErrorCategory.QUOTA_EXCEEDED),
        (404, "not_found_error", "model: claude-nope", ErrorCategory.MODEL_NOT_FOUND),
        (413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", ErrorCategory.INVALID_REQUEST),
        (429, "rate_limit_error", "slow down", ErrorCategory.RATE_LIMIT),
        (500, "api_error", "Internal server error", ErrorCategory.SERVER_ERROR),
        (504, "timeout_error", "timed out", ErrorCategory.TIMEOUT),
        (529, "overloaded_error", "Overloaded", ErrorCategory.SERVER_ERROR),
    ],
)
def test_error_bodies_are_classified(status, error_type, message, category):
    error = CHAT.parse_error(status, {}, body(error_type, message))
    assert error.category is category and error.upstream_status == status and error.message == message


def test_rate_limit_keeps_retry_after_and_unknown_bodies_fall_back_to_status():
    error = CHAT.parse_error(429, {"retry-after": "7"}, body("rate_limit_error", "slow down"))
    assert error.retry_after == 7 and error.headers["retry-after"] == "7"
    fallback = CHAT.parse_error(503, {}, b"<html>bad gateway</html>")
    assert fallback.category is ErrorCategory.SERVER_ERROR and "503" in fallback.message
