"""The attempt loop with fake ports (docs/fallbacks.md): what it retries, where each error category moves the
request, what each attempt leaves in usage_log. Plain Python, so it runs on CPython and inside Pyodide."""

from __future__ import annotations

import asyncio
import json

from gateway.errors import GatewayError
from gateway.pipeline.catalog import CatalogCache
from gateway.pipeline.chat import ChatPipeline, JsonResult, StreamResult
from gateway.pipeline.context import Caller, RequestContext
from gateway.ports import Ports, UpstreamConnectError
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.settings import Settings
from gateway.storage import usage as usage_sql

OPENAI = "https://api.openai.com/v1/chat/completions"
WORKERS_AI_BASE = "https://api.cloudflare.com/client/v4/accounts/acct/ai/run/"
ENV = {"OPENAI_API_KEY": "sk-upstream", "RETRY_BASE_SECONDS": "0", "CLOUDFLARE_ACCOUNT_ID": "acct",
       "CLOUDFLARE_API_TOKEN": "cf-token"}
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi there"}]}


class Harness:
    def __init__(self, db, **env):
        self.clock = FakeClock()
        self.http = FakeHttpClient(self.clock)
        self.background = CollectingBackground()
        self.db = db
        ports = Ports(database=db, http=self.http, background=self.background, clock=self.clock)
        self.pipeline = ChatPipeline(ports, Settings.from_env({**ENV, **env}), CatalogCache(db, self.clock, 60))

    def run(self, body=BODY, caller=Caller("key_1")):
        ctx = RequestContext("req_t", "chat", self.clock.monotonic(), self.clock.now(), caller=caller)
        try:
            return ctx, asyncio.run(self.pipeline.complete(ctx, body)), None
        except GatewayError as error:  # the route's error handler writes the request's own row
            self.pipeline.fail(ctx, error)
            return ctx, None, error

    def rows(self):
        asyncio.run(self.background.drain())
        rows = asyncio.run(usage_sql.newest(self.db, 20))
        return sorted(rows, key=lambda row: (row["attempt_of"] is None, row["request_id"]))  # failed attempts first

    def urls(self):
        return [sent["url"] for sent in self.http.sent]

    def models(self):
        return [json.loads(sent["body"]).get("model") for sent in self.http.sent]


def completion(model="gpt-4o-mini", prompt=10, output=4) -> FakeResponse:
    return FakeResponse(200, json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output},
    }).encode())


def workers_ai_answer() -> FakeResponse:
    return FakeResponse(200, json.dumps({"result": {"response": "Hi from Workers AI",
                                                    "usage": {"prompt_tokens": 5, "completion_tokens": 4}},
                                         "success": True, "errors": [], "messages": []}).encode())


def error(status, message="boom", code=None, type_="server_error", headers=None) -> FakeResponse:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return FakeResponse(status, json.dumps(body).encode(), headers)


def test_a_server_error_once_is_retried_on_the_same_model_and_only_the_success_is_billed(db):
    h = Harness(db)
    h.http.queue(error(500))
    h.http.queue(completion(prompt=1000, output=500))
    ctx, result, failure = h.run()
    assert failure is None and isinstance(result, JsonResult)
    assert h.urls() == [OPENAI, OPENAI]
    failed, final = h.rows()
    assert (failed["request_id"], failed["attempt_of"], failed["status"], failed["error_type"]) == (
        "req_t.1", "req_t", "error", "server_error")
    assert (failed["cost_usd"], failed["cost_status"], failed["model_id"]) == (0.0, "none", "openai/gpt-4o-mini")
    assert (final["request_id"], final["attempt_of"], final["status"], final["attempts"]) == ("req_t", None, "success", 2)
    assert abs(final["cost_usd"] - (1000 * 0.15 + 500 * 0.60) / 1e6) < 1e-12
    assert ctx.response_headers(0)["x-gateway-attempts"] == "2"
    assert ctx.response_headers(0)["x-gateway-fallback"] == "server_error"


def test_a_retry_after_beyond_the_cap_is_not_waited_for_and_the_request_moves_to_workers_ai(db):
    h = Harness(db, RETRY_AFTER_CAP_SECONDS="5")
    h.http.queue(error(429, "slow down", "rate_limit_exceeded", "requests", {"retry-after": "30"}))
    h.http.queue(workers_ai_answer())
    ctx, result, failure = h.run()
    assert failure is None
    assert h.urls()[0] == OPENAI and h.urls()[1].startswith(WORKERS_AI_BASE)
    assert ctx.target.provider_id == "workers-ai"
    assert ctx.response_headers(0)["x-gateway-fallback"] == "rate_limit"
    failed, final = h.rows()
    assert (failed["error_type"], failed["cost_usd"], final["provider_id"], final["status"]) == (
        "rate_limit", 0.0, "workers-ai", "success")


