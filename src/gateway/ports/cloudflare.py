"""The Cloudflare adapters: D1 (`env.DB`), outbound `fetch`, Workers AI (`env.AI`), and `waitUntil`.

Only this module and src/entry.py may import `js`, `pyodide` or `workers`; everything else runs
on plain CPython too. Bindings arrive wrapped by the runtime SDK, which converts arguments and
results between Python and JavaScript.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Mapping, Sequence

import js
from pyodide.ffi import JsException, create_proxy, jsnull, to_js

from gateway.ports import (CipherError, DatabaseError, QueryResult, Statement, Timeouts, UpstreamConnectError,
                           UpstreamTimeout)
from gateway.ports.ai_binding import (BufferedResponse, binary_content_type, binary_response, error_response,
                                      result_response)


def _js_args(params: Sequence[Any]) -> list[Any]:
    # D1 wants null, not undefined (what a Python None becomes in a JS call), for SQL NULL;
    # ints and floats and strings pass as they are.
    return [jsnull if value is None else value for value in params]


def _message(exc: JsException) -> str:
    """The JS error's own message ('D1_ERROR: ...'), without the 'Error: ' that str() adds."""
    return getattr(exc, "message", None) or str(exc)


def _is_null(value: Any) -> bool:
    return value is None or value is jsnull  # JS null arrives as `jsnull` in Pyodide >= 0.28


def _result(result: Any) -> QueryResult:
    # Through the SDK's binding wrapper (how the Worker sees env.DB) a D1 result arrives already
    # converted, with JS null as None; from an unwrapped binding it is a JS object, whose nulls to_py()
    # leaves as `jsnull`.
    if not isinstance(result, dict):
        result = result.to_py()
    rows = [{name: None if _is_null(value) else value for name, value in row.items()}
            for row in result.get("results") or ()]
    meta = result.get("meta") or {}
    last_row_id = meta.get("last_row_id")
    return QueryResult(rows=rows, changes=int(meta.get("changes") or 0),
                       last_row_id=None if _is_null(last_row_id) else last_row_id)


class D1Database:
    """The Database port over a D1 binding: prepare → bind → all, and batch()."""

    def __init__(self, binding: Any) -> None:
        self._db = binding

    def _prepare(self, sql: str, params: Sequence[Any]) -> Any:
        statement = self._db.prepare(sql)
        return statement.bind(*_js_args(params)) if params else statement

    async def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        try:
            return _result(await self._prepare(sql, params).all())
        except JsException as exc:
            raise DatabaseError(_message(exc)) from exc

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]:
        try:
            # bind() validates its values synchronously (D1_TYPE_ERROR), so preparing is inside the try.
            prepared = [self._prepare(s.sql, s.params) for s in statements]
            results = await self._db.batch(prepared)
        except JsException as exc:
            raise DatabaseError(_message(exc)) from exc
        return [_result(result) for result in results]


class FetchResponse:
    """An upstream answer from `fetch`; the body is read whole or as a stream of byte chunks."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self.status = int(response.status)
        self.headers = {name.lower(): value for name, value in response.headers.entries()}
        self._reader = None

    async def read(self) -> bytes:
        try:
            buffer = await self._response.arrayBuffer()
        except JsException as exc:
            raise _translate(exc) from exc
        return buffer.to_bytes()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        if _is_null(self._response.body):  # HEAD, 204, 304: the body is JS null
            return
        self._reader = self._response.body.getReader()
        async for chunk in _read_chunks(self._reader):
            yield chunk

    def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()  # a promise; nothing waits on it
        elif not _is_null(self._response.body) and not self._response.bodyUsed:
            self._response.body.cancel()


class FetchClient:
    """Outbound HTTP through the Workers runtime's `fetch` (connections are pooled by the runtime)."""

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeouts: Timeouts
    ) -> FetchResponse:
        init = {"method": method, "headers": to_js(dict(headers), dict_converter=js.Object.fromEntries)}
        if body is not None:
            init["body"] = to_js(body)
        # fetch has no separate connect timeout: the total deadline covers connecting too. Without a total
        # (a chat stream: its first-token and idle timeouts bound it) there is no signal, since one would also
        # cut off the body of a long stream.
        if timeouts.total is not None:
            init["signal"] = js.AbortSignal.timeout(int(timeouts.total * 1000))
        # A redirect is answered, not followed (as the local port does): following it would carry the
        # provider key to wherever it points; the pipeline that expects one follows it without credentials.
        init["redirect"] = "manual"
        try:
            response = await js.fetch(url, to_js(init, dict_converter=js.Object.fromEntries))
        except JsException as exc:
            raise _translate(exc) from exc
        return FetchResponse(response)

    async def close(self) -> None:
        return None


