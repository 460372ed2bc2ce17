"""The OpenAI-compatible family (DeepSeek, Groq, xAI, Perplexity, Together AI) through the gateway with
the official OpenAI SDK, against the emulator on each provider's real path: chat, streams, each
provider's own fields, an error, and the usage row priced from the catalog."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import openai
import pytest

from scripts.emulator import compatible_wire
from tests.conftest import EMULATED_BASE_PATHS, provider_key


@dataclass(frozen=True)
class Case:
    provider: str
    model: str                # what the client asks for
    upstream: str             # what must reach the provider
    input_price: float        # catalog prices, USD per million tokens (migrations/0005_...)
    cached_price: float | None
    output_price: float

    @property
    def prefix(self) -> str:
        return self.provider.upper()

    @property
    def path(self) -> str:
        return EMULATED_BASE_PATHS[self.prefix] + "/chat/completions"

    def __str__(self) -> str:
        return self.provider


CASES = [
    Case("deepseek", "deepseek/deepseek-chat", "deepseek-chat", 0.28, 0.028, 0.42),
    Case("groq", "groq/openai/gpt-oss-120b", "openai/gpt-oss-120b", 0.15, 0.075, 0.60),
    Case("xai", "xai/grok-4", "grok-4", 3.00, 0.75, 15.00),
    Case("perplexity", "perplexity/sonar", "sonar", 1.00, None, 1.00),
    Case("together", "together/meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama/Llama-3.3-70B-Instruct-Turbo",
         0.88, None, 0.88),
]
REASONING_WORDS = len(compatible_wire.REASONING.split())


@pytest.fixture()
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def conversation(case: Case, text: str) -> list[dict]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"{text} via {case.provider}"}]


def counts(messages: list[dict], reply: str) -> tuple[int, int]:
    """The emulator's token rule: words + 4 per message in, words of the reply out."""
    return sum(len(m["content"].split()) + 4 for m in messages), len(reply.split())


def cached_tokens(case: Case, messages: list[dict]) -> int:
    # The emulated DeepSeek reports the earlier turns as cache hits (compatible_wire); the others none.
    return 4 * (len(messages) - 1) if case.provider == "deepseek" else 0


def cost(case: Case, prompt: int, cached: int, output: int) -> float:
    cached_price = case.input_price if case.cached_price is None else case.cached_price
    return ((prompt - cached) * case.input_price + cached * cached_price + output * case.output_price) / 1_000_000


def sent_request(emulator, path: str, text: str) -> dict:
    """What the provider received for the request whose last message contains `text`."""
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    for request in reversed(recorded):
        body = request["body"]
        if request["path"] == path and isinstance(body, dict) and text in str(body["messages"][-1]["content"]):
            return request
    raise AssertionError(f"no request to {path} with {text!r}")


# --- the same checks for every provider ----------------------------------------------------------

def test_the_catalog_lists_every_provider(client):
    ids = {model.id for model in client.models.list()}
    assert {case.model for case in CASES} <= ids
    assert {"deepseek/deepseek-reasoner", "xai/grok-3-mini", "groq/llama-3.3-70b-versatile"} <= ids


@pytest.mark.parametrize("case", CASES, ids=str)
def test_chat_reaches_the_providers_path_with_its_key_and_is_priced(case, client, gateway, emulator):
    messages = conversation(case, "Say hello")
    raw = client.chat.completions.with_raw_response.create(model=case.model, messages=messages)
    completion = raw.parse()

    reply = completion.choices[0].message.content
    assert reply == f"Emulated reply to: Say hello via {case.provider}"
    prompt, output = counts(messages, reply)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    assert raw.headers["x-gateway-provider"] == case.provider
    assert raw.headers["x-gateway-model"] == case.model

    sent = sent_request(emulator, case.path, f"via {case.provider}")
    assert sent["headers"]["Authorization"] == f"Bearer {provider_key(case.prefix)}"
    assert sent["body"]["model"] == case.upstream

    row = gateway.usage_row(raw.headers["x-request-id"])
    cached = cached_tokens(case, messages)
    assert row["status"] == "success" and row["provider_id"] == case.provider and row["model_id"] == case.model
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"]) == (prompt, cached, output)
    assert row["cost_status"] == "priced"
    assert row["cost_usd"] == pytest.approx(cost(case, prompt, cached, output))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_stream_with_usage(case, client, gateway):
    messages = conversation(case, "Stream a greeting")
    raw = client.chat.completions.with_raw_response.create(
        model=case.model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"Emulated reply to: Stream a greeting via {case.provider}"
    prompt, output = counts(messages, text)
    with_usage = [c for c in chunks if c.usage is not None]
    assert with_usage, "the client asked for usage and got none"
    assert (with_usage[-1].usage.prompt_tokens, with_usage[-1].usage.completion_tokens) == (prompt, output)

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["stream"] == 1 and row["status"] == "success"
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["cost_status"] == "priced"
    assert row["cost_usd"] == pytest.approx(cost(case, prompt, cached_tokens(case, messages), output))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_stream_without_the_usage_option_hides_usage_but_bills_real_counts(case, client, gateway):
    messages = conversation(case, "No usage for me")
    raw = client.chat.completions.with_raw_response.create(model=case.model, messages=messages, stream=True)
    chunks = list(raw.parse())
    assert all(chunk.usage is None for chunk in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["input_tokens"], row["output_tokens"]) == counts(messages, text)
    assert row["cost_status"] == "priced"  # real counts, not the estimator


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_rate_limit_upstream_is_a_429_with_retry_after(case, client, gateway):
    messages = [{"role": "user", "content": "Hello [[emulator:fault=429]]"}]
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model=case.model, messages=messages)
    response = raised.value.response
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert case.provider in raised.value.message
    row = gateway.usage_row(response.headers["x-request-id"])
    assert row["status"] == "error" and row["error_type"] == "rate_limit"


