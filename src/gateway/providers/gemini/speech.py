"""Gemini text-to-speech (`gemini-2.5-flash-preview-tts`, `gemini-2.5-pro-preview-tts`) behind the OpenAI
`/v1/audio/speech`: `POST {base}/v1beta/models/{model}:generateContent` asking for audio output.

| OpenAI | Gemini |
| --- | --- |
| `input` | `contents: [{role: user, parts: [{text}]}]` |
| `instructions` | put before the text as Gemini's TTS guide shows style prompts: `"{instructions}: {input}"` |
| `voice` | `generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName`: OpenAI's names mapped (`VOICES`), any other name passed as it is (a Gemini voice: `Kore`, `Puck`, `Zephyr`, …) |
| (always) | `generationConfig.responseModalities: ["AUDIO"]` |
| `response_format` wav (**the default here**) / pcm | Gemini answers raw PCM (`inlineData.mimeType` `audio/L16;codec=pcm;rate=24000`: 16-bit signed little-endian, mono); `wav` wraps it in a RIFF/WAVE header, `pcm` is the bytes as they are |
| `response_format` mp3 / opus / aac / flac | 400 naming `response_format`: the gateway does not transcode |
| `speed` other than 1 | 400 naming `speed` (Gemini has no speed setting; ask for a pace in `instructions`) |

Default format: the OpenAI SDK sends no `response_format` and OpenAI's default is mp3, which Gemini cannot
produce; the gateway answers WAV then (a playable file, `Content-Type: audio/wav`) rather than refusing.

Answer: `candidates[0].content.parts[].inlineData {mimeType, data}` (base64) → the audio; a prompt blocked by
safety (`promptFeedback.blockReason`, no candidates) → `content_filter`; an answer without audio → an
upstream server error. Usage is billed per character of `input` (the catalog holds a per-character
equivalent of Gemini's token prices).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.gemini import api, errors

DEFAULT_FORMAT = "wav"
CONTENT_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm"}
# OpenAI's voices → Gemini prebuilt voices of a similar character (Gemini's voice list describes each one).
VOICES = {
    "alloy": "Zephyr",     # bright
    "ash": "Orus",         # firm
    "ballad": "Algieba",   # smooth
    "coral": "Aoede",      # breezy
    "echo": "Charon",      # informative
    "fable": "Puck",       # upbeat
    "nova": "Kore",        # firm
    "onyx": "Fenrir",      # excitable
    "sage": "Iapetus",     # clear
    "shimmer": "Leda",     # youthful
    "verse": "Enceladus",  # breathy
    "marin": "Sulafat",    # warm
    "cedar": "Gacrux",     # mature
}
PCM_RATE = 24000
_RATE = re.compile(r"rate=(\d+)")


def _invalid(message: str, param: str) -> UpstreamError:
    return UpstreamError(ErrorCategory.INVALID_REQUEST, message, param=param, provider="gemini")


def output_format(body: Mapping[str, Any]) -> str:
    wanted = body.get("response_format") or DEFAULT_FORMAT
    if wanted not in CONTENT_TYPES:
        raise _invalid(f"Gemini speech comes as PCM: response_format '{wanted}' cannot be produced "
                       f"(use wav or pcm).", "response_format")
    return wanted


def voice_name(voice: str) -> str:
    return VOICES.get(voice.lower(), voice)


def build_body(body: Mapping[str, Any]) -> dict[str, Any]:
    output_format(body)
    speed = body.get("speed")
    if speed is not None and float(speed) != 1.0:
        raise _invalid("Gemini speech has no speed setting: leave 'speed' out, or ask for a pace in 'instructions'.",
                       "speed")
    text = body["input"]
    if body.get("instructions"):
        text = f"{body['instructions']}: {text}"
    return {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice_name(str(body["voice"]))}}},
        },
    }


def wav(pcm: bytes, rate: int, channels: int = 1, bits: int = 16) -> bytes:
    """PCM samples in a RIFF/WAVE file (a 44-byte header: `fmt ` chunk, then the `data` chunk)."""
    block = channels * bits // 8
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, channels, rate,
                         rate * block, block, bits, b"data", len(pcm))
    return header + pcm


def pcm_of(payload: Mapping[str, Any]) -> tuple[bytes, int]:
    """The PCM bytes of a generateContent answer and their sample rate, or the error the answer means."""
    candidates = payload.get("candidates")
    feedback = payload.get("promptFeedback")
    if not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
        raise UpstreamError(ErrorCategory.CONTENT_FILTER, f"Gemini blocked the prompt ({feedback['blockReason']})")
    first = candidates[0] if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict) else {}
    parts = (first.get("content") or {}).get("parts") if isinstance(first.get("content"), dict) else None
    for part in parts if isinstance(parts, list) else ():
        inline = part.get("inlineData") if isinstance(part, dict) else None
        if isinstance(inline, dict) and isinstance(inline.get("data"), str):
            try:
                data = base64.b64decode(inline["data"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise UpstreamError(ErrorCategory.SERVER_ERROR, "Gemini audio is not base64") from exc
            found = _RATE.search(str(inline.get("mimeType") or ""))
            return data, int(found.group(1)) if found else PCM_RATE
    reason = first.get("finishReason")
    if reason in ("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"):
        raise UpstreamError(ErrorCategory.CONTENT_FILTER, f"Gemini stopped the audio ({reason})")
    raise UpstreamError(ErrorCategory.SERVER_ERROR, "Gemini speech answer carries no audio")


@dataclass(frozen=True)
class GeminiSpeech:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        return UpstreamRequest(
            "POST",
            api.generate_url(endpoint.base_url, upstream_model, stream=False),
            api.headers(endpoint.api_key, stream=False),
            json.dumps(build_body(body), ensure_ascii=False).encode(),
        )

    def content_type(self, body: dict[str, Any]) -> str:
        return CONTENT_TYPES[output_format(body)]

    def audio_from(self, raw: bytes, body: dict[str, Any]) -> bytes:
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "Gemini answered with invalid JSON") from exc
        if not isinstance(payload, dict):
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "Gemini answer is not a JSON object")
        pcm, rate = pcm_of(payload)
        return wav(pcm, rate) if output_format(body) == "wav" else pcm

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


SPEECH = GeminiSpeech()
