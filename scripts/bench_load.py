"""The benchmark's load generator: a lean closed-loop HTTP client (asyncio + aiohttp), used by scripts/bench.py.

Method
------
`run_point` starts N workers on one shared `aiohttp.ClientSession` (pool large enough for every worker).
Each worker sends the same pre-encoded request body back to back until the point ends: a closed loop, so
the offered load is "N requests in flight at all times" and the rate is whatever the server sustains.
Worker starts are spread over `stagger` seconds (the caller passes about one upstream latency): with a
fixed upstream latency, workers released together would keep arriving in lock-step bursts.

The point has two phases on the event loop's clock:

    |<- warm-up ->|<------------- window (duration) ------------->|
    connections    only requests that START inside the window are   workers finish the request they
    open, caches   recorded; `on_window_open` is called at its      are in, then stop; nothing new
    fill           start (the caller samples /proc there)           starts after the window

Per request it records:
- latency: from just before `session.post` until the whole body has been read (a stream: until the last
  byte, i.e. the connection's end of body);
- ttft (streams): until the first received piece that carries a non-empty `"content":"…"` delta;
- the `x-gateway-overhead-ms` response header, when the server sends one (the gateway's own view);
- errors: non-2xx status, transport errors/timeouts, and for streams a body that does not end with
  `data: [DONE]` (the gateway ends a broken stream with an error event instead).

A point may be measured as several slices (`PointResult.merge`); the benchmark interleaves direct and
gateway slices so that drift on a shared machine (CPU steal, noisy neighbours) hits both sides alike.

`completed_since_open` counts every request that finished after the window opened (including warm-up
stragglers): it pairs with CPU time sampled from the window's start to after the last worker stopped.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from time import perf_counter
from typing import Callable

import aiohttp

# A delta with at least one character of content: the role chunk's `"content":""` does not match.
_CONTENT = re.compile(rb'"content":\s?"[^"]')
_DONE = b"data: [DONE]"


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool


@dataclass
class PointResult:
    concurrency: int
    window_seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # successful requests started in the window
    ttft_ms: list[float] = field(default_factory=list)
    overhead_ms: list[float] = field(default_factory=list)  # x-gateway-overhead-ms, when present
    errors: Counter = field(default_factory=Counter)  # kind -> count, requests started in the window
    completed_since_open: int = 0

    def merge(self, other: PointResult) -> None:
        """Add another slice of the same point (the benchmark interleaves direct and gateway slices)."""
        self.window_seconds += other.window_seconds
        self.latencies_ms += other.latencies_ms
        self.ttft_ms += other.ttft_ms
        self.overhead_ms += other.overhead_ms
        self.errors.update(other.errors)
        self.completed_since_open += other.completed_since_open

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.ok / self.window_seconds if self.window_seconds else 0.0


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def new_session(pool_size: int, timeout_seconds: float = 60.0) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=0, keepalive_timeout=60)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
    )


async def run_point(
    session: aiohttp.ClientSession,
    target: Target,
    concurrency: int,
    duration: float,
    warmup: float,
    on_window_open: Callable[[], None] | None = None,
    stagger: float = 0.0,
) -> PointResult:
    result = PointResult(concurrency=concurrency, window_seconds=duration)
    window = {"open": False, "stop": False}

    async def worker(delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        while not window["stop"]:
            counted = window["open"]
            await _one(session, target, result if counted else None)
            if window["open"]:
                result.completed_since_open += 1

    # Staggered starts: N workers released at once would arrive in lock-step bursts for the whole point.
    tasks = [asyncio.create_task(worker(stagger * i / concurrency)) for i in range(concurrency)]
    try:
        await asyncio.sleep(warmup)
        if on_window_open is not None:
            on_window_open()
        window["open"] = True
        opened = perf_counter()
        await asyncio.sleep(duration)
        window["stop"] = True
        result.window_seconds = perf_counter() - opened
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return result


async def _one(session: aiohttp.ClientSession, target: Target, result: PointResult | None) -> None:
    """One request; records into `result` unless it is None (warm-up)."""
    ttft = overhead = None
    started = perf_counter()
    try:
        async with session.post(target.url, data=target.body, headers=target.headers) as response:
            status = response.status
            if target.stream and status < 300:
                tail = b""
                async for piece in response.content.iter_any():
                    if ttft is None and _CONTENT.search(piece):
                        ttft = perf_counter() - started
                    tail = (tail + piece)[-64:]
                finished = perf_counter()
                complete = tail.rstrip().endswith(_DONE)
            else:
                await response.read()
                finished = perf_counter()
                complete = True
            overhead = response.headers.get("x-gateway-overhead-ms")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        if result is not None:
            result.errors[type(exc).__name__] += 1
        return
    if result is None:
        return
    if status >= 300:
        result.errors[f"http {status}"] += 1
    elif not complete:
        result.errors["stream without [DONE]"] += 1
    else:
        result.latencies_ms.append((finished - started) * 1000.0)
        if ttft is not None:
            result.ttft_ms.append(ttft * 1000.0)
        if overhead is not None:
            result.overhead_ms.append(float(overhead))
