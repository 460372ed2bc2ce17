"""OpenAI image generation (`POST /v1/images/generations`: dall-e-2, dall-e-3, gpt-image-1,
gpt-image-1-mini): the reference format. gpt-image models always answer base64 and refuse
`response_format`; dall-e answers a URL by default (see openai_format/images.py)."""

from gateway.providers.openai_format.images import OpenAIFormatImages

IMAGES = OpenAIFormatImages(
    provider="OpenAI",
    b64_only_models=("gpt-image",),
    defaults={"dall-e-2": ("1024x1024", "standard"), "dall-e-3": ("1024x1024", "standard")},
)
