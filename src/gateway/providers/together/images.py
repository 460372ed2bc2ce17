"""Together AI image generation (`POST {base}/images/generations`, FLUX models) behind the OpenAI format.

| OpenAI | Together AI |
| --- | --- |
| `model` (upstream name), `prompt` | `model`, `prompt` |
| `n` (Together makes 1–4 a request) | `n`; above 4: 400 naming `n` |
| `size` `WxH` | `width`, `height` (`auto` or none: Together's default, 1024x1024) |
| `response_format` `b64_json` / `url` / none | `response_format` `base64` / `url` / `url` (OpenAI's default) |
| `output_format` `png` / `jpeg` | `output_format` `png` / `jpeg` (Together's default: jpeg); `webp`: 400 naming `output_format` |
| `quality`, `style`, `background`, `output_compression`, `moderation`, `user` | dropped (no equivalent) |
| Together's own knobs as extra fields: `steps`, `seed`, `negative_prompt`, `guidance_scale`, `image_url`, `disable_safety_checker` | passed as they are |

Answer `{"id", "model", "object": "list", "data": [{"index", "b64_json" | "url", …}]}` → OpenAI
`data[]` in index order (`b64_json`, or the hosted `url`). Billing: the size made (the request's, else
1024x1024) and no quality (Together bills per megapixel, whatever the steps; the catalog prices each size).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import UpstreamError
from gateway.providers.base import Endpoint, ImageResult, UpstreamRequest
from gateway.providers.openai_format import errors
from gateway.providers.openai_format.chat import bearer_headers
from gateway.providers.openai_format.images import image_item, json_answer, no_images, parse_size, sniff_base64, unsupported

PROVIDER = "Together AI"
MAX_IMAGES = 4
DEFAULT_SIZE = "1024x1024"
PASSED = ("steps", "seed", "negative_prompt", "guidance_scale", "image_url", "disable_safety_checker")
RESPONSE_FORMATS = {"b64_json": "base64", "url": "url", None: "url"}
OUTPUT_FORMATS = {"png": "png", "jpeg": "jpeg"}


def build_body(body: Mapping[str, Any], upstream_model: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": upstream_model, "prompt": body["prompt"]}
    n = body.get("n")
    if n is not None:
        if n > MAX_IMAGES:
            raise unsupported("n", f"{PROVIDER} makes at most {MAX_IMAGES} images a request, asked for {n}")
        payload["n"] = n
    size = parse_size(body, PROVIDER)
    if size is not None:
        payload["width"], payload["height"] = size
    payload["response_format"] = RESPONSE_FORMATS[body.get("response_format")]
    output_format = body.get("output_format")
    if output_format is not None:
        if output_format not in OUTPUT_FORMATS:
            raise unsupported("output_format", f"{PROVIDER} answers png or jpeg, not {output_format}")
        payload["output_format"] = OUTPUT_FORMATS[output_format]
    for name in PASSED:
        if body.get(name) is not None:
            payload[name] = body[name]
    return payload


@dataclass(frozen=True)
class TogetherImages:
    path: str = "/images/generations"

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload = build_body(body, upstream_model)
        return UpstreamRequest(
            "POST", endpoint.base_url.rstrip("/") + self.path, bearer_headers(endpoint.api_key),
            json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(),
        )

    def parse_response(self, raw: bytes, content_type: str, body: dict[str, Any], upstream_model: str) -> ImageResult:
        payload = json_answer(raw, PROVIDER)
        data = payload.get("data")
        if not isinstance(data, list) or not data:
            raise no_images(PROVIDER)
        fallback = "image/png" if body.get("output_format") == "png" else "image/jpeg"
        items = []
        for entry in sorted((e for e in data if isinstance(e, dict)), key=lambda e: e.get("index") or 0):
            if isinstance(entry.get("b64_json"), str):
                items.append(image_item(entry["b64_json"], sniff_base64(entry["b64_json"], fallback), body))
            elif isinstance(entry.get("url"), str):
                items.append({"url": entry["url"]})
        if not items:
            raise no_images(PROVIDER)
        size = parse_size(body, PROVIDER)
        return ImageResult({"data": items}, f"{size[0]}x{size[1]}" if size else DEFAULT_SIZE, None)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


IMAGES = TogetherImages()
