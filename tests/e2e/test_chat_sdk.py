"""The official OpenAI SDK against the local gateway: models, chat, streams, and their usage rows."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import OPENAI_TEST_KEY

# Seeded catalog prices of openai/gpt-4o-mini (migrations/0002_...): USD per million tokens.
GPT_4O_MINI_INPUT = 0.15
GPT_4O_MINI_OUTPUT = 0.60


@pytest.fixture()
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def emulator_counts(messages: list[dict], reply: str) -> tuple[int, int]:
    """The emulator's documented token rule: words + 4 per message in, words of the reply out."""
    prompt = sum(len(m["content"].split()) + 4 for m in messages)
    return prompt, len(reply.split())


def test_lists_models_with_provider_prefixes(client):
    ids = {model.id for model in client.models.list()}
    assert "openai/gpt-4o-mini" in ids
    assert all("/" in model_id for model_id in ids)


def test_completes_a_chat_and_records_upstream_usage(client, gateway, emulator):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to the team"}]
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)
    completion = raw.parse()

    assert completion.choices[0].message.content == "Emulated reply to: Say hello to the team"
    prompt, output = emulator_counts(messages, completion.choices[0].message.content)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    assert raw.headers["x-gateway-provider"] == "openai"
    assert raw.headers["x-gateway-model"] == "openai/gpt-4o-mini"
    assert float(raw.headers["x-gateway-overhead-ms"]) >= 0

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["status"] == "success" and row["stream"] == 0
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    expected_cost = (prompt * GPT_4O_MINI_INPUT + output * GPT_4O_MINI_OUTPUT) / 1_000_000
    assert row["cost_usd"] == pytest.approx(expected_cost)
    assert row["cost_status"] == "priced"
    assert row["latency_ms"] >= row["overhead_ms"] >= 0

    sent = emulator_requests(emulator)[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {OPENAI_TEST_KEY}"
    assert sent["body"]["model"] == "gpt-4o-mini"


def test_streams_a_chat_with_usage_when_asked(client, gateway):
    messages = [{"role": "user", "content": "Stream me a greeting please"}]
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Emulated reply to: Stream me a greeting please"
    prompt, output = emulator_counts(messages, text)
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (prompt, output)

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["stream"] == 1 and row["status"] == "success"
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["cost_status"] == "priced"
    assert row["ttft_ms"] is not None and row["ttft_ms"] <= row["latency_ms"]


def test_stream_without_usage_option_hides_usage_but_still_bills(client, gateway, emulator):
    messages = [{"role": "user", "content": "No usage chunk for me"}]
    raw = client.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=messages, stream=True)
    chunks = list(raw.parse())
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)
    # The gateway asked the provider for usage anyway, so the row has real counts.
    assert emulator_requests(emulator)[-1]["body"]["stream_options"] == {"include_usage": True}
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["input_tokens"], row["output_tokens"]) == emulator_counts(messages, text)
    assert row["cost_status"] == "priced"


def test_tool_calls_pass_through(client):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "weather in Paris?"}], tools=tools
    )
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"


def test_x_api_key_header_authenticates(gateway, api_key):
    client = openai.OpenAI(
        base_url=gateway.base_url + "/v1", api_key="unused", default_headers={"authorization": "", "x-api-key": api_key}
    )
    assert client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ).choices


def emulator_requests(emulator) -> list[dict]:
    import httpx

    return httpx.get(emulator.base_url + "/_emulator/requests").json()
