"""Cloudflare's Workers AI REST API: base URL, the account path, auth header, the run endpoint.

`POST {base}/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/run/{model}` with `Authorization: Bearer {token}`; the
model name keeps its `@cf/<vendor>/<name>` slashes in the path, as Cloudflare documents it. Key resolution
fills the account in (the manifest's `base_path`), so the adapter only appends the model.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

from gateway.providers.base import Endpoint, UpstreamRequest

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
ACCOUNT_SETTING = "CLOUDFLARE_ACCOUNT_ID"
BASE_PATH = "/accounts/{" + ACCOUNT_SETTING + "}/ai/run"
RUN_MARKER = "/ai/run/"  # what separates the account path from the model in a run URL


def headers(api_key: str | None, *, stream: bool) -> dict[str, str]:
    result = {"content-type": "application/json"}
    if api_key:
        result["authorization"] = f"Bearer {api_key}"
    if stream:
        result["accept"] = "text/event-stream"
    return result


def run_url(base_url: str, model: str) -> str:
    return base_url.rstrip("/") + "/" + quote(model, safe="@/-._~:")


def model_of(url: str) -> str | None:
    """The model a run URL names (what the `AI` binding is called with)."""
    _, marker, model = url.partition(RUN_MARKER)
    return unquote(model) if marker and model else None


def run_request(endpoint: Endpoint, model: str, inputs: dict[str, Any]) -> UpstreamRequest:
    """The run call of every Workers AI task: the model's inputs as JSON (SSE asked for when they stream)."""
    return UpstreamRequest(
        "POST",
        run_url(endpoint.base_url, model),
        headers(endpoint.api_key, stream=bool(inputs.get("stream"))),
        json.dumps(inputs, separators=(",", ":"), ensure_ascii=False).encode(),
    )
