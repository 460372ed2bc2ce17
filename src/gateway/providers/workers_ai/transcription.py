"""Workers AI speech-to-text: the OpenAI upload → `POST {base}/accounts/{account}/ai/run/{model}` with
JSON inputs (in the Worker the same inputs go to `env.AI.run(model, inputs)` unchanged).

| OpenAI | `@cf/openai/whisper-large-v3-turbo` | `@cf/openai/whisper` (and `whisper-tiny-en`) |
| --- | --- | --- |
| `file` | `audio`: the bytes base64-encoded | `audio`: the bytes as an array of numbers 0-255 |
| `language` | `language` | dropped (the model detects it) |
| `prompt` | `initial_prompt` | dropped |
| (the task) | `task: "transcribe"` | — |
| `temperature`, `timestamp_granularities[]` | dropped / rendered by the gateway | dropped / rendered |

Answers, inside Cloudflare's `{"result": …, "success": true}` envelope:
- turbo: `{text, word_count, segments: [{start, end, text, words: [{word, start, end}]}], transcription_info:
  {language, duration, …}, vtt}` → text, segments, the segments' words, language and duration;
- whisper: `{text, word_count, words: [{word, start, end}], vtt}` → text and words (segments are the words
  grouped into sentences); no duration: the gateway measures the upload.
Errors are Workers AI's chat error mapping (Cloudflare's code table).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.openai_format.transcription import malformed, read_segments, read_words
from gateway.providers.workers_ai import api, errors
from gateway.transcription.request import TranscriptionRequest
from gateway.transcription.transcript import Transcript, segments_from_words

# Models whose `audio` input is base64 text (newer schema); the others take a byte array.
BASE64_MODELS = ("@cf/openai/whisper-large-v3-turbo",)


def inputs(request: TranscriptionRequest, upstream_model: str) -> dict[str, Any]:
    data = request.file.data
    if upstream_model not in BASE64_MODELS:
        return {"audio": list(data)}
    result: dict[str, Any] = {"audio": base64.b64encode(data).decode("ascii"), "task": "transcribe"}
    if request.language:
        result["language"] = request.language
    if request.prompt:
        result["initial_prompt"] = request.prompt
    return result


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class WorkersAITranscription:
    def build_request(self, request: TranscriptionRequest, upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        return api.run_request(endpoint, upstream_model, inputs(request, upstream_model))

    def parse_response(self, body: bytes, request: TranscriptionRequest) -> Transcript:
        try:
            payload = json.loads(body)
        except ValueError:
            raise malformed("workers-ai", "answered a transcription that is not JSON") from None
        result = payload.get("result", payload) if isinstance(payload, dict) else None
        if not isinstance(result, dict) or not isinstance(result.get("text"), str):
            raise malformed("workers-ai", "answered a transcription without text")
        info = result.get("transcription_info") if isinstance(result.get("transcription_info"), dict) else {}
        segments = read_segments(result.get("segments"))
        words = read_words(result.get("words"))
        if not words:
            for item in result.get("segments") or ():
                if isinstance(item, dict):
                    words += read_words(item.get("words"))
        return Transcript(
            text=result["text"].strip(),
            language=info.get("language") if isinstance(info.get("language"), str) else None,
            duration=_number(info.get("duration")),
            segments=segments or segments_from_words(words),
            words=words,
        )

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


TRANSCRIPTION = WorkersAITranscription()
