"""How the stream knobs shape a streamed answer, alike in every chat wire format (rules in knobs.py).

Pure functions over a format's list of encoded content events; `server._stream` honours `STALL`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from scripts.emulator.knobs import Knobs

if TYPE_CHECKING:  # openai_wire imports this module
    from scripts.emulator.openai_wire import Reply

# Stands in the event list where `stall-mid-stream` pauses; never written (an SSE comment if it were).
STALL = b": emulator stall\n\n"
DEFAULT_CUT_AFTER = 3
DEFAULT_STALL_AFTER = 1


def fit_to_chunks(reply: Reply, chunks: int | None) -> Reply:
    """`chunks=N`: the reply's words repeated in order and cut at N, so a stream has N content chunks."""
    if chunks is None or reply.tool_name or not reply.words:
        return reply
    words = [reply.words[index % len(reply.words)] for index in range(chunks)]
    return replace(reply, words=words, completion_tokens=chunks)


def cut_count(knobs: Knobs, available: int) -> int:
    """How many content events `cut-stream` sends before the connection is closed."""
    wanted = DEFAULT_CUT_AFTER if knobs.cut_after is None else knobs.cut_after
    return min(wanted, available)


def with_stall(content: list[bytes], knobs: Knobs) -> list[bytes]:
    """The content events with the pause of `stall-mid-stream` after the first `stall_after` of them."""
    if knobs.fault != "stall-mid-stream":
        return content
    at = min(DEFAULT_STALL_AFTER if knobs.stall_after is None else knobs.stall_after, len(content))
    return [*content[:at], STALL, *content[at:]]
