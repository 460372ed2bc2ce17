"""FetchClient (ports/cloudflare.py): the runtime's `fetch` (here Node's, the same web API) against the
provider emulator on loopback: whole bodies, streams chunk by chunk, error statuses, refused
connections and deadlines."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from gateway.ports import Timeouts, UpstreamConnectError, UpstreamTimeout
from gateway.ports.cloudflare import FetchClient, FetchResponse

KEY = "sk-test-openai-key"


def run(coro):
    return asyncio.run(coro)


def chat(text: str, **extra) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}).encode()


def headers(**extra: str) -> dict[str, str]:
    return {"authorization": f"Bearer {KEY}", "content-type": "application/json", **extra}


async def send(url: str, body: bytes | None, timeouts: Timeouts = Timeouts(), method: str = "POST", **extra: str):
    return await FetchClient().send(method, url, headers(**extra), body, timeouts)


def test_a_json_answer_is_read_whole_with_lower_case_headers(emulator_url):
    async def scenario():
        response = await send(emulator_url + "/v1/chat/completions", chat("Hello there"))
        assert isinstance(response, FetchResponse)
        body = await response.read()
        response.close()
        return response, body

    response, body = run(scenario())
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert all(name == name.lower() for name in response.headers)
    answer = json.loads(body)
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"]


def test_the_request_arrives_as_sent(emulator_url):
    async def scenario():
        await send(emulator_url + "/_emulator/requests", None, method="DELETE")
        response = await send(emulator_url + "/v1/chat/completions", chat("Exactly this", temperature=0.25),
                              **{"x-trace": "abc"})
        await response.read()
        recorded = await send(emulator_url + "/_emulator/requests", None, method="GET")
        return json.loads(await recorded.read())

    recorded = run(scenario())
    [request] = [r for r in recorded if r["path"] == "/v1/chat/completions"]
    sent_headers = {k.lower(): v for k, v in request["headers"].items()}
    assert sent_headers["authorization"] == f"Bearer {KEY}" and sent_headers["x-trace"] == "abc"
    assert request["body"]["messages"][0]["content"] == "Exactly this" and request["body"]["temperature"] == 0.25


def test_a_stream_is_read_chunk_by_chunk_as_it_arrives(emulator_url):
    async def scenario():
        body = chat("Stream please [[emulator:chunk_interval_ms=20]]", stream=True)
        response = await send(emulator_url + "/v1/chat/completions", body)
        arrivals = []
        async for chunk in response.iter_bytes():
            arrivals.append((time.monotonic(), chunk))
        response.close()
        return response, arrivals

    response, arrivals = run(scenario())
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert all(isinstance(chunk, bytes) for _, chunk in arrivals)
    text = b"".join(chunk for _, chunk in arrivals).decode()
    events = [line for line in text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]" and len(events) >= 3
    assert len(arrivals) >= 3  # not buffered into one body
    assert arrivals[-1][0] - arrivals[0][0] >= 0.02 * (len(events) - 2)  # paced by the emulator


def test_an_error_status_is_an_answer_not_an_exception(emulator_url):
    async def scenario():
        response = await send(emulator_url + "/v1/chat/completions", chat("hi"), **{"x-emulator-fault": "429"})
        return response, json.loads(await response.read())

    response, body = run(scenario())
    assert response.status == 429
    assert "retry-after" in response.headers
    assert body["error"]["type"] == "requests" or body["error"]["code"] == "rate_limit_exceeded"


def test_a_refused_connection_is_an_upstream_connect_error():
    url = os.environ.get("CLOSED_PORT_URL") or "http://127.0.0.1:1"
    with pytest.raises(UpstreamConnectError):
        run(send(url + "/v1/chat/completions", chat("hi")))


def test_a_connection_dropped_without_an_answer_is_an_upstream_connect_error(emulator_url):
    with pytest.raises(UpstreamConnectError):
        run(send(emulator_url + "/v1/chat/completions", chat("hi"), **{"x-emulator-fault": "reset"}))


def test_no_answer_within_the_total_deadline_is_an_upstream_timeout(emulator_url):
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        run(send(emulator_url + "/v1/chat/completions", chat("hi [[emulator:fault=stall]]"), Timeouts(total=0.3)))
    assert time.monotonic() - started < 3


def test_the_deadline_also_covers_reading_the_stream(emulator_url):
    async def scenario():
        body = chat("slow [[emulator:chunk_interval_ms=150]]", stream=True)
        response = await send(emulator_url + "/v1/chat/completions", body, Timeouts(total=0.4))
        async for _ in response.iter_bytes():
            pass

    with pytest.raises(UpstreamTimeout):
        run(scenario())


def test_closing_a_stream_midway_cancels_it_quietly(emulator_url):
    async def scenario():
        body = chat("long [[emulator:chunk_interval_ms=50]]", stream=True)
        response = await send(emulator_url + "/v1/chat/completions", body)
        stream = response.iter_bytes()
        first = await anext(stream)
        response.close()
        await asyncio.sleep(0.05)
        unread = await send(emulator_url + "/v1/chat/completions", chat("never read", stream=True))
        unread.close()  # closing a body nobody started reading cancels it too
        return first

    assert run(scenario()).startswith(b"data: ")


def test_an_answer_without_a_body_streams_nothing_and_closes(emulator_url):
    async def scenario():
        response = await send(emulator_url + "/v1/models", None, method="HEAD")  # body is JS null
        chunks = [chunk async for chunk in response.iter_bytes()]
        response.close()
        return response.status, chunks

    assert run(scenario()) == (200, [])


def test_a_redirect_is_answered_not_followed(emulator_url):
    # Following it would carry the provider key along; the video pipeline follows redirects itself, keyless.
    async def scenario():
        response = await send(emulator_url + "/_emulator/redirect?to=/v1/models", None, method="GET")
        assert response.status == 302
        assert response.headers["location"] == "/v1/models"
        response.close()

    run(scenario())
