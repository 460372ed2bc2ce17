"""Cloudflare Workers AI behind the OpenAI front door: the official `openai` SDK against the gateway, the
gateway against the emulator's Workers AI REST API (`/accounts/{account}/ai/run/@cf/...`) over real
sockets: chat, streams, vision, tools, errors, usage and cost."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.conftest import CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN

MODEL = "workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SMALL = "workers-ai/@cf/meta/llama-3.1-8b-instruct"
VISION = "workers-ai/@cf/meta/llama-3.2-11b-vision-instruct"
PRICES = {MODEL: (0.293, 2.253), SMALL: (0.282, 0.827), VISION: (0.049, 0.676)}  # migrations/0007, USD per Mtok
PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                                 "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}


@pytest.fixture()
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def last_run(emulator) -> dict:
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    return next(r for r in reversed(recorded) if r["path"].startswith("/cloudflare/"))


def counts(messages: list[dict], reply: str) -> tuple[int, int]:
    """The emulator's rule: words + 4 per message in (text parts only), words of the reply out."""
    def text(content):
        return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content if p.get("type") == "text")
    return sum(len(text(m["content"]).split()) + 4 for m in messages), len(reply.split())


def test_models_list_has_workers_ai(client):
    assert {MODEL, SMALL, VISION} <= {m.id for m in client.models.list()}


@pytest.mark.parametrize("model", [MODEL, SMALL, "@cf/meta/llama-3.1-8b-instruct"])
def test_chat_runs_the_model_over_rest_and_is_billed(client, gateway, emulator, model):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to Workers AI"}]
    raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, temperature=0.2, max_tokens=50)
    completion = raw.parse()
    assert completion.choices[0].message.content == "Emulated reply to: Say hello to Workers AI"
    assert completion.choices[0].finish_reason == "stop"
    prompt, output = counts(messages, completion.choices[0].message.content)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    model_id = model if model.startswith("workers-ai/") else "workers-ai/" + model
    assert raw.headers["x-gateway-provider"] == "workers-ai" and raw.headers["x-gateway-model"] == model_id
    assert raw.headers["x-gateway-key-level"] == "env"

    sent = last_run(emulator)
    upstream = model_id.split("/", 1)[1]
    assert sent["path"] == f"/cloudflare/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/run/{upstream}"
    assert sent["headers"]["Authorization"] == f"Bearer {CLOUDFLARE_API_TOKEN}"
    assert sent["body"] == {"messages": messages, "max_tokens": 50, "temperature": 0.2}

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["model_id"]) == ("success", "workers-ai", model_id)
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    pin, pout = PRICES[model_id]
    # Within the day's free neurons (docs/cost.md): free, its neurons those the catalog's USD price stands for.
    assert (row["cost_status"], row["cost_usd"]) == ("free", 0.0)
    assert row["cost_note"] == "free: within the Workers AI daily free neurons"
    assert row["neurons"] == pytest.approx((prompt * pin + output * pout) / 1_000_000 / (0.011 / 1000), rel=1e-3)


@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_with_and_without_the_usage_chunk(client, gateway, emulator, include_usage):
    messages = [{"role": "user", "content": "Stream me a Workers AI greeting"}]
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=messages, stream=True, **options)
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Emulated reply to: Stream me a Workers AI greeting"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    prompt, output = counts(messages, text)
    if include_usage:
        assert chunks[-1].choices == []
        assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (prompt, output)
    else:
        assert all(c.usage is None and c.choices for c in chunks)
    assert last_run(emulator)["body"]["stream"] is True

    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["stream"], row["status"], row["cost_status"]) == (1, "success", "free")  # within the free neurons
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, output)
    assert row["ttft_ms"] is not None


def test_vision_image_part_reaches_the_vision_model(client, emulator):
    content = [{"type": "text", "text": "Describe this image"}, {"type": "image_url", "image_url": {"url": PIXEL}}]
    completion = client.chat.completions.create(model=VISION, messages=[{"role": "user", "content": content}])
    assert completion.choices[0].message.content == "Emulated reply to: Describe this image"
    sent = last_run(emulator)
    assert sent["path"].endswith("/ai/run/@cf/meta/llama-3.2-11b-vision-instruct")
    assert sent["body"]["messages"][0]["content"] == content


def test_an_image_url_workers_ai_cannot_fetch_is_a_400(client):
    content = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=VISION, messages=[{"role": "user", "content": content}])
    assert raised.value.body["param"] == "messages[0].content[0].image_url"


def test_tools_round_trip(client, emulator):
    completion = client.chat.completions.create(model=MODEL, tools=[WEATHER_TOOL],
                                                messages=[{"role": "user", "content": "What is the weather in Paris?"}])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"location": "Paris"})
    assert last_run(emulator)["body"]["tools"] == [WEATHER_TOOL]


@pytest.mark.parametrize("fault, error_class, status", [
    ("429", openai.RateLimitError, 429),
    ("model-not-found", openai.NotFoundError, 404),
    ("context-length", openai.BadRequestError, 400),
    ("401", openai.APIStatusError, 502),
    ("503", openai.APIStatusError, 502),
])
def test_cloudflare_errors_are_mapped(client, gateway, fault, error_class, status):
    with pytest.raises(error_class) as raised:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"Hi [[emulator:fault={fault}]]"}])
    assert raised.value.status_code == status
    row = gateway.usage_row(raised.value.response.headers["x-request-id"])
    assert (row["status"], row["http_status"]) == ("error", status)


def test_a_cut_stream_ends_with_an_error_event_and_an_unbilled_row(client, gateway):
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "one two three four five [[emulator:fault=cut-stream]]"}])
    with pytest.raises(openai.APIError):
        list(raw.parse())
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["cost_usd"], row["cost_status"]) == ("error", 0, "none")  # only success is billed
    assert row["cost_note"] == "failed: only success is billed"


def test_a_malformed_event_is_skipped(client):
    chunks = list(client.chat.completions.create(
        model=MODEL, stream=True, messages=[{"role": "user", "content": "a b c d [[emulator:fault=malformed-chunk]]"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Emulated reply to: a b c d"
