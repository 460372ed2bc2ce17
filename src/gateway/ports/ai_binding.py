"""Workers AI through the Worker's `AI` binding, seen by the chat pipeline as one more HttpClient.

The Workers AI adapter builds a REST request (`…/ai/run/{model}`, JSON inputs); in the Worker, key
resolution points it at `BINDING_BASE_URL`, and `AiBindingHttp` runs those inputs through the `AiRunner`
port (`env.AI.run(model, inputs)`, ports/cloudflare.py) instead of sending them. The answer has the REST
API's shape, so the adapter reads both alike: `{"result": …, "success": true}`, SSE bytes for a stream, or
the error status and `{"success": false, "errors": [{"code", "message"}]}` for a failure.
"""

from __future__ import annotations

import json
import re
from typing import Any, AsyncIterator, Mapping
from urllib.parse import unquote

from gateway.ports import AiRunner, Timeouts

BINDING_BASE_URL = "ai-binding://AI/ai/run"
_RUN = "/ai/run/"
# The HTTP status the REST API answers for a Workers AI error code (the binding throws the code in its
# message instead: "3040: Capacity temporarily exceeded").
CODE_STATUS = {3036: 429, 3040: 429, 3023: 403, 3041: 403, 5018: 403, 5016: 403, 5007: 400, 3042: 404,
               5021: 400, 3007: 408, 3008: 408, 3006: 413, 3003: 400, 5004: 400}
_CODE = re.compile(r"\b(\d{4,5}):\s*(.*)", re.S)


class BufferedResponse:
    """An upstream answer already in memory."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.headers = dict(headers or {"content-type": "application/json"})
        self._body = body

    async def read(self) -> bytes:
        return self._body

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        yield self._body

    def close(self) -> None:
        return None


def result_response(result: Any) -> BufferedResponse:
    """The binding's result object, wrapped as the REST API wraps it."""
    return BufferedResponse(200, json.dumps({"result": result, "success": True, "errors": [], "messages": []}).encode())


def error_response(message: str) -> BufferedResponse:
    """A failure the binding threw, as the REST API would have answered it."""
    found = _CODE.search(message)
    code, text = (int(found.group(1)), found.group(2).strip()) if found else (None, message)
    envelope = {"result": None, "success": False, "errors": [{"code": code, "message": text}], "messages": []}
    return BufferedResponse(CODE_STATUS.get(code, 500), json.dumps(envelope).encode())


class AiBindingHttp:
    """HttpClient over an AiRunner: runs a Workers AI run request through the binding."""

    def __init__(self, runner: AiRunner) -> None:
        self._runner = runner

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeouts: Timeouts):
        # No deadline of the gateway's own: the runtime bounds the binding's call, and an asyncio timer on
        # Pyodide's event loop leaves its JS setTimeout pending after it is cancelled (measured: it kept
        # the Pyodide test run alive for the whole upstream timeout).
        model = unquote(url.partition(_RUN)[2])
        inputs = json.loads(body) if body else {}
        return await self._runner.run(model, inputs)

    async def close(self) -> None:
        return None
