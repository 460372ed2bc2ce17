"""A stream's idle timeout at the cost of one clock read per chunk.

`asyncio.timeout` around every upstream read costs ~9 µs a chunk (a timer armed and cancelled each time);
a long stream pays that thousands of times. Here one timer runs per idle period and is re-armed lazily:
each wait only notes when it started, and when the timer comes due it checks whether the current wait has
lasted the whole period. Only time spent waiting on the upstream counts: while the chunk is being written
to a slow client no wait is running, and the timer lets it be.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

T = TypeVar("T")


class IdleTimeout:
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task | None = None
        self._since: float | None = None  # when the running wait began; None: not waiting
        self._fired = False

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """`await awaitable`, raising TimeoutError when it takes longer than the idle period."""
        loop = self._loop = self._loop or asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._since = loop.time()
        if self._handle is None:
            self._handle = loop.call_later(self._seconds, self._check)
        try:
            return await awaitable
        except asyncio.CancelledError:
            # Our own cancel (and nobody else's, e.g. the client going away) is the timeout.
            if self._fired and self._task is not None and self._task.uncancel() == 0:
                raise TimeoutError(f"no data for {self._seconds:g} s") from None
            raise
        finally:
            self._since = None

    def _check(self) -> None:
        self._handle = None
        since = self._since
        if since is None or self._loop is None:
            return  # not waiting now: the next wait arms the timer again
        due = since + self._seconds
        now = self._loop.time()
        if now >= due and self._task is not None:
            self._fired = True
            self._task.cancel()
        else:
            # A delay from this one reading of the clock: `call_at(due)` reads it again, and Pyodide's loop
            # refuses a time that has passed meanwhile ("Can't schedule in the past"), which killed the timer.
            self._handle = self._loop.call_later(max(due - now, 0.0), self._check)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
