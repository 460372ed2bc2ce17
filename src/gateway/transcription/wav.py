"""How long an upload plays, for billing when the provider does not say: exact for WAV (header
arithmetic), else an estimate at 128 kbit/s (16,000 bytes a second, a common MP3/AAC rate)."""

from __future__ import annotations

import struct

ESTIMATE_BYTES_PER_SECOND = 16_000


def wav_seconds(data: bytes) -> float | None:
    """Seconds of a RIFF/WAVE file: the `data` chunk's size over the `fmt ` chunk's byte rate; None
    when `data` is not a readable WAV. A streamed WAV's unknown data size (0 or 0xFFFFFFFF) counts the
    bytes actually present."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset, byte_rate = 12, 0
    while offset + 8 <= len(data):
        chunk_id = data[offset:offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt " and size >= 16 and body + 16 <= len(data):
            (byte_rate,) = struct.unpack_from("<I", data, body + 8)
        elif chunk_id == b"data":
            if not byte_rate:
                return None
            present = len(data) - body
            if size in (0, 0xFFFFFFFF) or size > present:
                size = present
            return size / byte_rate
        offset = body + size + (size & 1)  # chunks are padded to an even size
    return None


def audio_seconds(data: bytes) -> tuple[float, bool]:
    """(seconds, exact): WAV header arithmetic, else the 128 kbit/s estimate (exact = False)."""
    seconds = wav_seconds(data)
    if seconds is not None:
        return seconds, True
    return len(data) / ESTIMATE_BYTES_PER_SECOND, False
