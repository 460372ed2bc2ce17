"""ElevenLabs' API (api.elevenlabs.io): base URL, auth header, endpoints.

`ELEVENLABS_BASE_URL` is the host (without `/v1`); the key goes in the `xi-api-key` header.
"""

from __future__ import annotations

from urllib.parse import quote

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
AUTH_HEADER = "xi-api-key"


def headers(api_key: str | None) -> dict[str, str]:
    result = {"content-type": "application/json"}
    if api_key:
        result[AUTH_HEADER] = api_key
    return result


def speech_url(base_url: str, voice_id: str, output_format: str) -> str:
    """`{base}/v1/text-to-speech/{voice_id}/stream?output_format=…` (the streaming endpoint: audio
    chunks as they are generated)."""
    base = base_url.rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    return f"{base}/v1/text-to-speech/{quote(voice_id, safe='')}/stream?output_format={quote(output_format, safe='_')}"


def speech_to_text_url(base_url: str) -> str:
    """`{base}/v1/speech-to-text` (one multipart upload in, the transcript as JSON out)."""
    base = base_url.rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    return f"{base}/v1/speech-to-text"
