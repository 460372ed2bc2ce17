"""Server-sent events: an incremental decoder for upstream streams and an encoder for ours."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: str
    event: str | None = None


class SseDecoder:
    """Feed raw bytes as they arrive; get complete events. Handles CRLF, multi-line data, comments."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buffer = self._buffer + chunk
        held = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):  # may be the first half of a CRLF split across reads
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *blocks, rest = buffer.split(b"\n\n")
        self._buffer = rest + held
        events = []
        for block in blocks:
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SseEvent]:
        """The last event of a stream that ended without a blank line."""
        block, self._buffer = self._buffer.replace(b"\r", b"\n"), b""  # a CR held back by feed()
        event = _parse_block(block) if block.strip() else None
        return [event] if event is not None else []


def _parse_block(block: bytes) -> SseEvent | None:
    if block.startswith(b"data: ") and b"\n" not in block:  # the usual one-line event
        return SseEvent(data=block[6:].decode("utf-8", errors="replace"))
    data_lines = []
    event_name = None
    for line in block.decode("utf-8", errors="replace").split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data_lines.append(value)
        elif name == "event":
            event_name = value
    if not data_lines:
        return None
    return SseEvent(data="\n".join(data_lines), event=event_name)


class EncodedChunk(dict):
    """A chunk that still carries the exact JSON text it arrived as, so an upstream chunk the
    gateway does not change is forwarded without being serialized again."""

    __slots__ = ("json_text",)

    def __init__(self, chunk: dict[str, Any], json_text: str) -> None:
        super().__init__(chunk)
        self.json_text = json_text


def encode_chunk(chunk: dict[str, Any]) -> bytes:
    text = chunk.json_text if type(chunk) is EncodedChunk else json.dumps(chunk, separators=(",", ":"))
    return b"data: " + text.encode() + b"\n\n"