def _translate(exc: JsException) -> Exception:
    name = getattr(exc, "name", "") or ""
    if name in ("TimeoutError", "AbortError") or "timed out" in str(exc).lower():
        return UpstreamTimeout(str(exc))
    return UpstreamConnectError(str(exc))


class AiBinding:
    """The AiRunner port over the Worker's `AI` binding: `env.AI.run(model, inputs)`.

    The binding resolves to the result object (through the SDK's wrapper already a dict); for
    `inputs.stream`, to a ReadableStream of SSE bytes; for models that produce a file (aura-1 audio, SDXL
    images), to a ReadableStream, Uint8Array or ArrayBuffer of its bytes; a failure is thrown ("3040:
    Capacity temporarily exceeded"). Each is answered as the REST API answers it (ports/ai_binding.py):
    the envelope, SSE, the file's bytes with their media type, the error envelope."""

    def __init__(self, binding: Any) -> None:
        self._ai = binding

    async def run(self, model: str, inputs: dict[str, Any]) -> FetchResponse | BufferedResponse | BinaryStream:
        try:
            result = await self._ai.run(model, to_js(inputs, dict_converter=js.Object.fromEntries))
        except JsException as exc:
            return error_response(_message(exc))
        if isinstance(result, dict):
            return result_response(_plain(result))
        if isinstance(result, (bytes, bytearray, memoryview)):  # a typed array the SDK converted
            return binary_response(bytes(result))
        if hasattr(result, "getReader"):  # a ReadableStream
            if inputs.get("stream"):
                init = to_js({"headers": to_js({"content-type": "text/event-stream"},
                                               dict_converter=js.Object.fromEntries)},
                             dict_converter=js.Object.fromEntries)
                return FetchResponse(js.Response.new(result, init))
            return await BinaryStream.open(result)
        if hasattr(result, "byteLength") and hasattr(result, "to_bytes"):  # an ArrayBuffer / typed array proxy
            return binary_response(result.to_bytes())
        if hasattr(result, "to_py"):
            result = result.to_py()
        return result_response(_plain(result if isinstance(result, dict) else {"response": result}))


class BinaryStream:
    """A binary result the binding streams (aura-1 audio): relayed chunk by chunk. Its first chunk is read
    at once, to tell its media type (the binding does not say it; the REST API sends it as Content-Type)."""

    status = 200

    def __init__(self, reader: Any, chunks: AsyncIterator[bytes], first: bytes) -> None:
        self._reader = reader
        self._chunks = chunks
        self._first = first
        self.headers = {"content-type": binary_content_type(first[:16])}

    @classmethod
    async def open(cls, stream: Any) -> "BinaryStream":
        reader = stream.getReader()
        chunks = _read_chunks(reader)
        first = b""
        async for chunk in chunks:
            if chunk:
                first = chunk
                break
        return cls(reader, chunks, first)

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.iter_bytes()])

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        first, self._first = self._first, b""
        if first:
            yield first
        async for chunk in self._chunks:
            yield chunk

    def close(self) -> None:
        self._reader.cancel()  # a promise; nothing waits on it (a no-op once the stream is done)


async def _read_chunks(reader: Any) -> AsyncIterator[bytes]:
    """A ReadableStream reader's chunks as bytes until it is done; a JS failure is translated."""
    while True:
        try:
            chunk = await reader.read()
        except JsException as exc:
            raise _translate(exc) from exc
        if chunk.done:
            return
        yield chunk.value.to_bytes()


