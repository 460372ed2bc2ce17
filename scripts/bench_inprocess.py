"""The gateway's own CPU per chat request, without sockets: the ASGI app called in-process, its upstream a
canned OpenAI answer, SQLite with the real migrations. What is left is the request path itself (auth,
validation, routing, the adapter, the answer, the usage row) — the figure to compare two commits by when
the socket benchmark (`scripts/bench.py`) is too noisy to tell them apart.

    .venv/bin/python scripts/bench_inprocess.py [--requests N] [--model auto] [--fail-every K]

`--model auto` (or auto/<strategy>) adds the router's ranking of the whole chat catalog to every request;
`--fail-every K` makes every K-th upstream call answer 503, so those requests pay a failed attempt, its row
and a retry (with no backoff wait: RETRY_BASE_SECONDS=0); `--stream` streams a 25-word answer; `--tags`
sends three x-gateway-tags (parsed, and written to usage_tags). The
difference between runs is the routing and fallback bookkeeping.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from gateway.app import create_app  # noqa: E402
from gateway.ports import Ports  # noqa: E402
from gateway.ports.fakes import FakeResponse  # noqa: E402
from gateway.ports.local import AsyncioBackground, SQLiteDatabase, SystemClock  # noqa: E402
from gateway.settings import Settings  # noqa: E402

ADMIN_KEY = "bench-admin-key-0123456789abcdef"
# A key with a daily limit it never reaches: every request pays the limiter's counter write, none is
# refused (a key without a tier would be on `free`, 10 requests a day).
BENCH_KEY = {"name": "bench", "tier_id": "business", "requests_per_day": 1_000_000_000}
ANSWER = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}).encode()
REQUEST = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}


def _sse(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


_CHUNK = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
# A streamed answer as OpenAI sends it: the role, 25 words one event each, the finish, the usage, [DONE].
STREAM = ([_sse({**_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})]
          + [_sse({**_CHUNK, "choices": [{"index": 0, "delta": {"content": f" word{i}"}, "finish_reason": None}]})
             for i in range(25)]
          + [_sse({**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
             _sse({**_CHUNK, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 25, "total_tokens": 30}}),
             b"data: [DONE]\n\n"])
TAGS = "app=checkout, feature=summary, end_user=u_42"
OVERLOADED = json.dumps({"error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}}).encode()


class CannedUpstream:
    """The HttpClient port answering every call with ANSWER at once (every `fail_every`-th with a 503)."""

    def __init__(self, fail_every: int = 0) -> None:
        self._fail_every = fail_every
        self._calls = 0

    async def send(self, method, url, headers, body, timeouts) -> FakeResponse:
        self._calls += 1
        if self._fail_every and self._calls % self._fail_every == 0:
            return FakeResponse(503, OVERLOADED, {"content-type": "application/json"})
        if b'"stream": true' in body:
            return FakeResponse(200, chunks=STREAM, headers={"content-type": "text/event-stream"})
        return FakeResponse(200, ANSWER, {"content-type": "application/json"})

    async def close(self) -> None:
        return None


async def call(app, path: str, body: dict, headers: dict[str, str]) -> tuple[int, bytes]:
    """One ASGI request: (status, body)."""
    raw = json.dumps(body).encode()
    messages: list[dict] = []
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "http_version": "1.1",
             "scheme": "http", "server": ("bench", 80), "client": ("127.0.0.1", 1), "root_path": "",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    await app(scope, receive, send)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


async def main(requests: int, model: str, fail_every: int, stream: bool = False, tags: bool = False) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = SQLiteDatabase(Path(folder) / "bench.sqlite3", own_thread=True)
        database.migrate(ROOT / "migrations", ROOT / "d1_views.sql")
        ports = Ports(database=database, http=CannedUpstream(fail_every), background=AsyncioBackground(),
                      clock=SystemClock())
        # Only OpenAI has a key: auto ranks the whole chat catalog and picks among OpenAI's models.
        settings = Settings.from_env({"GATEWAY_ADMIN_KEY": ADMIN_KEY, "OPENAI_API_KEY": "sk-bench",
                                      "RETRY_BASE_SECONDS": "0", "HEALTH_FAILURE_THRESHOLD": "1000000",
                                      "HEALTH_ERROR_RATE": "1.1"})
        request = {**REQUEST, "model": model, **({"stream": True} if stream else {})}
        app = create_app(ports, settings)
        status, body = await call(app, "/admin/keys", BENCH_KEY, {"authorization": f"Bearer {ADMIN_KEY}", "content-type": "application/json"})
        assert status == 201, body
        headers = {"authorization": f"Bearer {json.loads(body)['key']}", "content-type": "application/json"}
        if tags:  # three attribution tags per request: their parsing, and a usage_tags write per request
            headers["x-gateway-tags"] = TAGS
        for _ in range(300):  # warm-up: caches filled, code paths compiled
            await call(app, "/v1/chat/completions", request, headers)
        await asyncio.sleep(0.1)  # let the warm-up's usage rows be written
        gc.collect()
        gc.freeze()
        started = time.process_time()
        for _ in range(requests):
            status, body = await call(app, "/v1/chat/completions", request, headers)
        await asyncio.sleep(0.1)  # the usage rows are part of the cost: wait for their writes
        cpu_ms = (time.process_time() - started) / requests * 1000.0
        assert status == 200, body
        failing = f"every {fail_every}th upstream call failing" if fail_every else "no upstream failures"
        kind = ("streamed (25 words)" if stream else "non-stream") + (" tagged" if tags else "")
        print(f"{requests} {kind} chat requests in-process (model {model}, {failing}): {cpu_ms:.3f} ms CPU per "
              f"request (usage rows included)")
        database.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--model", default=REQUEST["model"], help="the requested model (auto, auto/cheapest, ...)")
    parser.add_argument("--fail-every", type=int, default=0, help="every K-th upstream call answers 503")
    parser.add_argument("--stream", action="store_true", help="streamed requests (the relay's cost per chunk)")
    parser.add_argument("--tags", action="store_true", help=f"every request carries x-gateway-tags: {TAGS}")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.model, args.fail_every, args.stream, args.tags))
