"""Chat completions in the OpenAI wire format: near-passthrough, with usage always requested.

`OpenAIFormatChat` is the one map factory every OpenAI-compatible provider uses; a provider
overrides only what differs (the path, extra headers, parameters it does not accept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, MalformedEvent, StreamState, UpstreamRequest
from gateway.providers.openai_format import errors
from gateway.sse import EncodedChunk, SseEvent
from gateway.usage import Usage


def bearer_headers(api_key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


@dataclass(frozen=True)
class OpenAIFormatChat:
    path: str = "/chat/completions"
    # Always ask for the final usage chunk: a streamed call must be billed from real counts.
    request_stream_usage: bool = True
    unsupported_params: frozenset[str] = frozenset()
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    headers_for: Callable[[str | None], dict[str, str]] = bearer_headers

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload = {k: v for k, v in body.items() if k not in self.unsupported_params}
        payload["model"] = upstream_model
        if payload.get("stream") and self.request_stream_usage:
            payload["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
        headers = {**self.headers_for(endpoint.api_key), **self.extra_headers}
        if payload.get("stream"):
            headers["accept"] = "text/event-stream"
        return UpstreamRequest(
            "POST", endpoint.base_url.rstrip("/") + self.path, headers, json.dumps(payload).encode()
        )

    def parse_response(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        if not isinstance(payload.get("choices"), list):
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "upstream answer has no choices")
        return payload, Usage.from_openai(payload.get("usage"))

    def transform_event(self, event: SseEvent, state: StreamState) -> list[dict[str, Any]]:
        if event.data == "[DONE]":
            state.done = True
            return []
        try:
            chunk = json.loads(event.data)
        except ValueError as exc:
            raise MalformedEvent(event.data[:200]) from exc
        if not isinstance(chunk, dict):
            raise MalformedEvent(event.data[:200])
        if "error" in chunk:  # an error reported inside a 200 stream
            fields = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise errors.parse_error(500, {}, json.dumps({"error": fields}).encode())
        usage = Usage.from_openai(chunk.get("usage"))
        if usage is not None:
            state.usage = usage
        choices = chunk.get("choices") or []
        for choice in choices:
            if choice.get("finish_reason"):
                state.finish_reason = choice["finish_reason"]
        if state.include_usage:
            return [EncodedChunk(chunk, event.data)]  # unchanged: forwarded as it came
        if not choices and usage is not None:
            return []  # the usage-only chunk the client did not ask for
        chunk.pop("usage", None)
        return [chunk]

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)
