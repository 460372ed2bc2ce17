"""Imagen through the Gemini API (`POST {base}/v1beta/models/{model}:predict`, key in `x-goog-api-key`)
behind the OpenAI `/v1/images/generations`.

| OpenAI | Imagen `{"instances": [{"prompt"}], "parameters": {…}}` |
| --- | --- |
| `prompt` | `instances[0].prompt` |
| `n` (Imagen makes 1–4) | `parameters.sampleCount`; above 4: 400 naming `n` |
| `size` | `parameters.aspectRatio`: 256x256 / 512x512 / 1024x1024 → `1:1`, 1792x1024 → `16:9`, 1024x1792 → `9:16`, and any `WxH` whose ratio is exactly 1:1, 3:4, 4:3, 9:16 or 16:9; `auto` or none: Imagen's default (1:1); any other size (1536x1024 is 3:2): 400 naming `size` |
| `output_format` `png` / `jpeg` | `parameters.outputOptions.mimeType` `image/png` / `image/jpeg`; `webp`: 400 naming `output_format` |
| `output_compression` (jpeg) | `parameters.outputOptions.compressionQuality` |
| `quality`, `style`, `background`, `moderation`, `user` | dropped (no equivalent; Imagen sizes its images itself) |
| Imagen's own knobs as extra fields: `personGeneration`, `sampleImageSize`, `enhancePrompt`, `seed`, `addWatermark` | `parameters.<name>` as they are |

Answer `{"predictions": [{"bytesBase64Encoded", "mimeType", "prompt"?}]}` → `data[]` (`b64_json`, or a
`data:` URL; an enhanced `prompt` → `revised_prompt`). Predictions filtered by Responsible AI come back
as `{"raiFilteredReason"}` without bytes: they are left out; an answer with no image at all and a
filter reason is a `content_filter` error (400). Billing: one flat price per image (Imagen's price does
not depend on the aspect ratio): size as asked (else 1024x1024), quality None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, ImageResult, UpstreamRequest
from gateway.providers.gemini import api, errors
from gateway.providers.openai_format.images import image_item, json_answer, no_images, parse_size, unsupported

PROVIDER = "Imagen"
MAX_IMAGES = 4
DEFAULT_SIZE = "1024x1024"
ASPECT_RATIOS = {(1, 1): "1:1", (3, 4): "3:4", (4, 3): "4:3", (9, 16): "9:16", (16, 9): "16:9"}
# OpenAI's own sizes that are not an exact Imagen ratio, mapped to the nearest one.
OPENAI_SIZES = {(1792, 1024): "16:9", (1024, 1792): "9:16"}
OUTPUT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
PASSED = ("personGeneration", "sampleImageSize", "enhancePrompt", "seed", "addWatermark")


def predict_url(base_url: str, model: str) -> str:
    """`{base}/v1beta/models/{model}:predict`."""
    base = base_url.rstrip("/")
    if not base.endswith(api.API_VERSION):
        base += api.API_VERSION
    return f"{base}/models/{quote(api.bare_model(model), safe='-._~')}:predict"


def aspect_ratio(body: Mapping[str, Any]) -> str | None:
    size = parse_size(body, PROVIDER)
    if size is None:
        return None
    width, height = size
    if size in OPENAI_SIZES:
        return OPENAI_SIZES[size]
    for (w, h), ratio in ASPECT_RATIOS.items():
        if width * h == height * w:
            return ratio
    raise unsupported("size", f"{PROVIDER} makes images at aspect ratios {', '.join(ASPECT_RATIOS.values())}; "
                              f"{width}x{height} has none of them")


def build_body(body: Mapping[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    n = body.get("n")
    if n is not None:
        if n > MAX_IMAGES:
            raise unsupported("n", f"{PROVIDER} makes at most {MAX_IMAGES} images a request, asked for {n}")
        parameters["sampleCount"] = n
    ratio = aspect_ratio(body)
    if ratio is not None:
        parameters["aspectRatio"] = ratio
    output: dict[str, Any] = {}
    output_format = body.get("output_format")
    if output_format is not None:
        if output_format not in OUTPUT_TYPES:
            raise unsupported("output_format", f"{PROVIDER} answers png or jpeg, not {output_format}")
        output["mimeType"] = OUTPUT_TYPES[output_format]
    if body.get("output_compression") is not None:
        output["compressionQuality"] = body["output_compression"]
    if output:
        parameters["outputOptions"] = output
    for name in PASSED:
        if body.get(name) is not None:
            parameters[name] = body[name]
    return {"instances": [{"prompt": body["prompt"]}], "parameters": parameters}


@dataclass(frozen=True)
class ImagenImages:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        return UpstreamRequest(
            "POST", predict_url(endpoint.base_url, upstream_model), api.headers(endpoint.api_key, stream=False),
            json.dumps(build_body(body), separators=(",", ":"), ensure_ascii=False).encode(),
        )

    def parse_response(self, raw: bytes, content_type: str, body: dict[str, Any], upstream_model: str) -> ImageResult:
        payload = json_answer(raw, PROVIDER)
        predictions = payload.get("predictions")
        predictions = [p for p in predictions if isinstance(p, dict)] if isinstance(predictions, list) else []
        items = []
        for prediction in predictions:
            encoded = prediction.get("bytesBase64Encoded")
            if isinstance(encoded, str) and encoded:
                media_type = prediction.get("mimeType") or OUTPUT_TYPES.get(str(body.get("output_format")), "image/png")
                revised = prediction.get("prompt") if isinstance(prediction.get("prompt"), str) else None
                items.append(image_item(encoded, media_type, body, revised))
        if not items:
            reasons = [str(p["raiFilteredReason"]) for p in predictions if p.get("raiFilteredReason")]
            if reasons:
                raise UpstreamError(ErrorCategory.CONTENT_FILTER, f"{PROVIDER} filtered every image: {reasons[0]}")
            raise no_images(PROVIDER)
        size = parse_size(body, PROVIDER)
        return ImageResult({"data": items}, f"{size[0]}x{size[1]}" if size else DEFAULT_SIZE, None)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


IMAGES = ImagenImages()
