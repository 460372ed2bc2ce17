"""Ways to run the emulator: in asyncio code (`running_emulator`) or beside synchronous code
(`EmulatorThread`, a daemon thread with its own event loop, for pytest fixtures and the benchmark)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from scripts.emulator.server import EmulatorConfig, create_app

# Shutdown should not wait on stalled requests: a stall is meant to outlive its client, not the server.
_SHUTDOWN_TIMEOUT = 1.0


@dataclass(frozen=True)
class RunningEmulator:
    host: str
    port: int
    app: web.Application

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


async def _start(host: str, port: int, config: EmulatorConfig | None) -> tuple[web.AppRunner, RunningEmulator]:
    app = create_app(config)
    # handler_cancellation: a handler whose client hung up is cancelled, so abandoned slow streams cost nothing.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return runner, RunningEmulator(host, bound_port, app)


@asynccontextmanager
async def running_emulator(
    host: str = "127.0.0.1", port: int = 0, config: EmulatorConfig | None = None
) -> AsyncIterator[RunningEmulator]:
    """Serve the emulator on the current event loop while the block runs; port 0 picks a free port."""
    runner, running = await _start(host, port, config)
    try:
        yield running
    finally:
        await runner.cleanup()


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class EmulatorThread:
    """The emulator on 127.0.0.1 in a daemon thread. `start()` returns once it is listening."""

    def __init__(self, port: int = 0, config: EmulatorConfig | None = None, host: str = "127.0.0.1") -> None:
        self.host, self.port, self.config = host, port, config or EmulatorConfig()
        self.app: web.Application | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmulatorThread:
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = loop = _new_loop()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._runner, running = loop.run_until_complete(_start(self.host, self.port, self.config))
                self.port, self.app = running.port, running.app
            except BaseException as exc:  # reported to start()'s caller, not lost in the thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name=f"emulator-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"emulator did not start within {timeout}s")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)  # serve() then cleans up the runner on its own loop
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
