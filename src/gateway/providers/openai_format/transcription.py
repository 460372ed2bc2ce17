"""Speech-to-text in the OpenAI wire format (`POST {base}/audio/transcriptions`, multipart/form-data):
OpenAI and Groq (its OpenAI-compatible base `/openai/v1`).

| client's upload | upstream upload |
| --- | --- |
| `file` (name, content type, bytes) | `file`, as it is |
| `model` | the upstream name |
| `response_format` | `verbose_json` for the whisper family (duration, language and segments to bill and render from); `json` for `gpt-4o-*-transcribe` (they have only json/text; verbose_json/srt/vtt asked of them → 400 naming `response_format`) |
| `language`, `prompt`, `temperature` | as they are |
| `timestamp_granularities[]` | as they are, when the upstream is asked for verbose_json |
| other text fields (`include[]`, `chunking_strategy`, …) | as they are |

Answer: OpenAI's `{text, language, duration, segments[], words[], usage}` → the normalized transcript;
the answer itself is passed through when it is already in the format the client asked for (keeps
`logprobs`, segment statistics, Groq's `x_groq`). `usage` `{type: duration, seconds}` → billed seconds,
`{type: tokens, input_tokens, output_tokens}` → token usage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.multipart import encode_form
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.openai_format import errors
from gateway.transcription.request import TranscriptionRequest
from gateway.transcription.transcript import Segment, Transcript, Word
from gateway.usage import Usage


def malformed(provider: str, what: str) -> UpstreamError:
    return UpstreamError(ErrorCategory.SERVER_ERROR, f"{provider}: {what}", provider=provider)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def read_words(items: Any, key: str = "word") -> list[Word]:
    words = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get(key), str):
            words.append(Word(item[key], _number(item.get("start")) or 0.0, _number(item.get("end")) or 0.0))
    return words


def read_segments(items: Any) -> list[Segment]:
    segments = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            segments.append(Segment(_number(item.get("start")) or 0.0, _number(item.get("end")) or 0.0, item["text"]))
    return segments


@dataclass(frozen=True)
class OpenAIFormatTranscription:
    provider: str = "openai"
    path: str = "/audio/transcriptions"
    # Models that answer only json/text (OpenAI: gpt-4o-transcribe, gpt-4o-mini-transcribe).
    json_only_prefixes: tuple[str, ...] = ("gpt-4o",)

    def upstream_format(self, upstream_model: str) -> str:
        return "json" if upstream_model.startswith(self.json_only_prefixes) else "verbose_json"

    def build_request(self, request: TranscriptionRequest, upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        fmt = self.upstream_format(upstream_model)
        if fmt == "json" and request.response_format not in ("json", "text"):
            raise UpstreamError(
                ErrorCategory.INVALID_REQUEST,
                f"response_format '{request.response_format}' is not compatible with {upstream_model}; use json or text.",
                param="response_format", provider=self.provider,
            )
        fields = [("model", upstream_model), ("response_format", fmt)]
        for name, value in (("language", request.language), ("prompt", request.prompt)):
            if value is not None:
                fields.append((name, value))
        if request.temperature is not None:
            fields.append(("temperature", repr(request.temperature)))
        if fmt == "verbose_json":
            fields += [("timestamp_granularities[]", value) for value in request.timestamp_granularities]
        for name, values in request.extra.items():
            fields += [(name, value) for value in values]
        content_type, body = encode_form(fields, [("file", request.file)])
        headers = {"content-type": content_type}
        if endpoint.api_key:
            headers["authorization"] = f"Bearer {endpoint.api_key}"
        return UpstreamRequest("POST", endpoint.base_url.rstrip("/") + self.path, headers, body)

    def parse_response(self, body: bytes, request: TranscriptionRequest) -> Transcript:
        try:
            payload = json.loads(body)
        except ValueError:
            raise malformed(self.provider, "answered a transcription that is not JSON") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise malformed(self.provider, "answered a transcription without text")
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        tokens = None
        if usage.get("type") == "tokens":
            tokens = Usage(input_tokens=int(usage.get("input_tokens") or 0), output_tokens=int(usage.get("output_tokens") or 0))
        upstream_fmt = "verbose_json" if "segments" in payload or "duration" in payload else "json"
        return Transcript(
            text=payload["text"],
            language=payload.get("language") if isinstance(payload.get("language"), str) else None,
            duration=_number(payload.get("duration")),
            segments=read_segments(payload.get("segments")),
            words=read_words(payload.get("words")),
            billed_seconds=_number(usage.get("seconds")) if usage.get("type") == "duration" else None,
            usage=tokens,
            passthrough=payload,
            passthrough_format=upstream_fmt,
        )

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)

