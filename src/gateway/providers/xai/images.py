"""xAI image generation (`POST /v1/images/generations`, grok-2-image): the OpenAI format.

xAI documents `model`, `prompt`, `n` (1–10), `response_format` (`url` — its default — or `b64_json`,
JPEG images) and `user`; `quality`, `size` and `style` are marked "not supported". Rather than let a
request for a 1792x1024 HD image come back as xAI's own fixed-size image, the gateway refuses those three
with a 400 naming the field. The answer (`data[].url` / `b64_json`, `revised_prompt`) is passed through.
Billing: one flat price per image (size and quality None, the catalog's `*` key).
"""

from gateway.providers.openai_format.images import OpenAIFormatImages

_FIXED = "xAI chooses the image's size and quality itself"

IMAGES = OpenAIFormatImages(
    provider="xAI",
    rejected_params={"size": _FIXED, "quality": _FIXED, "style": "xAI has no style parameter"},
)
