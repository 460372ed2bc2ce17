"""Outbound HTTP for the local runtime: one shared aiohttp session with a keep-alive pool.

aiohttp was measured against httpx on the gateway's hot path (scripts/bench.py); see
docs/operations.md for the figures that made the choice.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Mapping

import aiohttp

from gateway.ports import Timeouts, UpstreamConnectError, UpstreamTimeout


class AiohttpResponse:
    __slots__ = ("status", "headers", "_response")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = {name.lower(): value for name, value in response.headers.items()}

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except asyncio.TimeoutError as exc:
            raise UpstreamTimeout("upstream timed out while sending its answer") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamConnectError(f"upstream broke off its answer: {exc}") from exc
        finally:
            self._response.release()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except asyncio.TimeoutError as exc:
            raise UpstreamTimeout("upstream stream stalled") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamConnectError(f"upstream stream broke: {exc}") from exc

    def close(self) -> None:
        self._response.close()


class AiohttpClient:
    def __init__(self, pool_size: int = 0) -> None:
        self._pool_size = pool_size  # 0 = unbounded: the gateway's concurrency is the caller's
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily so it binds to the server's running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300, keepalive_timeout=60)
            # No cookie jar: provider calls are stateless, and cookie filtering costs on every request.
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> AiohttpResponse:
        timeout = self._timeouts.get(timeouts)
        if timeout is None:
            timeout = self._timeouts[timeouts] = aiohttp.ClientTimeout(total=timeouts.total, sock_connect=timeouts.connect)
        try:
            response = await self._get_session().request(
                method, url, headers=headers, data=body, timeout=timeout, allow_redirects=False
            )
        except asyncio.TimeoutError as exc:
            raise UpstreamTimeout(f"no answer from {_host(url)} in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamConnectError(f"could not reach {_host(url)}: {type(exc).__name__}") from exc
        return AiohttpResponse(response)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _host(url: str) -> str:
    # Error messages name the host, never the full URL (it may carry a key in its query).
    return url.split("/")[2] if "://" in url else url
