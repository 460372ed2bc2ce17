"""xAI video generation (grok-imagine-video) behind the OpenAI Videos API: a deferred request.

`POST {base}/videos/generations` (Bearer key) answers `{"request_id"}`; `GET {base}/videos/{request_id}`
answers `{"status": "pending"}` while it works, then `{"status": "done", "video": {"url", "duration",
"respect_moderation"}, "usage": {"cost_in_usd_ticks"}}`, or `{"status": "expired"}` / `{"status":
"failed", "error"?}`. Sources: xAI's "Video generation" guide (docs.x.ai/developers/model-capabilities/
video/generation, as quoted by its secondary guides) and the Vercel AI SDK's xAI provider
(`packages/xai/src/xai-video-model.ts`), which polls the same fields.

| OpenAI `/v1/videos` | xAI `/videos/generations` |
| --- | --- |
| `model` | `model` (`grok-imagine-video`) |
| `prompt` | `prompt` |
| `seconds` 1–15 (default 6, always sent) | `duration`; other values: 400 naming `seconds` |
| `size` — its aspect ratio and short side (default `854x480`): `1280x720` `720x1280` `720x720` `960x720` `720x960` `1080x720` `720x1080` (720p); `854x480` `480x854` `480x480` `640x480` `480x640` `720x480` `480x720` (480p) | `aspect_ratio` (`16:9` `9:16` `1:1` `4:3` `3:4` `3:2` `2:3`), `resolution` (`720p` / `480p`); other sizes: 400 naming `size` |
| `input_reference.image_url` (https or `data:` URL; an upload arrives as one) | `image` `{"url"}` (image-to-video) |
| `input_reference.file_id` | 400 naming `input_reference` (xAI cannot read OpenAI files) |
| content `variant=video` | a keyless `GET` of `video.url` (`video_download`); `thumbnail` / `spritesheet`: 400 naming `variant` |

| xAI status | OpenAI status |
| --- | --- |
| the create answer | `queued` |
| `pending` (or any other not-final value) | `in_progress` (`progress` when xAI gives one) |
| `done` with `video.url` | `completed`; seconds = `video.duration`; cost = `usage.cost_in_usd_ticks` / 10^10 USD |
| `done` with `respect_moderation: false` | `failed`, `moderation_blocked` |
| `expired` | `failed`, `expired` |
| `failed` | `failed`, xAI's `error.code` (else `video_generation_failed`) |

The reference image goes as the object `image {"url"}`, as the Vercel AI SDK and other current xAI
clients send it; early secondary guides show a flat `image_url`, which the current API does not list.

The cost: xAI counts USD in ticks of 10^-10 (a 1-second 480p video reports 500,000,000 = $0.05, the
published per-second price). The file: a temporary public URL on `vidgen.x.ai`; it is fetched without
the key (see `video_download`). Errors: OpenAI-style bodies (`openai_format.errors`, which also reads
xAI's flat `{"code", "error"}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers import video_download
from gateway.providers.base import Endpoint, UpstreamRequest, VideoJobState
from gateway.providers.openai_format import errors
from gateway.providers.openai_format.chat import bearer_json_post
from gateway.providers.openai_format.video import invalid, requested_seconds, requested_size

# OpenAI size -> (aspect_ratio, resolution)
SIZES = {
    "1280x720": ("16:9", "720p"), "720x1280": ("9:16", "720p"), "720x720": ("1:1", "720p"),
    "960x720": ("4:3", "720p"), "720x960": ("3:4", "720p"), "1080x720": ("3:2", "720p"), "720x1080": ("2:3", "720p"),
    "854x480": ("16:9", "480p"), "480x854": ("9:16", "480p"), "480x480": ("1:1", "480p"),
    "640x480": ("4:3", "480p"), "480x640": ("3:4", "480p"), "720x480": ("3:2", "480p"), "480x720": ("2:3", "480p"),
}
DEFAULT_SIZE = "854x480"
DEFAULT_SECONDS = 6
MIN_SECONDS, MAX_SECONDS = 1, 15
TICKS_PER_USD = 10_000_000_000
TRUSTED_DOMAINS = ("x.ai",)


def _image(reference: Any) -> dict[str, str]:
    url = reference.get("image_url") if isinstance(reference, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://", "data:image/")):
        raise invalid("xAI takes input_reference only as {\"image_url\": \"https://...\" or \"data:image/...\"} "
                      "(or a file upload): it cannot read OpenAI file ids.", "input_reference", "xai")
    return {"url": url}


@dataclass(frozen=True)
class XaiVideo:
    def job_shape(self, body: dict[str, Any], upstream_model: str) -> tuple[int, str]:
        seconds = requested_seconds(body)
        seconds = DEFAULT_SECONDS if seconds is None else seconds
        size = requested_size(body) or DEFAULT_SIZE
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise invalid(f"xAI {upstream_model} makes {MIN_SECONDS} to {MAX_SECONDS} seconds, not {seconds}.",
                          "seconds", "xai")
        if size not in SIZES:
            raise invalid(f"xAI {upstream_model} cannot make size {size!r} (supported: {', '.join(SIZES)}).",
                          "size", "xai")
        return seconds, size

    def build_create(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        seconds, size = self.job_shape(body, upstream_model)
        aspect_ratio, resolution = SIZES[size]
        payload: dict[str, Any] = {"model": upstream_model, "prompt": body["prompt"], "duration": seconds,
                                   "aspect_ratio": aspect_ratio, "resolution": resolution}
        if body.get("input_reference") is not None:
            payload["image"] = _image(body["input_reference"])
        return bearer_json_post(endpoint.base_url.rstrip("/") + "/videos/generations", endpoint.api_key, payload)

    def parse_created(self, payload: dict[str, Any]) -> VideoJobState:
        request_id = payload.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "the video request answer has no request_id")
        return VideoJobState(status="queued", progress=0, upstream_id=request_id)

    def build_status(self, upstream_job_id: str, endpoint: Endpoint) -> UpstreamRequest:
        url = f"{endpoint.base_url.rstrip('/')}/videos/{quote(upstream_job_id, safe='')}"
        headers = {"authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        return UpstreamRequest("GET", url, headers, None)

    def parse_status(self, payload: dict[str, Any]) -> VideoJobState:
        status = payload.get("status")
        video = payload.get("video") if isinstance(payload.get("video"), dict) else {}
        if status == "done":
            if video.get("respect_moderation") is False:
                return _failed("moderation_blocked", "The video was blocked by xAI's content moderation.")
            url = video.get("url")
            if not isinstance(url, str) or not url:
                return _failed("video_generation_failed", "xAI finished the request without a video URL.")
            duration = video.get("duration")
            seconds = round(duration) if _number(duration) and duration > 0 else None
            ticks = (payload.get("usage") or {}).get("cost_in_usd_ticks") if isinstance(payload.get("usage"), dict) else None
            cost = round(ticks / TICKS_PER_USD, 10) if _number(ticks) and ticks >= 0 else None
            return VideoJobState("completed", 100, seconds=seconds, result={"url": url}, cost_usd=cost)
        if status == "expired":
            return _failed("expired", "The video request expired at xAI before it finished.")
        if status == "failed":
            error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
            return _failed(str(error.get("code") or "video_generation_failed"),
                           str(error.get("message") or "xAI reported the video generation failed."))
        progress = payload.get("progress")
        return VideoJobState("in_progress", max(0, min(99, int(progress))) if _number(progress) else 0)

    def build_content(
        self, upstream_job_id: str, result: Mapping[str, Any] | None, variant: str, endpoint: Endpoint
    ) -> UpstreamRequest:
        if variant != "video":
            raise invalid(f"xAI makes no {variant!r}; only variant 'video' exists.", "variant", "xai")
        return video_download.public_file_request((result or {}).get("url"), endpoint.base_url, TRUSTED_DOMAINS, "xai")

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _failed(code: str, message: str) -> VideoJobState:
    return VideoJobState("failed", 100, error={"code": code, "message": message})


VIDEO = XaiVideo()
