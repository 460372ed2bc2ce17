"""Workers AI text-to-image (`POST {base}/accounts/{account}/ai/run/{model}`, or the `AI` binding) behind
the OpenAI `/v1/images/generations`.

| OpenAI | `@cf/black-forest-labs/flux-1-schnell` | `@cf/stabilityai/stable-diffusion-xl-base-1.0` (and other width/height models) |
| --- | --- | --- |
| `prompt` | `prompt` | `prompt` |
| `n` | 1 only (one image a run): other values are a 400 naming `n` | the same |
| `size` | 1024x1024 only (the model's fixed size; `auto` or none too); other sizes: 400 naming `size` | `width`, `height` (256–2048 each, else 400 naming `size`) |
| `quality` | `hd` / `high` → `steps: 8` (the model's maximum); anything else → `steps: 4` (its default) | dropped |
| extra fields `seed`, `negative_prompt`, `guidance`, `num_steps` | `seed` | passed as they are |
| `style`, `background`, `output_format`, `output_compression`, `moderation`, `user` | dropped | dropped |

Answers, told apart by content type: FLUX answers JSON, `{"result": {"image": "<base64 JPEG>"}, "success": true}`
over REST (the binding's `{image}` is wrapped the same way); Stable Diffusion answers the PNG file itself
(`content-type: image/png`). Either becomes `data[]` (`b64_json`, or a `data:` URL; the media type is
read from the image's magic bytes). Errors are Cloudflare's envelope (workers_ai/errors.py).
Billing: FLUX at 1024x1024 and quality `standard` (4 steps) or `hd` (8 steps) — Cloudflare prices it per
512x512 tile and per step; other models at the size made, quality None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import UpstreamError
from gateway.providers.base import Endpoint, ImageResult, UpstreamRequest
from gateway.providers.openai_format.images import bytes_item, image_item, json_answer, no_images, parse_size, sniff_base64, unsupported
from gateway.providers.workers_ai import api, errors

PROVIDER = "Workers AI"
FIXED_SIZES = {"@cf/black-forest-labs/flux-1-schnell": (1024, 1024)}
# quality name -> steps, for models whose quality is their step count
QUALITY_STEPS = {"@cf/black-forest-labs/flux-1-schnell": {"standard": 4, "hd": 8}}
HIGH_QUALITIES = ("hd", "high")
SIDE_RANGE = (256, 2048)
DEFAULT_SIZE = (1024, 1024)
PASSED = ("seed", "negative_prompt", "guidance", "num_steps")


def quality_name(body: Mapping[str, Any]) -> str:
    return "hd" if body.get("quality") in HIGH_QUALITIES else "standard"


def made_size(body: Mapping[str, Any], model: str) -> tuple[int, int] | None:
    """The size the model will make: a fixed-size model's own, else the request's (None: the model's default)."""
    size = parse_size(body, PROVIDER)
    fixed = FIXED_SIZES.get(model)
    if fixed is not None:
        if size is not None and size != fixed:
            raise unsupported("size", f"{model} makes {fixed[0]}x{fixed[1]} images only, not {size[0]}x{size[1]}")
        return fixed
    if size is not None:
        low, high = SIDE_RANGE
        if not all(low <= side <= high for side in size):
            raise unsupported("size", f"{model} takes widths and heights from {low} to {high} pixels")
    return size


def build_inputs(body: Mapping[str, Any], model: str) -> dict[str, Any]:
    if body.get("n") not in (None, 1):
        raise unsupported("n", f"{PROVIDER} makes one image a request; ask for n=1")
    inputs: dict[str, Any] = {"prompt": body["prompt"]}
    size = made_size(body, model)
    steps = QUALITY_STEPS.get(model)
    if steps is not None:
        inputs["steps"] = steps[quality_name(body)]
    elif size is not None and model not in FIXED_SIZES:
        inputs["width"], inputs["height"] = size
    for name in PASSED:
        if body.get(name) is not None:
            inputs[name] = body[name]
    return inputs


@dataclass(frozen=True)
class WorkersAIImages:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        return api.run_request(endpoint, upstream_model, build_inputs(body, upstream_model))

    def parse_response(self, raw: bytes, content_type: str, body: dict[str, Any], upstream_model: str) -> ImageResult:
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type.endswith("json"):
            result = json_answer(raw, PROVIDER).get("result")
            encoded = result.get("image") if isinstance(result, dict) else None
            if not isinstance(encoded, str) or not encoded:
                raise no_images(PROVIDER)
            item = image_item(encoded, sniff_base64(encoded, "image/jpeg"), body)
        else:
            if not raw:
                raise no_images(PROVIDER)
            item = bytes_item(raw, media_type if media_type.startswith("image/") else "image/png", body)
        width, height = made_size(body, upstream_model) or DEFAULT_SIZE
        quality = quality_name(body) if upstream_model in QUALITY_STEPS else None
        return ImageResult({"data": [item]}, f"{width}x{height}", quality)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


IMAGES = WorkersAIImages()
