"""What a provider adapter is: pure transforms between the OpenAI format and a provider's wire format.

An adapter never does I/O and never reads configuration: the pipeline hands it the endpoint
(base URL and key, from key resolution) and sends what it builds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from gateway.errors import UpstreamError
from gateway.sse import SseEvent
from gateway.transcription.request import TranscriptionRequest
from gateway.transcription.transcript import Transcript
from gateway.usage import Usage


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and as whom to call a provider: decided by key resolution, not by the adapter."""

    base_url: str
    api_key: str | None


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


class MalformedEvent(ValueError):
    """An upstream stream event that cannot be read; the pipeline skips and counts it."""


def event_object(data: str) -> dict[str, Any]:
    """A stream event's data as a JSON object, or MalformedEvent."""
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise MalformedEvent(data[:200]) from exc
    if not isinstance(value, dict):
        raise MalformedEvent(data[:200])
    return value


@dataclass(slots=True)
class StreamState:
    """What a stream transform remembers between events."""

    include_usage: bool = False     # did the client ask for the usage chunk
    usage: Usage | None = None
    finish_reason: str | None = None
    done: bool = False              # the provider said the stream is complete
    extra: dict[str, Any] = field(default_factory=dict)  # adapter-specific memory


class ChatAdapter(Protocol):
    """Chat completions: OpenAI request in, provider request out, and the answer back."""

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest: ...

    def parse_response(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]: ...

    def transform_event(self, event: SseEvent, state: StreamState) -> list[dict[str, Any]]: ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError: ...


class EmbeddingsAdapter(Protocol):
    """Embeddings: OpenAI `/v1/embeddings` request in, provider request out, and the answer back as an
    OpenAI embeddings list (in the encoding the client asked for). Usage None: the provider gave no
    counts (the pipeline estimates them and marks the row estimated)."""

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest: ...

    def parse_response(self, payload: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]: ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError: ...


class SpeechAdapter(Protocol):
    """Text-to-speech: OpenAI `/v1/audio/speech` request in, provider request out. An audio answer is
    relayed as it arrives; `content_type` is the media type of the format the body asked for (or of the
    provider's default format when the body names none).

    Providers that answer a JSON document carrying the audio (Gemini's `inlineData`, Workers AI's melotts
    `{"audio": base64}`) also have `audio_from`: a JSON answer (`application/json` content type) is then read
    whole and handed to it, and the bytes it returns are the answer. Adapters without it are relayed only."""

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest: ...

    def content_type(self, body: dict[str, Any]) -> str: ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError: ...


class BufferedSpeechAdapter(SpeechAdapter, Protocol):
    """A SpeechAdapter whose provider may answer JSON: `audio_from` turns that answer into the audio file
    (in the format `content_type(body)` names), or raises the UpstreamError the document reports."""

    def audio_from(self, raw: bytes, body: dict[str, Any]) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ImageResult:
    """An image answer in the OpenAI format, and what it is billed by: the size and quality the images were
    made at (None where the provider has no such knob or does not say; the price lookup then matches `*`)."""

    answer: dict[str, Any]
    size: str | None
    quality: str | None


class ImageAdapter(Protocol):
    """Image generation: OpenAI `/v1/images/generations` request in, provider request out, and the answer
    (JSON, or the image file itself where the provider answers one) back as an OpenAI images response
    (`data[].b64_json` or `data[].url`, as the client asked). `parse_response` gets the raw bytes and their
    content type (and the upstream model, whose defaults decide the billed size and quality), so an
    adapter reads a JSON envelope and an image file alike."""

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest: ...

    def parse_response(self, raw: bytes, content_type: str, body: dict[str, Any], upstream_model: str) -> ImageResult: ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError: ...


class TranscriptionAdapter(Protocol):
    """Speech-to-text: the validated OpenAI `/v1/audio/transcriptions` upload in, provider request out,
    and the provider's answer back as one normalized `Transcript` (text, language, duration, segments,
    words, token usage); `transcription/transcript.render` turns it into the client's `response_format`.
    A malformed answer raises UpstreamError (server_error)."""

    def build_request(
        self, request: TranscriptionRequest, upstream_model: str, endpoint: Endpoint
    ) -> UpstreamRequest: ...

    def parse_response(self, body: bytes, request: TranscriptionRequest) -> Transcript: ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError: ...


@dataclass(frozen=True, slots=True)
class VideoJobState:
    """What a provider said about a video job, in the OpenAI video object's words.

    `status` is queued | in_progress | completed | failed; `error` ({"code", "message"}) only when failed;
    `result` is what the adapter needs later to fetch the content (Gemini: the video's uri), stored with
    the job; `seconds` is the duration the provider reports having made, when it reports one; `cost_usd`
    is what the provider says the job cost (Together's `outputs.cost`, xAI's `usage.cost_in_usd_ticks`),
    which bills the job instead of the catalog's price when given."""

    status: str
    progress: int = 0
    upstream_id: str | None = None
    seconds: int | None = None
    error: dict[str, str] | None = None
    result: dict[str, Any] | None = None
    expires_at: int | None = None   # unix seconds, when the provider says its file goes away
    cost_usd: float | None = None


class VideoAdapter(Protocol):
    """Video generation, an asynchronous job: OpenAI `POST /v1/videos` in, the provider's job out; the
    job's status polled and, once done, its result fetched.

    `job_shape` validates the body's `seconds` and `size` for this provider and model and answers them
    with the provider's defaults filled in (a value the provider cannot do is a 400 naming the field);
    it is what the job records and bills. The pipeline keeps the job; the adapter only translates."""

    def job_shape(self, body: dict[str, Any], upstream_model: str) -> tuple[int, str]: ...

    def build_create(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest: ...

    def parse_created(self, payload: dict[str, Any]) -> VideoJobState: ...

    def build_status(self, upstream_job_id: str, endpoint: Endpoint) -> UpstreamRequest: ...

    def parse_status(self, payload: dict[str, Any]) -> VideoJobState: ...

    def build_content(
        self, upstream_job_id: str, result: Mapping[str, Any] | None, variant: str, endpoint: Endpoint
    ) -> UpstreamRequest: ...

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError: ...


@dataclass(frozen=True, slots=True)
class EnvCredentials:
    """A provider's own env setting names: the key, the base URL override, and a path appended to the base
    URL whose `{NAME}` placeholders are filled from the settings of that name (all required)."""

    api_key: str
    base_url: str | None = None
    base_path: str = ""


@dataclass(frozen=True)
class ProviderManifest:
    """One provider adapter as the registry knows it."""

    name: str                              # registry name ('openai', 'openai_compatible')
    display_name: str
    default_base_url: str | None           # None: the provider row must give one (custom servers)
    chat: ChatAdapter | None = None
    embeddings: EmbeddingsAdapter | None = None
    speech: SpeechAdapter | None = None
    images: ImageAdapter | None = None
    transcription: TranscriptionAdapter | None = None
    video: VideoAdapter | None = None
    requires_api_key: bool = True
    # Env settings named otherwise than `<PREFIX>_API_KEY` / `<PREFIX>_BASE_URL` (Workers AI: CLOUDFLARE_*).
    env: EnvCredentials | None = None
    # Reachable through the Worker's `AI` binding (the AiRunner port) when no env key is configured.
    ai_binding: bool = False