def _plain(value: Any) -> Any:
    """A converted JS result as JSON-ready Python (JS null, `jsnull`, becomes None)."""
    if _is_null(value):
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class WebCryptoCipher:
    """The Cipher port over WebCrypto (`crypto.subtle`, AES-GCM, 128-bit tag): the same bytes as
    ports/local_crypto.py (a test checks one vector in both). `cryptography` does not load in Pyodide."""

    async def _key(self, key: bytes) -> Any:
        return await js.crypto.subtle.importKey("raw", to_js(key), "AES-GCM", False, to_js(["encrypt", "decrypt"]))

    def _params(self, nonce: bytes, aad: bytes) -> Any:
        return to_js({"name": "AES-GCM", "iv": to_js(nonce), "additionalData": to_js(aad), "tagLength": 128},
                     dict_converter=js.Object.fromEntries)

    async def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        sealed = await js.crypto.subtle.encrypt(self._params(nonce, aad), await self._key(key), to_js(plaintext))
        return sealed.to_bytes()

    async def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        try:
            plain = await js.crypto.subtle.decrypt(self._params(nonce, aad), await self._key(key), to_js(sealed))
        except JsException:  # OperationError: the tag did not verify
            raise CipherError("AES-GCM authentication failed") from None
        return plain.to_bytes()


class WaitUntilBackground:
    """Work after the response, kept alive by the request's `waitUntil`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future] = set()

    def defer(self, work: Any) -> None:
        from workers import wait_until  # request-scoped: cloudflare:workers knows the current request

        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        wait_until(task)


class WorkersClock:
    """Time in the Workers runtime (it advances on I/O, not during pure computation)."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()


class EnvMapping(Mapping[str, str]):
    """The Worker's env (vars and secrets) read as a string mapping; bindings are not strings."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def __getitem__(self, name: str) -> str:
        value = getattr(self._env, name, None)
        if not isinstance(value, str):
            raise KeyError(name)
        return value

    def __iter__(self):
        return iter(())  # names are looked up, never listed: secrets stay where they are

    def __len__(self) -> int:
        return 0


class _SseSource:
    """The underlying source of an SSE ReadableStream: one chunk per pull. A reader that cancels closes
    the iterator (for the chat relay that runs its `finally`: upstream closed, usage billed as
    cancelled); a pull in flight at that moment is cancelled where it waits."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._iterator = chunks.__aiter__()
        self._next: asyncio.Future | None = None
        self._proxies = [create_proxy(self.pull), create_proxy(self.cancel)]

    def js_source(self) -> Any:
        pull, cancel = self._proxies
        return to_js({"pull": pull, "cancel": cancel}, dict_converter=js.Object.fromEntries)

    async def pull(self, controller: Any) -> None:
        self._next = asyncio.ensure_future(self._iterator.__anext__())
        try:
            chunk = await self._next
        except StopAsyncIteration:
            controller.close()
            self._release()
            return
        except asyncio.CancelledError:
            return  # the reader cancelled while this pull waited
        except BaseException:
            self._release()
            raise  # the stream errors with it
        finally:
            self._next = None
        controller.enqueue(to_js(chunk))

    async def cancel(self, reason: Any = None) -> None:
        if self._next is not None:
            self._next.cancel()
        else:
            aclose = getattr(self._iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        self._release()

    def _release(self) -> None:
        # The JS stream calls neither method again; let the current call return before destroying.
        proxies, self._proxies = self._proxies, []
        if proxies:
            asyncio.get_running_loop().call_soon(lambda: [proxy.destroy() for proxy in proxies])


def sse_response(chunks: AsyncIterator[bytes]) -> Any:
    """A JS Response whose body is pulled from an async iterator of SSE bytes (for RPC callers)."""
    stream = js.ReadableStream.new(_SseSource(chunks).js_source())
    headers = to_js({"content-type": "text/event-stream"}, dict_converter=js.Object.fromEntries)
    return js.Response.new(stream, to_js({"headers": headers}, dict_converter=js.Object.fromEntries))
