"""The chat pipeline with fake ports: what it sends upstream, what it answers, what it bills.
Plain Python end to end, so it runs on CPython and inside Pyodide alike."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.catalog import CatalogCache
from gateway.pipeline.chat import ChatPipeline, JsonResult, StreamResult
from gateway.pipeline.context import Caller, RequestContext
from gateway.ports import Ports, UpstreamConnectError, UpstreamTimeout
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.settings import Settings
from gateway.storage import usage as usage_sql

# Seeded prices of openai/gpt-4o-mini, USD per million tokens (migrations/0002_...).
INPUT_PRICE, OUTPUT_PRICE = 0.15, 0.60


class Harness:
    def __init__(self, db, env=None, latency=0.0):
        self.clock = FakeClock()
        self.http = FakeHttpClient(self.clock, latency)
        self.background = CollectingBackground()
        self.db = db
        ports = Ports(database=db, http=self.http, background=self.background, clock=self.clock)
        # No retries, no Workers AI: one upstream call per request (retries and fallbacks: test_attempts.py).
        settings = Settings.from_env(
            {"RETRIES_PER_MODEL": "0", **(env if env is not None else {"OPENAI_API_KEY": "sk-upstream"})})
        self.pipeline = ChatPipeline(ports, settings, CatalogCache(db, self.clock, 60))

    def context(self) -> RequestContext:
        return RequestContext("req_test", "chat", self.clock.monotonic(), self.clock.now(), caller=Caller("key_1"))

    def run(self, body, ctx=None):
        ctx = ctx or self.context()
        return ctx, asyncio.run(self.pipeline.complete(ctx, body))

    def stream(self, body, ctx=None) -> list[bytes]:
        """A streamed request and its relay in one event loop (the relay reads the stream the attempt opened)."""
        ctx = ctx or self.context()

        async def run():
            return await collect(await self.pipeline.complete(ctx, body))

        return asyncio.run(run())

    def rows(self):
        asyncio.run(self.background.drain())
        return asyncio.run(usage_sql.newest(self.db, 10))


def completion(content="Hello!", prompt=12, output=3, finish="stop") -> bytes:
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output},
    }).encode()


def sse(*chunks: dict, done=True) -> list[bytes]:
    events = [b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks]
    return events + ([b"data: [DONE]\n\n"] if done else [])


def delta(text=None, finish=None) -> dict:
    d = {} if text is None else {"content": text}
    return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


USAGE_CHUNK = {"id": "c", "object": "chat.completion.chunk", "choices": [],
               "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi there"}]}


async def collect(stream: StreamResult) -> list[bytes]:
    return [chunk async for chunk in stream.chunks]


def test_non_stream_sends_the_openai_request_and_bills_the_reported_usage(db):
    h = Harness(db)
    h.http.queue(FakeResponse(200, completion(prompt=1000, output=500)))
    ctx, result = h.run(dict(BODY, temperature=0.2))

    assert isinstance(result, JsonResult) and result.payload["choices"][0]["message"]["content"] == "Hello!"
    sent = h.http.sent[0]
    assert sent["url"] == "https://api.openai.com/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-upstream"
    assert json.loads(sent["body"]) == {**BODY, "temperature": 0.2}  # 'gpt-4o-mini' is its upstream name
    [row] = h.rows()
    assert (row["input_tokens"], row["output_tokens"]) == (1000, 500)
    assert row["cost_usd"] == pytest.approx((1000 * INPUT_PRICE + 500 * OUTPUT_PRICE) / 1e6)
    assert row["model_id"] == "openai/gpt-4o-mini" and row["key_level"] == "env"


def test_base_url_override_and_upstream_time_is_not_overhead(db):
    h = Harness(db, {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:1234/v1"}, latency=0.75)
    h.http.queue(FakeResponse(200, completion()))
    ctx, _ = h.run(BODY)
    assert h.http.sent[0]["url"] == "http://127.0.0.1:1234/v1/chat/completions"
    assert ctx.upstream_seconds == pytest.approx(0.75)
    assert ctx.overhead_ms(h.clock.monotonic()) == pytest.approx(0.0)
    [row] = h.rows()
    assert row["overhead_ms"] == pytest.approx(0.0) and row["latency_ms"] == pytest.approx(750.0)


def test_stream_relays_chunks_hides_unrequested_usage_and_bills_it(db):
    h = Harness(db)
    h.http.queue(FakeResponse(200, chunks=sse(delta("Hel"), delta("lo"), delta(finish="stop"), USAGE_CHUNK)))
    out = h.stream(dict(BODY, stream=True))
    assert json.loads(h.http.sent[0]["body"])["stream_options"] == {"include_usage": True}
    assert out[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(event[len(b"data: "):]) for event in out[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello"
    assert all(c["choices"] for c in chunks)  # the usage-only chunk was not asked for
    [row] = h.rows()
    assert (row["status"], row["input_tokens"], row["output_tokens"], row["cost_status"]) == ("success", 9, 2, "priced")


def test_stream_with_include_usage_forwards_the_usage_chunk(db):
    h = Harness(db)
    h.http.queue(FakeResponse(200, chunks=sse(delta("Hi"), delta(finish="stop"), USAGE_CHUNK)))
    out = h.stream(dict(BODY, stream=True, stream_options={"include_usage": True}))
    assert json.loads(out[-2][len(b"data: "):])["usage"]["completion_tokens"] == 2
    assert [row["output_tokens"] for row in h.rows()] == [2]


def test_stream_broken_midway_ends_with_an_error_event_and_an_unbilled_row(db):
    h = Harness(db)
    h.http.queue(FakeResponse(200, chunks=sse(delta("abcdefgh"), done=False),
                              break_with=UpstreamConnectError("reset by peer")))
    out = h.stream(dict(BODY, stream=True))
    last = json.loads(out[-1][len(b"data: "):])
    assert last["error"]["code"] == "upstream_unreachable" and b"[DONE]" not in out[-1]
    [row] = h.rows()
    # Only success is billed (docs/fallbacks.md); the estimated tokens stay on the row for the record.
    assert (row["status"], row["error_type"], row["cost_usd"], row["cost_status"]) == ("error", "server_error", 0.0, "none")
    assert row["output_tokens"] == 2  # 8 characters / 4


def test_upstream_error_status_is_classified_and_attributed(db):
    h = Harness(db)
    body = json.dumps({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})
    h.http.queue(FakeResponse(429, body.encode(), headers={"Retry-After": "3"}))
    with pytest.raises(UpstreamError) as raised:
        h.run(BODY)
    error = raised.value
    assert error.category is ErrorCategory.RATE_LIMIT and error.status == 429
    assert error.headers == {"retry-after": "3"} and error.message.startswith("openai: ")


@pytest.mark.parametrize(
    ("failure", "category", "status"),
    [(UpstreamTimeout("slow"), ErrorCategory.TIMEOUT, 504), (UpstreamConnectError("refused"), ErrorCategory.SERVER_ERROR, 502)],
)
def test_transport_failures_become_gateway_errors(db, failure, category, status):
    h = Harness(db)
    h.http.queue(failure)
    with pytest.raises(UpstreamError) as raised:
        h.run(BODY)
    assert (raised.value.category, raised.value.status) == (category, status)


def test_missing_provider_key_is_reported_without_calling_upstream(db):
    h = Harness(db, env={})
    with pytest.raises(UpstreamError) as raised:
        h.run(BODY)
    assert raised.value.code == "provider_key_missing" and "OPENAI_API_KEY" in raised.value.message
    assert h.http.sent == []


def test_failed_request_gets_an_error_row(db):
    h = Harness(db)
    h.http.queue(FakeResponse(503, b'{"error": {"message": "overloaded"}}'))
    ctx = h.context()
    with pytest.raises(UpstreamError) as raised:
        h.run(BODY, ctx)
    h.pipeline.fail(ctx, raised.value)
    [row] = h.rows()
    assert (row["status"], row["http_status"], row["error_type"], row["cost_usd"]) == ("error", 502, "server_error", 0.0)
