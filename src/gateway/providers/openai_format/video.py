"""Video generation in the OpenAI wire format (OpenAI's Videos API, Sora): `POST {base}/videos` starts a
job, `GET {base}/videos/{id}` reports it, `GET {base}/videos/{id}/content?variant=…` is the file.

| OpenAI `/v1/videos` (client) | OpenAI `/videos` (upstream) |
| --- | --- |
| `model` | the upstream name |
| `prompt` | as it is |
| `seconds` (`"4"`, `"8"`, `"12"`; a number is accepted) | a string, as the API takes it; other values: 400 naming `seconds` (default 4) |
| `size` (`720x1280`, `1280x720`; `1024x1792`, `1792x1024` on `-pro` models) | as it is; other values: 400 naming `size` (default `720x1280`) |
| `input_reference` `{"image_url"}` / `{"file_id"}` | as it is (a multipart file upload arrives here as a `data:` URL in `image_url`) |
| other fields | passed through |

The job object answered (`id`, `status`, `progress`, `seconds`, `error`) is read as it is; the gateway
keeps the upstream `id` and shows the client its own. Errors: `openai_format.errors`.

The helpers `requested_seconds` / `requested_size` read the client's values for every video adapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest, VideoJobState
from gateway.providers.openai_format import errors
from gateway.providers.openai_format.chat import bearer_json_post

STATUSES = ("queued", "in_progress", "completed", "failed")
SORA_SECONDS = (4, 8, 12)
SORA_SIZES = ("720x1280", "1280x720")
SORA_PRO_SIZES = SORA_SIZES + ("1024x1792", "1792x1024")
_SIZE = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")


def invalid(message: str, param: str, provider: str = "") -> UpstreamError:
    return UpstreamError(ErrorCategory.INVALID_REQUEST, message, param=param, provider=provider)


def requested_seconds(body: Mapping[str, Any]) -> int | None:
    """The client's `seconds` as a whole number (the OpenAI API spells it as a string), None when absent."""
    value = body.get("seconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise invalid(f"Invalid value for 'seconds': {value!r} is not a whole number of seconds.", "seconds")
    return int(str(value).strip())


def requested_size(body: Mapping[str, Any]) -> str | None:
    value = body.get("size")
    if value is None:
        return None
    if not isinstance(value, str) or not _SIZE.match(value):
        raise invalid(f"Invalid value for 'size': {value!r} is not WIDTHxHEIGHT (e.g. 1280x720).", "size")
    return value


def one_of(value: Any, allowed: tuple, param: str, provider: str, model: str) -> None:
    if value not in allowed:
        listed = ", ".join(str(a) for a in allowed)
        raise invalid(f"{provider} {model} cannot make {param} {value!r} (supported: {listed}).", param, provider)


@dataclass(frozen=True)
class OpenAIFormatVideo:
    path: str = "/videos"

    def job_shape(self, body: dict[str, Any], upstream_model: str) -> tuple[int, str]:
        seconds = requested_seconds(body) or SORA_SECONDS[0]
        size = requested_size(body) or SORA_SIZES[0]
        one_of(seconds, SORA_SECONDS, "seconds", "openai", upstream_model)
        one_of(size, SORA_PRO_SIZES if "pro" in upstream_model else SORA_SIZES, "size", "openai", upstream_model)
        return seconds, size

    def build_create(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        seconds, size = self.job_shape(body, upstream_model)
        payload = {**body, "model": upstream_model, "seconds": str(seconds), "size": size}
        return bearer_json_post(endpoint.base_url.rstrip("/") + self.path, endpoint.api_key, payload)

    def parse_created(self, payload: dict[str, Any]) -> VideoJobState:
        state = self.parse_status(payload)
        if not state.upstream_id:
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "the video job answer has no id")
        return state

    def build_status(self, upstream_job_id: str, endpoint: Endpoint) -> UpstreamRequest:
        return UpstreamRequest("GET", self._job_url(upstream_job_id, endpoint), _auth(endpoint), None)

    def parse_status(self, payload: dict[str, Any]) -> VideoJobState:
        status = payload.get("status")
        if status not in STATUSES:
            status = "in_progress"  # a state this gateway does not know yet is still not final
        error = payload.get("error") if status == "failed" else None
        if status == "failed" and not isinstance(error, dict):
            error = {"code": "video_generation_failed", "message": "the provider reported the job failed"}
        seconds = payload.get("seconds")
        return VideoJobState(
            status=status,
            progress=_progress(payload.get("progress"), status),
            upstream_id=payload.get("id") if isinstance(payload.get("id"), str) else None,
            seconds=int(seconds) if isinstance(seconds, (int, str)) and str(seconds).isdigit() else None,
            error={"code": str(error.get("code") or "video_generation_failed"),
                   "message": str(error.get("message") or "")} if error else None,
            expires_at=payload.get("expires_at") if isinstance(payload.get("expires_at"), int) else None,
        )

    def build_content(
        self, upstream_job_id: str, result: Mapping[str, Any] | None, variant: str, endpoint: Endpoint
    ) -> UpstreamRequest:
        url = self._job_url(upstream_job_id, endpoint) + "/content?" + urlencode({"variant": variant})
        return UpstreamRequest("GET", url, _auth(endpoint), None)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)

    def _job_url(self, upstream_job_id: str, endpoint: Endpoint) -> str:
        return f"{endpoint.base_url.rstrip('/')}{self.path}/{quote(upstream_job_id, safe='')}"


def _auth(endpoint: Endpoint) -> dict[str, str]:
    return {"authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}


def _progress(value: Any, status: str) -> int:
    if status == "completed":
        return 100
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0, min(100, int(value)))
    return 0
