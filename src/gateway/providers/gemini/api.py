"""Google's Gemini API (generativelanguage.googleapis.com): base URL, version path, auth header, endpoints.

The base URL is the host only (`GEMINI_BASE_URL` may also end in the version path `/v1beta`); the key goes
in the `x-goog-api-key` header, never in the URL, so it stays out of logs.
"""

from __future__ import annotations

from urllib.parse import quote

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "/v1beta"
AUTH_HEADER = "x-goog-api-key"


def headers(api_key: str | None, *, stream: bool) -> dict[str, str]:
    result = {"content-type": "application/json"}
    if api_key:
        result[AUTH_HEADER] = api_key
    if stream:
        result["accept"] = "text/event-stream"
    return result


def generate_url(base_url: str, model: str, *, stream: bool) -> str:
    """`{base}/v1beta/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse` for a stream."""
    base = base_url.rstrip("/")
    if not base.endswith(API_VERSION):
        base += API_VERSION
    name = model[len("models/"):] if model.startswith("models/") else model
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{base}/models/{quote(name, safe='-._~')}:{action}"


def batch_embed_url(base_url: str, model: str) -> str:
    """`{base}/v1beta/models/{model}:batchEmbedContents` (one call embeds every input)."""
    base = base_url.rstrip("/")
    if not base.endswith(API_VERSION):
        base += API_VERSION
    return f"{base}/models/{quote(bare_model(model), safe='-._~')}:batchEmbedContents"


def bare_model(model: str) -> str:
    """'models/x' -> 'x' (Gemini model resource names carry the prefix; the catalog does not)."""
    return model[len("models/"):] if model.startswith("models/") else model
