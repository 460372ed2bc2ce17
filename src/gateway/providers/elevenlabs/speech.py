"""ElevenLabs text-to-speech: the OpenAI speech request → `POST /v1/text-to-speech/{voice_id}/stream`.

| OpenAI | ElevenLabs |
| --- | --- |
| `model` (upstream name) | `model_id` (`eleven_multilingual_v2`, `eleven_flash_v2_5`, …) |
| `input` | `text` |
| `voice` | the voice id in the path, as it is (pass an ElevenLabs voice id, e.g. `JBFqnCBsd6RMkjVDRZzb`) |
| `response_format` mp3 / opus / wav / pcm | `output_format` `mp3_44100_128` / `opus_48000_128` / `wav_44100` / `pcm_24000` |
| `response_format` aac / flac | 400 naming `response_format` (ElevenLabs has neither) |
| `speed` | `voice_settings.speed` (ElevenLabs takes 0.7–1.2: other values are a 400 naming `speed`) |
| `instructions` | dropped (no equivalent) |
| an extra `output_format` field | passed as it is (any ElevenLabs format), content type from its codec |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.elevenlabs import api, errors

OUTPUT_FORMATS = {
    "mp3": "mp3_44100_128",
    "opus": "opus_48000_128",
    "wav": "wav_44100",
    "pcm": "pcm_24000",
}
# The codec prefix of an ElevenLabs output_format and its media type.
CODEC_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
    "ulaw": "audio/basic",
    "alaw": "audio/x-alaw-basic",
}
SPEED_RANGE = (0.7, 1.2)


def _invalid(message: str, param: str) -> UpstreamError:
    return UpstreamError(ErrorCategory.INVALID_REQUEST, message, param=param, provider="elevenlabs")


def output_format(body: Mapping[str, Any]) -> str:
    explicit = body.get("output_format")
    if isinstance(explicit, str) and explicit:
        return explicit
    wanted = body.get("response_format") or "mp3"
    found = OUTPUT_FORMATS.get(wanted)
    if found is None:
        supported = ", ".join(OUTPUT_FORMATS)
        raise _invalid(f"ElevenLabs cannot produce response_format '{wanted}' (supported: {supported}).",
                       "response_format")
    return found


@dataclass(frozen=True)
class ElevenLabsSpeech:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload: dict[str, Any] = {"text": body["input"], "model_id": upstream_model}
        speed = body.get("speed")
        if speed is not None:
            low, high = SPEED_RANGE
            if not low <= speed <= high:
                raise _invalid(f"ElevenLabs takes a speed between {low} and {high}, got {speed}.", "speed")
            payload["voice_settings"] = {"speed": speed}
        return UpstreamRequest(
            method="POST",
            url=api.speech_url(endpoint.base_url, str(body["voice"]), output_format(body)),
            headers=api.headers(endpoint.api_key),
            body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(),
        )

    def content_type(self, body: dict[str, Any]) -> str:
        codec = output_format(body).partition("_")[0]
        return CODEC_TYPES.get(codec, "application/octet-stream")

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


SPEECH = ElevenLabsSpeech()
