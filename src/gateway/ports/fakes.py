"""Test fakes for the ports that have no real in-process stand-in: time, background work, outbound HTTP.

Plain Python, no test framework: any test (unit, conformance, under Pyodide) can use them.
The database needs no fake (SQLite behind the same port is real and fast).
"""

from __future__ import annotations

from typing import Any, Awaitable


class FakeClock:
    """A clock that only moves when the test says so. `advance` moves wall and monotonic time together."""

    def __init__(self, now: float = 1_700_000_000.0, monotonic: float = 1_000.0) -> None:
        self._now = now
        self._monotonic = monotonic

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds
        self._monotonic += seconds


class CollectingBackground:
    """Keeps deferred work instead of running it; `drain()` runs it (and whatever it defers) in order."""

    def __init__(self) -> None:
        self.pending: list[Awaitable[Any]] = []

    def defer(self, work: Awaitable[Any]) -> None:
        self.pending.append(work)

    async def drain(self) -> list[Any]:
        results = []
        while self.pending:
            results.append(await self.pending.pop(0))
        return results


class FakeResponse:
    """A scripted upstream answer: a body read whole, or chunks streamed, optionally breaking midway."""

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        chunks: list[bytes] | None = None,
        break_with: Exception | None = None,
    ) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self._body = body
        self._chunks = chunks if chunks is not None else [body]
        self._break_with = break_with
        self.closed = False

    async def read(self) -> bytes:
        if self._break_with is not None:
            raise self._break_with
        return self._body

    async def iter_bytes(self):
        for chunk in self._chunks:
            yield chunk
        if self._break_with is not None:
            raise self._break_with

    def close(self) -> None:
        self.closed = True


class FakeHttpClient:
    """Answers queued responses in order and records every request sent. `latency` advances a
    FakeClock while "waiting", so timing arithmetic can be checked exactly."""

    def __init__(self, clock: FakeClock | None = None, latency: float = 0.0) -> None:
        self.sent: list[dict[str, Any]] = []
        self._queue: list[FakeResponse | Exception] = []
        self._clock = clock
        self._latency = latency

    def queue(self, answer: "FakeResponse | Exception") -> None:
        self._queue.append(answer)

    async def send(self, method: str, url: str, headers: Any, body: bytes | None, timeouts: Any) -> FakeResponse:
        self.sent.append({"method": method, "url": url, "headers": dict(headers), "body": body, "timeouts": timeouts})
        if self._clock is not None and self._latency:
            self._clock.advance(self._latency)
        if not self._queue:
            raise AssertionError(f"no answer queued for {method} {url}")
        answer = self._queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        return None
