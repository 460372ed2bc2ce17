"""Text-to-speech wire formats (OpenAI `/v1/audio/speech`, ElevenLabs `/v1/text-to-speech/{voice_id}`):
deterministic audio bytes and ElevenLabs' error envelope, as pure functions (no I/O).

The audio rule, so tests can compute what a route answers:

- `audio_bytes(text, fmt, voice)` = `MAGIC[fmt]` + `AUDIO_BYTES_PER_CHAR × len(text)` bytes, the bytes
  being SHA-256 of `"{voice}|{fmt}|{text}"` repeated (and cut) to that length. `text` is the input as
  sent, markers included.
- OpenAI: `fmt` is `response_format` (default `mp3`). ElevenLabs: `fmt` is the codec of `output_format`
  (`mp3_44100_128` → `mp3`, default `mp3_44100_128`), `voice` the voice id of the path.
- Both routes send the bytes in `AUDIO_CHUNK_BYTES` pieces (one write unless a chunk interval is asked
  for, then one write per piece with the interval between them).
"""

from __future__ import annotations

import hashlib
import json

AUDIO_BYTES_PER_CHAR = 64
AUDIO_CHUNK_BYTES = 1024

MAGIC = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "opus": b"OggS\x00\x02",
    "aac": b"\xff\xf1\x50\x80",
    "flac": b"fLaC",
    "wav": b"RIFF\x00\x00\x00\x00WAVEfmt ",
    "pcm": b"",
    "ulaw": b"",
    "alaw": b"",
}
OPENAI_CONTENT_TYPES = {
    "mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav",
    "pcm": "audio/pcm",
}
ELEVENLABS_CONTENT_TYPES = {
    "mp3": "audio/mpeg", "opus": "audio/opus", "wav": "audio/wav", "pcm": "audio/pcm", "ulaw": "audio/basic",
    "alaw": "audio/x-alaw-basic",
}
ELEVENLABS_DEFAULT_FORMAT = "mp3_44100_128"
ELEVENLABS_MODELS = frozenset({
    "eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3", "eleven_flash_v2",
    "eleven_turbo_v2", "eleven_monolingual_v1", "eleven_multilingual_v1",
})


def audio_bytes(text: str, fmt: str, voice: str) -> bytes:
    seed = hashlib.sha256(f"{voice}|{fmt}|{text}".encode()).digest()
    length = AUDIO_BYTES_PER_CHAR * len(text)
    body = (seed * (length // len(seed) + 1))[:length]
    return MAGIC.get(fmt, b"") + body


def pieces(data: bytes) -> list[bytes]:
    return [data[i:i + AUDIO_CHUNK_BYTES] for i in range(0, len(data), AUDIO_CHUNK_BYTES)] or [b""]


def elevenlabs_codec(output_format: str) -> str | None:
    codec = output_format.partition("_")[0]
    return codec if codec in ELEVENLABS_CONTENT_TYPES else None


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def elevenlabs_error(status: str, message: str) -> dict:
    return {"detail": {"status": status, "message": message}}


def elevenlabs_validation_error(field: str, message: str) -> dict:
    """FastAPI-style 422 body, as ElevenLabs answers a malformed request."""
    return {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]}


def elevenlabs_fault(fault: str) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a fault answered with ElevenLabs' envelope; None for other faults."""
    if fault in ("429", "429-no-retry-after"):
        headers = {"retry-after": "2"} if fault == "429" else {}
        return 429, elevenlabs_error("too_many_concurrent_requests",
                                     "Too many concurrent requests for your subscription."), headers
    if fault == "401":
        return 401, elevenlabs_error("invalid_api_key", "Invalid API key"), {}
    if fault == "503":
        return 503, elevenlabs_error("system_busy", "The system is experiencing heavy traffic, please try again later."), {}
    if fault == "model-not-found":
        return 400, elevenlabs_error("model_not_found", "A model with this model_id does not exist."), {}
    return None


def elevenlabs_server_error() -> dict:
    return elevenlabs_error("internal_server_error", "An internal server error occurred.")
