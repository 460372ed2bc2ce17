"""The OpenAI wire format as every OpenAI-compatible adapter speaks it: request out, answer and stream
back, and upstream errors classified into the gateway's closed set."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, MalformedEvent, StreamState
from gateway.providers.openai_format.chat import OpenAIFormatChat
from gateway.providers.openai_format.errors import parse_error
from gateway.sse import SseEvent
from gateway.usage import Usage

CHAT = OpenAIFormatChat()
ENDPOINT = Endpoint(base_url="https://api.example.com/v1/", api_key="sk-test")
MESSAGES = [{"role": "user", "content": "Hi"}]


# --- request building ----------------------------------------------------------------------------

def test_request_goes_to_the_chat_path_with_the_upstream_model_and_the_key():
    request = CHAT.build_request({"model": "openai/gpt-4o-mini", "messages": MESSAGES, "temperature": 0.2},
                                 "gpt-4o-mini", ENDPOINT)
    assert request.method == "POST"
    assert request.url == "https://api.example.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["content-type"] == "application/json"
    assert "accept" not in request.headers
    assert json.loads(request.body) == {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.2}


def test_unknown_parameters_are_passed_on():
    body = {"model": "m", "messages": MESSAGES, "logit_bias": {"50256": -100}, "vendor_knob": True}
    sent = json.loads(CHAT.build_request(body, "m", ENDPOINT).body)
    assert sent["logit_bias"] == {"50256": -100}
    assert sent["vendor_knob"] is True


def test_no_key_means_no_authorization_header():
    request = CHAT.build_request({"model": "m", "messages": MESSAGES}, "m", Endpoint("http://127.0.0.1:11434/v1", None))
    assert "authorization" not in request.headers
    assert request.url == "http://127.0.0.1:11434/v1/chat/completions"


def test_a_stream_always_asks_for_usage_and_keeps_other_stream_options():
    body = {"model": "m", "messages": MESSAGES, "stream": True, "stream_options": {"other": 1}}
    request = CHAT.build_request(body, "m", ENDPOINT)
    sent = json.loads(request.body)
    assert sent["stream_options"] == {"other": 1, "include_usage": True}
    assert request.headers["accept"] == "text/event-stream"
    # The caller's body is not changed: whether the client asked for usage is decided from it later.
    assert body["stream_options"] == {"other": 1}


def test_a_stream_without_stream_options_gets_include_usage():
    sent = json.loads(CHAT.build_request({"model": "m", "messages": MESSAGES, "stream": True}, "m", ENDPOINT).body)
    assert sent["stream_options"] == {"include_usage": True}


def test_a_non_streamed_request_gets_no_stream_options():
    sent = json.loads(CHAT.build_request({"model": "m", "messages": MESSAGES, "stream": False}, "m", ENDPOINT).body)
    assert "stream_options" not in sent


def test_provider_overrides_drop_parameters_and_add_headers():
    chat = OpenAIFormatChat(path="/v1/chat", unsupported_params=frozenset({"seed"}), extra_headers={"x-org": "o1"})
    request = chat.build_request({"model": "m", "messages": MESSAGES, "seed": 3}, "m", Endpoint("http://h", "k"))
    assert request.url == "http://h/v1/chat"
    assert "seed" not in json.loads(request.body)
    assert request.headers["x-org"] == "o1"


# --- response parsing ----------------------------------------------------------------------------

def test_response_is_passed_through_with_usage_read():
    payload = {
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42,
            "prompt_tokens_details": {"cached_tokens": 8},
            "completion_tokens_details": {"reasoning_tokens": 20},
        },
    }
    answer, usage = CHAT.parse_response(payload)
    assert answer == payload
    assert usage == Usage(input_tokens=12, cached_input_tokens=8, output_tokens=30, reasoning_tokens=20)


def test_response_without_usage_has_no_usage():
    _, usage = CHAT.parse_response({"choices": []})
    assert usage is None


def test_response_without_choices_is_an_upstream_server_error():
    with pytest.raises(UpstreamError) as raised:
        CHAT.parse_response({"id": "x", "object": "chat.completion"})
    assert raised.value.category is ErrorCategory.SERVER_ERROR
    assert raised.value.status == 502


# --- stream events -------------------------------------------------------------------------------

def event(obj) -> SseEvent:
    return SseEvent(data=json.dumps(obj))


CONTENT = {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]}
FINAL = {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
USAGE_ONLY = {"id": "c", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}


def test_content_chunks_pass_through_unchanged():
    state = StreamState()
    assert CHAT.transform_event(event(CONTENT), state) == [CONTENT]
    assert state.finish_reason is None and not state.done


def test_finish_reason_is_remembered():
    state = StreamState()
    assert CHAT.transform_event(event(FINAL), state) == [FINAL]
    assert state.finish_reason == "stop"


def test_done_ends_the_stream_and_emits_nothing():
    state = StreamState()
    assert CHAT.transform_event(SseEvent(data="[DONE]"), state) == []
    assert state.done


def test_usage_chunk_is_hidden_from_a_client_that_did_not_ask_but_still_counted():
    state = StreamState(include_usage=False)
    assert CHAT.transform_event(event(USAGE_ONLY), state) == []
    assert state.usage == Usage(input_tokens=5, output_tokens=7)


def test_usage_chunk_reaches_a_client_that_asked_for_it():
    state = StreamState(include_usage=True)
    assert CHAT.transform_event(event(USAGE_ONLY), state) == [USAGE_ONLY]
    assert state.usage == Usage(input_tokens=5, output_tokens=7)


def test_usage_riding_on_a_content_chunk_is_stripped_unless_asked_for():
    chunk = {**FINAL, "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
    state = StreamState(include_usage=False)
    assert CHAT.transform_event(event(chunk), state) == [FINAL]
    assert state.usage == Usage(input_tokens=3, output_tokens=4)
    assert CHAT.transform_event(event(chunk), StreamState(include_usage=True)) == [chunk]


def test_null_usage_on_chunks_does_not_erase_counted_usage():
    state = StreamState(include_usage=True)
    CHAT.transform_event(event(USAGE_ONLY), state)
    CHAT.transform_event(event({**CONTENT, "usage": None}), state)
    assert state.usage == Usage(input_tokens=5, output_tokens=7)


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", '"text"', ""])
def test_unreadable_events_are_malformed(data):
    with pytest.raises(MalformedEvent):
        CHAT.transform_event(SseEvent(data=data), StreamState())


def test_error_inside_a_stream_is_raised_classified():
    error_event = event({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})
    with pytest.raises(UpstreamError) as raised:
        CHAT.transform_event(error_event, StreamState())
    assert raised.value.category is ErrorCategory.RATE_LIMIT
    assert raised.value.message == "Rate limit reached"


def test_error_string_inside_a_stream_is_a_server_error_with_its_text():
    with pytest.raises(UpstreamError) as raised:
        CHAT.transform_event(event({"error": "model crashed"}), StreamState())
    assert raised.value.category is ErrorCategory.SERVER_ERROR
    assert raised.value.message == "model crashed"


# --- error classification ------------------------------------------------------------------------

def body(**fields) -> bytes:
    return json.dumps({"error": fields}).encode()


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (400, ErrorCategory.INVALID_REQUEST),
        (401, ErrorCategory.AUTH),
        (402, ErrorCategory.QUOTA_EXCEEDED),
        (403, ErrorCategory.AUTH),
        (404, ErrorCategory.MODEL_NOT_FOUND),
        (408, ErrorCategory.TIMEOUT),
        (409, ErrorCategory.INVALID_REQUEST),
        (422, ErrorCategory.INVALID_REQUEST),
        (429, ErrorCategory.RATE_LIMIT),
        (500, ErrorCategory.SERVER_ERROR),
        (502, ErrorCategory.SERVER_ERROR),
        (503, ErrorCategory.SERVER_ERROR),
        (504, ErrorCategory.TIMEOUT),
        (524, ErrorCategory.TIMEOUT),
    ],
)
def test_status_alone_picks_the_category(status, category):
    error = parse_error(status, {}, body(message="something"))
    assert error.category is category
    assert error.upstream_status == status
    assert error.message == "something"


@pytest.mark.parametrize(
    ("status", "code", "category"),
    [
        (400, "context_length_exceeded", ErrorCategory.CONTEXT_LENGTH),
        (400, "string_above_max_length", ErrorCategory.CONTEXT_LENGTH),
        (400, "content_filter", ErrorCategory.CONTENT_FILTER),
        (400, "content_policy_violation", ErrorCategory.CONTENT_FILTER),
        (429, "insufficient_quota", ErrorCategory.QUOTA_EXCEEDED),
        (400, "billing_hard_limit_reached", ErrorCategory.QUOTA_EXCEEDED),
        (400, "model_not_found", ErrorCategory.MODEL_NOT_FOUND),
        (401, "invalid_api_key", ErrorCategory.AUTH),
        (429, "rate_limit_exceeded", ErrorCategory.RATE_LIMIT),
        (400, "some_new_code", ErrorCategory.INVALID_REQUEST),
    ],
)
def test_openai_code_wins_over_status(status, code, category):
    assert parse_error(status, {}, body(message="m", code=code)).category is category


def test_quota_429_is_not_a_rate_limit():
    # OpenAI answers 429 for both; only a rate limit is worth retrying elsewhere soon.
    error = parse_error(429, {"retry-after": "20"}, body(message="You exceeded your quota", code="insufficient_quota"))
    assert error.category is ErrorCategory.QUOTA_EXCEEDED
    assert error.retry_after is None and "retry-after" not in error.headers


@pytest.mark.parametrize(
    "message",
    [
        # vLLM
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
        "(4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
        # llama.cpp server
        "the request exceeds the available context size, try increasing it",
        # LM Studio
        "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded "
        "with context length of only 4096 tokens, which is not enough.",
        "prompt does not fit in the context window",
    ],
)
def test_context_length_is_recognised_from_the_message_of_servers_without_codes(message):
    # vLLM and llama.cpp send an integer `code` (the HTTP status), which is not an OpenAI code.
    raw = body(message=message, type="BadRequestError", param=None, code=400)
    error = parse_error(400, {}, raw)
    assert error.category is ErrorCategory.CONTEXT_LENGTH
    assert error.status == 400
    assert error.code == "context_length_exceeded"


def test_message_hints_only_apply_to_client_errors():
    error = parse_error(500, {}, body(message="CUDA OOM while extending context length"))
    assert error.category is ErrorCategory.SERVER_ERROR


def test_flat_vllm_error_body_is_read():
    raw = json.dumps({
        "object": "error", "message": "This model's maximum context length is 2048 tokens.",
        "type": "BadRequestError", "param": None, "code": 400,
    }).encode()
    error = parse_error(400, {}, raw)
    assert error.category is ErrorCategory.CONTEXT_LENGTH
    assert error.message.startswith("This model's maximum context length")


def test_string_error_body_is_read_lm_studio_context_overflow():
    raw = json.dumps({"error": "Trying to keep the first 6269 tokens when context the overflows. However, the model "
                               "is loaded with context length of only 4096 tokens, which is not enough."}).encode()
    error = parse_error(400, {}, raw)
    assert error.category is ErrorCategory.CONTEXT_LENGTH
    assert error.message.startswith("Trying to keep the first 6269 tokens")


def test_string_error_body_ollama_style():
    error = parse_error(404, {}, b'{"error": "model \\"llama9\\" not found, try pulling it first"}')
    assert error.category is ErrorCategory.MODEL_NOT_FOUND
    assert error.message == 'model "llama9" not found, try pulling it first'


def test_fastapi_detail_body():
    error = parse_error(422, {}, b'{"detail": "max_tokens must be at least 1"}')
    assert error.category is ErrorCategory.INVALID_REQUEST
    assert error.message == "max_tokens must be at least 1"


@pytest.mark.parametrize("raw", [b"<html>502 Bad Gateway</html>", b"", b"[]", b'{"unexpected": 1}', b"\xff\xfe"])
def test_unreadable_error_body_still_gives_a_message_naming_the_status(raw):
    error = parse_error(502, {}, raw)
    assert error.category is ErrorCategory.SERVER_ERROR
    assert error.message == "upstream answered HTTP 502"


def test_param_is_kept_for_the_callers_own_mistakes():
    assert parse_error(400, {}, body(message="bad", param="temperature")).param == "temperature"
    context = parse_error(400, {}, body(message="too long", param="messages", code="context_length_exceeded"))
    assert context.param == "messages"


def test_param_of_an_upstream_internal_failure_is_not_shown():
    assert parse_error(500, {}, body(message="boom", param="internal_thing")).param is None
    assert parse_error(401, {}, body(message="bad key", param="api_key")).param is None


@pytest.mark.parametrize(
    ("headers", "seconds", "header"),
    [
        ({"retry-after": "7"}, 7.0, "7"),
        ({"retry-after": "0.4"}, 0.4, "1"),
        ({"retry-after-ms": "1500"}, 1.5, "2"),
        ({"retry-after-ms": "250", "retry-after": "30"}, 0.25, "1"),  # the precise one wins
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0, "3"),
        ({"retry-after": "-5"}, 0.0, "0"),
    ],
)
def test_rate_limit_carries_retry_after_to_the_client(headers, seconds, header):
    error = parse_error(429, headers, body(message="slow down"))
    assert error.category is ErrorCategory.RATE_LIMIT
    assert error.retry_after == pytest.approx(seconds)
    assert error.headers == {"retry-after": header}


@pytest.mark.parametrize("headers", [{}, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}])
def test_rate_limit_without_a_usable_retry_after_sends_the_default_hint(headers):
    error = parse_error(429, headers, body(message="slow down"))
    assert error.retry_after is None  # the provider's own hint stays unknown
    assert error.headers == {"retry-after": "1"}


def test_retry_after_of_a_non_rate_limit_error_is_not_forwarded():
    error = parse_error(503, {"retry-after": "10"}, body(message="overloaded"))
    assert error.retry_after is None
    assert error.headers == {}
