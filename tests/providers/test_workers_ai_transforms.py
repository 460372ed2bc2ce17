"""Workers AI's transforms: OpenAI request → `ai/run` inputs, answers and SSE events back, Cloudflare error
envelopes classified, key resolution from CLOUDFLARE_* and the binding. Plain Python (these also run
inside Pyodide)."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.pipeline.credentials import resolve_endpoint
from gateway.ports import Timeouts
from gateway.ports.ai_binding import BINDING_BASE_URL, AiBindingHttp, error_response, result_response
from gateway.providers import registry
from gateway.providers.base import Endpoint, MalformedEvent, StreamState
from gateway.providers.workers_ai.chat import CHAT
from gateway.settings import Settings
from gateway.sse import SseEvent

MANIFEST = registry.get("workers_ai")
ROW = {"id": "workers-ai", "adapter": "workers_ai", "base_url": None}
BASE = "https://api.cloudflare.com/client/v4/accounts/acc123/ai/run"
ENDPOINT = Endpoint(base_url=BASE, api_key="cf-token")
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
PIXEL = "data:image/png;base64,iVBORw0KGgo="
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                 "parameters": {"type": "object", "properties": {}}}}


def built(body: dict, model: str = LLAMA):
    return CHAT.build_request({"model": "workers-ai/" + model, **body}, model, ENDPOINT)


def sent(body: dict, model: str = LLAMA) -> dict:
    return json.loads(built(body, model).body)


def event(payload) -> SseEvent:
    return SseEvent(data=payload if isinstance(payload, str) else json.dumps(payload))


def user(content) -> list[dict]:
    return [{"role": "user", "content": content}]


# ---- request ------------------------------------------------------------------------------------------


def test_the_run_url_keeps_the_model_name_and_the_token_is_a_bearer():
    request = built({"messages": user("Hi"), "stream": True})
    assert request.url == BASE + "/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert request.headers["authorization"] == "Bearer cf-token"
    assert request.headers["accept"] == "text/event-stream"


def test_messages_and_parameters_map_to_inputs():
    body = {"messages": [{"role": "developer", "content": "Be brief."},
                         {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}]},
                         {"role": "assistant", "content": None, "tool_calls": [{"id": "call_0", "type": "function",
                                                                               "function": {"name": "f", "arguments": "{}"}}]},
                         {"role": "tool", "tool_call_id": "call_0", "content": "42"}],
            "max_completion_tokens": 64, "temperature": 0.3, "top_p": 0.9, "seed": 7, "stop": ["END"], "user": "u1",
            "tools": [WEATHER_TOOL], "tool_choice": "auto", "stream_options": {"include_usage": True}}
    inputs = sent(body)
    assert inputs["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello\nthere"},
        {"role": "assistant", "content": "", "tool_calls": body["messages"][2]["tool_calls"]},
        {"role": "tool", "content": "42", "tool_call_id": "call_0"},
    ]
    assert {k: v for k, v in inputs.items() if k != "messages"} == {
        "max_tokens": 64, "temperature": 0.3, "top_p": 0.9, "seed": 7, "tools": [WEATHER_TOOL]}


def test_a_vision_message_keeps_its_parts_with_data_urls():
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": PIXEL, "detail": "low"}}]
    inputs = sent({"messages": user(content)}, "@cf/meta/llama-3.2-11b-vision-instruct")
    assert inputs["messages"][0]["content"] == [{"type": "text", "text": "What is this?"},
                                                {"type": "image_url", "image_url": {"url": PIXEL}}]


@pytest.mark.parametrize("body, param", [
    ({"messages": user([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}])},
     "messages[0].content[0].image_url"),
    ({"messages": user([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": PIXEL}},
                        {"type": "input_audio", "input_audio": {}}])}, "messages[0].content[2]"),
    ({"messages": user("Hi"), "n": 2}, "n"),
    ({"messages": user("Hi"), "logprobs": True}, "logprobs"),
])
def test_what_workers_ai_cannot_take_is_a_400_naming_the_field(body, param):
    with pytest.raises(InvalidRequestError) as raised:
        built(body)
    assert raised.value.param == param


# ---- answers ------------------------------------------------------------------------------------------


def test_a_text_answer_with_usage():
    answer, usage = CHAT.parse_response({"result": {"response": "Hello!", "tool_calls": [],
                                                    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}},
                                         "success": True, "errors": [], "messages": []})
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == "Hello!"
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert (usage.input_tokens, usage.output_tokens) == (12, 3)
    assert answer["usage"]["total_tokens"] == 15


@pytest.mark.parametrize("call", [
    {"name": "get_weather", "arguments": {"location": "Paris"}},
    {"id": "chatcmpl-tool-1", "type": "function", "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}},
])
def test_tool_calls_in_either_shape_become_openai_tool_calls(call):
    answer, usage = CHAT.parse_response({"result": {"response": None, "tool_calls": [call]}, "success": True})
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and usage is None
    [made] = choice["message"]["tool_calls"]
    assert made["type"] == "function" and made["id"] in ("call_0", "chatcmpl-tool-1")
    assert (made["function"]["name"], json.loads(made["function"]["arguments"])) == ("get_weather", {"location": "Paris"})


def test_a_json_mode_answer_object_is_serialized():
    answer, _ = CHAT.parse_response({"result": {"response": {"city": "Paris"}}, "success": True})
    assert json.loads(answer["choices"][0]["message"]["content"]) == {"city": "Paris"}


def test_a_result_in_the_openai_format_passes_through():
    result = {"id": "id-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                                          "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
    answer, usage = CHAT.parse_response({"result": result, "success": True})
    assert answer["choices"] == result["choices"] and usage.output_tokens == 1


def test_an_unsuccessful_envelope_is_an_error():
    with pytest.raises(UpstreamError) as raised:
        CHAT.parse_response({"result": None, "success": False, "errors": [{"code": 3040, "message": "busy"}]})
    assert raised.value.category is ErrorCategory.RATE_LIMIT


# ---- streams ------------------------------------------------------------------------------------------


def run_stream(events: list, include_usage: bool = False) -> tuple[list[dict], StreamState]:
    state = StreamState(include_usage=include_usage)
    out = []
    for payload in events:
        out += CHAT.transform_event(event(payload), state)
    return out, state


STREAM = [{"response": "Hel", "p": "ab"}, {"response": "lo"}, {"response": "",
          "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}, "[DONE]"]


@pytest.mark.parametrize("include_usage", [True, False])
def test_a_stream_becomes_openai_chunks_with_a_finish_chunk(include_usage):
    chunks, state = run_stream(STREAM, include_usage)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "Hel"}
    assert chunks[1]["choices"][0]["delta"] == {"content": "lo"}
    assert chunks[2]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert len({c["id"] for c in chunks}) == 1 and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert state.done and state.finish_reason == "stop" and state.usage.output_tokens == 2
    if include_usage:
        assert chunks[3]["choices"] == [] and chunks[3]["usage"]["prompt_tokens"] == 9 and len(chunks) == 4
    else:
        assert len(chunks) == 3


def test_a_streamed_tool_call_is_one_complete_delta_and_finishes_with_tool_calls():
    chunks, state = run_stream([{"response": "", "tool_calls": [{"name": "get_weather", "arguments": {"location": "Paris"}}]},
                                "[DONE]"])
    [call] = chunks[0]["choices"][0]["delta"]["tool_calls"]
    assert call["index"] == 0 and call["function"]["name"] == "get_weather"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" == state.finish_reason


def test_a_stream_without_done_is_not_finished():
    _, state = run_stream(STREAM[:2])
    assert not state.done and state.finish_reason is None


def test_a_malformed_event_is_reported_and_an_error_event_raised():
    with pytest.raises(MalformedEvent):
        run_stream(['{"response": broken'])
    with pytest.raises(UpstreamError) as raised:
        run_stream([{"response": "a"}, {"error": "AiError: 3040: Capacity temporarily exceeded"}])
    assert raised.value.category is ErrorCategory.RATE_LIMIT


# ---- errors -------------------------------------------------------------------------------------------


def envelope(code: int | None, message: str) -> bytes:
    return json.dumps({"result": None, "success": False, "errors": [{"code": code, "message": message}],
                       "messages": []}).encode()


@pytest.mark.parametrize("status, code, message, category", [
    (429, 3036, "You have used up your daily free allocation of 10,000 neurons.", ErrorCategory.QUOTA_EXCEEDED),
    (429, 3040, "No more data centers to forward the request to", ErrorCategory.RATE_LIMIT),
    (401, 10000, "Authentication error", ErrorCategory.AUTH),
    (403, 5016, "User has not agreed to Llama3.2 model terms", ErrorCategory.AUTH),
    (400, 5007, "No such model @cf/meta/nope or task", ErrorCategory.MODEL_NOT_FOUND),
    (404, 3042, "The model name is invalid", ErrorCategory.MODEL_NOT_FOUND),
    (400, 5021, "exceeded this model context window limit (24000)", ErrorCategory.CONTEXT_LENGTH),
    (408, 3007, "Request timeout", ErrorCategory.TIMEOUT),
    (413, 3006, "Request is too large", ErrorCategory.INVALID_REQUEST),
    (400, 5006, "Error: required properties at '/' are 'messages'", ErrorCategory.INVALID_REQUEST),
    (500, None, "Internal server error", ErrorCategory.SERVER_ERROR),
    (503, None, "Service unavailable", ErrorCategory.SERVER_ERROR),
])
def test_cloudflare_error_envelopes_are_classified(status, code, message, category):
    error = CHAT.parse_error(status, {}, envelope(code, message))
    assert error.category is category and error.upstream_status == status
    assert str(error) == message or error.message == message


def test_a_capacity_429_keeps_its_retry_after_and_html_bodies_fall_back_to_the_status():
    assert CHAT.parse_error(429, {"retry-after": "3"}, envelope(3040, "busy")).retry_after == 3.0
    assert CHAT.parse_error(502, {}, b"<html>Bad gateway</html>").category is ErrorCategory.SERVER_ERROR


# ---- key resolution -----------------------------------------------------------------------------------


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_rest_credentials_come_from_the_cloudflare_settings():
    endpoint, level = resolve_endpoint(ROW, MANIFEST, settings(CLOUDFLARE_API_TOKEN="tok", CLOUDFLARE_ACCOUNT_ID="acc123"))
    assert endpoint == Endpoint(base_url=BASE, api_key="tok") and level == "env"
    endpoint, _ = resolve_endpoint(ROW, MANIFEST, settings(CLOUDFLARE_API_TOKEN="tok", CLOUDFLARE_ACCOUNT_ID="a",
                                                           CLOUDFLARE_API_BASE_URL="http://127.0.0.1:9/cloudflare/client/v4/"))
    assert endpoint.base_url == "http://127.0.0.1:9/cloudflare/client/v4/accounts/a/ai/run"


@pytest.mark.parametrize("env, named", [({"CLOUDFLARE_ACCOUNT_ID": "acc"}, "CLOUDFLARE_API_TOKEN"),
                                        ({"CLOUDFLARE_API_TOKEN": "tok"}, "CLOUDFLARE_ACCOUNT_ID")])
def test_a_missing_cloudflare_setting_is_named(env, named):
    with pytest.raises(UpstreamError) as raised:
        resolve_endpoint(ROW, MANIFEST, settings(**env))
    assert raised.value.code == "provider_key_missing" and named in str(raised.value)


def test_the_binding_serves_workers_ai_where_the_platform_has_one():
    endpoint, level = resolve_endpoint(ROW, MANIFEST, settings(), ai_binding=True)
    assert (endpoint.base_url, endpoint.api_key, level) == (BINDING_BASE_URL, None, "binding")
    other, level = resolve_endpoint({"id": "openai", "adapter": "openai", "base_url": None}, registry.get("openai"),
                                    settings(OPENAI_API_KEY="k"), ai_binding=True)
    assert level == "env" and other.base_url.startswith("https://api.openai.com")


# ---- the binding as an HttpClient ------------------------------------------------------------------------


class RecordingRunner:
    def __init__(self, answer=None) -> None:
        self.calls = []
        self.answer = answer or result_response({"response": "ok"})

    async def run(self, model, inputs):
        self.calls.append((model, inputs))
        return self.answer


def test_the_binding_client_runs_the_adapters_request_through_the_runner():
    runner = RecordingRunner()
    request = CHAT.build_request({"model": "x", "messages": user("Hi"), "max_tokens": 9}, LLAMA,
                                 Endpoint(base_url=BINDING_BASE_URL, api_key=None))
    assert "authorization" not in request.headers

    async def scenario():
        response = await AiBindingHttp(runner).send(request.method, request.url, request.headers, request.body, Timeouts())
        return json.loads(await response.read())

    payload = asyncio.run(scenario())
    assert runner.calls == [(LLAMA, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 9})]
    assert CHAT.parse_response(payload)[0]["choices"][0]["message"]["content"] == "ok"


@pytest.mark.parametrize("message, status, category", [
    ("AiError: 3036: You have used up your daily free allocation of 10,000 neurons.", 429, ErrorCategory.QUOTA_EXCEEDED),
    ("InferenceUpstreamError: 3040: Capacity temporarily exceeded", 429, ErrorCategory.RATE_LIMIT),
    ("5007: No such model @cf/x or task", 400, ErrorCategory.MODEL_NOT_FOUND),
    ("Something broke", 500, ErrorCategory.SERVER_ERROR),
])
def test_a_thrown_binding_error_reads_as_the_rest_api_answers_it(message, status, category):
    response = error_response(message)
    assert response.status == status
    body = asyncio.run(response.read())
    assert CHAT.parse_error(response.status, response.headers, body).category is category
