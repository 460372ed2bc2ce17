"""The whole chat pipeline on the Cloudflare ports, built as src/entry.py builds them: D1 for keys, the
catalog and usage rows; `fetch` to the provider emulator; usage written through `waitUntil`.

Only the pydantic validation of the HTTP/RPC boundary (api/validation.py) is left out: pydantic_core
has no wasm build reachable offline. Everything after it is the Worker's code path.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from gateway.core import Gateway
from gateway.errors import AuthenticationError, ErrorCategory, GatewayError, UpstreamError
from gateway.pipeline.chat import JsonResult, StreamResult
from gateway.ports import Ports
from gateway.ports.cloudflare import (
    D1Database,
    EnvMapping,
    FetchClient,
    WaitUntilBackground,
    WorkersClock,
    sse_response,
)
from gateway.settings import Settings
from gateway.storage import keys as keys_sql
from gateway.storage import usage as usage_sql

PROVIDER_KEY = "sk-test-openai-key"


@pytest.fixture
def worker_vars(worker_vars, emulator_url):
    # One call per request (no same-model retry): the failures below are about the ports' classification.
    return {**worker_vars, "OPENAI_API_KEY": PROVIDER_KEY, "OPENAI_BASE_URL": emulator_url + "/v1",
            "RETRIES_PER_MODEL": "0"}


def build_gateway(env) -> Gateway:
    """What src/entry.py's _get_app does, minus the ASGI app around it."""
    ports = Ports(
        database=D1Database(env.DB),
        http=FetchClient(),
        background=WaitUntilBackground(),
        clock=WorkersClock(),
    )
    return Gateway(ports, Settings.from_env(EnvMapping(env)))


@pytest.fixture
def gateway(worker) -> Gateway:
    return build_gateway(worker.env)


@pytest.fixture
def api_key(gateway) -> str:
    raw_key = keys_sql.generate_key()
    asyncio.run(keys_sql.create(gateway.ports.database, "key_cf", raw_key, {"name": "pyodide"}))
    return raw_key


async def chat(gateway: Gateway, api_key: str, body: dict):
    """handle_chat (api/chat.py) without the pydantic validation step."""
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


def usage_rows(gateway: Gateway, wait_until) -> dict[str, dict]:
    assert all(outcome == "fulfilled" for outcome in wait_until.drain())
    rows = asyncio.run(usage_sql.newest(gateway.ports.database, 50))
    return {row["request_id"]: row for row in rows}


def message(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_a_chat_completion_goes_through_d1_fetch_and_wait_until(gateway, api_key, wait_until):
    ctx, result = asyncio.run(chat(gateway, api_key, {"model": "openai/gpt-4o-mini", "messages": message("Hi")}))

    assert isinstance(result, JsonResult)
    assert result.payload["object"] == "chat.completion" and result.payload["choices"][0]["message"]["content"]
    assert ctx.key_level == "env"
    row = usage_rows(gateway, wait_until)[ctx.request_id]
    assert (row["status"], row["key_id"], row["provider_id"], row["model_id"]) == (
        "success", "key_cf", "openai", "openai/gpt-4o-mini")
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert row["cost_status"] == "priced" and row["cost_usd"] > 0


def test_a_stream_is_relayed_chunk_by_chunk_and_billed_from_its_usage(gateway, api_key, wait_until):
    body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
            "messages": message("Stream please [[emulator:chunk_interval_ms=20]]")}
    ctx, chunks = asyncio.run(chat(gateway, api_key, body))

    assert chunks[-1] == b"data: [DONE]\n\n" and len(chunks) >= 4
    # A write may carry several events (what was read before the first token goes out in one).
    events = [json.loads(line[len("data: "):]) for chunk in chunks[:-1] for line in chunk.decode().split("\n\n") if line]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert text
    assert events[-1]["usage"]["completion_tokens"] > 0
    row = usage_rows(gateway, wait_until)[ctx.request_id]
    assert (row["status"], row["stream"], row["cost_status"]) == ("success", 1, "priced")
    assert row["ttft_ms"] is not None and row["output_tokens"] == events[-1]["usage"]["completion_tokens"]


def test_an_rpc_stream_cancelled_by_its_caller_is_billed_as_cancelled(gateway, api_key, wait_until):
    """entry.py's RPC `chat` with stream=true answers sse_response(result.chunks); the caller stops."""
    body = {"model": "gpt-4o-mini", "stream": True,
            "messages": message("Long story [[emulator:chunk_interval_ms=30]]")}

    async def call_and_hang_up():
        ctx = gateway.new_context("chat")
        await gateway.authenticate(ctx, {"authorization": f"Bearer {api_key}"})
        result = await gateway.chat.complete(ctx, body)
        reader = sse_response(result.chunks).body.getReader()
        first = (await reader.read()).value.to_bytes()
        await reader.cancel()
        return ctx, first

    ctx, first = asyncio.run(call_and_hang_up())
    assert first.startswith(b"data: {")
    row = usage_rows(gateway, wait_until)[ctx.request_id]
    assert (row["status"], row["stream"], row["cost_status"]) == ("cancelled", 1, "estimated")


def test_an_upstream_rate_limit_is_classified_and_accounted(gateway, api_key, wait_until):
    body = {"model": "openai/gpt-4o-mini", "messages": message("Hi [[emulator:fault=429]]")}
    with pytest.raises(UpstreamError) as raised:
        asyncio.run(chat(gateway, api_key, body))

    assert raised.value.category is ErrorCategory.RATE_LIMIT and raised.value.status == 429
    [row] = usage_rows(gateway, wait_until).values()
    assert (row["status"], row["http_status"]) == ("error", 429)


def test_an_unreachable_upstream_is_a_502_and_accounted(gateway, api_key, wait_until):
    closed = os.environ.get("CLOSED_PORT_URL") or "http://127.0.0.1:1"
    settings = Settings.from_env({"OPENAI_API_KEY": PROVIDER_KEY, "OPENAI_BASE_URL": closed + "/v1",
                                  "RETRIES_PER_MODEL": "0"})
    unreachable = Gateway(gateway.ports, settings)
    with pytest.raises(UpstreamError) as raised:
        asyncio.run(chat(unreachable, api_key, {"model": "openai/gpt-4o-mini", "messages": message("Hi")}))

    assert raised.value.status == 502 and raised.value.category is ErrorCategory.SERVER_ERROR
    [row] = usage_rows(gateway, wait_until).values()
    assert (row["status"], row["http_status"]) == ("error", 502)


def test_an_unknown_key_is_refused_without_a_usage_row(gateway, api_key, wait_until):
    with pytest.raises(AuthenticationError):
        asyncio.run(chat(gateway, "gw-not-a-key", {"model": "gpt-4o-mini", "messages": message("Hi")}))
    assert usage_rows(gateway, wait_until) == {}
