"""The OpenAI-compatible family's transforms (DeepSeek, Groq, xAI, Perplexity, Together AI): what each
sends and how its answers, streams and usage are read. Pure: no sockets, no pydantic (runs in Pyodide)."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers import registry
from gateway.providers.base import Endpoint, StreamState
from gateway.sse import SseEvent
from gateway.usage import Usage

MESSAGES = [{"role": "user", "content": "Hi"}]
BASE_URLS = {
    "deepseek": "https://api.deepseek.com",
    "groq": "https://api.groq.com/openai/v1",
    "xai": "https://api.x.ai/v1",
    "perplexity": "https://api.perplexity.ai",
    "together": "https://api.together.xyz/v1",
}
PROVIDERS = sorted(BASE_URLS)


def chat(name: str):
    manifest = registry.get(name)
    assert manifest is not None and manifest.chat is not None
    return manifest.chat


def endpoint(name: str) -> Endpoint:
    return Endpoint(base_url=BASE_URLS[name], api_key=f"key-{name}")


def sent(name: str, body: dict, model: str = "m") -> dict:
    return json.loads(chat(name).build_request(body, model, endpoint(name)).body)


def event(obj) -> SseEvent:
    return SseEvent(data=json.dumps(obj))


# --- manifests and requests ----------------------------------------------------------------------

@pytest.mark.parametrize("name", PROVIDERS)
def test_each_provider_is_registered_with_its_documented_base_url(name):
    manifest = registry.get(name)
    assert manifest.name == name
    assert manifest.default_base_url == BASE_URLS[name]
    assert manifest.requires_api_key


@pytest.mark.parametrize("name", PROVIDERS)
def test_request_goes_to_chat_completions_under_the_base_url_with_the_key(name):
    request = chat(name).build_request({"model": f"{name}/m", "messages": MESSAGES}, "up-model", endpoint(name))
    assert request.method == "POST"
    assert request.url == BASE_URLS[name] + "/chat/completions"
    assert request.headers["authorization"] == f"Bearer key-{name}"
    assert json.loads(request.body) == {"model": "up-model", "messages": MESSAGES}


def test_an_upstream_name_with_a_slash_is_sent_whole():
    assert sent("groq", {"model": "groq/openai/gpt-oss-120b", "messages": MESSAGES}, "openai/gpt-oss-120b")[
        "model"] == "openai/gpt-oss-120b"


@pytest.mark.parametrize("name", ["deepseek", "groq", "xai", "together"])
def test_streams_ask_for_usage(name):
    assert sent(name, {"model": "m", "messages": MESSAGES, "stream": True})["stream_options"] == {"include_usage": True}


def test_perplexity_streams_do_not_send_stream_options():
    # Perplexity puts usage on its last chunk unasked.
    assert "stream_options" not in sent("perplexity", {"model": "m", "messages": MESSAGES, "stream": True})


def test_xai_reasoning_effort_is_passed_on():
    assert sent("xai", {"model": "m", "messages": MESSAGES, "reasoning_effort": "high"})["reasoning_effort"] == "high"


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("groq", "logprobs", True),
        ("groq", "top_logprobs", 3),
        ("groq", "logit_bias", {"50256": -100}),
        ("perplexity", "tools", [{"type": "function", "function": {"name": "f"}}]),
        ("perplexity", "tool_choice", "auto"),
        ("perplexity", "logprobs", True),
    ],
)
def test_parameters_a_provider_cannot_honour_are_a_400_naming_the_field(name, field, value):
    with pytest.raises(InvalidRequestError) as raised:
        chat(name).build_request({"model": "m", "messages": MESSAGES, field: value}, "m", endpoint(name))
    assert raised.value.status == 400
    assert raised.value.param == field
    assert raised.value.code == "unsupported_parameter"
    assert field in raised.value.message


@pytest.mark.parametrize("name", ["groq", "perplexity"])
def test_n_must_be_one_where_only_one_choice_is_offered(name):
    assert sent(name, {"model": "m", "messages": MESSAGES, "n": 1})["n"] == 1
    with pytest.raises(InvalidRequestError) as raised:
        chat(name).build_request({"model": "m", "messages": MESSAGES, "n": 2}, "m", endpoint(name))
    assert raised.value.param == "n"


@pytest.mark.parametrize("value", [None, False])
def test_a_rejected_parameter_that_is_off_is_not_an_error(value):
    assert sent("groq", {"model": "m", "messages": MESSAGES, "logprobs": value})["logprobs"] is value


@pytest.mark.parametrize("name", ["deepseek", "xai", "together"])
def test_providers_that_accept_everything_pass_it_on(name):
    body = {"model": "m", "messages": MESSAGES, "logprobs": True, "n": 2, "tools": [{"type": "function"}]}
    assert sent(name, body) == {**body, "model": "m"}


def test_groq_drops_message_names_without_touching_the_callers_body():
    messages = [{"role": "user", "content": "Hi", "name": "ana"}, {"role": "assistant", "content": "Hello"}]
    body = {"model": "m", "messages": messages}
    assert sent("groq", body)["messages"] == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert messages[0]["name"] == "ana"


def test_perplexity_drops_hints_it_does_not_take():
    body = {"model": "m", "messages": MESSAGES, "seed": 7, "service_tier": "auto", "parallel_tool_calls": False}
    assert sent("perplexity", body) == {"model": "m", "messages": MESSAGES}


# --- answers -------------------------------------------------------------------------------------

def test_deepseek_reasoner_answer_keeps_reasoning_content_and_reads_cache_hits():
    payload = {
        "id": "x", "object": "chat.completion", "model": "deepseek-reasoner",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "42", "reasoning_content": "Six times seven."}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130,
                  "prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 36,
                  "completion_tokens_details": {"reasoning_tokens": 20}},
    }
    answer, usage = chat("deepseek").parse_response(payload)
    assert answer["choices"][0]["message"]["reasoning_content"] == "Six times seven."
    assert usage == Usage(input_tokens=100, cached_input_tokens=64, output_tokens=30, reasoning_tokens=20)


def test_xai_reasoning_tokens_beside_completion_are_billed_as_output():
    usage = {"prompt_tokens": 32, "completion_tokens": 9, "total_tokens": 135,
             "prompt_tokens_details": {"cached_tokens": 6}, "completion_tokens_details": {"reasoning_tokens": 94}}
    _, read = chat("xai").parse_response({"choices": [], "usage": usage})
    assert read == Usage(input_tokens=32, cached_input_tokens=6, output_tokens=103, reasoning_tokens=94)


def test_reasoning_inside_completion_is_not_counted_twice():
    usage = {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60,
             "completion_tokens_details": {"reasoning_tokens": 40}}
    assert Usage.from_openai(usage) == Usage(input_tokens=10, output_tokens=50, reasoning_tokens=40)


def test_perplexity_answer_keeps_citations_and_search_results():
    payload = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris [1]"}}],
               "citations": ["https://a.example"], "search_results": [{"title": "A", "url": "https://a.example"}],
               "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "search_context_size": "low"}}
    answer, usage = chat("perplexity").parse_response(payload)
    assert answer["citations"] == ["https://a.example"]
    assert answer["search_results"][0]["url"] == "https://a.example"
    assert usage == Usage(input_tokens=5, output_tokens=3)


# --- streams -------------------------------------------------------------------------------------

REASONING_DELTA = {"id": "c", "choices": [{"index": 0, "delta": {"content": None, "reasoning_content": "Hmm"},
                                           "finish_reason": None}]}


@pytest.mark.parametrize("name", ["deepseek", "xai"])
def test_reasoning_deltas_reach_the_client(name):
    assert chat(name).transform_event(event(REASONING_DELTA), StreamState()) == [REASONING_DELTA]


GROQ_LAST = {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
             "x_groq": {"id": "req_1", "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}}


def test_groq_usage_in_x_groq_is_counted_and_the_chunk_passes_for_a_client_that_did_not_ask():
    state = StreamState(include_usage=False)
    out = chat("groq").transform_event(event(GROQ_LAST), state)
    assert out == [GROQ_LAST]
    assert "usage" not in out[0]
    assert state.usage == Usage(input_tokens=12, output_tokens=5)
    assert state.finish_reason == "stop"


def test_groq_usage_in_x_groq_is_lifted_to_usage_for_a_client_that_asked():
    state = StreamState(include_usage=True)
    [out] = chat("groq").transform_event(event(GROQ_LAST), state)
    assert out["usage"] == GROQ_LAST["x_groq"]["usage"]
    assert out["x_groq"] == GROQ_LAST["x_groq"]
    assert state.usage == Usage(input_tokens=12, output_tokens=5)


def test_groq_standard_usage_chunk_still_wins():
    usage_only = {"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}
    state = StreamState(include_usage=False)
    assert chat("groq").transform_event(event(usage_only), state) == []
    assert state.usage == Usage(input_tokens=1, output_tokens=2)


@pytest.mark.parametrize("name", ["together", "perplexity"])
def test_usage_on_the_finish_chunk_is_counted_and_stripped_unless_asked(name):
    last = {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}
    if name == "perplexity":
        last["citations"] = ["https://a.example"]
    state = StreamState(include_usage=False)
    [out] = chat(name).transform_event(event(last), state)
    assert "usage" not in out
    assert out.get("citations") == last.get("citations")
    assert state.usage == Usage(input_tokens=7, output_tokens=3)
    assert chat(name).transform_event(event(last), StreamState(include_usage=True)) == [last]


def test_perplexity_citations_ride_on_every_chunk():
    chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": "Paris"}, "finish_reason": None}],
             "citations": ["https://a.example"], "search_results": [{"title": "A", "url": "https://a.example"}]}
    assert chat("perplexity").transform_event(event(chunk), StreamState()) == [chunk]


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PROVIDERS)
def test_rate_limit_keeps_retry_after(name):
    body = json.dumps({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})
    error = chat(name).parse_error(429, {"retry-after": "2"}, body.encode())
    assert isinstance(error, UpstreamError)
    assert error.category is ErrorCategory.RATE_LIMIT
    assert error.headers == {"retry-after": "2"}


def test_deepseek_insufficient_balance_402_is_a_quota_error():
    body = json.dumps({"error": {"message": "Insufficient Balance", "type": "unknown_error", "param": None,
                                 "code": "invalid_request_error"}}).encode()
    assert chat("deepseek").parse_error(402, {}, body).category is ErrorCategory.QUOTA_EXCEEDED
