"""Ports: the few things the gateway needs from its platform, as small Protocols.

Each port has a Cloudflare adapter (cloudflare.py), a local CPython adapter (local.py) and,
where a test needs one, a fake (fakes.py). The core only ever sees these Protocols.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Mapping, Protocol, Sequence


# --- database -------------------------------------------------------------------------------

@dataclass(slots=True)
class QueryResult:
    """What D1's `all()`/`run()` report: rows as dicts plus the write counters."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    changes: int = 0
    last_row_id: int | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Sequence[Any] = ()


class Database(Protocol):
    """D1-shaped: one statement at a time, or a batch that commits or fails as a whole."""

    async def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult: ...

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]: ...


class DatabaseError(Exception):
    """Any failure the database reports; adapters translate their own errors to this."""


# --- outbound HTTP --------------------------------------------------------------------------

class UpstreamResponse(Protocol):
    status: int
    headers: Mapping[str, str]  # lower-case names

    async def read(self) -> bytes: ...

    def iter_bytes(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 10.0
    total: float | None = 120.0  # the whole answer, body included; None: no limit (the caller bounds it)


class HttpClient(Protocol):
    """Send one request; the body is read (or streamed) by the caller, who must close it."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> UpstreamResponse: ...


class UpstreamConnectError(Exception):
    """The upstream could not be reached (DNS, refused, reset before an answer)."""


class UpstreamTimeout(Exception):
    """The upstream did not answer (or finish answering) in time."""


# --- Workers AI ------------------------------------------------------------------------------

class AiRunner(Protocol):
    """Run a Workers AI model (the Worker's `AI` binding). Answers as the REST API does: status, and the
    `{"result", "success"}` envelope, SSE bytes when `inputs["stream"]`, the file's bytes with their media
    type for models that produce one (audio, images), or the error envelope."""

    async def run(self, model: str, inputs: dict[str, Any]) -> UpstreamResponse: ...


# --- encryption at rest -----------------------------------------------------------------------

class Cipher(Protocol):
    """AES-256-GCM with a 128-bit tag: `seal` answers ciphertext || tag, `open` reverses it and raises
    CipherError when the key, nonce, AAD or bytes do not match (local: `cryptography`; Worker: WebCrypto)."""

    async def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes: ...

    async def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes: ...


class CipherError(Exception):
    """The ciphertext failed authentication (wrong key, moved to another row, or tampered with)."""


# --- background work and time ---------------------------------------------------------------

class Background(Protocol):
    """Run work after the response, off the client's path (Worker: ctx.waitUntil)."""

    def defer(self, work: Awaitable[Any]) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch."""
        ...

    def monotonic(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Ports:
    database: Database
    http: HttpClient
    background: Background
    clock: Clock
    ai: AiRunner | None = None  # the Worker's `AI` binding; None where there is none (local: REST)
    cipher: Cipher | None = None  # AES-GCM for provider credentials; None: credentials cannot be stored
