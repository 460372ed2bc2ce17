"""The Anthropic Messages ingress translations (pure; they run inside Pyodide too)."""

from __future__ import annotations

import json

import pytest

from gateway.errors import InvalidRequestError
from gateway.ingress import anthropic_messages as ingress

BASE = {"model": "openai/gpt-4o-mini", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}


def convert(**fields):
    return ingress.to_openai_request({**BASE, **fields})


# ---- request ---------------------------------------------------------------------------------------


def test_minimal_request():
    assert convert() == {"model": "openai/gpt-4o-mini", "max_tokens": 64,
                         "messages": [{"role": "user", "content": "Hi"}]}


@pytest.mark.parametrize("field", ["model", "max_tokens", "messages"])
def test_required_fields_are_named(field):
    body = {k: v for k, v in BASE.items() if k != field}
    with pytest.raises(InvalidRequestError) as raised:
        ingress.to_openai_request(body)
    assert raised.value.param == field and field in raised.value.message


@pytest.mark.parametrize(("fields", "param"), [
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": True}, "max_tokens"),
    ({"messages": []}, "messages"),
    ({"temperature": 1.5}, "temperature"),
    ({"top_p": "x"}, "top_p"),
    ({"stop_sequences": "END"}, "stop_sequences"),
    ({"stream": "yes"}, "stream"),
    ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user"}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "document"}]}]}, "messages[0].content[0]"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}]},
     "messages[0].content[0].source.type"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]}, "messages[0].content[0].tool_use_id"),
    ({"tools": [{"name": "t"}]}, "tools[0].input_schema"),
    ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
    ({"tool_choice": {"type": "sometimes"}}, "tool_choice"),
    ({"system": 5}, "system"),
])
def test_invalid_fields_are_named(fields, param):
    with pytest.raises(InvalidRequestError) as raised:
        convert(**fields)
    assert raised.value.param == param and raised.value.status == 400


def test_parameters_map():
    out = convert(system="Be brief.", temperature=0.2, top_p=0.9, top_k=5, stop_sequences=["END"],
                  metadata={"user_id": "u-1"}, stream=True, thinking={"type": "enabled", "budget_tokens": 1024})
    assert out["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (out["temperature"], out["top_p"], out["stop"], out["user"]) == (0.2, 0.9, ["END"], "u-1")
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}
    assert "top_k" not in out and "thinking" not in out and "metadata" not in out


def test_system_blocks_join_or_keep_cache_control():
    joined = convert(system=[{"type": "text", "text": "A"}, {"type": "text", "text": "B"}])
    assert joined["messages"][0] == {"role": "system", "content": "A\n\nB"}
    cached = convert(system=[{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}])
    assert cached["messages"][0] == {"role": "system", "content": [
        {"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}]}


def test_images_become_image_url_parts():
    content = [{"type": "text", "text": "Look"},
               {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
               {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}]
    out = convert(messages=[{"role": "user", "content": content}])
    assert out["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "Look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}}]}]


def test_tool_use_and_tool_result_round_trip():
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                          {"type": "text", "text": "Let me check."},
                                          {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                           "input": {"location": "Paris"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18"},
                                                                          {"type": "text", "text": "sunny"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
            {"type": "text", "text": "And?"}]},
    ]
    out = convert(messages=messages)["messages"]
    assert out[1] == {"role": "assistant", "content": "Let me check.", "tool_calls": [
        {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}}]}
    assert out[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "18\nsunny"}
    assert out[3] == {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: boom"}
    assert out[4] == {"role": "user", "content": "And?"}


def test_tool_only_assistant_turn_has_no_content_and_images_in_results_follow():
    messages = [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "shot", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]}]
    out = convert(messages=messages)["messages"]
    assert out[0]["content"] is None and out[0]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert out[1] == {"role": "tool", "tool_call_id": "t", "content": ""}
    assert out[2] == {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}


@pytest.mark.parametrize(("choice", "expected", "parallel"), [
    ({"type": "auto"}, "auto", None),
    ({"type": "any"}, "required", None),
    ({"type": "none"}, "none", None),
    ({"type": "tool", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}, None),
    ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
])
def test_tools_and_tool_choice(choice, expected, parallel):
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}]
    out = convert(tools=tools, tool_choice=choice)
    assert out["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object"}, "description": "Weather"}}]
    assert out["tool_choice"] == expected
    assert out.get("parallel_tool_calls") == parallel


