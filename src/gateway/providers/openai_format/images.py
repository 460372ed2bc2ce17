"""Image generation in the OpenAI wire format (`POST {base}/images/generations`), and what every image
adapter shares: the OpenAI image item from base64 or raw bytes, `data:` URLs, media types read from the
image's own magic bytes, OpenAI sizes parsed, parameters a provider cannot honour refused.

`response_format: "url"` from a provider that only answers image bytes (gpt-image-*, Imagen, Workers AI)
is answered with a `data:<media type>;base64,…` URL: the gateway stores no files, so it has no URL of
its own to hand out, and a `data:` URL works wherever an image URL does (an `<img src>`, a download).

OpenAI (dall-e-2, dall-e-3, gpt-image-*), and xAI, which speaks the same format:

| OpenAI request | upstream |
| --- | --- |
| the body | passed through with `model` set to the upstream name |
| `response_format` for a model that always answers base64 (`b64_only_models`: gpt-image-*) | left out (gpt-image refuses it); `url` is answered as a `data:` URL built from its `b64_json` |
| a parameter the provider refuses (`rejected_params`; xAI: `size`, `quality`, `style`) | 400 naming it, never sent |

The answer is passed through (`created`, `data[].url` / `b64_json` / `revised_prompt`, gpt-image's
`usage`, `size`, `quality`, …). Billing size and quality: the answer's `size` / `quality` when it has them
(gpt-image reports what `auto` chose), else the request's, else the model's documented default
(`defaults`: dall-e-2 and dall-e-3 make 1024x1024 at standard quality).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers.base import Endpoint, ImageResult, UpstreamRequest
from gateway.providers.openai_format import errors
from gateway.providers.openai_format.chat import bearer_headers

# OpenAI's `output_format` values and their media types.
OUTPUT_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


def sniff_media_type(data: bytes, fallback: str) -> str:
    """An image's media type from its first bytes (PNG, JPEG, WebP, GIF), else `fallback`."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return fallback


def sniff_base64(encoded: str, fallback: str) -> str:
    """The media type of a base64 image, read from its first 12 bytes only."""
    try:
        head = base64.b64decode(encoded[:16])
    except (binascii.Error, ValueError):
        return fallback
    return sniff_media_type(head, fallback)


def data_url(encoded: str, media_type: str) -> str:
    return f"data:{media_type};base64,{encoded}"


def wants_url(body: Mapping[str, Any], default: str = "b64_json") -> bool:
    return (body.get("response_format") or default) == "url"


def image_item(encoded: str, media_type: str, body: Mapping[str, Any], revised_prompt: str | None = None) -> dict[str, Any]:
    """One OpenAI `data[]` item from a base64 image: `b64_json`, or a `data:` URL when the client asked for a URL."""
    item: dict[str, Any] = {"url": data_url(encoded, media_type)} if wants_url(body) else {"b64_json": encoded}
    if revised_prompt:
        item["revised_prompt"] = revised_prompt
    return item


def bytes_item(raw: bytes, fallback_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One OpenAI `data[]` item from an image file's bytes."""
    return image_item(base64.b64encode(raw).decode("ascii"), sniff_media_type(raw, fallback_type), body)


def parse_size(body: Mapping[str, Any], provider: str) -> tuple[int, int] | None:
    """`size` as (width, height); None when absent or `auto`. Anything else is a 400 naming `size`."""
    size = body.get("size")
    if size in (None, "auto"):
        return None
    found = _SIZE.match(size) if isinstance(size, str) else None
    if found is None:
        raise unsupported("size", f"size must be WIDTHxHEIGHT in pixels (e.g. 1024x1024) or 'auto' for {provider}")
    return int(found.group(1)), int(found.group(2))


def unsupported(param: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code="unsupported_parameter")


def json_answer(raw: bytes, provider: str) -> dict[str, Any]:
    """A provider's JSON answer, or a server_error when it is not a JSON object."""
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise UpstreamError(ErrorCategory.SERVER_ERROR, f"{provider}: answered with invalid JSON") from exc
    if not isinstance(payload, dict):
        raise UpstreamError(ErrorCategory.SERVER_ERROR, f"{provider}: answer is not a JSON object")
    return payload


def no_images(provider: str) -> UpstreamError:
    return UpstreamError(ErrorCategory.SERVER_ERROR, f"{provider}: the answer holds no image")


@dataclass(frozen=True)
class OpenAIFormatImages:
    provider: str = "OpenAI"
    path: str = "/images/generations"
    # parameter -> why the provider cannot honour it (400 naming it, never sent)
    rejected_params: Mapping[str, str] = field(default_factory=dict)
    # model-name prefixes that always answer base64 and refuse `response_format`
    b64_only_models: tuple[str, ...] = ()
    # model-name prefix -> (size, quality) the model makes when the request says nothing
    defaults: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        for name, why in self.rejected_params.items():
            if body.get(name) is not None:
                raise unsupported(name, f"'{name}' is not supported by {self.provider}: {why}")
        payload = {**body, "model": upstream_model}
        if self._b64_only(upstream_model):
            payload.pop("response_format", None)
        return UpstreamRequest(
            "POST", endpoint.base_url.rstrip("/") + self.path, bearer_headers(endpoint.api_key),
            json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(),
        )

    def parse_response(self, raw: bytes, content_type: str, body: dict[str, Any], upstream_model: str) -> ImageResult:
        payload = json_answer(raw, self.provider)
        data = payload.get("data")
        if not isinstance(data, list) or not data:
            raise no_images(self.provider)
        if wants_url(body):
            fallback = OUTPUT_MEDIA_TYPES.get(str(body.get("output_format") or "png"), "image/png")
            for item in data:  # a base64-only model: the URL the client asked for is a data: URL
                if isinstance(item, dict) and "url" not in item and isinstance(item.get("b64_json"), str):
                    encoded = item.pop("b64_json")
                    item["url"] = data_url(encoded, sniff_base64(encoded, fallback))
        default_size, default_quality = self._defaults(upstream_model)
        size = payload.get("size") or body.get("size") or default_size
        quality = payload.get("quality") or body.get("quality") or default_quality
        return ImageResult(payload, size, quality)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)

    def _b64_only(self, model: str) -> bool:
        return any(model.startswith(prefix) for prefix in self.b64_only_models)

    def _defaults(self, model: str) -> tuple[str | None, str | None]:
        for prefix, found in self.defaults.items():
            if model.startswith(prefix):
                return found
        return None, None
