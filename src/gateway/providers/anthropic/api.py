"""Anthropic's API: base URL (without /v1, as the Anthropic SDK takes it), version and headers."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
MESSAGES_PATH = "/v1/messages"


def headers(api_key: str | None, *, stream: bool = False) -> dict[str, str]:
    """Anthropic authenticates with `x-api-key` (not a bearer token) and needs `anthropic-version`."""
    result = {"content-type": "application/json", "anthropic-version": API_VERSION}
    if api_key:
        result["x-api-key"] = api_key
    if stream:
        result["accept"] = "text/event-stream"
    return result


def messages_url(base_url: str) -> str:
    return base_url.rstrip("/") + MESSAGES_PATH
