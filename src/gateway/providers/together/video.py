"""Together AI video generation behind the OpenAI Videos API, on Together's v2 API.

`POST {v2}/videos` (Bearer key) answers the job `{"id", "object": "video", "model", "status",
"created_at"}`; `GET {v2}/videos/{id}` answers it with `status` `queued` / `in_progress` / `completed` /
`failed` / `cancelled`, and once completed `seconds`, `size` and `outputs {"cost", "video_url"}`; a
failure carries `error {"code", "message"}` (the overview page shows `info.errors` instead; both are
read). Sources: Together's API reference and "Videos overview" (docs.together.ai/docs/videos-overview)
and its official skill's API reference (togethercomputer/skills, together-video/references/
api-reference.md and models.md).

`{v2}` is derived from the provider's base URL (`https://api.together.xyz/v1`, TOGETHER_BASE_URL
overrides): its trailing `/v1` replaced by `/v2` (a base without one gets `/v2` appended), so the
emulator's `/together/v1` serves videos at `/together/v2/videos`.

| OpenAI `/v1/videos` | Together `/v2/videos` |
| --- | --- |
| `model` | `model` (`google/veo-3.0`, `kwaivgI/kling-2.1-master`, `minimax/hailuo-02`, …) |
| `prompt` | `prompt` |
| `size` `WxH` | `width`, `height` (integers); the catalog models take only their listed sizes (400 naming `size`) |
| `seconds` | `seconds` as a string; the catalog models take only their listed durations (400 naming `seconds`) |
| `input_reference.image_url` (https or `data:` URL; an upload arrives as one) | `frame_images: [{"input_image", "frame": "first"}]` |
| `input_reference.file_id` | 400 naming `input_reference` (Together cannot read OpenAI files) |
| `fps`, `steps`, `seed`, `guidance_scale`, `negative_prompt`, `output_format`, `output_quality` | as they are |
| content `variant=video` | a keyless `GET` of `outputs.video_url` (`video_download`: Together's short link on `api.together.ai` redirects to the signed file); `thumbnail` / `spritesheet`: 400 naming `variant` |

Per model (Together's model table): `google/veo-3.0` 8 s at `1280x720` (default) / `720x1280` /
`1920x1080` / `1080x1920`; `kwaivgI/kling-2.1-master` 5 s at `1920x1080` (default) / `1080x1080` /
`1080x1920`; `minimax/hailuo-02` 6 or 10 s (default 10) at `1366x768` (default) / `1920x1080`. Other
Together models: any size and duration is sent (Together judges them); defaults 1366x768 and 6 s, as
Together documents.

Status: `queued` / `in_progress` as they are; `completed` with `outputs.video_url` → `completed`, the
job's `seconds` and its `outputs.cost` (USD, billed as reported); `failed` → `failed` with Together's
error code (else `video_generation_failed`); `cancelled` → `failed`, `cancelled`. Errors: OpenAI-style
bodies (`openai_format.errors`).
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
from gateway.providers.openai_format.video import invalid, one_of, requested_seconds, requested_size

# upstream model -> (durations, sizes; the first of each is the default)
MODELS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "google/veo-3.0": ((8,), ("1280x720", "720x1280", "1920x1080", "1080x1920")),
    "kwaivgI/kling-2.1-master": ((5,), ("1920x1080", "1080x1080", "1080x1920")),
    "minimax/hailuo-02": ((10, 6), ("1366x768", "1920x1080")),
}
DEFAULT_SECONDS = 6
DEFAULT_SIZE = "1366x768"
PASSED = ("fps", "steps", "seed", "guidance_scale", "negative_prompt", "output_format", "output_quality")
STATUSES = {"queued": "queued", "in_progress": "in_progress", "completed": "completed", "failed": "failed",
            "cancelled": "failed"}
TRUSTED_DOMAINS = ("together.ai", "together.xyz")


def v2_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return (base[: -len("/v1")] if base.endswith("/v1") else base) + "/v2"


def _frame(reference: Any) -> dict[str, str]:
    url = reference.get("image_url") if isinstance(reference, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://", "data:image/")):
        raise invalid("Together takes input_reference only as {\"image_url\": \"https://...\" or \"data:image/...\"} "
                      "(or a file upload): it cannot read OpenAI file ids.", "input_reference", "together")
    return {"input_image": url, "frame": "first"}


@dataclass(frozen=True)
class TogetherVideo:
    def job_shape(self, body: dict[str, Any], upstream_model: str) -> tuple[int, str]:
        durations, sizes = MODELS.get(upstream_model, ((DEFAULT_SECONDS,), (DEFAULT_SIZE,)))
        seconds = requested_seconds(body)
        seconds = durations[0] if seconds is None else seconds
        size = requested_size(body) or sizes[0]
        if upstream_model in MODELS:
            one_of(seconds, durations, "seconds", "together", upstream_model)
            one_of(size, sizes, "size", "together", upstream_model)
        elif seconds < 1:
            raise invalid(f"Invalid value for 'seconds': {seconds} (at least 1).", "seconds", "together")
        return seconds, size

    def build_create(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        seconds, size = self.job_shape(body, upstream_model)
        width, height = (int(n) for n in size.split("x"))
        payload: dict[str, Any] = {"model": upstream_model, "prompt": body["prompt"], "width": width,
                                   "height": height, "seconds": str(seconds)}
        payload.update({field: body[field] for field in PASSED if body.get(field) is not None})
        if body.get("input_reference") is not None:
            payload["frame_images"] = [_frame(body["input_reference"])]
        return bearer_json_post(v2_url(endpoint.base_url) + "/videos", endpoint.api_key, payload)

    def parse_created(self, payload: dict[str, Any]) -> VideoJobState:
        state = self.parse_status(payload)
        if not state.upstream_id:
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "the video job answer has no id")
        return state

    def build_status(self, upstream_job_id: str, endpoint: Endpoint) -> UpstreamRequest:
        url = f"{v2_url(endpoint.base_url)}/videos/{quote(upstream_job_id, safe='')}"
        headers = {"authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        return UpstreamRequest("GET", url, headers, None)

    def parse_status(self, payload: dict[str, Any]) -> VideoJobState:
        upstream_id = payload.get("id") if isinstance(payload.get("id"), str) else None
        raw = payload.get("status")
        status = STATUSES.get(raw, "in_progress") if isinstance(raw, str) else "in_progress"
        outputs = payload.get("outputs") if isinstance(payload.get("outputs"), dict) else {}
        if status == "completed":
            url = outputs.get("video_url")
            if not isinstance(url, str) or not url:
                return VideoJobState("failed", 100, upstream_id, error={
                    "code": "video_generation_failed", "message": "Together finished the job without a video URL."})
            seconds = payload.get("seconds")
            cost = outputs.get("cost")
            return VideoJobState(
                "completed", 100, upstream_id,
                seconds=int(seconds) if isinstance(seconds, (int, str)) and str(seconds).isdigit() and int(seconds) > 0 else None,
                result={"url": url},
                cost_usd=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0 else None,
            )
        if status == "failed":
            return VideoJobState("failed", 100, upstream_id, error=_error(payload, raw))
        return VideoJobState(status, 0, upstream_id)

    def build_content(
        self, upstream_job_id: str, result: Mapping[str, Any] | None, variant: str, endpoint: Endpoint
    ) -> UpstreamRequest:
        if variant != "video":
            raise invalid(f"Together makes no {variant!r}; only variant 'video' exists.", "variant", "together")
        return video_download.public_file_request((result or {}).get("url"), endpoint.base_url, TRUSTED_DOMAINS,
                                                  "together")

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


def _error(payload: Mapping[str, Any], raw_status: Any) -> dict[str, str]:
    if raw_status == "cancelled":
        return {"code": "cancelled", "message": "The job was cancelled at Together."}
    error = payload.get("error")
    if not isinstance(error, dict):
        listed = (payload.get("info") or {}).get("errors") if isinstance(payload.get("info"), dict) else None
        error = listed[0] if isinstance(listed, list) and listed and isinstance(listed[0], dict) else \
            {"message": str(listed)} if listed else {}
    return {"code": str(error.get("code") or "video_generation_failed"),
            "message": str(error.get("message") or "Together reported the video generation failed.")}


VIDEO = TogetherVideo()
