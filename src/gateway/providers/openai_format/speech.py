"""Text-to-speech in the OpenAI wire format (`POST {base}/audio/speech`): the body passed through with
`model` set to the upstream name; the answer is the audio file's bytes (streamed as generated)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.openai_format import errors
from gateway.providers.openai_format.chat import bearer_json_post

# OpenAI's `response_format` values and the media types its API answers them with.
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
DEFAULT_FORMAT = "mp3"


def response_format(body: Mapping[str, Any]) -> str:
    return body.get("response_format") or DEFAULT_FORMAT


@dataclass(frozen=True)
class OpenAIFormatSpeech:
    path: str = "/audio/speech"

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload = {**body, "model": upstream_model}
        return bearer_json_post(endpoint.base_url.rstrip("/") + self.path, endpoint.api_key, payload)

    def content_type(self, body: dict[str, Any]) -> str:
        return CONTENT_TYPES.get(response_format(body), "application/octet-stream")

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)
