"""Workers AI through the Worker's `AI` binding, seen by the chat pipeline as one more HttpClient.

The Workers AI adapter builds a REST request (`…/ai/run/{model}`, JSON inputs); in the Worker, key
resolution points it at `BINDING_BASE_URL`, and `AiBindingHttp` runs those inputs through the `AiRunner`
port (`env.AI.run(model, inputs)`, ports/cloudflare.py) instead of sending them. The answer has the REST
API's shape, so the adapter reads both alike: `{"result": …, "success": true}`, SSE bytes for a stream, or
the error status and `{"success": false, "errors": [{"code", "message"}]}` for a failure.

Some models answer binary instead of a result object (text-to-speech audio from `@cf/deepgram/aura-1`, images
from Stable Diffusion): the REST API sends those bytes as the body with their media type, and the binding
gives a ReadableStream, a Uint8Array or an ArrayBuffer. The port answers them as the REST API does — the
bytes, with the content type their leading bytes show (`binary_content_type`; the binding does not say).
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


# Leading bytes of the binary results Workers AI models produce, and their media types.
_MAGIC_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
)


def binary_content_type(head: bytes) -> str:
    """The media type of a binary result from its first bytes (application/octet-stream when unknown)."""
    for magic, media_type in _MAGIC_TYPES:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG frame sync (MP3 without ID3)
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    return "application/octet-stream"


def binary_response(data: bytes) -> BufferedResponse:
    """A binary result in memory (Uint8Array, ArrayBuffer), as the REST API answers it."""
    return BufferedResponse(200, data, {"content-type": binary_content_type(data[:16])})


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
