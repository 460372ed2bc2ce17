"""Test fakes for the ports that have no real in-process stand-in: time and background work.

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
