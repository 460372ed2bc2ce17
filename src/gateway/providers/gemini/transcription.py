"""Gemini as a transcriber: the OpenAI upload → `POST {base}/v1beta/models/{model}:generateContent` with
the audio inline and an instruction to transcribe it (Gemini has no transcription endpoint; its
models take audio as a prompt part).

| OpenAI | Gemini |
| --- | --- |
| `file` | `contents[0].parts[1].inlineData {mimeType, data: base64}`; `mimeType` is the upload's content type when it is `audio/*`, else from the file name's extension (`wav` → `audio/wav`, `mp3` → `audio/mp3`, …), else `audio/mpeg` |
| (the task) | `contents[0].parts[0].text`: `INSTRUCTION` (verbatim transcript, no commentary) |
| `language` | appended to the instruction ("The speech is in <language>.") |
| `prompt` | appended to the instruction as context for spelling and style |
| `temperature` | `generationConfig.temperature` (0 when not given: a transcript should not be creative) |
| `timestamp_granularities[]`, `response_format` | rendered by the gateway; Gemini gives no timestamps, so `verbose_json` has one segment spanning the audio and no words |

Answer: the first candidate's text parts (without `thought` parts), stripped → the transcript;
`usageMetadata.promptTokenCount` / `candidatesTokenCount` (+ `thoughtsTokenCount`) → token usage (billed
at the catalog's token prices). A candidate without text (blocked, empty) is a server_error; errors are
Gemini's chat error mapping. The catalog names these models `gemini/<model>-transcribe` with upstream
name `models/<model>` (Gemini's resource name: one provider cannot list one upstream name twice).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.gemini import api, errors
from gateway.providers.openai_format.transcription import malformed
from gateway.transcription.request import TranscriptionRequest
from gateway.transcription.transcript import Transcript
from gateway.usage import Usage

INSTRUCTION = ("Transcribe the speech in this audio verbatim. Answer with the transcript only: no title, no "
               "commentary, no timestamps, no speaker labels.")
EXTENSION_TYPES = {
    "wav": "audio/wav", "mp3": "audio/mp3", "mpga": "audio/mp3", "mpeg": "audio/mpeg", "aac": "audio/aac",
    "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "flac": "audio/flac", "aiff": "audio/aiff",
    "m4a": "audio/mp4", "mp4": "audio/mp4", "webm": "audio/webm",
}
DEFAULT_TYPE = "audio/mpeg"


def mime_type(content_type: str, filename: str) -> str:
    declared = content_type.split(";")[0].strip().lower()
    if declared.startswith("audio/"):
        return declared
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return EXTENSION_TYPES.get(extension, DEFAULT_TYPE)


def instruction(request: TranscriptionRequest) -> str:
    text = INSTRUCTION
    if request.language:
        text += f" The speech is in {request.language}."
    if request.prompt:
        text += f" Context (for spelling and style; do not transcribe it): {request.prompt}"
    return text


@dataclass(frozen=True)
class GeminiTranscription:
    def build_request(self, request: TranscriptionRequest, upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        upload = request.file
        payload = {
            "contents": [{"role": "user", "parts": [
                {"text": instruction(request)},
                {"inlineData": {"mimeType": mime_type(upload.content_type, upload.filename),
                                "data": base64.b64encode(upload.data).decode("ascii")}},
            ]}],
            "generationConfig": {"temperature": request.temperature if request.temperature is not None else 0.0},
        }
        return UpstreamRequest(
            method="POST",
            url=api.generate_url(endpoint.base_url, upstream_model, stream=False),
            headers=api.headers(endpoint.api_key, stream=False),
            body=json.dumps(payload, separators=(",", ":")).encode(),
        )

    def parse_response(self, body: bytes, request: TranscriptionRequest) -> Transcript:
        try:
            payload = json.loads(body)
        except ValueError:
            raise malformed("gemini", "answered a transcription that is not JSON") from None
        if not isinstance(payload, dict):
            raise malformed("gemini", "answered a transcription that is not a JSON object")
        text = _candidate_text(payload)
        if text is None:
            raise malformed("gemini", "answered no transcript (no text in the first candidate)")
        metadata = payload.get("usageMetadata") if isinstance(payload.get("usageMetadata"), dict) else {}
        usage = None
        if metadata:
            output = int(metadata.get("candidatesTokenCount") or 0) + int(metadata.get("thoughtsTokenCount") or 0)
            usage = Usage(input_tokens=int(metadata.get("promptTokenCount") or 0), output_tokens=output,
                          reasoning_tokens=int(metadata.get("thoughtsTokenCount") or 0))
        return Transcript(text=text, language=request.language, usage=usage)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


def _candidate_text(payload: Mapping[str, Any]) -> str | None:
    candidates = payload.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        return None
    content = candidates[0].get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    texts = [p["text"] for p in parts or () if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")]
    return " ".join("".join(texts).split()) if texts else None


TRANSCRIPTION = GeminiTranscription()