def test_an_invalid_request_is_the_answer_at_once(db):
    h = Harness(db)
    h.http.queue(error(400, "bad temperature", None, "invalid_request_error"))
    ctx, result, failure = h.run()
    assert failure is not None and failure.status == 400
    assert h.urls() == [OPENAI]
    (row,) = h.rows()
    assert (row["request_id"], row["status"], row["cost_usd"]) == ("req_t", "error", 0.0)


def test_a_content_filter_refusal_does_not_move_by_default(db):
    h = Harness(db)
    h.http.queue(error(400, "rejected by our safety system", "content_filter", "invalid_request_error"))
    ctx, result, failure = h.run()
    assert failure is not None and failure.code == "content_filter"
    assert len(h.http.sent) == 1


def test_context_length_moves_to_a_model_with_a_larger_window(db):
    h = Harness(db)
    h.http.queue(error(400, "maximum context length", "context_length_exceeded", "invalid_request_error"))
    h.http.queue(completion())
    ctx, result, failure = h.run()
    assert failure is None
    chosen = ctx.target.catalog_entry
    assert chosen["provider_id"] == "openai"  # the only provider with a key besides Workers AI
    assert chosen["context_window"] > 128000  # gpt-4o-mini's window
    assert ctx.fallbacks == ("context_length",)


def test_an_org_chain_is_followed_after_the_same_model_retry(db):
    asyncio.run(db.query("INSERT INTO organizations (id, name, slug) VALUES ('org_1', 'One', 'one')"))
    asyncio.run(db.query(
        "INSERT INTO fallback_chains (id, org_id, error_type, model_pattern, chain, allow_workers_ai, max_attempts) "
        "VALUES ('c1', 'org_1', 'server_error', '*', '[\"openai/gpt-4.1-nano\"]', 0, 3)"))
    h = Harness(db)
    h.http.queue(error(503))
    h.http.queue(error(503))
    h.http.queue(completion("gpt-4.1-nano"))
    ctx, result, failure = h.run(caller=Caller("key_1", org_id="org_1"))
    assert failure is None
    assert h.models() == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4.1-nano"]
    assert [row["request_id"] for row in h.rows()] == ["req_t.1", "req_t.2", "req_t"]


def test_max_attempts_bounds_the_calls_and_the_first_failure_is_the_answer_naming_the_last(db):
    h = Harness(db, MAX_ATTEMPTS="2")
    h.http.queue(error(503, "overloaded A"))
    h.http.queue(error(503, "overloaded B"))
    ctx, result, failure = h.run()
    assert len(h.http.sent) == 2
    assert failure is not None and failure.status == 502
    assert failure.message == "openai: overloaded A (all 2 attempts failed; last: openai: overloaded B)"
    rows = h.rows()
    assert [(r["request_id"], r["status"], r["cost_usd"]) for r in rows] == [
        ("req_t.1", "error", 0.0), ("req_t", "error", 0.0)]


def sse(*chunks, done=True):
    events = [b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks]
    return events + ([b"data: [DONE]\n\n"] if done else [])


def delta(text=None, finish=None, role=None):
    d = {} if text is None else {"content": text}
    if role:
        d["role"] = role
    return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def test_a_stream_that_breaks_before_its_first_token_is_retried_and_the_client_sees_one_clean_stream(db):
    h = Harness(db)
    h.http.queue(FakeResponse(200, chunks=sse(delta("", role="assistant"), done=False)[:1],
                              break_with=UpstreamConnectError("reset")))
    h.http.queue(FakeResponse(200, chunks=sse(delta("", role="assistant"), delta("Hel"), delta("lo", "stop"))))
    ctx = RequestContext("req_t", "chat", h.clock.monotonic(), h.clock.now(), caller=Caller("key_1"))

    async def stream():  # one event loop: the upstream stream opened in the attempt is read by the relay
        result = await h.pipeline.complete(ctx, dict(BODY, stream=True))
        assert isinstance(result, StreamResult)
        return b"".join([chunk async for chunk in result.chunks])

    text = asyncio.run(stream()).decode()
    assert text.count('"role": "assistant"') + text.count('"role":"assistant"') == 1
    assert "Hel" in text and text.rstrip().endswith("data: [DONE]")
    failed, final = h.rows()
    assert (failed["request_id"], failed["error_type"]) == ("req_t.1", "server_error")
    assert (final["status"], final["attempts"]) == ("success", 2)
