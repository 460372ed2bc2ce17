"""Gemini API video generation (Veo) behind the OpenAI Videos API: a long-running operation.

`POST {base}/v1beta/models/{model}:predictLongRunning` (key in `x-goog-api-key`) answers
`{"name": "models/{model}/operations/{id}"}`; `GET {base}/v1beta/{name}` answers the operation,
`{"done": true, "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}]}}}` once
made, or `{"done": true, "error": {"code", "message"}}`; the file is a `GET` of that uri with the key.

| OpenAI `/v1/videos` | Gemini `predictLongRunning` |
| --- | --- |
| `prompt` | `instances[0].prompt` |
| `size` `1280x720` / `720x1280` (default `1280x720`) | `parameters.aspectRatio` `16:9` / `9:16`, `resolution` `720p` |
| `size` `1920x1080` / `1080x1920` | `aspectRatio` `16:9` / `9:16`, `resolution` `1080p` (not Veo 2: 400 naming `size`) |
| other sizes (`1024x1792`, …) | 400 naming `size` |
| `seconds` (default 8) | `parameters.durationSeconds`: Veo 3.0 takes 8, Veo 3.1 4/6/8, Veo 2 5–8; else 400 naming `seconds` |
| `input_reference.image_url` as a `data:` URL | `instances[0].image` `{bytesBase64Encoded, mimeType}` |
| `input_reference` as an https URL or a `file_id` | 400 naming `input_reference` (a transform does no I/O) |
| `negative_prompt`, `person_generation` (extra fields) | `parameters.negativePrompt`, `parameters.personGeneration` |
| `variant` of the content: `video` | the sample's uri; `thumbnail` / `spritesheet`: 400 naming `variant` (Veo makes neither) |

Operation → OpenAI status: not `done` → `in_progress` (`metadata.progressPercent` as progress when
given, else 0; the create answer itself → `queued`); `done` with a sample → `completed`; `done` with
`error` → `failed` (`code` = the google.rpc status name lower-cased, e.g. `invalid_argument`); `done`
with no sample and `raiMediaFilteredCount` → `failed`, `code` `moderation_blocked`, the
`raiMediaFilteredReasons` as the message.

The key goes only to the configured Gemini base URL's host: a sample uri on any other scheme, host or
port is refused (502), never fetched — with or without the key — so an answer cannot steer the gateway's
key (or its network position) elsewhere. Errors: `gemini.errors`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest, VideoJobState
from gateway.providers.gemini import api, errors
from gateway.providers.openai_format.video import invalid, one_of, requested_seconds, requested_size

# OpenAI size -> (aspectRatio, resolution)
SIZES = {
    "1280x720": ("16:9", "720p"),
    "720x1280": ("9:16", "720p"),
    "1920x1080": ("16:9", "1080p"),
    "1080x1920": ("9:16", "1080p"),
}
DEFAULT_SIZE = "1280x720"
DEFAULT_SECONDS = 8
# Upstream-name prefix -> durations that family takes (Gemini API Veo docs); other models: any.
DURATIONS = (("veo-2.", (5, 6, 7, 8)), ("veo-3.0", (8,)), ("veo-3.1", (4, 6, 8)))
NO_RESOLUTION = ("veo-2.",)  # Veo 2 makes 720p only and takes no `resolution` parameter
EXTRA_PARAMETERS = {"negative_prompt": "negativePrompt", "person_generation": "personGeneration"}
_DATA_URL = re.compile(r"^data:(image/[a-zA-Z0-9.+-]+);base64,(.*)$", re.DOTALL)


def _durations(model: str) -> tuple[int, ...] | None:
    for prefix, allowed in DURATIONS:
        if model.startswith(prefix):
            return allowed
    return None


def _image(reference: Any) -> dict[str, str]:
    url = reference.get("image_url") if isinstance(reference, dict) else None
    match = _DATA_URL.match(url) if isinstance(url, str) else None
    if match is None:
        raise invalid("Gemini takes input_reference only as {\"image_url\": \"data:image/...;base64,...\"} "
                      "(or a file upload): it cannot fetch URLs or OpenAI file ids.", "input_reference", "gemini")
    try:
        base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise invalid("input_reference.image_url is not valid base64.", "input_reference", "gemini") from None
    return {"bytesBase64Encoded": match.group(2), "mimeType": match.group(1)}


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.scheme in ("http", "https")


@dataclass(frozen=True)
class GeminiVideo:
    def job_shape(self, body: dict[str, Any], upstream_model: str) -> tuple[int, str]:
        model = api.bare_model(upstream_model)
        seconds = requested_seconds(body) or DEFAULT_SECONDS
        size = requested_size(body) or DEFAULT_SIZE
        allowed = _durations(model)
        if allowed is not None:
            one_of(seconds, allowed, "seconds", "gemini", model)
        sizes = tuple(SIZES)
        if model.startswith(NO_RESOLUTION):
            sizes = tuple(s for s, (_, resolution) in SIZES.items() if resolution == "720p")
        one_of(size, sizes, "size", "gemini", model)
        return seconds, size

    def build_create(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        model = api.bare_model(upstream_model)
        seconds, size = self.job_shape(body, upstream_model)
        aspect_ratio, resolution = SIZES[size]
        instance: dict[str, Any] = {"prompt": body["prompt"]}
        if body.get("input_reference") is not None:
            instance["image"] = _image(body["input_reference"])
        parameters: dict[str, Any] = {"aspectRatio": aspect_ratio, "durationSeconds": seconds}
        if not model.startswith(NO_RESOLUTION):
            parameters["resolution"] = resolution
        for field, name in EXTRA_PARAMETERS.items():
            if body.get(field) is not None:
                parameters[name] = body[field]
        return UpstreamRequest(
            method="POST",
            url=f"{_versioned(endpoint.base_url)}/models/{quote(model, safe='-._~')}:predictLongRunning",
            headers=api.headers(endpoint.api_key, stream=False),
            body=json.dumps({"instances": [instance], "parameters": parameters},
                            separators=(",", ":"), ensure_ascii=False).encode(),
        )

    def parse_created(self, payload: dict[str, Any]) -> VideoJobState:
        name = payload.get("name")
        if not isinstance(name, str) or not name:
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "the operation answer has no name")
        if payload.get("done"):
            return self.parse_status(payload)
        return VideoJobState(status="queued", progress=0, upstream_id=name)

    def build_status(self, upstream_job_id: str, endpoint: Endpoint) -> UpstreamRequest:
        url = f"{_versioned(endpoint.base_url)}/{quote(upstream_job_id, safe='/-._~')}"
        return UpstreamRequest("GET", url, _key_header(endpoint), None)

    def parse_status(self, payload: dict[str, Any]) -> VideoJobState:
        name = payload.get("name") if isinstance(payload.get("name"), str) else None
        if not payload.get("done"):
            percent = (payload.get("metadata") or {}).get("progressPercent")
            progress = int(percent) if isinstance(percent, (int, float)) and not isinstance(percent, bool) else 0
            return VideoJobState(status="in_progress", progress=max(0, min(99, progress)), upstream_id=name)
        error = payload.get("error")
        if isinstance(error, dict):
            code = str(error.get("status") or _RPC_CODES.get(error.get("code"), "video_generation_failed")).lower()
            return VideoJobState("failed", 100, name, error={"code": code, "message": str(error.get("message") or "")})
        answer = ((payload.get("response") or {}).get("generateVideoResponse")) or {}
        samples = answer.get("generatedSamples") or []
        uri = ((samples[0] or {}).get("video") or {}).get("uri") if samples and isinstance(samples[0], dict) else None
        if isinstance(uri, str) and uri:
            return VideoJobState("completed", 100, name, result={"uri": uri})
        reasons = [str(r) for r in answer.get("raiMediaFilteredReasons") or ()]
        if answer.get("raiMediaFilteredCount") or reasons:
            message = " ".join(reasons) or "The video was blocked by the provider's safety filters."
            return VideoJobState("failed", 100, name, error={"code": "moderation_blocked", "message": message})
        return VideoJobState("failed", 100, name, error={"code": "video_generation_failed",
                                                         "message": "the operation finished without a video"})

    def build_content(
        self, upstream_job_id: str, result: Mapping[str, Any] | None, variant: str, endpoint: Endpoint
    ) -> UpstreamRequest:
        if variant != "video":
            raise invalid(f"Gemini (Veo) makes no {variant!r}; only variant 'video' exists.", "variant", "gemini")
        uri = (result or {}).get("uri")
        if not isinstance(uri, str) or not _same_origin(uri, endpoint.base_url):
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "the video's download uri is not on the Gemini API's "
                                "host; it is not fetched", code="untrusted_download_host", provider="gemini")
        return UpstreamRequest("GET", uri, _key_header(endpoint), None)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


# google.rpc.Code numbers, for an operation error that gives only the number.
_RPC_CODES = {3: "invalid_argument", 4: "deadline_exceeded", 7: "permission_denied", 8: "resource_exhausted",
              9: "failed_precondition", 13: "internal", 14: "unavailable"}


def _versioned(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith(api.API_VERSION) else base + api.API_VERSION


def _key_header(endpoint: Endpoint) -> dict[str, str]:
    return {api.AUTH_HEADER: endpoint.api_key} if endpoint.api_key else {}


VIDEO = GeminiVideo()