def test_structured_output_becomes_a_json_schema_response_format():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = convert(output_config={"format": {"type": "json_schema", "schema": schema}, "effort": "high"})
    assert out["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    with pytest.raises(InvalidRequestError) as raised:
        convert(output_config={"format": {"type": "xml"}})
    assert raised.value.param == "output_config.format"


def test_tool_choice_without_tools_is_dropped():
    assert "tool_choice" not in convert(tool_choice={"type": "auto"})


# ---- answer ----------------------------------------------------------------------------------------


def completion(message, finish="stop", usage=None):
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage or {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}


def test_text_answer():
    message = ingress.to_anthropic_message(completion({"role": "assistant", "content": "Hello"}), "openai/x", "msg_1")
    assert message == {"id": "msg_1", "type": "message", "role": "assistant", "model": "openai/x",
                       "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn",
                       "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 3,
                                                         "cache_creation_input_tokens": 0,
                                                         "cache_read_input_tokens": 0}}


def test_tool_call_answer_and_cached_usage():
    payload = completion({"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "not json"}}]},
        "tool_calls", {"prompt_tokens": 100, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 60}})
    message = ingress.to_anthropic_message(payload, "m", "msg_2")
    assert message["content"] == [{"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
                                  {"type": "tool_use", "id": "call_2", "name": "g", "input": {"value": "not json"}}]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"]["input_tokens"] == 40 and message["usage"]["cache_read_input_tokens"] == 60


@pytest.mark.parametrize(("finish", "reason"), [("stop", "end_turn"), ("length", "max_tokens"),
                                                ("tool_calls", "tool_use"), ("content_filter", "refusal"),
                                                (None, "end_turn"), ("something_new", "end_turn")])
def test_stop_reasons(finish, reason):
    assert ingress.stop_reason(finish) == reason


@pytest.mark.parametrize(("status", "kind"), [(400, "invalid_request_error"), (401, "authentication_error"),
                                              (403, "permission_error"), (404, "not_found_error"),
                                              (405, "invalid_request_error"), (413, "request_too_large"),
                                              (429, "rate_limit_error"), (500, "api_error"), (502, "api_error"),
                                              (504, "timeout_error"), (529, "overloaded_error")])
def test_error_bodies(status, kind):
    assert ingress.error_body(status, "nope", "req_1") == {
        "type": "error", "error": {"type": kind, "message": "nope"}, "request_id": "req_1"}


# ---- stream ----------------------------------------------------------------------------------------


def chunk(delta=None, finish=None, usage=None, choices=True):
    out = {"id": "c", "object": "chat.completion.chunk", "choices": []}
    if choices:
        out["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    if usage is not None:
        out["usage"] = usage
    return out


def run(chunks, done=True):
    converter = ingress.StreamConverter("openai/x", "msg_s", "req_s")
    events = converter.start()
    for item in chunks:
        events += converter.feed(item)
    if done:
        events += converter.done()
    return events + converter.close()


def test_text_stream_events():
    events = run([chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}), chunk({"content": "lo"}),
                  chunk(finish="stop"), chunk(usage={"prompt_tokens": 9, "completion_tokens": 2}, choices=False)])
    assert [e["type"] for e in events] == ["message_start", "ping", "content_block_start", "content_block_delta",
                                           "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert events[0]["message"]["id"] == "msg_s" and events[0]["message"]["model"] == "openai/x"
    assert events[2] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert events[3]["delta"] == {"type": "text_delta", "text": "Hel"}
    assert events[6]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert events[6]["usage"]["input_tokens"] == 9 and events[6]["usage"]["output_tokens"] == 2


def test_text_then_tool_calls_stream():
    events = run([
        chunk({"content": "Checking"}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}),
        chunk(finish="tool_calls"),
    ])
    kinds = [(e["type"], e.get("index")) for e in events]
    assert kinds == [("message_start", None), ("ping", None), ("content_block_start", 0), ("content_block_delta", 0),
                     ("content_block_stop", 0), ("content_block_start", 1), ("content_block_delta", 1),
                     ("content_block_delta", 1), ("content_block_stop", 1), ("content_block_start", 2),
                     ("content_block_delta", 2), ("content_block_stop", 2), ("message_delta", None),
                     ("message_stop", None)]
    assert events[5]["content_block"] == {"type": "tool_use", "id": "call_a", "name": "f", "input": {}}
    assert "".join(e["delta"]["partial_json"] for e in events if e.get("index") == 1 and e["type"] == "content_block_delta") == '{"x": 1}'
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_error_midway_ends_with_an_error_event():
    broken = {"error": {"message": "openai: cut", "type": "upstream_error", "code": "upstream_unreachable"}}
    events = run([chunk({"content": "a"}), broken], done=False)
    assert events[-1] == {"type": "error", "error": {"type": "api_error", "message": "openai: cut"}, "request_id": "req_s"}
    assert "message_stop" not in [e["type"] for e in events]


def test_stream_without_done_is_still_closed():
    events = run([chunk({"content": "a"}), chunk(finish="length")], done=False)
    assert [e["type"] for e in events][-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"


def test_encode_event():
    assert ingress.encode_event({"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
    line = ingress.encode_event({"type": "message_stop"}).decode().split("\n")[1]
    assert json.loads(line[6:]) == {"type": "message_stop"}