# --- each provider's own fields ------------------------------------------------------------------

@pytest.mark.parametrize(("model", "inside"), [("deepseek/deepseek-reasoner", True), ("xai/grok-3-mini", False)])
def test_reasoning_content_reaches_the_client_and_reasoning_is_billed(model, inside, client, gateway):
    messages = [{"role": "user", "content": f"Think about {model}"}]
    raw = client.chat.completions.with_raw_response.create(model=model, messages=messages)
    completion = raw.parse()
    message = completion.choices[0].message
    assert message.reasoning_content == compatible_wire.REASONING
    prompt, words = counts(messages, message.content)
    # DeepSeek counts the thinking inside completion_tokens, xAI beside it: the row has it in output either way.
    assert completion.usage.completion_tokens == (words + REASONING_WORDS if inside else words)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["output_tokens"], row["reasoning_tokens"]) == (words + REASONING_WORDS, REASONING_WORDS)
    assert row["cost_status"] == "priced"


@pytest.mark.parametrize("model", ["deepseek/deepseek-reasoner", "xai/grok-3-mini"])
def test_reasoning_content_streams_before_the_answer(model, client, gateway):
    messages = [{"role": "user", "content": f"Stream thoughts on {model}"}]
    raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, stream=True)
    chunks = list(raw.parse())
    thinking = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    assert thinking == compatible_wire.REASONING
    first_thought = next(i for i, c in enumerate(chunks) if getattr(c.choices[0].delta, "reasoning_content", None))
    first_word = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content)
    assert first_thought < first_word
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["reasoning_tokens"] == REASONING_WORDS


def test_perplexity_citations_reach_the_client(client):
    completion = client.chat.completions.create(model="perplexity/sonar-pro",
                                                messages=[{"role": "user", "content": "Capital of France?"}])
    assert completion.citations == compatible_wire.CITATIONS
    assert [r["url"] for r in completion.search_results] == compatible_wire.CITATIONS

    chunks = list(client.chat.completions.create(model="perplexity/sonar", stream=True,
                                                 messages=[{"role": "user", "content": "Capital of Spain?"}]))
    assert chunks and all(chunk.citations == compatible_wire.CITATIONS for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


def test_perplexity_is_not_asked_for_stream_options(client, emulator):
    list(client.chat.completions.create(model="perplexity/sonar", stream=True,
                                        messages=[{"role": "user", "content": "No options via perplexity"}]))
    assert "stream_options" not in sent_request(emulator, "/perplexity/chat/completions", "No options")["body"]


def test_groq_usage_from_x_groq_is_given_to_a_client_that_asked(client, gateway):
    messages = [{"role": "user", "content": "Fast one please"}]
    raw = client.chat.completions.with_raw_response.create(
        model="groq/llama-3.3-70b-versatile", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(raw.parse())
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.x_groq["usage"]["prompt_tokens"] == last.usage.prompt_tokens
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == counts(messages, text)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["input_tokens"], row["output_tokens"]) == counts(messages, text)


def test_groq_gets_no_metadata_which_it_refuses_but_the_tags_are_kept(client, gateway, emulator):
    raw = client.chat.completions.with_raw_response.create(
        model="groq/llama-3.1-8b-instant", metadata={"feature": "groq-tags"},
        messages=[{"role": "user", "content": "Metadata stays home"}])
    raw.parse()
    assert "metadata" not in sent_request(emulator, "/groq/openai/v1/chat/completions", "Metadata stays home")["body"]
    assert gateway.sql("SELECT tag_key, tag_value FROM usage_tags WHERE request_id = ?",
                       raw.headers["x-request-id"]) == [{"tag_key": "feature", "tag_value": "groq-tags"}]


@pytest.mark.parametrize(
    ("model", "field", "extra"),
    [
        ("groq/llama-3.1-8b-instant", "logprobs", {"logprobs": True}),
        ("groq/llama-3.1-8b-instant", "n", {"n": 2}),
        ("perplexity/sonar", "tools", {"tools": [{"type": "function", "function": {"name": "get_weather"}}]}),
    ],
)
def test_parameters_the_provider_cannot_honour_are_a_400_naming_them(model, field, extra, client, emulator):
    text = f"weather? (unsupported {field} on {model})"
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}], **extra)
    error = raised.value.body
    assert error["param"] == field and error["code"] == "unsupported_parameter"
    assert field in error["message"]
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    assert not any(text in str(request["body"]) for request in recorded)  # never sent upstream


def test_groq_message_names_are_dropped(client, emulator):
    client.chat.completions.create(model="groq/llama-3.1-8b-instant",
                                   messages=[{"role": "user", "content": "Named via groq", "name": "ana"}])
    sent = sent_request(emulator, "/groq/openai/v1/chat/completions", "Named via groq")
    assert sent["body"]["messages"] == [{"role": "user", "content": "Named via groq"}]
