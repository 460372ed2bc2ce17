"""ElevenLabs speech-to-text (Scribe): the OpenAI upload → `POST {base}/v1/speech-to-text`
(multipart/form-data, key in `xi-api-key`).

| OpenAI | ElevenLabs |
| --- | --- |
| `file` | `file`, as it is |
| `model` (upstream name) | `model_id` (`scribe_v1`) |
| `language` | `language_code` (ISO-639-1 or -3, as given) |
| `temperature` | `temperature` |
| `timestamp_granularities[]` | `timestamps_granularity=word` (always: segments are built from the words) |
| `prompt` | dropped (no equivalent) |

Answer `{language_code, language_probability, text, words: [{text, start, end, type}]}`: `text` as it is;
`words` of type `word` → OpenAI words (`spacing` and `audio_event` items left out); segments are the
words grouped into sentences (a word ending in . ! ? closes one); `language_code` as the language.
ElevenLabs reports no duration: the gateway measures the upload (WAV header, else the estimate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

from gateway.errors import UpstreamError
from gateway.multipart import encode_form
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.elevenlabs import api, errors
from gateway.providers.openai_format.transcription import malformed, read_words
from gateway.transcription.request import TranscriptionRequest
from gateway.transcription.transcript import Transcript, segments_from_words


@dataclass(frozen=True)
class ElevenLabsTranscription:
    def build_request(self, request: TranscriptionRequest, upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        fields = [("model_id", upstream_model), ("timestamps_granularity", "word")]
        if request.language:
            fields.append(("language_code", request.language))
        if request.temperature is not None:
            fields.append(("temperature", repr(request.temperature)))
        content_type, body = encode_form(fields, [("file", request.file)])
        headers = {"content-type": content_type}
        if endpoint.api_key:
            headers[api.AUTH_HEADER] = endpoint.api_key
        return UpstreamRequest("POST", api.speech_to_text_url(endpoint.base_url), headers, body)

    def parse_response(self, body: bytes, request: TranscriptionRequest) -> Transcript:
        try:
            payload = json.loads(body)
        except ValueError:
            raise malformed("elevenlabs", "answered a transcription that is not JSON") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise malformed("elevenlabs", "answered a transcription without text")
        items = payload.get("words") if isinstance(payload.get("words"), list) else []
        words = read_words([w for w in items if isinstance(w, dict) and w.get("type", "word") == "word"], key="text")
        language = payload.get("language_code")
        return Transcript(
            text=payload["text"],
            language=language if isinstance(language, str) else None,
            segments=segments_from_words(words),
            words=words,
        )

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


TRANSCRIPTION = ElevenLabsTranscription()
