"""EnvMapping (the Worker's vars as settings) and sse_response (an SSE body as a JS Response, for RPC)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.ports.cloudflare import EnvMapping, sse_response
from gateway.settings import Settings


def test_env_mapping_reads_vars_and_never_hands_out_bindings(worker):
    env = EnvMapping(worker.env)
    assert env["GATEWAY_ADMIN_KEY"] == "test-admin-key"
    assert env.get("OPENAI_API_KEY") is None
    with pytest.raises(KeyError):
        env["DB"]  # a binding, not a string
    assert "DB" not in env and "GATEWAY_ENV" in env
    settings = Settings.from_env(env)
    assert (settings.admin_key, settings.retry.attempt_seconds, settings.retry.connect_seconds) == (
        "test-admin-key", 10.0, 5.0)


def test_sse_response_streams_the_iterator_into_a_js_response():
    pulled = []

    async def chunks():
        for index in range(3):
            await asyncio.sleep(0.005)
            pulled.append(index)
            yield f"data: {index}\n\n".encode()
        yield b"data: [DONE]\n\n"

    async def read():
        response = sse_response(chunks())
        assert response.headers.get("content-type") == "text/event-stream"
        reader = response.body.getReader()
        parts = []
        while not (part := await reader.read()).done:
            parts.append(part.value.to_bytes())
        return parts

    parts = asyncio.run(read())
    assert b"".join(parts) == b"data: 0\n\ndata: 1\n\ndata: 2\n\ndata: [DONE]\n\n"
    assert len(parts) == 4 and pulled == [0, 1, 2]  # one pull per chunk


def test_a_caller_cancelling_the_sse_response_closes_the_iterator():
    events = []

    async def chunks():
        try:
            for index in range(100):
                await asyncio.sleep(0.005)
                yield f"data: {index}\n\n".encode()
        finally:
            events.append("closed")  # the relay's finally: upstream closed, usage billed as cancelled

    async def read_one_then_cancel():
        reader = sse_response(chunks()).body.getReader()
        first = (await reader.read()).value.to_bytes()
        await reader.cancel()
        await asyncio.sleep(0.02)
        return first

    assert asyncio.run(read_one_then_cancel()) == b"data: 0\n\n"
    assert events == ["closed"]
