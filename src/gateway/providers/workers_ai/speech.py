"""Workers AI text-to-speech behind the OpenAI `/v1/audio/speech`, on the run endpoint (`…/ai/run/{model}`)
or `AI.run`. Two model families, told apart by the upstream model name:

Deepgram Aura (`@cf/deepgram/aura-1`, `@cf/deepgram/aura-2-en`) answers the audio file itself (REST: the
bytes, `audio/mpeg` for mp3; the binding: a ReadableStream), relayed as it comes:

| OpenAI | Aura inputs |
| --- | --- |
| `input` | `text` |
| `voice` | `speaker`, as given (`angus`, `asteria`, `luna`, … — aura-2-en has its own list); an OpenAI voice name (`alloy`, `echo`, …) is not an Aura speaker: it is left out and the model's default speaker speaks (aura-1 `angus`, aura-2-en `luna`) |
| `response_format` mp3 (default) / opus / aac / flac | `encoding` mp3 / opus (`container: ogg`) / aac / flac |
| `response_format` wav / pcm | `encoding: linear16`, `container: wav` / `none`, `sample_rate: 24000` (OpenAI's pcm: 24 kHz, 16-bit, mono) |
| `speed`, `instructions` | dropped (no Aura input) |

MeloTTS (`@cf/myshell-ai/melotts`) answers JSON `{"result": {"audio": "<base64 MP3>"}, "success": true}` (the
binding: `{audio}`), which `audio_from` decodes:

| OpenAI | MeloTTS inputs |
| --- | --- |
| `input` | `prompt` |
| `voice` | not used (one voice per language); an extra `lang` field is passed (`en` when absent) |
| `response_format` mp3 (default) | its only output; other formats → 400 naming `response_format` |
| `speed`, `instructions` | dropped |
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.openai_format.speech import CONTENT_TYPES, response_format
from gateway.providers.workers_ai import api, errors

AURA_SPEAKERS = frozenset({
    # aura-1
    "angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna", "zeus", "perseus", "helios", "hera", "stella",
    # aura-2-en
    "amalthea", "andromeda", "apollo", "aries", "atlas", "aurora", "callista", "cora", "cordelia", "delia", "draco",
    "electra", "harmonia", "helena", "hermes", "hyperion", "iris", "janus", "juno", "jupiter", "mars", "minerva",
    "neptune", "odysseus", "ophelia", "pandora", "phoebe", "pluto", "saturn", "thalia", "theia", "vesta",
})
AURA_ENCODINGS = {
    "mp3": {"encoding": "mp3"},
    "opus": {"encoding": "opus", "container": "ogg"},
    "aac": {"encoding": "aac"},
    "flac": {"encoding": "flac"},
    "wav": {"encoding": "linear16", "container": "wav", "sample_rate": 24000},
    "pcm": {"encoding": "linear16", "container": "none", "sample_rate": 24000},
}
MELOTTS_FORMAT = "mp3"


def is_melotts(upstream_model: str) -> bool:
    return upstream_model.rsplit("/", 1)[-1] == "melotts"


def _invalid(message: str, param: str) -> UpstreamError:
    return UpstreamError(ErrorCategory.INVALID_REQUEST, message, param=param, provider="workers-ai")


def build_inputs(body: Mapping[str, Any], upstream_model: str) -> dict[str, Any]:
    fmt = response_format(body)
    if is_melotts(upstream_model):
        if fmt != MELOTTS_FORMAT:
            raise _invalid(f"MeloTTS answers mp3 only, not response_format '{fmt}'.", "response_format")
        lang = body.get("lang")
        return {"prompt": body["input"], "lang": lang if isinstance(lang, str) and lang else "en"}
    inputs: dict[str, Any] = {"text": body["input"], **AURA_ENCODINGS[fmt]}
    voice = str(body.get("voice") or "").lower()
    if voice in AURA_SPEAKERS:
        inputs["speaker"] = voice
    return inputs


def melotts_audio(raw: bytes) -> bytes:
    """The MP3 of a MeloTTS answer (`{"result": {"audio": base64}}`), or the error it reports."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("success") is False:
        raise errors.parse_error(500, {}, raw)
    result = payload.get("result") if isinstance(payload, dict) else None
    audio = result.get("audio") if isinstance(result, dict) else None
    if not isinstance(audio, str) or not audio:
        raise UpstreamError(ErrorCategory.SERVER_ERROR, "Workers AI speech answer carries no audio")
    try:
        return base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UpstreamError(ErrorCategory.SERVER_ERROR, "Workers AI speech answer's audio is not base64") from exc


@dataclass(frozen=True)
class WorkersAISpeech:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        return api.run_request(endpoint, upstream_model, build_inputs(body, upstream_model))

    def content_type(self, body: dict[str, Any]) -> str:
        return CONTENT_TYPES[response_format(body)]

    def audio_from(self, raw: bytes, body: dict[str, Any]) -> bytes:
        return melotts_audio(raw)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


SPEECH = WorkersAISpeech()
