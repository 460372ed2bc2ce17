"""Workers AI through the Worker's `AI` binding (ports/cloudflare.py's AiBinding) under real Pyodide, against
the binding stand-in of scripts/pyodide/ai_standin.mjs (a class named `Ai`, so the runtime SDK wraps it as it
wraps workerd's): results, SSE streams as ReadableStreams, thrown errors — then the whole chat pipeline with
no Cloudflare token at all, billed through D1 and `waitUntil`."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.core import Gateway
from gateway.errors import ErrorCategory, GatewayError, UpstreamError
from gateway.pipeline.chat import JsonResult, StreamResult
from gateway.ports import Ports
from gateway.ports.cloudflare import AiBinding, D1Database, EnvMapping, FetchClient, WaitUntilBackground, WorkersClock
from gateway.settings import Settings
from gateway.storage import keys as keys_sql
from gateway.storage import usage as usage_sql

MODEL = "@cf/meta/llama-3.1-8b-instruct"
NEURONS_IN, NEURONS_OUT = 25608, 75147  # migrations/0007, neurons per million tokens (Cloudflare's pricing page)
FREE = "free: within the Workers AI daily free neurons"  # the test's day is far below 10,000 (docs/cost.md)


def run(coro):
    return asyncio.run(coro)


def inputs(text: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


def ai_calls(worker) -> list:
    return [[model, dict(sent)] for model, sent in worker.env.AI.calls]


def test_a_result_object_reads_as_the_rest_envelope(worker):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(MODEL, inputs("Hello there", max_tokens=16))
        return response.status, json.loads(await response.read())

    status, payload = run(scenario())
    assert status == 200 and payload["success"] is True and payload["errors"] == []
    assert payload["result"]["response"] == "Binding reply to: Hello there"
    assert payload["result"]["usage"] == {"prompt_tokens": 6, "completion_tokens": 5, "total_tokens": 11}
    assert ai_calls(worker) == [[MODEL, {"messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 16}]]


def test_a_stream_is_a_readable_stream_of_sse_bytes(worker):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(MODEL, inputs("Stream it", stream=True))
        chunks = [chunk async for chunk in response.iter_bytes()]
        response.close()
        return response.status, response.headers, chunks

    status, headers, chunks = run(scenario())
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert all(isinstance(chunk, bytes) for chunk in chunks) and len(chunks) >= 3
    events = [line[6:] for line in b"".join(chunks).decode().split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]" and json.loads(events[-2])["usage"]["completion_tokens"] == 5
    assert "".join(json.loads(e)["response"] for e in events[:-1]) == "Binding reply to: Stream it"


@pytest.mark.parametrize("code, status", [(3040, 429), (3036, 429), (5007, 400), (1234, 500)])
def test_a_thrown_error_reads_as_the_rest_error(worker, code, status):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(MODEL, inputs(f"please fail:{code}"))
        return response.status, json.loads(await response.read())

    got_status, payload = run(scenario())
    assert got_status == status and payload["success"] is False
    assert payload["errors"][0]["code"] == code and payload["errors"][0]["message"]


# ---- the chat pipeline on the binding -------------------------------------------------------------------


@pytest.fixture
def gateway(worker) -> Gateway:
    """As src/entry.py builds it: the AI binding as the AiRunner port; no CLOUDFLARE_* settings."""
    env = worker.env
    ports = Ports(database=D1Database(env.DB), http=FetchClient(), background=WaitUntilBackground(),
                  clock=WorkersClock(), ai=AiBinding(env.AI))
    return Gateway(ports, Settings.from_env(EnvMapping(env)))


@pytest.fixture
def api_key(gateway) -> str:
    raw_key = keys_sql.generate_key()
    run(keys_sql.create(gateway.ports.database, "key_ai", raw_key, {"name": "pyodide"}))
    return raw_key


async def chat(gateway: Gateway, api_key: str, body: dict):
    ctx = gateway.new_context("chat")
    try:
        await gateway.authenticate(ctx, {"authorization": f"Bearer {api_key}"})
        result = await gateway.chat.complete(ctx, body)
    except GatewayError as error:
        gateway.chat.fail(ctx, error)
        raise
    if isinstance(result, StreamResult):
        return ctx, [chunk async for chunk in result.chunks]
    return ctx, result


def usage_row(gateway: Gateway, wait_until, request_id: str) -> dict:
    assert all(outcome == "fulfilled" for outcome in wait_until.drain())
    rows = run(usage_sql.newest(gateway.ports.database, 50))
    return {row["request_id"]: row for row in rows}[request_id]


def test_a_chat_runs_on_the_binding_with_no_token_and_is_billed(worker, gateway, api_key, wait_until):
    body = {"model": "workers-ai/" + MODEL, "messages": [{"role": "user", "content": "Hi binding"}]}
    ctx, result = run(chat(gateway, api_key, body))

    assert isinstance(result, JsonResult)
    assert result.payload["choices"][0]["message"]["content"] == "Binding reply to: Hi binding"
    assert ctx.key_level == "binding"
    assert ai_calls(worker) == [[MODEL, {"messages": [{"role": "user", "content": "Hi binding"}]}]]
    row = usage_row(gateway, wait_until, ctx.request_id)
    assert (row["status"], row["provider_id"], row["key_level"]) == ("success", "workers-ai", "binding")
    assert (row["input_tokens"], row["output_tokens"]) == (6, 5)
    assert (row["cost_status"], row["cost_usd"], row["cost_note"]) == ("free", 0.0, FREE)
    assert row["neurons"] == pytest.approx((6 * NEURONS_IN + 5 * NEURONS_OUT) / 1_000_000, abs=1e-4)


def test_a_stream_runs_on_the_binding_chunk_by_chunk(gateway, api_key, wait_until):
    body = {"model": "workers-ai/" + MODEL, "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "Stream on the binding"}]}
    ctx, chunks = run(chat(gateway, api_key, body))

    assert chunks[-1] == b"data: [DONE]\n\n"
    events = [json.loads(line[6:]) for chunk in chunks[:-1] for line in chunk.decode().split("\n\n") if line]
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"]) == \
        "Binding reply to: Stream on the binding"
    assert [e["choices"][0]["finish_reason"] for e in events if e["choices"]][-1] == "stop"
    assert events[-1]["usage"]["completion_tokens"] == 7
    row = usage_row(gateway, wait_until, ctx.request_id)
    assert (row["status"], row["stream"], row["key_level"], row["cost_status"]) == ("success", 1, "binding", "free")


def test_a_spent_neuron_allocation_is_quota_exceeded(gateway, api_key, wait_until):
    body = {"model": "workers-ai/" + MODEL, "messages": [{"role": "user", "content": "fail:3036"}]}
    with pytest.raises(UpstreamError) as raised:
        run(chat(gateway, api_key, body))
    assert raised.value.category is ErrorCategory.QUOTA_EXCEEDED and raised.value.status == 429
    assert all(outcome == "fulfilled" for outcome in wait_until.drain())
    [row] = run(usage_sql.newest(gateway.ports.database, 5))
    assert (row["status"], row["http_status"], row["error_type"], row["key_level"]) == (
        "error", 429, "quota_exceeded", "binding")


# ---- binary results: the bytes with their media type, as the REST API answers them ------------------------

AURA = "@cf/deepgram/aura-1"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_readable_stream_of_audio_is_relayed_as_audio_mpeg(worker):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(AURA, {"text": "Hello aura", "speaker": "luna"})
        chunks = [chunk async for chunk in response.iter_bytes()]
        response.close()
        return response.status, response.headers, chunks

    status, headers, chunks = run(scenario())
    assert status == 200 and headers["content-type"] == "audio/mpeg"
    assert len(chunks) == 2 and all(isinstance(chunk, bytes) for chunk in chunks)  # relayed, not gathered
    assert b"".join(chunks) == b"ID3aura|luna|Hello aura"


def test_a_readable_stream_image_is_image_png_and_reads_whole(worker):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(SDXL, {"prompt": "a red fox"})
        return response.headers["content-type"], await response.read()

    content_type, body = run(scenario())
    assert content_type == "image/png" and body == PNG_SIGNATURE + b"a red fox"


@pytest.mark.parametrize("shape", ["uint8array", "arraybuffer"])
def test_a_typed_array_or_array_buffer_is_the_same_bytes(worker, shape):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(AURA, {"text": "Typed", "binary_as": shape})
        return response.status, response.headers["content-type"], await response.read()

    assert run(scenario()) == (200, "audio/mpeg", b"ID3aura|angus|Typed")


def test_a_binary_model_failure_is_still_the_rest_error(worker):
    async def scenario():
        response = await AiBinding(worker.env.AI).run(AURA, {"text": "fail:3040"})
        return response.status, json.loads(await response.read())

    status, payload = run(scenario())
    assert status == 429 and payload["errors"][0]["code"] == 3040


def test_json_results_of_other_tasks_stay_envelopes(worker):
    async def scenario():
        embedded = await AiBinding(worker.env.AI).run("@cf/baai/bge-small-en-v1.5", {"text": ["ab cd", "e"]})
        spoken = await AiBinding(worker.env.AI).run("@cf/myshell-ai/melotts", {"prompt": "Hi", "lang": "en"})
        return [(r.headers["content-type"], json.loads(await r.read())) for r in (embedded, spoken)]

    (embed_type, embedded), (speech_type, spoken) = run(scenario())
    assert embed_type == speech_type == "application/json"
    assert embedded["result"] == {"shape": [2, 4], "data": [[0.05, 0.02, 0.97, 0.01], [0.01, 0.01, 1.01, 0.01]],
                                  "pooling": "mean"}
    assert spoken["success"] is True and spoken["result"]["audio"] == "SUQzbWVsb3R0c3xlbnxIaQ=="  # "ID3melotts|en|Hi"


# ---- speech and embeddings pipelines on the binding ------------------------------------------------------


async def speak(gateway: Gateway, api_key: str, body: dict):
    ctx = gateway.new_context("speech")
    try:
        await gateway.authenticate(ctx, {"authorization": f"Bearer {api_key}"})
        result = await gateway.speech.create(ctx, body)
        return ctx, result.media_type, [chunk async for chunk in result.chunks]
    except GatewayError as error:
        gateway.speech.fail(ctx, error)
        raise


def test_aura_speech_streams_through_the_binding_and_is_billed(worker, gateway, api_key, wait_until):
    text = "Binding speech"
    ctx, media_type, chunks = run(speak(gateway, api_key, {"model": "workers-ai/" + AURA, "input": text,
                                                           "voice": "stella"}))
    assert media_type == "audio/mpeg" and len(chunks) == 2
    assert b"".join(chunks) == b"ID3aura|stella|Binding speech"
    assert ai_calls(worker) == [[AURA, {"text": text, "encoding": "mp3", "speaker": "stella"}]]
    row = usage_row(gateway, wait_until, ctx.request_id)
    assert (row["status"], row["endpoint"], row["key_level"]) == ("success", "speech", "binding")
    assert (row["cost_usd"], row["cost_status"]) == (0.0, "free")  # within the day's free neurons
    assert row["neurons"] == pytest.approx(len(text) / 1000 * 1363.64, abs=1e-4)  # aura-1, migrations/0012


def test_melotts_speech_through_the_binding_is_its_decoded_mp3(gateway, api_key, wait_until):
    ctx, media_type, chunks = run(speak(gateway, api_key, {"model": "workers-ai/@cf/myshell-ai/melotts",
                                                           "input": "Bonjour", "voice": "alloy", "lang": "fr"}))
    assert (media_type, b"".join(chunks)) == ("audio/mpeg", b"ID3melotts|fr|Bonjour")
    assert usage_row(gateway, wait_until, ctx.request_id)["status"] == "success"


def test_embeddings_through_the_binding(gateway, api_key, wait_until):
    async def embed():
        ctx = gateway.new_context("embeddings")
        await gateway.authenticate(ctx, {"authorization": f"Bearer {api_key}"})
        return ctx, await gateway.embeddings.create(ctx, {"model": "workers-ai/@cf/baai/bge-base-en-v1.5",
                                                          "input": "ab cd", "encoding_format": "float"})

    ctx, result = run(embed())
    assert result.payload["data"][0]["embedding"] == [0.05, 0.02, 0.97, 0.01]
    row = usage_row(gateway, wait_until, ctx.request_id)
    assert (row["status"], row["key_level"], row["cost_status"], row["input_tokens"]) == (
        "success", "binding", "free", 2)  # estimated tokens, but within the day's free neurons
    assert row["neurons"] == pytest.approx(2 * 6058 / 1_000_000, abs=1e-4)  # bge-base, migrations/0012
