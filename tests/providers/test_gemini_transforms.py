"""Gemini's transforms: OpenAI request → generateContent body, answers and SSE chunks back, errors
classified. Plain Python (these also run inside Pyodide)."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers import registry
from gateway.providers.base import Endpoint, MalformedEvent, StreamState
from gateway.providers.gemini.chat import CHAT
from gateway.providers.gemini.request import clean_schema
from gateway.sse import SseEvent
from gateway.usage import Usage

ENDPOINT = Endpoint(base_url="https://generativelanguage.googleapis.com", api_key="AIza-test")
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#", "additionalProperties": False,
                   "properties": {"location": {"type": "string"}, "unit": {"type": ["string", "null"], "enum": ["c", "f"]}},
                   "required": ["location"]}}}


def sent(body: dict, model: str = "gemini-2.5-flash") -> dict:
    return json.loads(CHAT.build_request({"model": "gemini/" + model, **body}, model, ENDPOINT).body)


def event(payload: dict) -> SseEvent:
    return SseEvent(data=json.dumps(payload))


# --- request -------------------------------------------------------------------------------------

def test_manifest_is_registered():
    manifest = registry.get("gemini")
    assert manifest is not None and manifest.chat is CHAT
    assert manifest.default_base_url == "https://generativelanguage.googleapis.com"


def test_url_and_headers_depend_on_model_and_stream():
    plain = CHAT.build_request({"messages": [{"role": "user", "content": "hi"}]}, "gemini-2.5-flash", ENDPOINT)
    assert plain.method == "POST"
    assert plain.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    assert plain.headers["x-goog-api-key"] == "AIza-test" and "authorization" not in plain.headers
    assert "key=" not in plain.url
    streamed = CHAT.build_request({"messages": [{"role": "user", "content": "hi"}], "stream": True},
                                  "models/gemini-2.5-pro", Endpoint("http://emu/gemini/v1beta/", "k"))
    assert streamed.url == "http://emu/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    assert streamed.headers["accept"] == "text/event-stream"
    assert "stream" not in json.loads(streamed.body)


def test_roles_system_instruction_and_generation_config():
    body = sent({
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi there"},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        ],
        "temperature": 0.3, "top_p": 0.9, "max_completion_tokens": 100, "max_tokens": 5, "stop": "END", "n": 2,
        "seed": 7,
    })
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use metric units."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hello"}]},
        {"role": "model", "parts": [{"text": "Hi there"}]},
        {"role": "user", "parts": [{"text": "Weather?"}]},
    ]
    assert body["generationConfig"] == {"temperature": 0.3, "topP": 0.9, "maxOutputTokens": 100,
                                        "stopSequences": ["END"], "candidateCount": 2, "seed": 7}


def test_max_tokens_is_used_when_max_completion_tokens_is_absent():
    body = sent({"messages": [{"role": "user", "content": "x"}], "max_tokens": 12, "stop": ["a", "b"]})
    assert body["generationConfig"] == {"maxOutputTokens": 12, "stopSequences": ["a", "b"]}
    assert "systemInstruction" not in body and "tools" not in body


def test_json_mode_and_json_schema():
    assert sent({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})[
        "generationConfig"] == {"responseMimeType": "application/json"}
    schema = {"type": "object", "additionalProperties": False, "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    config = sent({"messages": [{"role": "user", "content": "x"}],
                   "response_format": {"type": "json_schema", "json_schema": {"name": "s", "strict": True, "schema": schema}}}
                  )["generationConfig"]
    assert config == {"responseMimeType": "application/json",
                      "responseSchema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}


def test_tools_are_function_declarations_with_cleaned_schemas():
    body = sent({"messages": [{"role": "user", "content": "x"}], "tools": [
        WEATHER_TOOL, {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}]})
    assert body["tools"] == [{"functionDeclarations": [
        {"name": "get_weather", "description": "Weather for a city",
         "parameters": {"type": "object", "required": ["location"], "properties": {
             "location": {"type": "string"}, "unit": {"type": "string", "nullable": True, "enum": ["c", "f"]}}}},
        {"name": "now"},
    ]}]
    assert "toolConfig" not in body


def test_clean_schema_drops_what_gemini_rejects_and_recurses():
    schema = {"$defs": {}, "type": "object", "properties": {"tags": {"type": "array", "items": {
        "type": "object", "additionalProperties": True, "properties": {"k": {"const": "x"}}}}}, "examples": [1]}
    assert clean_schema(schema) == {"type": "object", "properties": {"tags": {"type": "array", "items": {
        "type": "object", "properties": {"k": {"enum": ["x"]}}}}}}


@pytest.mark.parametrize(("choice", "config"), [
    ("auto", {"mode": "AUTO"}), ("none", {"mode": "NONE"}), ("required", {"mode": "ANY"}),
    ({"type": "function", "function": {"name": "get_weather"}}, {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
])
def test_tool_choice_maps_to_function_calling_config(choice, config):
    body = sent({"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER_TOOL], "tool_choice": choice})
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_tool_calls_and_tool_results_round_trip():
    body = sent({"messages": [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}},
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"location": "Rome"}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_0", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "user", "content": "Thanks"},
    ]})
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}},
                                    {"functionCall": {"name": "get_weather", "args": {"location": "Rome"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                                   {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
                                   {"text": "Thanks"}]},
    ]


def test_a_tool_message_without_its_call_is_a_400():
    with pytest.raises(InvalidRequestError):
        sent({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]})


def test_image_parts_become_inline_or_file_data():
    body = sent({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?size=2", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/image"}},
    ]}]})
    assert body["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?size=2"}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/image"}},
    ]


# --- answers -------------------------------------------------------------------------------------

ANSWER = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "Thinking...", "thought": True},
                                                            {"text": "Hello "}, {"text": "world"}]},
                    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 10, "cachedContentTokenCount": 4, "candidatesTokenCount": 3,
                      "thoughtsTokenCount": 5, "totalTokenCount": 18},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abc123",
}


def test_answer_text_and_usage_with_cached_and_reasoning_tokens():
    answer, usage = CHAT.parse_response(ANSWER)
    assert answer["id"] == "chatcmpl-abc123" and answer["object"] == "chat.completion"
    assert answer["model"] == "gemini-2.5-flash"
    assert answer["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "Hello world", "refusal": None},
                                  "logprobs": None, "finish_reason": "stop"}]
    assert usage == Usage(input_tokens=10, cached_input_tokens=4, output_tokens=8, reasoning_tokens=5)
    assert answer["usage"] == {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18,
                               "prompt_tokens_details": {"cached_tokens": 4},
                               "completion_tokens_details": {"reasoning_tokens": 5}}


def test_function_calls_become_tool_calls():
    payload = {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}},
        {"functionCall": {"name": "get_time", "args": {}}}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}}
    answer, _ = CHAT.parse_response(payload)
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}},
        {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]


@pytest.mark.parametrize(("gemini", "openai"), [
    ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
    ("BLOCKLIST", "content_filter"), ("PROHIBITED_CONTENT", "content_filter"), ("SPII", "content_filter"),
    ("OTHER", "stop"), ("STOP", "stop"),
])
def test_finish_reasons(gemini, openai):
    answer, _ = CHAT.parse_response({"candidates": [{"finishReason": gemini, "index": 0}]})
    assert answer["choices"][0]["finish_reason"] == openai
    assert answer["choices"][0]["message"]["content"] is None


def test_several_candidates_are_several_choices():
    candidate = {"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}
    answer, _ = CHAT.parse_response({"candidates": [{**candidate, "index": 0}, {**candidate, "index": 1}]})
    assert [c["index"] for c in answer["choices"]] == [0, 1]


def test_a_blocked_prompt_is_a_content_filter_error():
    with pytest.raises(UpstreamError) as caught:
        CHAT.parse_response({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}})
    assert caught.value.category is ErrorCategory.CONTENT_FILTER
    assert caught.value.status == 400 and caught.value.code == "content_filter"
    assert "SAFETY" in caught.value.message


def test_an_answer_without_candidates_is_a_server_error():
    with pytest.raises(UpstreamError) as caught:
        CHAT.parse_response({"usageMetadata": {}})
    assert caught.value.category is ErrorCategory.SERVER_ERROR


# --- streams -------------------------------------------------------------------------------------

def chunk(parts=None, finish=None, usage=None) -> SseEvent:
    candidate = {"index": 0}
    if parts is not None:
        candidate["content"] = {"role": "model", "parts": parts}
    if finish:
        candidate["finishReason"] = finish
    payload = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    if usage:
        payload["usageMetadata"] = usage
    return event(payload)


def run(events: list[SseEvent], include_usage: bool) -> tuple[list[dict], StreamState]:
    state = StreamState(include_usage=include_usage)
    out = [c for e in events for c in CHAT.transform_event(e, state)]
    return out, state


TEXT_STREAM = [
    chunk([{"text": "Hello"}], usage={"promptTokenCount": 7, "totalTokenCount": 7}),
    chunk([{"text": " there"}], "STOP", {"promptTokenCount": 7, "candidatesTokenCount": 2, "thoughtsTokenCount": 1,
                                         "totalTokenCount": 10}),
]


def test_stream_text_deltas_finish_and_usage_chunk_when_asked():
    out, state = run(TEXT_STREAM, include_usage=True)
    assert all(c["id"] == "chatcmpl-r1" and c["object"] == "chat.completion.chunk" for c in out)
    assert [c["choices"][0]["delta"] for c in out[:-1]] == [{"role": "assistant", "content": "Hello"},
                                                           {"content": " there"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in out[:-1]] == [None, None, "stop"]
    assert out[-1]["choices"] == []
    assert out[-1]["usage"]["prompt_tokens"] == 7 and out[-1]["usage"]["completion_tokens"] == 3
    assert state.finish_reason == "stop" and not state.done
    assert state.usage == Usage(input_tokens=7, output_tokens=3, reasoning_tokens=1)


def test_stream_without_usage_option_still_records_usage():
    out, state = run(TEXT_STREAM, include_usage=False)
    assert all(c["choices"] for c in out) and all("usage" not in c for c in out)
    assert state.usage == Usage(input_tokens=7, output_tokens=3, reasoning_tokens=1)


def test_stream_function_calls_are_whole_tool_call_deltas():
    out, state = run([chunk([{"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}}], "STOP",
                            {"promptTokenCount": 4, "candidatesTokenCount": 3})], include_usage=False)
    assert out[0]["choices"][0]["delta"] == {"role": "assistant", "tool_calls": [
        {"index": 0, "id": "call_0", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}}]}
    assert out[1]["choices"][0]["finish_reason"] == "tool_calls" == state.finish_reason


def test_stream_safety_finish_and_blocked_prompt():
    out, state = run([chunk(None, "SAFETY", {"promptTokenCount": 4})], include_usage=False)
    assert out == [{**out[0], "choices": [{"index": 0, "delta": {"role": "assistant"}, "logprobs": None,
                                           "finish_reason": "content_filter"}]}]
    with pytest.raises(UpstreamError) as caught:
        run([event({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})], include_usage=False)
    assert caught.value.category is ErrorCategory.CONTENT_FILTER


def test_stream_malformed_event_and_error_event():
    with pytest.raises(MalformedEvent):
        run([SseEvent(data='{"candidates": broken')], include_usage=False)
    with pytest.raises(UpstreamError) as caught:
        run([event({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})], include_usage=False)
    assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_stream_that_is_cut_has_no_finish_reason():
    _, state = run(TEXT_STREAM[:1], include_usage=True)
    assert state.finish_reason is None


# --- errors --------------------------------------------------------------------------------------

def gemini_error(code: int, status: str, message: str, details=None) -> bytes:
    error = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return json.dumps({"error": error}).encode()


RETRY = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}]


@pytest.mark.parametrize(("status", "body", "category"), [
    (429, gemini_error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and "
                                                  "billing details.", RETRY), ErrorCategory.RATE_LIMIT),
    (429, gemini_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
     ErrorCategory.RATE_LIMIT),
    (429, gemini_error(429, "RESOURCE_EXHAUSTED", "Your prepayment credits are depleted. Please check billing."),
     ErrorCategory.QUOTA_EXCEEDED),
    (401, gemini_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), ErrorCategory.AUTH),
    (403, gemini_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers"), ErrorCategory.AUTH),
    (400, gemini_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                       [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]),
     ErrorCategory.AUTH),
    (404, gemini_error(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta"),
     ErrorCategory.MODEL_NOT_FOUND),
    (400, gemini_error(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of "
                                                "tokens allowed (1048576)."), ErrorCategory.CONTEXT_LENGTH),
    (400, gemini_error(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"),
     ErrorCategory.INVALID_REQUEST),
    (400, gemini_error(400, "FAILED_PRECONDITION", "Gemini API free tier is not available in your country. "
                                                   "Please enable billing on your project."), ErrorCategory.QUOTA_EXCEEDED),
    (504, gemini_error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
     ErrorCategory.TIMEOUT),
    (500, gemini_error(500, "INTERNAL", "An internal error has occurred."), ErrorCategory.SERVER_ERROR),
    (503, gemini_error(503, "UNAVAILABLE", "The model is overloaded."), ErrorCategory.SERVER_ERROR),
    (502, b"<html>Bad Gateway</html>", ErrorCategory.SERVER_ERROR),
    (429, b"", ErrorCategory.RATE_LIMIT),
])
def test_errors_are_classified(status, body, category):
    assert CHAT.parse_error(status, {}, body).category is category


def test_rate_limit_keeps_the_retry_hint():
    error = CHAT.parse_error(429, {}, gemini_error(429, "RESOURCE_EXHAUSTED", "quota", RETRY))
    assert error.retry_after == 34 and error.headers["retry-after"] == "34"
    error = CHAT.parse_error(429, {"retry-after": "3"}, gemini_error(429, "RESOURCE_EXHAUSTED", "quota", RETRY))
    assert error.retry_after == 3
    error = CHAT.parse_error(429, {}, json.dumps([{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                                             "message": "slow down", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}]).encode())
    assert error.retry_after == 1.5 and error.headers["retry-after"] == "2"
    assert error.message == "slow down"


def test_a_thought_signature_rides_in_the_tool_call_id_and_goes_back():
    answer, _ = CHAT.parse_response({"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}, "thoughtSignature": "c2ln"}]},
        "finishReason": "STOP"}]})
    call = answer["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "call_0__thought__c2ln"
    body = sent({"messages": [{"role": "user", "content": "weather?"},
                              {"role": "assistant", "content": None, "tool_calls": [call]},
                              {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]})
    assert body["contents"][1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}, "thoughtSignature": "c2ln"}]
    assert body["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_weather"
